// Hierarchical escalation (a scheduled job's change): a ticket at risk or breached is reported
// once per level to its desk's manager.
import { lockTicket, refreshSlaWatch, setSlaAlert, setSlaWatch } from '../db/ticket-write.js'
import { slaWatchTicket, ticketForChange } from '../db/ticket.js'
import { ticketParties } from '../db/mail-outbox.js'
import { isOpenState } from '../domain/lifecycle.js'
import { slaStatus } from '../domain/sla.js'
import { run, SYSTEM, type Deps, type Outcome, type UnitOfWork } from './kernel.js'

/** A look that changed nothing although the ticket's instant had come (it cannot, but a job must never spin): look again then. */
export const SLA_RECHECK_MS = 60_000

export interface SlaAlert {
  ticketId: number
  number: number
  title: string
  /** The level the job read; the alert is written only if it is still that. */
  from: string | null
  to: 'at_risk' | 'breached'
}

export async function escalateSla(deps: Pick<Deps, 'db' | 'clock' | 'random'>, alert: SlaAlert): Promise<Outcome<boolean>> {
  return run(deps, SYSTEM, async (uow) => {
    // Only a ticket still open (and not deleted) is reported; the job read it a moment ago.
    await lockTicket(uow.trx, alert.ticketId)
    const ticket = await ticketForChange(uow.trx, alert.ticketId)
    if (!ticket || !isOpenState(ticket.state)) return false
    return report(uow, alert)
  })
}

async function report(uow: UnitOfWork, alert: SlaAlert): Promise<boolean> {
  if (!(await setSlaAlert(uow.trx, alert.ticketId, alert.from, alert.to))) return false
  await uow.history(alert.ticketId, { action: 'sla_escalation', field: 'sla', from: alert.from, to: alert.to })
  const data = { number: alert.number, title: alert.title, sla: alert.to }
  const parties = await ticketParties(uow.trx, alert.ticketId)
  await uow.notify(alert.ticketId, ['desk_manager'], 'ticket.sla_escalation', data, { parties })
  // The assignee too: in the app, and by mail if they want it (not twice when they manage the desk).
  const assignee = parties.assignee
  if (assignee) {
    const mailed = parties.desk_manager?.id === assignee.id
    await uow.alert(assignee.id, 'sla_at_risk', alert.ticketId, { actorName: null, detail: alert.to, mail: mailed ? undefined : { template: 'ticket.sla_escalation', data } })
  }
  return true
}

/**
 * The SLA job's look at one ticket whose watch instant has come: reports it if it is now at risk
 * or breached beyond the level already reported, and stores when to look next. True when reported.
 */
export async function checkSla(deps: Pick<Deps, 'db' | 'clock' | 'random'>, ticketId: number): Promise<Outcome<boolean>> {
  return run(deps, SYSTEM, async (uow) => {
    await lockTicket(uow.trx, ticketId)
    const ticket = await slaWatchTicket(uow.trx, ticketId)
    if (!ticket) return false
    const status = slaStatus(ticket, uow.now)
    const reported = (status === 'at_risk' || status === 'breached') && ticket.sla_alert !== status && ticket.sla_alert !== 'breached'
      && await report(uow, { ticketId, number: ticket.number, title: ticket.title, from: ticket.sla_alert, to: status })
    const next = await refreshSlaWatch(uow.trx, ticketId)
    if (next !== null && Date.parse(next) <= uow.now.getTime() && !reported) {
      await setSlaWatch(uow.trx, ticketId, new Date(uow.now.getTime() + SLA_RECHECK_MS).toISOString())
    }
    return reported
  })
}
