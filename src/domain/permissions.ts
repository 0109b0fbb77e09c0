export type Locale = 'en' | 'pt-BR'

export interface ContactActor {
  kind: 'contact'
  id: number
  name: string
  email: string
  locale: Locale | null
  accountIds: number[]
  managerAccountIds: number[]
}

export interface StaffActor {
  kind: 'staff'
  id: number
  name: string
  email: string
  locale: Locale | null
  role: 'staff' | 'admin'
  deskIds: number[]
  canDelete: boolean
}

export type Actor = ContactActor | StaffActor

export interface TicketScope {
  account_id: number
  contact_id: number
  desk_id: number
  assignee_id: number | null
  deleted_at: string | null
}

/**
 * The one visibility rule (mirrored in SQL by `scopeTicketsToActor`): a contact sees their own
 * tickets and, as account manager, every ticket of that account; staff see their desks' tickets
 * and those assigned to them; admins see all. Deleted tickets are hidden from everyone.
 */
export function canSeeTicket(actor: Actor, ticket: TicketScope): boolean {
  if (ticket.deleted_at) return false
  if (actor.kind === 'contact') {
    return ticket.contact_id === actor.id || actor.managerAccountIds.includes(ticket.account_id)
  }
  if (actor.role === 'admin') return true
  return actor.deskIds.includes(ticket.desk_id) || ticket.assignee_id === actor.id
}

export function canSeeNote(actor: Actor, note: { visibility: string }): boolean {
  return actor.kind === 'staff' || note.visibility === 'public'
}

/**
 * Whether the actor may read the whole text of the mail a note came from (its quoted history):
 * staff always, a client only for a client's mail. A staff member's mail client may have quoted
 * a notification meant for staff (a transfer's mail carries its internal note).
 */
export function canSeeOriginalText(actor: Actor, note: { author_contact_id: number | null }): boolean {
  return actor.kind === 'staff' || note.author_contact_id !== null
}

export function isAdmin(actor: Actor | null | undefined): actor is StaffActor {
  return actor?.kind === 'staff' && actor.role === 'admin'
}
