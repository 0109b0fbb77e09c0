// Staff categorize a ticket or edit its fields (priority, impact, urgency, catalog item, product,
// desk, source); a CRM user's change of priority comes the same way. A desk the assignee is not
// a member of re-assigns the ticket there by least load.
import type { Level, Priority, TicketSource } from '../db/schema.js'
import { eligibleStaffLoads, isDeskMember, nameOf, staffNames } from '../db/ticket.js'
import { updateTicket, type TicketChanges } from '../db/ticket-write.js'
import { ticketRouting } from '../db/routing.js'
import type { SlaTargets } from '../domain/sla.js'
import { pickLeastLoaded } from '../domain/assignment.js'
import { LEVELS, PRIORITIES, priorityFor } from '../domain/lifecycle.js'
import { namesCatalogOrProduct, STAFF_SOURCES } from '../domain/ticket.js'
import { FieldCheck, Refused, run, type Deps, type HistoryEntry, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { beginChange } from './ticket-access.js'

/** Fields left out (undefined) stay as they are; null clears a field that may be empty. */
export interface EditFieldsInput {
  ticketId: number
  version?: number
  /** null with impact and urgency both set: the priority comes from the impact × urgency matrix. */
  priority?: Priority | string | null
  impact?: Level | string | null
  urgency?: Level | string | null
  categoryId?: number | null
  productId?: number | null
  deskId?: number
  source?: TicketSource | string
}

export interface FieldsEdited {
  /** The fields that changed, in the order their history rows were written. */
  changed: string[]
  priority: Priority
  /** The priority came from the impact × urgency matrix. */
  fromMatrix: boolean
}

export async function editTicketFields(deps: Deps, who: Who, input: EditFieldsInput): Promise<Outcome<FieldsEdited>> {
  return run(deps, who, (uow) => editFieldsIn(uow, input))
}

export async function editFieldsIn(uow: UnitOfWork, input: EditFieldsInput): Promise<FieldsEdited> {
  const trx = uow.trx
  const { ticket } = await beginChange(uow, input.ticketId, 'categorize', { version: input.version })
  const check = new FieldCheck()
  const routing = await ticketRouting(trx)
  // An unchanged value stays valid even if it has since been retired from the catalog.
  const categoryId = input.categoryId === undefined ? ticket.category_id : input.categoryId
  if (categoryId !== ticket.category_id && categoryId !== null) {
    const item = routing.item(categoryId)
    if (!item || item.active !== 1) check.add('categoryId', 'invalid_choice')
  }
  const productId = input.productId === undefined ? ticket.product_id : input.productId
  if (productId !== ticket.product_id && productId !== null && !routing.productActive(productId)) check.add('productId', 'invalid_choice')
  const named = namesCatalogOrProduct({ productId, categoryId })
  // A ticket that never named either (opened by e-mail) may stay so until someone picks one.
  if (!named && (ticket.product_id !== null || ticket.category_id !== null || input.categoryId !== undefined || input.productId !== undefined)) check.add('productId', 'catalog_or_product')
  const deskId = input.deskId ?? ticket.desk_id
  if (deskId !== ticket.desk_id && !routing.deskExists(deskId)) check.add('deskId', 'invalid_choice')
  const level = (field: 'impact' | 'urgency'): Level | null => {
    const value = input[field] === undefined ? ticket[field] : input[field]
    if (value !== null && !(LEVELS as readonly string[]).includes(value)) check.add(field, 'invalid_choice')
    return value as Level | null
  }
  const impact = level('impact')
  const urgency = level('urgency')
  if (input.priority !== undefined && input.priority !== null && !(PRIORITIES as readonly string[]).includes(input.priority)) check.add('priority', 'invalid_choice')
  // Staff correct how the client reached them; api and crm stay as those channels set them.
  const source = (input.source ?? ticket.source) as TicketSource
  if (source !== ticket.source && !(STAFF_SOURCES as readonly string[]).includes(source)) check.add('source', 'invalid_choice')
  check.refuse()

  const fromMatrix = input.priority === null && impact !== null && urgency !== null && check.ok
  const priority: Priority = (input.priority as Priority | null | undefined) ?? (fromMatrix ? priorityFor(impact!, urgency!) : ticket.priority)

  const set: TicketChanges = {}
  const events: HistoryEntry[] = []
  const plain = { impact, urgency, source } as const
  for (const field of ['impact', 'urgency', 'source'] as const) {
    if (plain[field] !== ticket[field]) {
      Object.assign(set, { [field]: plain[field] })
      events.push({ action: 'updated', field, from: ticket[field], to: plain[field] })
    }
  }
  // Targets follow a new priority, or a catalog item with targets of its own, counted from the
  // ticket's start plus its time on hold, in the business hours of its desk.
  const targetsMove = priority !== ticket.priority || (categoryId !== ticket.category_id &&
    !sameTargets(routing.slaTargets({ priority, categoryId: ticket.category_id }), routing.slaTargets({ priority, categoryId })))
  if (targetsMove) {
    const due = routing.slaDue({ priority, categoryId, deskId }, new Date(Date.parse(ticket.created_at) + Number(ticket.sla_paused_ms)).toISOString())
    Object.assign(set, { resolution_due_at: due.resolutionDueAt, sla_at_risk_at: due.atRiskAt, sla_alert: null, ...(ticket.first_response_at ? {} : { response_due_at: due.responseDueAt }) })
  }
  if (priority !== ticket.priority) {
    set.priority = priority
    events.push({ action: 'updated', field: 'priority', from: ticket.priority, to: priority })
  }
  if (categoryId !== ticket.category_id) {
    set.category_id = categoryId
    events.push({ action: 'updated', field: 'category', from: await nameOf(trx, 'category', ticket.category_id), to: await nameOf(trx, 'category', categoryId) })
  }
  if (productId !== ticket.product_id) {
    set.product_id = productId
    events.push({ action: 'updated', field: 'product', from: await nameOf(trx, 'product', ticket.product_id), to: await nameOf(trx, 'product', productId) })
  }
  if (deskId !== ticket.desk_id) {
    set.desk_id = deskId
    events.push({ action: 'updated', field: 'desk', from: await nameOf(trx, 'desk', ticket.desk_id), to: await nameOf(trx, 'desk', deskId) })
    if (ticket.assignee_id === null || !(await isDeskMember(trx, deskId, ticket.assignee_id))) {
      const next = pickLeastLoaded(await eligibleStaffLoads(trx, deskId, { productId, categoryId }), uow.random)
      set.assignee_id = next
      const names = await staffNames(trx, [ticket.assignee_id, next])
      events.push({ action: 'assigned', field: 'assignee', from: ticket.assignee_id === null ? null : names.get(ticket.assignee_id) ?? null, to: next === null ? null : names.get(next) ?? null })
    }
  }
  if (events.length === 0) return { changed: [], priority, fromMatrix }
  if (!(await updateTicket(trx, ticket.id, ticket.version, set, uow.at))) throw new Refused('conflict')
  for (const e of events) await uow.history(ticket.id, e)
  // A change the CRM made is already on the Case.
  if (uow.who.role !== 'crm') await uow.syncCase(ticket.id)
  return { changed: events.map((e) => e.field!), priority, fromMatrix }
}

function sameTargets(a: SlaTargets, b: SlaTargets): boolean {
  return a.responseMinutes === b.responseMinutes && a.resolutionMinutes === b.resolutionMinutes
}
