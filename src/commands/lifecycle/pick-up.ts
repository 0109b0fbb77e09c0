// Staff take a new ticket: Open / New -> In Progress / Analysis.
import { run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface PickUpInput {
  ticketId: number
  version?: number
}

export async function pickUpTicket(deps: Deps, who: Who, input: PickUpInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'pick_up', { version: input.version }, () => ({})))
}
