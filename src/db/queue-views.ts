// The staff queue's remembered search (queue_pref) and saved searches (queue_view) as rows.
import type { Executor } from './index.js'
import type { StaffActor } from '../domain/permissions.js'
import { BoundedMap } from '../domain/bounded-map.js'
import { viewFilters } from '../domain/queue-views.js'
import { listTickets } from './ticket-search.js'
import { isPostgres } from './migrations/util.js'

/** The staff member's last queue search as its query string, or undefined when they have none yet. */
export async function getQueuePref(db: Executor, staffId: number): Promise<string | undefined> {
  const row = await db.selectFrom('queue_pref').select('query').where('staff_id', '=', staffId).executeTakeFirst()
  return row?.query
}

export async function saveQueuePref(db: Executor, staffId: number, query: string, at: string): Promise<void> {
  await db.insertInto('queue_pref').values({ staff_id: staffId, query, updated_at: at })
    .onConflict((oc) => oc.column('staff_id').doUpdateSet({ query, updated_at: at }))
    .execute()
}

/**
 * A view's count as the sidebar shows it: the list's own capped count (at most COUNT_CAP + 1
 * matches read), kept a minute per database, person's scope and search. A queue page counts each
 * view it lists, and opening it again (or its live refresh) within the minute costs nothing more;
 * a view with words to search costs tens of ms to count at scale. The list itself, and the count
 * of the view being shown, are always read afresh.
 */
const COUNT_TTL_MS = 60_000
const countsKept = new WeakMap<Executor, BoundedMap<string, { total: number; totalCapped: boolean; until: number }>>()

export async function viewCount(db: Executor, actor: StaffActor, query: string, now: Date): Promise<{ total: number; totalCapped: boolean }> {
  let kept = countsKept.get(db)
  if (!kept) countsKept.set(db, (kept = new BoundedMap(5_000)))
  const key = JSON.stringify([actor.id, actor.role, [...actor.deskIds].sort((a, b) => a - b), query])
  const known = kept.get(key)
  if (known && known.until > Date.now()) return known
  const { total, totalCapped } = await listTickets(db, actor, { ...viewFilters(query), page: 1, perPage: 1, now })
  kept.set(key, { total, totalCapped, until: Date.now() + COUNT_TTL_MS })
  return { total, totalCapped }
}

/** Views with their desk's name and manager and their owner's name. */
function viewRows(db: Executor) {
  return db.selectFrom('queue_view')
    .leftJoin('desk', 'desk.id', 'queue_view.desk_id')
    .innerJoin('staff as owner', 'owner.id', 'queue_view.owner_staff_id')
    .select(['queue_view.id', 'queue_view.owner_staff_id', 'queue_view.desk_id', 'queue_view.name', 'queue_view.query',
      'desk.name as desk_name', 'desk.manager_id as desk_manager_id', 'owner.name as owner_name'])
}

export type QueueViewRow = NonNullable<Awaited<ReturnType<typeof getView>>>

export async function getView(db: Executor, id: number) {
  return viewRows(db).where('queue_view.id', '=', id).executeTakeFirst()
}

/** What a staff member sees: their personal views by name, then those shared with their desks (an admin: any desk), by desk and name. */
export async function listViewsFor(db: Executor, actor: StaffActor) {
  return viewRows(db)
    .where((eb) => {
      const personal = eb.and([eb('queue_view.desk_id', 'is', null), eb('queue_view.owner_staff_id', '=', actor.id)])
      if (actor.role === 'admin') return eb.or([personal, eb('queue_view.desk_id', 'is not', null)])
      return actor.deskIds.length === 0 ? personal : eb.or([personal, eb('queue_view.desk_id', 'in', actor.deskIds)])
    })
    .orderBy((eb) => eb.case().when('queue_view.desk_id', 'is', null).then(0).else(1).end())
    .orderBy('desk.name').orderBy('queue_view.name').orderBy('queue_view.id')
    .execute()
}

/**
 * Holds the staff member's row until the transaction ends, so two views saved at once are counted
 * one after the other against the cap (PostgreSQL; SQLite runs one write transaction at a time).
 */
export async function lockViewOwner(trx: Executor, staffId: number): Promise<void> {
  if (isPostgres(trx)) await trx.selectFrom('staff').select('id').where('id', '=', staffId).forUpdate().execute()
}

/** How many views a staff member keeps (personal and shared by them). */
export async function countViewsOwnedBy(db: Executor, staffId: number): Promise<number> {
  const row = await db.selectFrom('queue_view').select((eb) => eb.fn.countAll<number>().as('n')).where('owner_staff_id', '=', staffId).executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Whether a view with this name is already where the new one would go: the owner's personal views, or the desk's. */
export async function viewNameTaken(db: Executor, where: { ownerId: number; deskId: number | null }, name: string, exceptId?: number): Promise<boolean> {
  let qb = db.selectFrom('queue_view').select('id').where('name', '=', name)
  qb = where.deskId === null
    ? qb.where('desk_id', 'is', null).where('owner_staff_id', '=', where.ownerId)
    : qb.where('desk_id', '=', where.deskId)
  if (exceptId !== undefined) qb = qb.where('id', '!=', exceptId)
  return (await qb.executeTakeFirst()) !== undefined
}

export async function insertView(db: Executor, ownerId: number, fields: { deskId: number | null; name: string; query: string }, at: string): Promise<number> {
  const row = await db.insertInto('queue_view').values({
    owner_staff_id: ownerId, desk_id: fields.deskId, name: fields.name, query: fields.query, created_at: at, updated_at: at
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

export async function renameView(db: Executor, id: number, name: string, at: string): Promise<void> {
  await db.updateTable('queue_view').set({ name, updated_at: at }).where('id', '=', id).execute()
}

export async function deleteView(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('queue_view').where('id', '=', id).execute()
}
