// Open a ticket, whatever the channel: the portal, the desk on a client's behalf, the API, an
// e-mail from a known contact, or a reply to a closed ticket (a follow-up linked to it).
import type { Trx } from '../db/index.js'
import type { Level, Priority, TicketSource, TicketType } from '../db/schema.js'
import { eligibleStaffLoads } from '../db/ticket.js'
import { ticketParties } from '../db/mail-outbox.js'
import { insertAttachments, insertTicket, nextCounter } from '../db/ticket-write.js'
import { contactAccounts, getContact } from '../db/people.js'
import { accountIsActive } from '../db/catalog.js'
import { ticketRouting, type Routing } from '../db/routing.js'
import { pickLeastLoaded } from '../domain/assignment.js'
import { PRIORITIES } from '../domain/lifecycle.js'
import { isWebUrl, LIMITS, namesCatalogOrProduct, STAFF_SOURCES, TICKET_SOURCES } from '../domain/ticket.js'
import type { StoredFile, UploadedFile } from '../storage/attachments.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { startApproval } from './approval.js'
import { ticketFollowedSuggestions } from './kb-reader.js'

export interface OpenTicketInput {
  /** Staff open tickets on behalf of a contact; a client's own id is used for them. */
  contactId?: number | null
  /** Needed only when the contact belongs to several accounts. */
  accountId?: number | null
  productId?: number | null
  categoryId?: number | null
  /** Default: the desk serving the catalog item or product. */
  deskId?: number | null
  /** Default medium. */
  priority?: string | null
  title: string
  description: string
  url?: string | null
  files?: (UploadedFile | StoredFile)[]
  /** How the ticket reached us: the channel's own, or what staff say for a ticket they open on a client's behalf. */
  source: TicketSource | string
}

export interface OpenedTicket {
  id: number
  number: number
  assigneeId: number | null
}

/** Where a new ticket goes, as checked: what the insert needs. */
export interface TicketDraft {
  title: string
  description: string
  url: string | null
  accountId: number
  contactId: number
  createdByStaffId: number | null
  productId: number | null
  categoryId: number | null
  deskId: number
  priority: Priority
  impact?: Level | null
  urgency?: Level | null
  ticketType: TicketType
  source: TicketSource
  parentId?: number | null
}

/**
 * Opens a ticket: checks every field (a ticket opened by a person through a form names a catalog
 * item or a product; one opened by e-mail may wait for staff to categorize it), keeps the files,
 * assigns it by least load, and queues the acknowledgement, the assignee's notice and the Case.
 */
export async function openTicket(deps: Deps, who: Who, input: OpenTicketInput): Promise<Outcome<OpenedTicket>> {
  return run(deps, who, (uow) => openTicketIn(uow, deps, input))
}

/** The same inside another command's transaction (a ticket opened by e-mail is recorded with its message). */
export async function openTicketIn(uow: UnitOfWork, deps: Pick<Deps, 'store'>, input: OpenTicketInput): Promise<OpenedTicket> {
  const routing = await ticketRouting(uow.trx)
  const draft = await checkNewTicket(uow, input, routing)
  const files = await keepFiles(deps, input.files ?? [], uow.trx)
  const opened = await insertNewTicket(uow, draft, files, routing)
  // Articles the client just opened from the form's suggestions did not solve it.
  if (uow.who.person?.kind === 'contact') await ticketFollowedSuggestions(uow, draft.contactId, opened.id)
  return opened
}

