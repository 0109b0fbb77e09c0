// The requester or staff cancel an open ticket with a reason.
import { run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, withReason, type Moved } from './step.js'

export interface CancelInput {
  ticketId: number
  version?: number
  reason: string
}

export async function cancelTicket(deps: Deps, who: Who, input: CancelInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'cancel', { version: input.version, input: { reason: input.reason } },
    () => withReason(input.reason, (reason) => ({ set: { cancel_reason: reason, closed_at: uow.at } }))))
}
