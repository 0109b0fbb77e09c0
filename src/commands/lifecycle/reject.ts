// The requester rejects the resolution with a reason: the ticket is worked on again and the
// reason joins the conversation.
import { run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, withReason, type Moved } from './step.js'

export interface RejectInput {
  ticketId: number
  version?: number
  reason: string
}

export async function rejectResolution(deps: Deps, who: Who, input: RejectInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'reject', { version: input.version, input: { reason: input.reason } },
    () => withReason(input.reason, (reason) => ({ note: { kind: 'reply', body: reason } }))))
}
