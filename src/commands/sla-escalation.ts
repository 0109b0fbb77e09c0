// Hierarchical escalation (a scheduled job's change): a ticket at risk or breached is reported
// once per level to its desk's manager.
import { lockTicket, setSlaAlert } from '../db/ticket-write.js'
import { ticketForChange } from '../db/ticket.js'
import { isOpenState } from '../domain/lifecycle.js'
import { run, SYSTEM, type Deps, type Outcome } from './kernel.js'

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
    if (!(await setSlaAlert(uow.trx, alert.ticketId, alert.from, alert.to))) return false
    await uow.history(alert.ticketId, { action: 'sla_escalation', field: 'sla', from: alert.from, to: alert.to })
    await uow.notify(alert.ticketId, ['desk_manager'], 'ticket.sla_escalation', { number: alert.number, title: alert.title, sla: alert.to })
    return true
  })
}
