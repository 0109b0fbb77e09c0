// Staff resolve a ticket with its resolution: Resolved / Waiting for Closure, the requester
// accepts or rejects. Open follow-ups of the ticket are resolved by their origin at once.
import { OPEN_STATES } from '../../domain/lifecycle.js'
import { LIMITS } from '../../domain/ticket.js'
import { openChildIds } from '../../db/ticket.js'
import { FieldCheck, run, SYSTEM, type Deps, type Outcome, type UnitOfWork, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface ResolveInput {
  ticketId: number
  version?: number
  resolution: string
}

export async function resolveTicket(deps: Deps, who: Who, input: ResolveInput): Promise<Outcome<Moved>> {
  return run(deps, who, async (uow) => {
    const moved = await transitionTicket(uow, input.ticketId, 'resolve', { version: input.version, input: { resolution: input.resolution } }, () => {
      const check = new FieldCheck()
      check.text('resolution', input.resolution, LIMITS.note)
      check.refuse()
      const resolution = input.resolution.trim()
      // The resolution belongs to the conversation too: both sides read it there, it reaches the
      // CRM as a comment, and it counts as a first response.
      return { set: { resolution, resolved_at: uow.at }, note: { kind: 'message', body: resolution }, historyNote: resolution, mail: { resolution } }
    })
    await resolveFollowUps(uow, moved, input.resolution.trim())
    return moved
  })
}

/** Every open follow-up of a resolved ticket is resolved by its origin, by the system. */
async function resolveFollowUps(uow: UnitOfWork, parent: Moved, resolution: string): Promise<void> {
  const system = uow.as(SYSTEM)
  for (const childId of await openChildIds(uow.trx, parent.ticketId, OPEN_STATES)) {
    const text = `#${parent.number}: ${resolution}`.trim()
    const child = await transitionTicket(system, childId, 'resolve_by_origin', {}, () => ({
      set: { resolution: text, resolved_at: uow.at }, historyNote: text, mail: { resolution: text }
    }))
    await resolveFollowUps(uow, child, text)
  }
}
