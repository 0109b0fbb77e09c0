// Transfer a ticket to another assignee (of its desk), account (of the requester) or product,
// with an internal note for the colleagues: staff at the desk or through the API, and CRM users
// changing the Case's owner, account or product.
import type { TicketSource } from '../db/schema.js'
import { activeStaffExists, isDeskMember, nameOf } from '../db/ticket.js'
import { updateTicket, type TicketChanges } from '../db/ticket-write.js'
import { contactAccounts } from '../db/people.js'
import { ticketRouting } from '../db/routing.js'
import { LIMITS, namesCatalogOrProduct } from '../domain/ticket.js'
import { excerptOf } from '../domain/notifications.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { beginChange, lockVisible } from './ticket-access.js'
import { addNoteRows } from './add-note.js'

export interface TransferInput {
  ticketId: number
  version?: number
  /** Left out: unchanged. A transfer hands a ticket on; it never leaves it without anyone. */
  assigneeId?: number | null
  accountId?: number
  /** null removes the product (only when a catalog item says what the ticket is about). */
  productId?: number | null
  /** Why: an internal note to colleagues (required from people), kept with the ticket and sent to the Case as a private comment. */
  note?: string
  source?: TicketSource
}

export interface Transferred {
  changed: ('assignee' | 'account' | 'product')[]
}

export async function transferTicket(deps: Deps, who: Who, input: TransferInput): Promise<Outcome<Transferred>> {
  return run(deps, who, (uow) => transferIn(uow, input))
}

export async function transferIn(uow: UnitOfWork, input: TransferInput): Promise<Transferred> {
  const trx = uow.trx
  if (uow.who.person?.kind === 'contact') {
    // Visible first, so a client cannot tell another's ticket (not_found) from their own (forbidden).
    await lockVisible(uow, input.ticketId)
    throw new Refused('forbidden')
  }
  const { ticket } = await beginChange(uow, input.ticketId, 'transfer', { version: input.version })
  const check = new FieldCheck()
  const changes: { field: Transferred['changed'][number]; table: 'staff' | 'account' | 'product'; from: number | null; to: number | null }[] = []
  const set: TicketChanges = {}

  if (input.assigneeId === null) check.add('assigneeId', 'required')
  else if (input.assigneeId !== undefined && input.assigneeId !== ticket.assignee_id) {
    // Staff hand a ticket to a colleague of its desk; a CRM user may give the Case to any active staff member.
    const allowed = uow.who.role === 'crm' ? await activeStaffExists(trx, input.assigneeId) : await isDeskMember(trx, ticket.desk_id, input.assigneeId) && await activeStaffExists(trx, input.assigneeId)
    if (!allowed) check.add('assigneeId', 'not_on_desk', { desk: (await nameOf(trx, 'desk', ticket.desk_id)) ?? '' })
    else {
      set.assignee_id = input.assigneeId
      changes.push({ field: 'assignee', table: 'staff', from: ticket.assignee_id, to: input.assigneeId })
    }
  }
  if (input.accountId !== undefined && input.accountId !== ticket.account_id) {
    // The CRM may move a Case to an account the requester is not linked to yet; staff choose among the requester's.
    const accounts = await contactAccounts(trx, ticket.contact_id)
    if (uow.who.role !== 'crm' && !accounts.some((a) => a.id === input.accountId)) check.add('accountId', 'not_requesters_account')
    else if (uow.who.role !== 'crm' && accounts.some((a) => a.id === input.accountId && a.active !== 1)) check.add('accountId', 'inactive')
    else {
      set.account_id = input.accountId
      changes.push({ field: 'account', table: 'account', from: ticket.account_id, to: input.accountId })
    }
  }
  if (input.productId !== undefined && input.productId !== ticket.product_id) {
    if (input.productId === null && !namesCatalogOrProduct({ productId: null, categoryId: ticket.category_id })) check.add('productId', 'catalog_or_product')
    else if (input.productId !== null && !(await ticketRouting(trx)).productActive(input.productId)) check.add('productId', 'invalid_choice')
    else {
      set.product_id = input.productId
      changes.push({ field: 'product', table: 'product', from: ticket.product_id, to: input.productId })
    }
  }
  // People say why they hand a ticket on (the new assignee reads it); a CRM owner change carries no note.
  const note = input.note?.trim() ?? ''
  check.text('note', note, LIMITS.note, uow.who.role !== 'crm')
  check.refuse()
  if (changes.length === 0) throw new Refused('nothing_to_change')

  if (!(await updateTicket(trx, ticket.id, ticket.version, set, uow.at))) throw new Refused('conflict')
  // A change the CRM made is already on the Case.
  if (uow.who.role !== 'crm') await uow.syncCase(ticket.id)
  for (const c of changes) {
    await uow.history(ticket.id, { action: 'transfer', field: c.field, from: await nameOf(trx, c.table, c.from), to: await nameOf(trx, c.table, c.to), note: note || null })
  }
  if (note) await addNoteRows(uow, ticket, { kind: 'internal', visibility: 'internal', body: note, source: input.source ?? 'portal', files: [] })
  if (set.assignee_id !== undefined) {
    await uow.alert(set.assignee_id!, 'assigned', ticket.id, {
      excerpt: note ? excerptOf(note) : null,
      mail: { template: 'ticket.transfer', data: { number: ticket.number, title: ticket.title, note: note || null, actorName: uow.who.ref.name } }
    })
  }
  return { changed: changes.map((c) => c.field) }
}
