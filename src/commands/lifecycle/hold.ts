// Staff put a ticket on hold with a reason (waiting on the requester or a third party): the SLA clock pauses.
import { LIMITS } from '../../domain/ticket.js'
import { FieldCheck, run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface HoldInput {
  ticketId: number
  version?: number
  reason: string
}

export async function holdTicket(deps: Deps, who: Who, input: HoldInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'hold', { version: input.version, input: { reason: input.reason } }, () => {
    const check = new FieldCheck()
    check.text('reason', input.reason, LIMITS.reason)
    check.refuse()
    const reason = input.reason.trim()
    return { historyNote: reason, mail: { reason } }
  }))
}
