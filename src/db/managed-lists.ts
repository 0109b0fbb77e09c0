// The managed lists' items (src/domain/managed-lists.ts), kept in memory by each process like
// desks and products: a change raises the reference-data counter (migration 20261209090000).
import type { ListItem, ManagedList } from '../domain/managed-lists.js'
import type { Executor } from './index.js'
import { cachedReference } from './reference-cache.js'

function loadItems(db: Executor): Promise<ListItem[]> {
  return db.selectFrom('list_item').select(['id', 'list', 'code', 'label_en', 'label_pt', 'active', 'position'])
    .orderBy('list').orderBy('position').orderBy('id').execute()
}

/** Every item of every list, in each list's order. */
export function listItems(db: Executor): Promise<readonly ListItem[]> {
  return cachedReference(db, 'list_items', loadItems)
}

export async function getListItem(db: Executor, id: number): Promise<ListItem | undefined> {
  return db.selectFrom('list_item').select(['id', 'list', 'code', 'label_en', 'label_pt', 'active', 'position']).where('id', '=', id).executeTakeFirst()
}

export interface ListItemFields {
  code: string
  labelEn: string
  labelPt: string
  active: boolean
  position: number
}

/** Writes an item (a new one of `list` when `id` is null; an item's list and code never change); returns its id. */
export async function saveListItem(db: Executor, id: number | null, list: ManagedList, f: ListItemFields, now: string): Promise<number> {
  const values = { label_en: f.labelEn, label_pt: f.labelPt, active: f.active ? 1 : 0, position: f.position, updated_at: now }
  if (id !== null) {
    await db.updateTable('list_item').set(values).where('id', '=', id).execute()
    return id
  }
  return (await db.insertInto('list_item').values({ ...values, list, code: f.code, created_at: now }).returning('id').executeTakeFirstOrThrow()).id
}

/** The position after the list's last item. */
export async function nextPosition(db: Executor, list: ManagedList): Promise<number> {
  const row = await db.selectFrom('list_item').select((eb) => eb.fn.max('position').as('last')).where('list', '=', list).executeTakeFirst()
  return Number(row?.last ?? 0) + 10
}

export async function listCodeTaken(db: Executor, list: ManagedList, code: string): Promise<boolean> {
  return (await db.selectFrom('list_item').select('id').where('list', '=', list).where('code', '=', code).executeTakeFirst()) !== undefined
}
