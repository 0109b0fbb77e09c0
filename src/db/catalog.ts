import type { Executor } from './index.js'
import { cachedReference } from './reference-cache.js'

/** Every desk, by name (kept in memory until a desk changes). */
export async function listDesks(db: Executor) {
  return cachedReference(db, 'desks', (d) => d.selectFrom('desk').select(['id', 'name', 'manager_id']).orderBy('name').execute())
}

/** The active products, by name (kept in memory until a product changes). */
export async function listProducts(db: Executor) {
  return cachedReference(db, 'products', (d) => d.selectFrom('product').select(['id', 'name', 'code']).where('active', '=', 1).orderBy('name').execute())
}

/** Catalog items with their area name, for "Area › Item" pickers (kept in memory until the catalog changes). */
export async function listCatalogItems(db: Executor) {
  return cachedReference(db, 'catalog', (d) => d.selectFrom('category as item')
    .innerJoin('category as area', 'area.id', 'item.parent_id')
    .select(['item.id', 'item.name', 'item.ticket_type', 'item.requires_approval', 'area.id as area_id', 'area.name as area_name'])
    .where('item.active', '=', 1)
    .orderBy('area.name').orderBy('item.name').execute())
}

/** A catalog item with its area's name ("Area › Item"), active or not: tickets keep old items. */
export async function getCatalogItemPath(db: Executor, id: number) {
  return db.selectFrom('category as item')
    .leftJoin('category as area', 'area.id', 'item.parent_id')
    .select(['item.id', 'item.name', 'area.name as area_name'])
    .where('item.id', '=', id).executeTakeFirst()
}

/** A staff member's id by e-mail (as stored: lower case). */
export async function staffIdByEmail(db: Executor, email: string): Promise<number | undefined> {
  return (await db.selectFrom('staff').select('id').where('email', '=', email.trim().toLowerCase()).executeTakeFirst())?.id
}

/** An account or desk by id (digits) or by name. */
export async function resolveNamed(db: Executor, table: 'account' | 'desk' | 'product' | 'category' | 'business_calendar', ref: string): Promise<number | undefined> {
  const row = /^\d+$/.test(ref)
    ? await db.selectFrom(table).select('id').where('id', '=', Number(ref)).executeTakeFirst()
    : await db.selectFrom(table).select('id').where('name', '=', ref).executeTakeFirst()
  return row?.id
}

/**
 * Whether a reply to this ticket could open its follow-up: a reply to a closed ticket opens a new
 * ticket, which an account turned off does not take; any other ticket takes replies (no look-up).
 */
export async function takesFollowUps(db: Executor, ticket: { state: string; account_id: number }): Promise<boolean> {
  return ticket.state === 'closed' ? accountIsActive(db, ticket.account_id) : true
}

/** Whether a client account is turned on (false for one that does not exist). */
export async function accountIsActive(db: Executor, id: number): Promise<boolean> {
  return (await db.selectFrom('account').select('active').where('id', '=', id).executeTakeFirst())?.active === 1
}

export async function getAccountName(db: Executor, id: number): Promise<string | undefined> {
  return (await db.selectFrom('account').select('name').where('id', '=', id).executeTakeFirst())?.name
}
