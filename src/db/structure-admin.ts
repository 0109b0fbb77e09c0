// Desks and products as the administration pages see them.
import type { Executor } from './index.js'
import type { Priority } from '../domain/lifecycle.js'

/** Every desk with its manager's name and how many staff and products it has. */
export async function listDesksForAdmin(db: Executor) {
  const desks = await db.selectFrom('desk').leftJoin('staff as manager', 'manager.id', 'desk.manager_id')
    .leftJoin('business_calendar as calendar', 'calendar.id', 'desk.calendar_id')
    .select(['desk.id', 'desk.name', 'manager.name as manager_name', 'calendar.name as calendar_name', 'desk.auto_close_days', 'desk.email_alias', 'desk.inbound_default'])
    .orderBy('desk.name').execute()
  const [members, products] = await Promise.all([
    db.selectFrom('desk_member').innerJoin('staff', 'staff.id', 'desk_member.staff_id').where('staff.active', '=', 1)
      .select(['desk_member.desk_id', 'staff.name']).orderBy('staff.name').execute(),
    db.selectFrom('desk_product').innerJoin('product', 'product.id', 'desk_product.product_id')
      .select(['desk_product.desk_id', 'product.name']).orderBy('product.name').execute()
  ])
  return desks.map((d) => ({
    ...d,
    members: members.filter((m) => m.desk_id === d.id).map((m) => m.name),
    products: products.filter((p) => p.desk_id === d.id).map((p) => p.name)
  }))
}

export interface DeskProfile {
  id: number
  name: string
  managerId: number | null
  memberIds: number[]
  productIds: number[]
  categoryIds: number[]
  calendarId: number | null
  autoCloseDays: number | null
  /** Mail to this address opens tickets on the desk; null: none. */
  emailAlias: string | null
  /** New mail that names no desk comes here. */
  inboundDefault: boolean
}

export async function deskProfile(db: Executor, id: number): Promise<DeskProfile | undefined> {
  const desk = await db.selectFrom('desk').select(['id', 'name', 'manager_id', 'calendar_id', 'auto_close_days', 'email_alias', 'inbound_default']).where('id', '=', id).executeTakeFirst()
  if (!desk) return undefined
  const [members, products, categories] = await Promise.all([
    db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', id).orderBy('staff_id').execute(),
    db.selectFrom('desk_product').select('product_id').where('desk_id', '=', id).orderBy('product_id').execute(),
    db.selectFrom('desk_category').select('category_id').where('desk_id', '=', id).orderBy('category_id').execute()
  ])
  return {
    id: desk.id, name: desk.name, managerId: desk.manager_id, calendarId: desk.calendar_id, autoCloseDays: desk.auto_close_days,
    emailAlias: desk.email_alias, inboundDefault: desk.inbound_default === 1,
    memberIds: members.map((m) => m.staff_id), productIds: products.map((p) => p.product_id), categoryIds: categories.map((c) => c.category_id)
  }
}

/** Writes a desk (a new one when `id` is null) and replaces its members, products and catalog items; returns its id. */
export async function saveDesk(db: Executor, id: number | null, d: Omit<DeskProfile, 'id'>, now: string): Promise<number> {
  const values = {
    name: d.name, manager_id: d.managerId, calendar_id: d.calendarId, auto_close_days: d.autoCloseDays, email_alias: d.emailAlias,
    inbound_default: d.inboundDefault ? 1 : 0
  } as const
  // One desk at most takes the mail that names none.
  if (d.inboundDefault) await db.updateTable('desk').set({ inbound_default: 0 }).where('inbound_default', '=', 1).execute()
  const deskId = id ?? (await db.insertInto('desk').values({ ...values, created_at: now }).returning('id').executeTakeFirstOrThrow()).id
  if (id !== null) await db.updateTable('desk').set(values).where('id', '=', id).execute()
  await db.deleteFrom('desk_member').where('desk_id', '=', deskId).execute()
  for (const staffId of d.memberIds) await db.insertInto('desk_member').values({ desk_id: deskId, staff_id: staffId }).execute()
  await db.deleteFrom('desk_product').where('desk_id', '=', deskId).execute()
  for (const productId of d.productIds) await db.insertInto('desk_product').values({ desk_id: deskId, product_id: productId }).execute()
  await db.deleteFrom('desk_category').where('desk_id', '=', deskId).execute()
  for (const categoryId of d.categoryIds) await db.insertInto('desk_category').values({ desk_id: deskId, category_id: categoryId }).execute()
  return deskId
}

