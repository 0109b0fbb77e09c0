// Staff take a ticket off hold: back to In Progress / Analysis, the SLA clock runs again.
import { run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface ResumeInput {
  ticketId: number
  version?: number
}

export async function resumeTicket(deps: Deps, who: Who, input: ResumeInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'resume', { version: input.version }, () => ({})))
}
