import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import { assignBacklog, ConflictError } from '../../src/db/ticket.js'
import { getSettings } from '../../src/db/settings.js'
import { recordEvent, SYSTEM_ACTOR } from '../../src/db/event.js'
import { notifyParties } from '../../src/db/mail-outbox.js'
import { OPEN_STATES } from '../../src/domain/lifecycle.js'
import { slaStatus } from '../../src/domain/sla.js'
import { transition, SYSTEM_PERFORMER, TransitionRefused } from '../../src/commands/transitions.js'
import { acquireLease, releaseLease } from './lease.js'

const DAY = 24 * 60 * 60 * 1000

/** Closes tickets left in Waiting for Closure longer than the auto-closure setting. */
export async function autoCloseJob(db: Db, now: Date): Promise<number> {
  const { autoCloseDays } = await getSettings(db)
  const cutoff = new Date(now.getTime() - autoCloseDays * DAY).toISOString()
  const due = await db.selectFrom('ticket').select('id')
    .where('state', '=', 'resolved').where('status', '=', 'waiting_for_closure')
    .where('resolved_at', '<=', cutoff).where('deleted_at', 'is', null)
    .orderBy('resolved_at').limit(500).execute()
  let closed = 0
  for (const { id } of due) {
    try {
      await transition(db, SYSTEM_PERFORMER, id, { action: 'auto_close', reason: null }, now)
      closed++
    } catch (err) {
      // Another worker (or the requester) got there first: the ticket is no longer waiting.
      if (!(err instanceof ConflictError || err instanceof TransitionRefused)) throw err
    }
  }
  return closed
}

/** Hierarchical escalation: tickets at risk or breached are reported once per level to the desk manager. */
export async function slaEscalationJob(db: Db, now: Date): Promise<number> {
  const open = await db.selectFrom('ticket')
    .select(['id', 'number', 'title', 'state', 'created_at', 'response_due_at', 'resolution_due_at', 'first_response_at', 'resolved_at', 'sla_paused_at', 'sla_paused_ms', 'sla_alert'])
    .where('state', 'in', OPEN_STATES).where('deleted_at', 'is', null).where('resolution_due_at', 'is not', null)
    .where((eb) => eb.or([eb('sla_alert', 'is', null), eb('sla_alert', '!=', 'breached')]))
    .execute()
  const at = now.toISOString()
  let escalated = 0
  for (const t of open) {
    const status = slaStatus(t, now)
    if (status !== 'at_risk' && status !== 'breached') continue
    if (t.sla_alert === status) continue
    const done = await db.transaction().execute(async (trx) => {
      const res = await trx.updateTable('ticket').set({ sla_alert: status })
        .where('id', '=', t.id)
        .where((eb) => (t.sla_alert === null ? eb('sla_alert', 'is', null) : eb('sla_alert', '=', t.sla_alert)))
        .executeTakeFirst()
      if (Number(res.numUpdatedRows) !== 1) return false
      await recordEvent(trx, { ticketId: t.id, actor: SYSTEM_ACTOR, action: 'sla_escalation', field: 'sla', from: t.sla_alert, to: status, at })
      await notifyParties(trx, t.id, ['desk_manager'], 'ticket.sla_escalation', { number: t.number, title: t.title, sla: status }, { now: at })
      return true
    })
    if (done) escalated++
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
      assigned: await assignBacklog(db, { now: now.toISOString() })
    }
    if (log && (report.autoClosed || report.escalated || report.assigned)) log.info(report, 'scheduled jobs ran')
    return report
  } finally {
    await releaseLease(db, 'scheduled-jobs', holder)
  }
}
