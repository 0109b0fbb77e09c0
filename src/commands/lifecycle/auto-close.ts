// The auto-closure job: a ticket left in Waiting for Closure longer than the setting is closed by the system.
import { run, SYSTEM, type Deps, type Outcome } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export async function autoCloseTicket(deps: Pick<Deps, 'db' | 'clock' | 'random'>, ticketId: number): Promise<Outcome<Moved>> {
  return run(deps, SYSTEM, (uow) => transitionTicket(uow, ticketId, 'auto_close', {}, () => ({ set: { closed_at: uow.at } })))
}
