import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import { getSettings } from '../../src/db/settings.js'
import { deskAutoCloseDays, dueForSlaCheck, waitingForClosureSince } from '../../src/db/ticket.js'
import { autoCloseTicket } from '../../src/commands/lifecycle/auto-close.js'
import { checkSla } from '../../src/commands/sla-escalation.js'
import { assignBacklog } from '../../src/commands/assignment.js'
import { LOG_KEPT_DAYS, tidySessions } from '../../src/commands/sessions.js'
import { pruneOldNotifications } from '../../src/commands/notifications.js'
import { pruneKbActivityLog } from '../../src/commands/kb-reader.js'
import { DEFAULT_LEASE_MS, LeaseLost, withLease } from '../../src/work/lease.js'

const DAY = 24 * 60 * 60 * 1000

interface JobDeps {
  db: Db
  clock: () => Date
  random: () => number
}

const at = (db: Db, now: Date): JobDeps => ({ db, clock: () => now, random: Math.random })

/** Throws when the pass must stop (its lease went to another worker); called before each ticket. */
export type StillHeld = () => void

/**
 * Closes resolved tickets left in Waiting for Closure or Accepted longer than their desk's auto-closure days (the
 * service setting for desks without their own).
 */
export async function autoCloseJob(db: Db, now: Date, stillHeld: StillHeld = () => {}): Promise<number> {
  const { autoCloseDays } = await getSettings(db)
  const own = await deskAutoCloseDays(db)
  const cutoff = (days: number) => new Date(now.getTime() - days * DAY).toISOString()
  const groups: [string, Parameters<typeof waitingForClosureSince>[3]][] = [
    [cutoff(autoCloseDays), { except: [...own.values()].flat() }],
    ...[...own].map(([days, desks]) => [cutoff(days), { only: desks }] as [string, { only: number[] }])
  ]
  let closed = 0
  for (const [before, desks] of groups) {
    for (const id of await waitingForClosureSince(db, before, 500, desks)) {
      stillHeld()
      // A refusal means another worker (or the requester) got there first: the ticket is no longer waiting.
      if ((await autoCloseTicket(at(db, now), id)).ok) closed++
    }
  }
  return closed
}

/** Tickets the SLA job reads at a time. */
export const SLA_BATCH = 200

/**
 * Hierarchical escalation: tickets at risk or breached are reported once per level to the desk
 * manager. Only tickets whose watch instant has come are read (an index range, in batches), not
 * every open ticket; each look stores the next instant, so the pass ends.
 */
export async function slaEscalationJob(db: Db, now: Date, stillHeld: StillHeld = () => {}): Promise<number> {
  let escalated = 0
  for (;;) {
    const due = await dueForSlaCheck(db, now.toISOString(), SLA_BATCH)
    for (const ticketId of due) {
      stillHeld()
      const outcome = await checkSla(at(db, now), ticketId)
      if (outcome.ok && outcome.value) escalated++
    }
    if (due.length < SLA_BATCH) return escalated
  }
}

export interface JobReport {
  autoClosed: number
  escalated: number
  assigned: number
  /** Stale sessions, passed login-throttle windows, old notifications and the knowledge base's old reading log deleted. */
  tidied: number
}

/**
 * One pass of every scheduled job under a lease, so two workers never run the same pass; the
 * lease is renewed while the pass runs, and a pass that lost it stops before its next ticket.
 * Null when another worker holds it.
 */
export async function runScheduledJobs(db: Db, now: Date, holder: string, log?: Logger, leaseMs = DEFAULT_LEASE_MS, logKeptDays = LOG_KEPT_DAYS): Promise<JobReport | null> {
  const held = await withLease({ db, clock: () => now, log }, 'scheduled-jobs', holder, leaseMs, (lease) => runAll(lease.assertHeld)).catch((err: unknown) => {
    if (err instanceof LeaseLost) return { ran: false as const }
    throw err
  })
  return held.ran ? held.value : null

  async function tidy(stillHeld: StillHeld): Promise<number> {
    stillHeld()
    const { sessions, throttles, logRows } = await tidySessions(at(db, now), logKeptDays)
    return sessions + throttles + logRows + await pruneOldNotifications(at(db, now)) + await pruneKbActivityLog(at(db, now))
  }

  async function runAll(stillHeld: StillHeld): Promise<JobReport> {
    const report = {
      autoClosed: await autoCloseJob(db, now, stillHeld),
      escalated: await slaEscalationJob(db, now, stillHeld),
      assigned: await assignBacklog(at(db, now), { stillHeld }),
      tidied: await tidy(stillHeld)
    }
    if (log && (report.autoClosed || report.escalated || report.assigned || report.tidied)) log.info(report, 'scheduled jobs ran')
    return report
  }
}
