// The requester reopens a ticket waiting for closure: back to In Progress / Analysis.
import { run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface ReopenInput {
  ticketId: number
  version?: number
}

export async function reopenTicket(deps: Deps, who: Who, input: ReopenInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'reopen', { version: input.version }, () => ({})))
}