async function checkNewTicket(uow: UnitOfWork, input: OpenTicketInput, routing: Routing): Promise<TicketDraft> {
  const db = uow.trx
  const person = uow.who.person
  const check = new FieldCheck()
  const contactId = person?.kind === 'contact' ? person.id : input.contactId ?? null
  let accountId = input.accountId ?? null
  if (contactId === null) {
    check.add('contactId', 'required')
  } else {
    const contact = await getContact(db, contactId)
    const theirs = contact && contact.active === 1 ? await contactAccounts(db, contactId) : []
    // An account turned off keeps its tickets readable and takes no new ones.
    const accounts = theirs.filter((a) => a.active === 1)
    if (theirs.length === 0) check.add('contactId', 'invalid_choice')
    else if (accountId !== null && theirs.some((a) => a.id === accountId && a.active !== 1)) check.add('accountId', 'inactive')
    else if (accounts.length === 0) check.add('accountId', 'inactive')
    else if (accountId === null && accounts.length === 1) accountId = accounts[0].id
    else if (accountId === null) check.add('accountId', 'required')
    else if (!accounts.some((a) => a.id === accountId)) check.add('accountId', 'invalid_choice')
  }

  const productId = input.productId ?? null
  const categoryId = input.categoryId ?? null
  if (input.source !== 'email' && !namesCatalogOrProduct({ productId, categoryId })) check.add('productId', 'catalog_or_product')
  if (productId !== null && !routing.productActive(productId)) check.add('productId', 'invalid_choice')
  let ticketType: TicketType = 'incident'
  let usualPriority: Priority = 'medium'
  if (categoryId !== null) {
    const item = routing.item(categoryId)
    if (!item || item.active !== 1) check.add('categoryId', 'invalid_choice')
    else {
      ticketType = item.ticket_type
      usualPriority = item.default_priority ?? 'medium'
    }
  }

  let deskId = input.deskId ?? null
  if (deskId !== null && !routing.deskExists(deskId)) check.add('deskId', 'invalid_choice')
  if (deskId === null && !check.has('productId') && !check.has('categoryId')) {
    deskId = routing.deskServing({ productId, categoryId }) ?? null
    if (deskId === null) check.add('deskId', 'required')
  }

  // Not chosen: the catalog item's usual priority.
  const priority = (input.priority || usualPriority) as Priority
  if (!PRIORITIES.includes(priority)) check.add('priority', 'invalid_choice')
  check.text('title', input.title, LIMITS.title)
  check.text('description', input.description, LIMITS.description)
  const url = input.url?.trim() || null
  if (url !== null && !isWebUrl(url)) check.add('url', 'invalid_url')
  const tooBig = (input.files ?? []).find((f) => 'truncated' in f && f.truncated)
  if (tooBig) check.add('attachments', 'file_too_large', { filename: tooBig.filename })
  // Staff opening a ticket on a client's behalf say how the client reached them; other channels name themselves.
  const sources: readonly string[] = person?.kind === 'staff' && input.source !== 'api' ? STAFF_SOURCES : TICKET_SOURCES
  if (!sources.includes(input.source)) check.add('source', 'invalid_choice')
  check.refuse()

  return {
    title: input.title, description: input.description, url, accountId: accountId!, contactId: contactId!,
    createdByStaffId: person?.kind === 'staff' ? person.id : null, productId, categoryId, deskId: deskId!,
    priority, ticketType, source: input.source as TicketSource
  }
}

/** Moves received uploads into the store, in the command's transaction; files kept earlier (e-mail) pass through. */
export async function keepFiles(deps: Pick<Deps, 'store'>, files: (UploadedFile | StoredFile)[], trx: Trx): Promise<StoredFile[]> {
  const kept: StoredFile[] = []
  for (const f of files) {
    if (!('tmpPath' in f)) kept.push(f)
    else if (!deps.store) throw new Error('no attachment store to keep uploads in')
    else kept.push(await deps.store.keep(f, trx))
  }
  return kept
}

/**
 * Inserts a checked ticket, assigned to the available eligible staff member with the fewest open
 * tickets; the choice and the insert share the transaction, so simultaneous tickets spread evenly.
 */
