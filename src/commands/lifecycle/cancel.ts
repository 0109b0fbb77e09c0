// The requester or staff cancel an open ticket with a reason.
import { LIMITS } from '../../domain/ticket.js'
import { FieldCheck, run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface CancelInput {
  ticketId: number
  version?: number
  reason: string
}

export async function cancelTicket(deps: Deps, who: Who, input: CancelInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'cancel', { version: input.version, input: { reason: input.reason } }, () => {
    const check = new FieldCheck()
    check.text('reason', input.reason, LIMITS.reason)
    check.refuse()
    const reason = input.reason.trim()
    return { set: { cancel_reason: reason, closed_at: uow.at }, historyNote: reason, mail: { reason } }
  }))
}