/** Another desk with this address, other than `exceptId`. */
export async function deskAliasTaken(db: Executor, alias: string, exceptId: number | null): Promise<boolean> {
  let qb = db.selectFrom('desk').select('id').where('email_alias', '=', alias)
  if (exceptId !== null) qb = qb.where('id', '!=', exceptId)
  return (await qb.executeTakeFirst()) !== undefined
}

/** Another desk, product, account or business-hours calendar with this name (compared without case), other than `exceptId`. */
export async function nameTaken(db: Executor, table: 'desk' | 'product' | 'account' | 'business_calendar', name: string, exceptId: number | null): Promise<boolean> {
  let qb = db.selectFrom(table).select('id').where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()))
  if (exceptId !== null) qb = qb.where('id', '!=', exceptId)
  return (await qb.executeTakeFirst()) !== undefined
}

/** Which ids are active staff, which are products, and which are catalog items (not areas). */
export async function knownForDesk(db: Executor, staffIds: number[], productIds: number[], categoryIds: number[]) {
  const [staff, products, items] = await Promise.all([
    staffIds.length === 0 ? [] : db.selectFrom('staff').select('id').where('id', 'in', staffIds).where('active', '=', 1).execute(),
    productIds.length === 0 ? [] : db.selectFrom('product').select('id').where('id', 'in', productIds).execute(),
    categoryIds.length === 0 ? [] : db.selectFrom('category').select('id').where('id', 'in', categoryIds).where('parent_id', 'is not', null).execute()
  ])
  return { staff: new Set(staff.map((s) => s.id)), products: new Set(products.map((p) => p.id)), items: new Set(items.map((i) => i.id)) }
}

/** Every product, active or not. */
export async function listProductsForAdmin(db: Executor) {
  return db.selectFrom('product').select(['id', 'name', 'code', 'active', 'crm_id']).orderBy('name').orderBy('id').execute()
}

export async function getProduct(db: Executor, id: number) {
  return db.selectFrom('product').select(['id', 'name', 'code', 'active']).where('id', '=', id).executeTakeFirst()
}

/** Writes a product (a new one when `id` is null); returns its id. */
export async function saveProduct(db: Executor, id: number | null, p: { name: string; code: string | null; active: boolean }, now: string): Promise<number> {
  if (id === null) {
    return (await db.insertInto('product').values({ name: p.name, code: p.code, active: p.active ? 1 : 0, created_at: now }).returning('id').executeTakeFirstOrThrow()).id
  }
  await db.updateTable('product').set({ name: p.name, code: p.code, active: p.active ? 1 : 0 }).where('id', '=', id).execute()
  return id
}

/** Every catalog area with its items, active or not, by name. */
export async function listCatalogForAdmin(db: Executor) {
  const rows = await db.selectFrom('category').select(['id', 'parent_id', 'name', 'ticket_type', 'active', 'default_priority']).orderBy('name').orderBy('id').execute()
  return rows.filter((r) => r.parent_id === null).map((area) => ({ ...area, items: rows.filter((r) => r.parent_id === area.id) }))
}

export async function getCatalogEntry(db: Executor, id: number) {
  return db.selectFrom('category').select(['id', 'parent_id', 'name', 'ticket_type', 'active', 'default_priority']).where('id', '=', id).executeTakeFirst()
}

/** An area (parentId null) or an item of an area with this name, other than `exceptId`. */
export async function catalogNameTaken(db: Executor, parentId: number | null, name: string, exceptId: number | null): Promise<boolean> {
  let qb = db.selectFrom('category').select('id').where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()))
  qb = parentId === null ? qb.where('parent_id', 'is', null) : qb.where('parent_id', '=', parentId)
  if (exceptId !== null) qb = qb.where('id', '!=', exceptId)
  return (await qb.executeTakeFirst()) !== undefined
}

export async function isCatalogArea(db: Executor, id: number): Promise<boolean> {
  return (await db.selectFrom('category').select('id').where('id', '=', id).where('parent_id', 'is', null).executeTakeFirst()) !== undefined
}

/** Writes an area or item (a new one when `id` is null); returns its id. */
export async function saveCatalogEntry(db: Executor, id: number | null, e: { parentId: number | null; name: string; ticketType: 'incident' | 'request'; active: boolean; defaultPriority: Priority | null }, now: string): Promise<number> {
  const values = { parent_id: e.parentId, name: e.name, ticket_type: e.ticketType, active: e.active ? 1 : 0, default_priority: e.defaultPriority } as const
  if (id === null) {
    return (await db.insertInto('category').values({ ...values, created_at: now }).returning('id').executeTakeFirstOrThrow()).id
  }
  await db.updateTable('category').set(values).where('id', '=', id).execute()
  return id
}
