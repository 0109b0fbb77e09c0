// The organisation's structure, as an admin changes it: desks (name, manager, members, the
// products and catalog items they serve) and products (name, code, active). Nothing is deleted:
// a product is turned off, and stays on the tickets that name it. Every change is audited.
import {
  catalogNameTaken, deskAliasTaken, deskProfile, getCatalogEntry, getProduct, isCatalogArea, knownForDesk, nameTaken, saveCatalogEntry,
  saveDesk, saveProduct
} from '../db/structure-admin.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { asAdmin, checkedEmail, sortedIds } from './admin-common.js'
import { AUTO_CLOSE_DAYS } from './admin.js'
import { calendarProfile } from '../db/calendars.js'
import { PRIORITIES, type Priority } from '../domain/lifecycle.js'
import type { DeskProfile } from '../db/structure-admin.js'

/** Desk and product names, product codes. */
export const STRUCTURE_LIMITS = { name: 100, code: 40 } as const

export interface DeskFields {
  name: string
  managerId: number | null
  memberIds: number[]
  productIds: number[]
  /** Catalog items whose tickets go to this desk. */
  categoryIds: number[]
  /** The business hours its SLA targets count in; null: calendar time. */
  calendarId: number | null
  /** Days before its resolved tickets close by themselves; null: the service setting. */
  autoCloseDays: number | null
  /** Its own address: mail to it opens tickets here. null or '': none; left out: kept (none for a new desk). */
  emailAlias?: string | null
  /** New mail that names no desk comes here (taken from the desk that had it). Left out: kept. */
  inboundDefault?: boolean
}

export interface ProductFields {
  name: string
  code: string
  active: boolean
}

async function checkedDesk(uow: UnitOfWork, input: DeskFields, deskId: number | null, current?: DeskProfile) {
  const check = new FieldCheck()
  // A desk's address is checked as a person's is (and is no person's), and is no other desk's.
  const rawAlias = input.emailAlias === undefined ? current?.emailAlias ?? null : input.emailAlias
  const currentAlias = current?.emailAlias ?? null
  const emailAlias = rawAlias === null || rawAlias.trim() === '' ? null : await checkedEmail(uow, check, rawAlias, currentAlias, 'emailAlias')
  if (emailAlias !== null && emailAlias !== currentAlias && !check.has('emailAlias') && await deskAliasTaken(uow.trx, emailAlias, deskId)) check.add('emailAlias', 'taken')
  const inboundDefault = input.inboundDefault ?? current?.inboundDefault ?? false
  const name = input.name.trim()
  check.text('name', input.name, STRUCTURE_LIMITS.name)
  if (!check.has('name') && await nameTaken(uow.trx, 'desk', name, deskId)) check.add('name', 'taken')
  const memberIds = sortedIds(input.memberIds)
  const productIds = sortedIds(input.productIds)
  const categoryIds = sortedIds(input.categoryIds)
  const known = await knownForDesk(uow.trx, [...memberIds, ...(input.managerId === null ? [] : [input.managerId])], productIds, categoryIds)
  if (input.managerId !== null && !known.staff.has(input.managerId)) check.add('managerId', 'invalid_choice')
  if (memberIds.some((id) => !known.staff.has(id))) check.add('memberIds', 'invalid_choice')
  if (productIds.some((id) => !known.products.has(id))) check.add('productIds', 'invalid_choice')
  if (categoryIds.some((id) => !known.items.has(id))) check.add('categoryIds', 'invalid_choice')
  if (input.calendarId !== null && !(await calendarProfile(uow.trx, input.calendarId))) check.add('calendarId', 'invalid_choice')
  const days = input.autoCloseDays
  if (days !== null && !(Number.isInteger(days) && days >= AUTO_CLOSE_DAYS.min && days <= AUTO_CLOSE_DAYS.max)) check.add('autoCloseDays', 'out_of_range', AUTO_CLOSE_DAYS)
  check.refuse()
  return { name, managerId: input.managerId, memberIds, productIds, categoryIds, calendarId: input.calendarId, autoCloseDays: days, emailAlias, inboundDefault }
}

export async function addDesk(deps: Deps, who: Who, input: DeskFields): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const desk = await checkedDesk(uow, input, null)
    const id = await saveDesk(uow.trx, null, desk, uow.at)
    await uow.audit({ entity: 'desk', entityId: id, action: 'create', label: desk.name, after: { ...desk } })
    return { id }
  })
}

/** Members kept here keep their tickets; a member taken off a desk still sees the tickets assigned to them. */
export async function editDesk(deps: Deps, who: Who, input: DeskFields & { deskId: number }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await deskProfile(uow.trx, input.deskId)
    if (!current) throw new Refused('not_found')
    const desk = await checkedDesk(uow, input, current.id, current)
    const { id: _id, ...before } = current
    await saveDesk(uow.trx, current.id, desk, uow.at)
    return { changed: await uow.audit({ entity: 'desk', entityId: current.id, action: 'update', label: desk.name, before: { ...before }, after: { ...desk } }) }
  })
}

