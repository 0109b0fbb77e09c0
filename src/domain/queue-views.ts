// Saved queue searches ("views") and the remembered last search: who may see, share, rename and
// delete a view, and how a stored search becomes filters again. Pure: no database, no request.
import { DESK_DEFAULTS, readSearchQuery, searchQuery, type SearchFilters } from './search.js'

/** How many views one staff member may keep (personal and those they shared). */
export const MAX_VIEWS = 20
/** The longest name a view may have (it is a line in the sidebar). */
export const VIEW_NAME_MAX = 60
/** How many views the queue counts matches for on one page view (each count is a capped search). */
export const COUNTED_VIEWS = 12

interface ViewActor {
  id: number
  role: 'staff' | 'admin'
  deskIds: readonly number[]
}

interface ViewOwnership {
  owner_staff_id: number
  desk_id: number | null
  desk_manager_id: number | null
}

/** Whether a staff member sees a view: their own personal one, or one shared with a desk they are on (an admin: any). */
export function maySeeView(actor: ViewActor, v: ViewOwnership): boolean {
  if (v.desk_id === null) return v.owner_staff_id === actor.id
  return actor.role === 'admin' || actor.deskIds.includes(v.desk_id)
}

/** Whether they may rename or delete it: a personal one its owner; a shared one its owner, its desk's manager or an admin. */
export function mayEditView(actor: ViewActor, v: ViewOwnership): boolean {
  if (!maySeeView(actor, v)) return false
  if (v.desk_id === null) return true
  return actor.role === 'admin' || v.owner_staff_id === actor.id || v.desk_manager_id === actor.id
}

/** Whether they may share a view with a desk: its manager, or an admin. */
export function mayShareWith(actor: ViewActor, desk: { manager_id: number | null }): boolean {
  return actor.role === 'admin' || desk.manager_id === actor.id
}

/** A query string as the object readSearchQuery reads (the first of repeated names counts). */
function queryObject(query: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(query)) if (!(k in out)) out[k] = v
  return out
}

/** The queue's filters for a stored query ('' : the queue's defaults); values no longer understood are left out. */
export function viewFilters(query: string): SearchFilters {
  return readSearchQuery(queryObject(query), { kind: 'staff', defaults: DESK_DEFAULTS }).filters
}

/** A query string in the one form the queue writes it (page left out), so equal searches compare equal. */
export function canonicalQuery(query: string): string {
  return searchQuery({ ...viewFilters(query), page: undefined }, DESK_DEFAULTS)
}

/** A view's count as the sidebar shows it: "1,000+" when counting stopped at the cap, in the reader's way of writing numbers. */
export function countLabel(locale: string, count: { total: number; totalCapped: boolean }): string {
  return `${new Intl.NumberFormat(locale).format(count.total)}${count.totalCapped ? '+' : ''}`
}
