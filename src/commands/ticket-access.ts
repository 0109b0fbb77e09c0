// How every command on an existing ticket begins: take the ticket's lock, load it, check the
// actor may see it, ask the lifecycle, and check the version the caller read.
import { ticketForChange, type TicketForChange } from '../db/ticket.js'
import { lockTicket } from '../db/ticket-write.js'
import { getSettings, type Settings } from '../db/settings.js'
import { decide, isMissingInput, type Action, type Allowed, type LifecycleInput } from '../domain/lifecycle.js'
import { canSeeTicket } from '../domain/permissions.js'
import { Refused, type UnitOfWork, type Who } from './kernel.js'

export interface Begun {
  ticket: TicketForChange
  decision: Allowed
  settings: Settings
}

/** Locks and loads a ticket the actor may see; a missing, deleted or foreign one is `not_found`. */
export async function lockVisible(uow: UnitOfWork, ticketId: number): Promise<TicketForChange> {
  await lockTicket(uow.trx, ticketId)
  const ticket = await ticketForChange(uow.trx, ticketId)
  if (!ticket) throw new Refused('not_found')
  if (uow.who.person && !canSeeTicket(uow.who.person, ticket)) throw new Refused('not_found')
  return ticket
}

export function checkVersion(ticket: { version: number }, version: number | undefined): void {
  if (version !== undefined && version !== ticket.version) throw new Refused('conflict', { params: { current: String(ticket.version) } })
}

/**
 * The start of a change: the ticket locked and visible, the lifecycle's answer for `action`,
 * then the version. Refusals come in a fixed order, so a person sees the reason that matters
 * most: the ticket's state (or their role), then a stale page, then a missing input.
 */
export async function beginChange(uow: UnitOfWork, ticketId: number, action: Action, opts: { version?: number; input?: LifecycleInput } = {}): Promise<Begun> {
  const ticket = await lockVisible(uow, ticketId)
  const settings = await getSettings(uow.trx)
  const decision = decide(
    { state: ticket.state, status: ticket.status, rated: ticket.rated, parentId: ticket.parent_id },
    { role: uow.who.role, canDelete: uow.who.canDelete },
    action, opts.input ?? {}, settings
  )
  if (!decision.ok && !isMissingInput(decision.code)) throw new Refused(decision.code, { params: decision.params })
  checkVersion(ticket, opts.version)
  if (!decision.ok) throw new Refused(decision.code, { field: decision.params.field, params: decision.params })
  return { ticket, decision, settings }
}

export function actorName(uow: UnitOfWork): string | null {
  return uow.who.ref.name
}