export async function insertNewTicket(uow: UnitOfWork, draft: TicketDraft, files: StoredFile[], routing?: Routing): Promise<OpenedTicket> {
  const trx = uow.trx
  const number = await nextCounter(trx, 'ticket_number')
  const candidates = await eligibleStaffLoads(trx, draft.deskId, { productId: draft.productId, categoryId: draft.categoryId })
  const assigneeId = pickLeastLoaded(candidates, uow.random)
  const due = (routing ?? await ticketRouting(trx)).slaDue({ priority: draft.priority, categoryId: draft.categoryId, deskId: draft.deskId }, uow.at)
  const { id, version } = await insertTicket(trx, {
    number, title: draft.title, description: draft.description, url: draft.url,
    ticket_type: draft.ticketType, account_id: draft.accountId, contact_id: draft.contactId,
    created_by_staff_id: draft.createdByStaffId, product_id: draft.productId, category_id: draft.categoryId,
    desk_id: draft.deskId, impact: draft.impact ?? null, urgency: draft.urgency ?? null, priority: draft.priority,
    source: draft.source, state: 'open', status: 'new', assignee_id: assigneeId, parent_id: draft.parentId ?? null,
    response_due_at: due.responseDueAt, resolution_due_at: due.resolutionDueAt, sla_at_risk_at: due.atRiskAt, created_at: uow.at, updated_at: uow.at
  })
  await insertAttachments(trx, id, null, files, uow.at)
  await uow.history(id, { action: 'created' })
  if (assigneeId !== null) {
    const name = candidates.find((c) => c.staffId === assigneeId)?.name ?? null
    await uow.history(id, { action: 'assigned', field: 'assignee', to: name }, { type: 'system', id: null, name: null })
  }
  // The requester gets an acknowledgement even when they opened it; the assignee a notice.
  const data = { number, title: draft.title, actorName: uow.who.ref.name, parentId: draft.parentId ?? null }
  const parties = await ticketParties(trx, id)
  await uow.notify(id, ['requester'], 'ticket.created', data, { skipActor: false, parties })
  // Routed to someone: told in the app (by no one in particular), and by mail if they want it.
  if (assigneeId !== null) await uow.alert(assigneeId, 'assigned', id, { actorName: null, mail: { template: 'ticket.created', data } })
  await startApproval(uow, { id, version, number, title: draft.title, description: draft.description, contactId: draft.contactId, accountId: draft.accountId, categoryId: draft.categoryId, parentId: draft.parentId ?? null })
  await uow.syncCase(id)
  return { id, number, assigneeId }
}

/** A follow-up of a closed ticket: same requester, account, catalog and desk, the reply as its description. */
export async function openFollowUp(uow: UnitOfWork, parent: { id: number; title: string; account_id: number; contact_id: number; product_id: number | null; category_id: number | null; desk_id: number; priority: Priority; ticket_type: TicketType }, body: string, files: StoredFile[], source: TicketSource): Promise<OpenedTicket> {
  if (body.length > LIMITS.description) throw new Refused('invalid', { fields: { body: { problem: 'too_long', params: { max: LIMITS.description } } } })
  // A follow-up is a new ticket: none for an account that is turned off, whoever replies (the
  // CRM, the record's owner, excepted, as for a transfer). The reply is refused, not lost: the
  // portal and the desk say why, and a mail is quarantined with the reason.
  if (uow.who.role !== 'crm' && !(await accountIsActive(uow.trx, parent.account_id))) {
    throw new Refused('invalid', { fields: { body: { problem: 'inactive' } } })
  }
  const person = uow.who.person
  return insertNewTicket(uow, {
    title: parent.title.startsWith('Re: ') ? parent.title : `Re: ${parent.title}`.slice(0, LIMITS.title),
    description: body, url: null, accountId: parent.account_id, contactId: parent.contact_id,
    createdByStaffId: person?.kind === 'staff' ? person.id : null, productId: parent.product_id, categoryId: parent.category_id,
    deskId: parent.desk_id, priority: parent.priority, ticketType: parent.ticket_type, source, parentId: parent.id
  }, files)
}
