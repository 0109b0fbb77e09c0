// The requester rejects the resolution with a reason: the ticket is worked on again and the
// reason joins the conversation.
import { LIMITS } from '../../domain/ticket.js'
import { FieldCheck, run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface RejectInput {
  ticketId: number
  version?: number
  reason: string
}

export async function rejectResolution(deps: Deps, who: Who, input: RejectInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'reject', { version: input.version, input: { reason: input.reason } }, () => {
    const check = new FieldCheck()
    check.text('reason', input.reason, LIMITS.reason)
    check.refuse()
    const reason = input.reason.trim()
    return { note: { kind: 'reply', body: reason }, historyNote: reason, mail: { reason } }
  }))
}