async function checkedProduct(uow: UnitOfWork, input: ProductFields, productId: number | null) {
  const check = new FieldCheck()
  const name = input.name.trim()
  const code = input.code.trim()
  check.text('name', input.name, STRUCTURE_LIMITS.name)
  check.text('code', input.code, STRUCTURE_LIMITS.code, false)
  if (!check.has('name') && await nameTaken(uow.trx, 'product', name, productId)) check.add('name', 'taken')
  check.refuse()
  return { name, code: code === '' ? null : code, active: input.active }
}

export async function addProduct(deps: Deps, who: Who, input: ProductFields): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const product = await checkedProduct(uow, input, null)
    const id = await saveProduct(uow.trx, null, product, uow.at)
    await uow.audit({ entity: 'product', entityId: id, action: 'create', label: product.name, after: { ...product } })
    return { id }
  })
}

/** A product turned off is offered nowhere new; tickets that name it keep it. */
export async function editProduct(deps: Deps, who: Who, input: ProductFields & { productId: number }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await getProduct(uow.trx, input.productId)
    if (!current) throw new Refused('not_found')
    const product = await checkedProduct(uow, input, current.id)
    await saveProduct(uow.trx, current.id, product, uow.at)
    const before = { name: current.name, code: current.code, active: current.active === 1 }
    return { changed: await uow.audit({ entity: 'product', entityId: current.id, action: 'update', label: product.name, before, after: { ...product } }) }
  })
}

export interface CatalogFields {
  /** null: an area; otherwise the item's area. */
  areaId: number | null
  name: string
  ticketType: string
  active: boolean
  /** An item's tickets' priority when the requester does not choose; null: medium. Left out: kept. */
  defaultPriority?: string | null
}

const TICKET_TYPES = ['incident', 'request'] as const

async function checkedCatalog(uow: UnitOfWork, input: CatalogFields, entryId: number | null, wasArea: boolean | null, kept: Priority | null = null) {
  const check = new FieldCheck()
  const defaultPriority = input.defaultPriority === undefined ? kept : input.defaultPriority === '' ? null : input.defaultPriority
  if (defaultPriority !== null && !PRIORITIES.includes(defaultPriority as Priority)) check.add('defaultPriority', 'invalid_choice')
  // An area's tickets are its items': only items have a default priority.
  else if (defaultPriority !== null && input.areaId === null) check.add('defaultPriority', 'invalid_choice')
  const name = input.name.trim()
  check.text('name', input.name, STRUCTURE_LIMITS.name)
  if (!TICKET_TYPES.includes(input.ticketType as never)) check.add('ticketType', 'invalid_choice')
  // An area stays an area and an item stays an item (tickets and desks name items).
  if (wasArea === true && input.areaId !== null) check.add('areaId', 'invalid_choice')
  else if (input.areaId !== null && !(await isCatalogArea(uow.trx, input.areaId))) check.add('areaId', 'invalid_choice')
  else if (wasArea === false && input.areaId === null) check.add('areaId', 'required')
  if (!check.has('name') && !check.has('areaId') && await catalogNameTaken(uow.trx, input.areaId, name, entryId)) check.add('name', 'taken')
  check.refuse()
  return { parentId: input.areaId, name, ticketType: input.ticketType as 'incident' | 'request', active: input.active, defaultPriority: defaultPriority as Priority | null }
}

/** A catalog area (areaId null) or an item of an area; new items need no approval until set on the approval page. */
export async function addCatalogEntry(deps: Deps, who: Who, input: CatalogFields): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const entry = await checkedCatalog(uow, input, null, null)
    const id = await saveCatalogEntry(uow.trx, null, entry, uow.at)
    await uow.audit({ entity: entry.parentId === null ? 'catalog_area' : 'catalog_item', entityId: id, action: 'create', label: entry.name, after: { ...entry } })
    return { id }
  })
}

/** Renames, retypes, moves an item to another area, or turns an entry off (never deleted: tickets name it). */
export async function editCatalogEntry(deps: Deps, who: Who, input: CatalogFields & { entryId: number }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await getCatalogEntry(uow.trx, input.entryId)
    if (!current) throw new Refused('not_found')
    const entry = await checkedCatalog(uow, input, current.id, current.parent_id === null, current.default_priority)
    await saveCatalogEntry(uow.trx, current.id, entry, uow.at)
    const before = { parentId: current.parent_id, name: current.name, ticketType: current.ticket_type, active: current.active === 1, defaultPriority: current.default_priority }
    const changed = await uow.audit({
      entity: current.parent_id === null ? 'catalog_area' : 'catalog_item', entityId: current.id, action: 'update', label: entry.name, before, after: { ...entry }
    })
    return { changed }
  })
}
