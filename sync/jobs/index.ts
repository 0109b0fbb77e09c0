import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import { getSettings } from '../../src/db/settings.js'
import { slaWatchList, waitingForClosureSince } from '../../src/db/ticket.js'
import { slaStatus } from '../../src/domain/sla.js'
import { autoCloseTicket } from '../../src/commands/lifecycle/auto-close.js'
import { escalateSla } from '../../src/commands/sla-escalation.js'
import { assignBacklog } from '../../src/commands/assignment.js'
import { acquireLease, releaseLease } from '../../src/work/lease.js'

const DAY = 24 * 60 * 60 * 1000

interface JobDeps {
  db: Db
  clock: () => Date
  random: () => number
}

const at = (db: Db, now: Date): JobDeps => ({ db, clock: () => now, random: Math.random })

/** Closes tickets left in Waiting for Closure longer than the auto-closure setting. */
export async function autoCloseJob(db: Db, now: Date): Promise<number> {
  const { autoCloseDays } = await getSettings(db)
  const due = await waitingForClosureSince(db, new Date(now.getTime() - autoCloseDays * DAY).toISOString(), 500)
  let closed = 0
  // A refusal means another worker (or the requester) got there first: the ticket is no longer waiting.
  for (const id of due) if ((await autoCloseTicket(at(db, now), id)).ok) closed++
  return closed
}

/** Hierarchical escalation: tickets at risk or breached are reported once per level to the desk manager. */
export async function slaEscalationJob(db: Db, now: Date): Promise<number> {
  let escalated = 0
  for (const t of await slaWatchList(db)) {
    const status = slaStatus(t, now)
    if (status !== 'at_risk' && status !== 'breached') continue
    if (t.sla_alert === status) continue
    const outcome = await escalateSla(at(db, now), { ticketId: t.id, number: t.number, title: t.title, from: t.sla_alert, to: status })
    if (outcome.ok && outcome.value) escalated++
  }
  return escalated
}

export interface JobReport {
  autoClosed: number
  escalated: number
  assigned: number
}

/** One pass of every scheduled job under a lease, so two workers never run the same pass. */
export async function runScheduledJobs(db: Db, now: Date, holder: string, log?: Logger): Promise<JobReport | null> {
  if (!(await acquireLease(db, 'scheduled-jobs', holder, now, 5 * 60_000))) return null
  try {
    const report = {
      autoClosed: await autoCloseJob(db, now),
      escalated: await slaEscalationJob(db, now),
      assigned: await assignBacklog(at(db, now))
    }
    if (log && (report.autoClosed || report.escalated || report.assigned)) log.info(report, 'scheduled jobs ran')
    return report
  } finally {
    await releaseLease(db, 'scheduled-jobs', holder)
  }
}
