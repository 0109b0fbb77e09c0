// The requester accepts the resolution: the ticket rests in Resolved/Accepted until it is closed
// with a closure category (by staff, or by the auto-closure job as Solved).
import { run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface AcceptInput {
  ticketId: number
  version?: number
}

export async function acceptResolution(deps: Deps, who: Who, input: AcceptInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'accept', { version: input.version }, () => ({})))
}
