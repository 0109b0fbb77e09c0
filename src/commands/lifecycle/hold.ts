// Staff put a ticket on hold with a reason (waiting on the requester or a third party): the SLA clock pauses.
import { run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, withReason, type Moved } from './step.js'

export interface HoldInput {
  ticketId: number
  version?: number
  reason: string
}

export async function holdTicket(deps: Deps, who: Who, input: HoldInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'hold', { version: input.version, input: { reason: input.reason } }, () => withReason(input.reason)))
}
