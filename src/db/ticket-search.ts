// Searching and listing tickets: the advanced search's filters, the actor's visibility scope in
// SQL, capped counts, pages, and the batches an export reads.
import { sql, type ExpressionBuilder, type OrderByModifiers, type SelectQueryBuilder } from 'kysely'
import type { Executor } from './index.js'
import type { Database } from './schema.js'
import type { Actor } from '../domain/permissions.js'
import { OPEN_STATES, STATES, STATUS_STATE, isPassingStatus, type State, type Status } from '../domain/lifecycle.js'
import { dayAfter, dayStart, type SearchFilters, type Situation, type Sort } from '../domain/search.js'
import { slaCondition, slaStates } from './sla-query.js'
import { isPostgres } from './migrations/util.js'
import { BoundedMap } from '../domain/bounded-map.js'

export { SORTS, SITUATIONS, type Sort, type Situation } from '../domain/search.js'

const SITUATION_STATES: Record<Exclude<Situation, 'all'>, readonly State[]> = {
  open: OPEN_STATES,
  waiting: ['resolved'],
  closed: ['closed'],
  cancelled: ['cancelled']
}

export interface TicketFilters extends SearchFilters {
  /** The instant SLA statuses are judged at (default: now). */
  now?: Date
}

/**
 * Counting stops here: "more than 1,000" is as useful on a list as the exact figure, and a count of
 * a common condition (SLA breached, a status over every state) that stops at 1,001 costs a few ms
 * where one to 10,001 cost 20–40 ms at 1M tickets (docs/benchmarks.md). The pager then offers the
 * first 1,000 matches; beyond them, the search is narrowed (exports count everything: countTickets).
 */
export const COUNT_CAP = 1_000

type TicketQuery<O> = SelectQueryBuilder<Database, 'ticket', O>

/** SQL twin of `canSeeTicket`: narrows a ticket query to what the actor may see. */
export function scopeTicketsToActor<O>(qb: TicketQuery<O>, actor: Actor, opts: { tested?: boolean } = {}): TicketQuery<O> {
  qb = qb.where('ticket.deleted_at', 'is', null)
  // tested: the columns are written `+column`, which SQLite (and PostgreSQL) read as the same value
  // but SQLite cannot start an index search from, so a range on another column (a time window)
  // leads and the scope is checked on each entry: a staff member's assigned tickets are
  // hundreds of thousands at scale, and searching them first reads every one.
  const col = (name: 'contact_id' | 'account_id' | 'desk_id' | 'assignee_id') =>
    opts.tested ? sql<number>`+${sql.ref(`ticket.${name}`)}` : sql.ref<number>(`ticket.${name}`)
  if (actor.kind === 'contact') {
    const managed = actor.managerAccountIds
    return qb.where((eb) => managed.length > 0
      ? eb.or([eb(col('contact_id'), '=', actor.id), eb(col('account_id'), 'in', managed)])
      : eb(col('contact_id'), '=', actor.id))
  }
  if (actor.role === 'admin') return qb
  const desks = actor.deskIds
  return qb.where((eb) => desks.length > 0
    ? eb.or([eb(col('desk_id'), 'in', desks), eb(col('assignee_id'), '=', actor.id)])
    : eb(col('assignee_id'), '=', actor.id))
}

/** Turns what a person typed into an FTS5 query of quoted prefix terms (no operators get through). */
export function ftsQuery(q: string): string | null {
  const words = q.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []
  if (words.length === 0) return null
  return words.slice(0, 12).map((w) => `"${w}"*`).join(' ')
}

function applySearch<O>(db: Executor, qb: TicketQuery<O>, q: string): TicketQuery<O> {
  const trimmed = q.trim()
  const asNumber = /^#?\d{1,12}$/.test(trimmed) ? Number(trimmed.replace('#', '')) : null
  // "#5" is ticket 5 and nothing else; a bare "5" is also any word starting with 5 (an error
  // code, a version), with ticket 5 among the results.
  if (asNumber !== null && trimmed.startsWith('#')) return qb.where('ticket.number', '=', asNumber)
  if (isPostgres(db)) {
    const match = tsPrefixQuery(trimmed)
    return qb.where((eb) => {
      const text = match ? sql<boolean>`ticket.search @@ to_tsquery('simple', casebridge_fold(${match}))` : sql<boolean>`1 = 0`
      return asNumber !== null ? eb.or([text, eb('ticket.number', '=', asNumber)]) : eb.and([text])
    })
  }
  const match = ftsQuery(trimmed)
  return qb.where((eb) => {
    const text = match
      ? eb('ticket.id', 'in', sql<number>`(SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ${match})`)
      : sql<boolean>`0 = 1`
    return asNumber !== null ? eb.or([text, eb('ticket.number', '=', asNumber)]) : eb.and([text])
  })
}

function applyFilters<O>(db: Executor, qb: TicketQuery<O>, actor: Actor, f: TicketFilters): TicketQuery<O> {
  return applyListFilters(db, scopeTicketsToActor(qb, actor), actor, f)
}

/**
 * Every ticket a search matches, counted without the lists' cap (COUNT_CAP): for background work
 * such as an export's progress, where reading every match once is the job anyway.
 */
export async function countTickets(db: Executor, actor: Actor, filters: TicketFilters): Promise<number> {
  const row = await applyFilters(db, db.selectFrom('ticket'), actor, filters)
    .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

/**
 * The same words as ftsQuery as a PostgreSQL tsquery of prefix terms (`'instal':* & 'total':*`),
 * so both dialects match word beginnings. Words are letters and digits only: no tsquery syntax.
 */
function tsPrefixQuery(q: string): string | null {
  const words = q.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []
  if (words.length === 0) return null
  return words.slice(0, 12).map((w) => `'${w}':*`).join(' & ')
}

/** Title words: an FTS5 column filter (SQLite) or the title's own text vector (PostgreSQL). */
function applyTitleWords<O>(db: Executor, qb: TicketQuery<O>, words: string): TicketQuery<O> {
  if (isPostgres(db)) {
    const match = tsPrefixQuery(words)
    return qb.where(match ? sql<boolean>`to_tsvector('simple', casebridge_fold(ticket.title)) @@ to_tsquery('simple', casebridge_fold(${match}))` : sql<boolean>`1 = 0`)
  }
  const match = ftsQuery(words)
  if (!match) return qb.where(sql<boolean>`0 = 1`)
  return qb.where('ticket.id', 'in', titleHits(match))
}

/** The ids of the tickets whose title has these words (an ftsQuery; SQLite). */
function titleHits(match: string) {
  return sql<number>`(SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ${`title : (${match})`})`
}

/** Every list filter except the actor's visibility scope. */
function applyListFilters<O>(db: Executor, qb: TicketQuery<O>, actor: Actor, f: TicketFilters): TicketQuery<O> {
  if (f.q && f.q.trim()) qb = applySearch(db, qb, f.q)
  if (f.title && f.title.trim()) qb = applyTitleWords(db, qb, f.title.trim())
  if (f.number !== undefined) qb = qb.where('ticket.number', '=', f.number)
  if (f.numbers !== undefined) qb = f.numbers.length > 0 ? qb.where('ticket.number', 'in', f.numbers) : qb.where(sql<boolean>`1 = 0`)
  if (f.situation && f.situation !== 'all') qb = qb.where('ticket.state', 'in', SITUATION_STATES[f.situation])
  if (f.state) qb = qb.where('ticket.state', '=', f.state)
  if (f.status && isPassingStatus(f.status)) {
    // Never a current status: the tickets whose history passed through it (one index probe each).
    qb = qb.where(({ exists, selectFrom }) => exists(selectFrom('ticket_event').select('ticket_event.id')
      .whereRef('ticket_event.ticket_id', '=', 'ticket.id').where('ticket_event.field', '=', 'status').where('ticket_event.to_value', '=', f.status!)))
  } else if (f.status) qb = qb.where('ticket.status', '=', f.status)
  if (f.openedFrom) qb = qb.where('ticket.created_at', '>=', dayStart(f.openedFrom))
  if (f.openedTo) qb = qb.where('ticket.created_at', '<', dayAfter(f.openedTo))
  if (f.closedFrom) qb = qb.where('ticket.closed_at', '>=', dayStart(f.closedFrom))
  if (f.closedTo) qb = qb.where('ticket.closed_at', '<', dayAfter(f.closedTo))
  if (f.deskId !== undefined) qb = qb.where('ticket.desk_id', '=', f.deskId)
  if (f.ticketType) qb = qb.where('ticket.ticket_type', '=', f.ticketType)
  if (f.categoryId !== undefined) qb = qb.where('ticket.category_id', '=', f.categoryId)
  if (f.areaId !== undefined) {
    const areaId = f.areaId
    qb = qb.where('ticket.category_id', 'in', (eb: ExpressionBuilder<Database, 'ticket'>) =>
      eb.selectFrom('category').select('category.id').where((c) => c.or([c('category.parent_id', '=', areaId), c('category.id', '=', areaId)])))
  }
  if (f.productId !== undefined) qb = qb.where('ticket.product_id', '=', f.productId)
  if (f.priority) qb = qb.where('ticket.priority', '=', f.priority)
  if (f.requesterId !== undefined) qb = qb.where('ticket.contact_id', '=', f.requesterId)
  if (f.accountId !== undefined) qb = qb.where('ticket.account_id', '=', f.accountId)
  if (f.sla) qb = qb.where(slaCondition(db, f.sla, f.now ?? new Date()))
  if (actor.kind === 'staff') {
    if (f.scope === 'mine') qb = qb.where('ticket.assignee_id', '=', actor.id)
    if (f.scope === 'unassigned') qb = qb.where('ticket.assignee_id', 'is', null)
    if (f.assigneeId === 'none') qb = qb.where('ticket.assignee_id', 'is', null)
    else if (f.assigneeId !== undefined) qb = qb.where('ticket.assignee_id', '=', f.assigneeId)
  }
  return qb
}

const PRIORITY_RANK = sql<number>`CASE ticket.priority WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END`

/**
 * The direction for a list's sort key. closed_at is the one nullable key: SQLite puts NULLs
 * (tickets never closed) first ascending and last descending; PostgreSQL is told to do the same.
 */
function sortDirection(db: Executor, sort: Sort, order: 'asc' | 'desc'): OrderByModifiers {
  if (sort !== 'closed_at' || !isPostgres(db)) return order
  return (ob) => (order === 'asc' ? ob.asc().nullsFirst() : ob.desc().nullsLast())
}

export function listColumns(qb: SelectQueryBuilder<Database, 'ticket', {}>) {
  return qb
    .leftJoin('account', 'account.id', 'ticket.account_id')
    .leftJoin('contact', 'contact.id', 'ticket.contact_id')
    .leftJoin('desk', 'desk.id', 'ticket.desk_id')
    .leftJoin('product', 'product.id', 'ticket.product_id')
    .leftJoin('category', 'category.id', 'ticket.category_id')
    .leftJoin('staff as assignee', 'assignee.id', 'ticket.assignee_id')
    .select([
      'ticket.id', 'ticket.number', 'ticket.title', 'ticket.ticket_type', 'ticket.priority', 'ticket.state',
      'ticket.status', 'ticket.source', 'ticket.created_at', 'ticket.updated_at', 'ticket.account_id',
      'ticket.contact_id', 'ticket.desk_id', 'ticket.product_id', 'ticket.category_id', 'ticket.assignee_id',
      'ticket.response_due_at', 'ticket.resolution_due_at', 'ticket.sla_paused_at', 'ticket.first_response_at',
      'ticket.resolved_at', 'ticket.closed_at', 'ticket.sla_paused_ms', 'ticket.sla_at_risk_at',
      'account.name as account_name', 'contact.name as contact_name', 'contact.email as contact_email',
      'desk.name as desk_name', 'product.name as product_name', 'category.name as category_name',
      'assignee.name as assignee_name', 'assignee.email as assignee_email'
    ])
}

export type TicketListItem = Awaited<ReturnType<ReturnType<typeof listColumns>['executeTakeFirstOrThrow']>>

export interface TicketPage {
  items: TicketListItem[]
  total: number
  totalCapped: boolean
  page: number
  perPage: number
}

/**
 * A disjoint piece of what an actor may see. Lists read each piece in index order and merge
 * (an OR of scopes cannot be read from one index in order, so SQLite would sort the whole
 * scope for every page); the pieces together are exactly `scopeTicketsToActor`.
 * `byState`: the piece is cut once more per state when the filters name states.
 */
interface ScopePiece {
  byState: boolean
  where: <O>(qb: TicketQuery<O>) => TicketQuery<O>
}

/** `column NOT IN ids` (sorted integers) as the ranges between them, which an index can seek. */
function rangesOutside(ids: number[]): { above: number | null; below: number | null }[] {
  const ranges: { above: number | null; below: number | null }[] = [{ above: null, below: ids[0] }]
  for (let i = 0; i + 1 < ids.length; i++) if (ids[i + 1] - ids[i] > 1) ranges.push({ above: ids[i], below: ids[i + 1] })
  ranges.push({ above: ids[ids.length - 1], below: null })
  return ranges
}

/** Contacts: each managed account, then their own tickets elsewhere. Staff: each desk, then tickets assigned to them elsewhere. */
function scopePieces(actor: Actor): ScopePiece[] {
  const live = <O>(qb: TicketQuery<O>) => qb.where('ticket.deleted_at', 'is', null)
  const sorted = (ids: number[]) => [...new Set(ids)].sort((a, b) => a - b)
  const elsewhere = (person: 'ticket.contact_id' | 'ticket.assignee_id', column: 'ticket.account_id' | 'ticket.desk_id', ids: number[]) =>
    rangesOutside(ids).map(({ above, below }): ScopePiece => ({
      byState: false,
      where: <O>(qb: TicketQuery<O>) => {
        qb = live(qb).where(person, '=', actor.id)
        if (above !== null) qb = qb.where(column, '>', above)
        return below === null ? qb : qb.where(column, '<', below)
      }
    }))
  if (actor.kind === 'contact') {
    const managed = sorted(actor.managerAccountIds)
    if (managed.length === 0) return [{ byState: false, where: <O>(qb: TicketQuery<O>) => live(qb).where('ticket.contact_id', '=', actor.id) }]
    return [
      ...managed.map((id): ScopePiece => ({ byState: true, where: <O>(qb: TicketQuery<O>) => live(qb).where('ticket.account_id', '=', id) })),
      ...elsewhere('ticket.contact_id', 'ticket.account_id', managed)
    ]
  }
  if (actor.role === 'admin') return [{ byState: true, where: live }]
  const desks = sorted(actor.deskIds)
  if (desks.length === 0) return [{ byState: false, where: <O>(qb: TicketQuery<O>) => live(qb).where('ticket.assignee_id', '=', actor.id) }]
  return [
    ...desks.map((id): ScopePiece => ({ byState: true, where: <O>(qb: TicketQuery<O>) => live(qb).where('ticket.desk_id', '=', id) })),
    ...elsewhere('ticket.assignee_id', 'ticket.desk_id', desks)
  ]
}

/** The states the filters allow, or null when they do not narrow by state. */
function filterStates(f: TicketFilters): readonly State[] | null {
  let states: readonly State[] | null = f.situation && f.situation !== 'all' ? SITUATION_STATES[f.situation] : null
  const narrow = (allowed: readonly State[]) => { states = states ? states.filter((s) => allowed.includes(s)) : allowed }
  if (f.state) narrow([f.state])
  if (f.status && !isPassingStatus(f.status)) narrow([STATUS_STATE[f.status as Status]])
  if (f.sla) narrow(slaStates(f.sla))
  // Any state, but other filters to test: one piece per state all the same, so each piece is
  // read from a list index (state, then created_at) that carries the filter columns, instead of
  // a look-up of every row of the scope. Every ticket is in one of STATES (only the lifecycle
  // writes state). Not with words: each piece would run the full-text match again.
  if (!states && !f.q?.trim() && !f.title?.trim() && ROW_FILTERS.some((k) => f[k] !== undefined)) states = STATES
  return states
}

/** Filters the list indexes of 20261123090000_search_indexes can test without reading the row. */
const ROW_FILTERS = [
  'openedFrom', 'openedTo', 'closedFrom', 'closedTo', 'deskId', 'ticketType', 'areaId', 'categoryId', 'productId', 'priority',
  'assigneeId', 'requesterId', 'accountId'
] as const satisfies readonly (keyof TicketFilters)[]

/**
 * Staff searches on SQLite start from the full-text matches (one row look-up per match) rather
 * than from their scope, which for a desk is most of the table; words and title words become
 * one FTS5 query. Numbers (`#123`) match the ticket number too, so they go the general way.
 */
function staffFtsMatch(db: Executor, actor: Actor, f: TicketFilters): string | null {
  if (actor.kind !== 'staff' || isPostgres(db)) return null
  const q = f.q?.trim()
  const title = f.title?.trim()
  if (q && /^#?\d{1,12}$/.test(q)) return null
  const words = q ? ftsQuery(q) : null
  const titleWords = title ? ftsQuery(title) : null
  // Text with no words at all matches nothing: the general way says so.
  if ((q && !words) || (title && !titleWords)) return null
  if (words && titleWords) return `(${words}) AND (title : (${titleWords}))`
  return words ?? (titleWords ? `title : (${titleWords})` : null)
}

/**
 * Title words alone start from their matches only when those are few: a common word (4% of
 * titles at 1M tickets) costs a row look-up per match, more than testing the scope's index ranges.
 */
const TITLE_FIRST_MAX = 20_000

/**
 * fewMatches' answers, per database and match text, for ten minutes: counting a common word's
 * matches (up to TITLE_FIRST_MAX + 1) cost 7 ms at 1M tickets on every search for it. How common
 * a word is changes slowly, and either answer gives the same rows: only the plan depends on it.
 */
const FEW_MATCHES_TTL_MS = 10 * 60_000
const fewMatchesKept = new WeakMap<Executor, BoundedMap<string, { few: boolean; until: number }>>()

async function fewMatches(db: Executor, match: string): Promise<boolean> {
  let kept = fewMatchesKept.get(db)
  if (!kept) fewMatchesKept.set(db, (kept = new BoundedMap(1_000)))
  const now = Date.now()
  const known = kept.get(match)
  if (known && known.until > now) return known.few
  const row = await db.selectFrom(sql<{ rowid: number }>`(SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ${match} LIMIT ${TITLE_FIRST_MAX + 1})`.as('hits'))
    .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const few = Number(row.n) <= TITLE_FIRST_MAX
  kept.set(match, { few, until: now + FEW_MATCHES_TTL_MS })
  return few
}

const MAX_PIECES = 60

/**
 * Plain lists (read from the index alone: My requests, the queue, their state tabs) whose count
 * passed the cap remember that for a minute, per database, actor scope and filters: paging
 * through "more than 1,000" requests, or coming back to the list from a ticket, does not count
 * the same 1,001 index entries again (a third of My requests' SQL at 1M tickets). Only "more than
 * the cap" is kept, never an exact figure, and the page itself is always read afresh (with every
 * piece: which pieces had matches is not kept, so a ticket just opened anywhere shows at once).
 */
const CAPPED_TTL_MS = 60_000
const cappedKept = new WeakMap<Executor, BoundedMap<string, number>>()

function cappedKey(actor: Actor, f: TicketFilters): string {
  const scope = actor.kind === 'contact'
    ? ['c', actor.id, [...actor.managerAccountIds].sort((a, b) => a - b)]
    : ['s', actor.id, actor.role, [...actor.deskIds].sort((a, b) => a - b)]
  // The count does not depend on the page, its length, the order or the instant.
  const { page: _page, perPage: _perPage, sort: _sort, order: _order, now: _now, ...counted } = f
  return JSON.stringify([scope, Object.entries(counted).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1))])
}

function knownCapped(db: Executor, key: string): boolean {
  const until = cappedKept.get(db)?.get(key)
  return until !== undefined && until > Date.now()
}

function keepCapped(db: Executor, key: string): void {
  let kept = cappedKept.get(db)
  if (!kept) cappedKept.set(db, (kept = new BoundedMap(2_000)))
  kept.set(key, Date.now() + CAPPED_TTL_MS)
}

/** True when the pieces are read from their index alone: scope, state, status and sort, nothing else to test on the row. */
function readFromIndex(f: TicketFilters): boolean {
  return !f.q?.trim() && !f.title?.trim() && f.sla === undefined && f.number === undefined && f.numbers === undefined && !isPassingStatus(f.status) &&
    (f.scope === undefined || f.scope === 'desks') && f.assigneeId === undefined &&
    ROW_FILTERS.every((k) => f[k] === undefined)
}

export async function listTickets(db: Executor, actor: Actor, filters: TicketFilters): Promise<TicketPage> {
  const perPage = Math.min(Math.max(filters.perPage ?? 20, 1), 100)
  const page = Math.max(filters.page ?? 1, 1)
  const sort = filters.sort ?? 'created_at'
  const order = filters.order ?? 'desc'
  const direction = sortDirection(db, sort, order)
  const sorted = <Q extends SelectQueryBuilder<any, any, any>>(qb: Q): Q => (sort === 'priority'
    ? qb.orderBy(PRIORITY_RANK, order).orderBy('ticket.id', order)
    : qb.orderBy(`ticket.${sort}`, direction).orderBy('ticket.id', order)) as Q

  const states = filterStates(filters)
  // The pieces that are usually small (a person's own tickets outside their accounts or desks)
  // come first: counting reads them to their end, and those without a match leave the page query.
  let pieces = [...scopePieces(actor)].sort((a, b) => Number(a.byState) - Number(b.byState)).flatMap((piece) => (piece.byState && states
    ? states.map((state) => <O>(qb: TicketQuery<O>) => piece.where(qb).where('ticket.state', '=', state))
    : [piece.where]))
  if (pieces.length === 0) return { items: [], total: 0, totalCapped: false, page, perPage }
  // Someone managing very many accounts or desks: one query with the OR (SQLite allows 500 compound terms).
  if (pieces.length > MAX_PIECES) pieces = [<O>(qb: TicketQuery<O>) => scopeTicketsToActor(qb, actor)]
  const filtered = (piece: ScopePiece['where'], f: TicketFilters = filters) => applyListFilters(db, piece(db.selectFrom('ticket')), actor, f)

  let match = staffFtsMatch(db, actor, filters)
  if (match && !filters.q?.trim() && !(await fewMatches(db, match))) match = null
  const withoutQ = { ...filters, q: undefined, title: undefined }
  // Counting reads at most COUNT_CAP + 1 matches. A search that tests the rows (words, other
  // filters) keeps their ids: when there are no more than the cap, that is every match, and the
  // page is those rows sorted (one look-up per match, instead of testing every row of the pieces
  // again). Lists read from the index alone count without bringing the ids out, and read their
  // page from the pieces.
  let matched: { id: number }[] | null = null
  let n: number
  if (match) {
    matched = await applyFilters(db, db.selectFrom('ticket'), actor, withoutQ)
      .innerJoin(ftsHits(match), (join) => join.onRef('fts.rowid', '=', 'ticket.id'))
      .select('ticket.id').limit(COUNT_CAP + 1).execute()
    n = matched.length
  } else {
    // UNION ALL of disjoint pieces under one LIMIT: counting stops at the cap, piece by piece.
    // Each match says which piece it came from: the pieces read to their end without a match are
    // left out of the page's query, which would read them again.
    // Title words too common to start from (fewMatches) are tested once, on the rows the pieces
    // give, rather than inside each piece, where SQLite would read their full-text matches again
    // (Ana's open tickets, title `printer` + critical, at 1M tickets: 96 -> 30 ms).
    const titleMatch = !isPostgres(db) && filters.title?.trim() ? ftsQuery(filters.title.trim()) : null
    const countFilters = titleMatch ? { ...filters, title: undefined } : filters
    const union = pieces.map((piece, i) => filtered(piece, countFilters).select(['ticket.id', sql.lit(i).as('p')]))
      .reduce((all, next) => all.unionAll(next))
    let hits: Map<number, number>
    const plain = readFromIndex(filters)
    const capKey = plain ? cappedKey(actor, filters) : null
    if (capKey !== null && knownCapped(db, capKey)) {
      // Known to pass the cap: every piece stays in the page's query (each reads at most a page).
      hits = new Map(pieces.map((_, i) => [i, COUNT_CAP + 1]))
    } else if (!plain) {
      const seen = titleMatch
        ? await db.selectFrom(union.as('m')).select(['m.id', 'm.p']).where('m.id', 'in', titleHits(titleMatch)).limit(COUNT_CAP + 1).execute()
        : await union.limit(COUNT_CAP + 1).execute()
      matched = seen
      hits = new Map()
      for (const r of seen) hits.set(Number(r.p), (hits.get(Number(r.p)) ?? 0) + 1)
    } else {
      // Counted where they are read: one row per piece with matches, not a row per match.
      const rows = await db.selectFrom(union.limit(COUNT_CAP + 1).as('m'))
        .select((eb) => ['m.p', eb.fn.countAll<number>().as('n')]).groupBy('m.p').execute()
      hits = new Map(rows.map((r) => [Number(r.p), Number(r.n)]))
    }
    n = [...hits.values()].reduce((sum, k) => sum + k, 0)
    if (capKey !== null && n > COUNT_CAP) keepCapped(db, capKey)
    // Below the cap every piece was read to its end; above it, SQLite read the pieces in order, so
    // those before the last one matched were. (PostgreSQL's planner may read a UNION ALL in any
    // order: above the cap, nothing is left out.)
    const readUpTo = n <= COUNT_CAP ? pieces.length : isPostgres(db) ? 0 : Math.max(...hits.keys())
    pieces = pieces.filter((_, i) => i >= readUpTo || hits.has(i))
  }

  const offset = (page - 1) * perPage
  let items: TicketListItem[]
  if (n === 0) {
    items = []
  } else if (matched && n <= COUNT_CAP) {
    // sorted by the ticket's own columns first, so only the page's rows are joined
    const ids = sorted(db.selectFrom('ticket').select('ticket.id').where('ticket.id', 'in', matched.map((r) => r.id)))
      .limit(perPage).offset(offset)
    items = await sorted(listColumns(db.selectFrom('ticket')).where('ticket.id', 'in', ids)).execute()
  } else if (pieces.length === 1) {
    // The page's ids first, then their rows: when the order is not the index's (priority, title),
    // SQLite sorts ids and keys rather than joined rows.
    const ids = sorted(filtered(pieces[0]).select('ticket.id')).limit(perPage).offset(offset)
    items = await sorted(listColumns(db.selectFrom('ticket')).where('ticket.id', 'in', ids)).execute()
  } else {
    // The page is within the first offset + perPage rows of some piece: take those (id and sort
    // key, from the index), merge, keep the page's ids, and only then read their rows.
    const key = sort === 'priority' ? PRIORITY_RANK : sql.ref<string | number>(`ticket.${sort}`)
    const merged = pieces.map((piece) => db.selectFrom(sorted(filtered(piece).select(['ticket.id', key.as('k')])).limit(offset + perPage).as('piece'))
      .select(['piece.id', 'piece.k']))
      .reduce((all, next) => all.unionAll(next))
    const ids = db.selectFrom(merged.as('merged')).select('merged.id')
      .orderBy('merged.k', direction).orderBy('merged.id', order).limit(perPage).offset(offset)
    items = await sorted(listColumns(db.selectFrom('ticket')).where('ticket.id', 'in', ids)).execute()
  }
  return { items, total: Math.min(n, COUNT_CAP), totalCapped: n > COUNT_CAP, page, perPage }
}

/**
 * Every ticket of a search, in its sort order, a batch at a time (exports): each batch is one
 * keyset query after the last row of the one before, so memory stays at one batch however
 * many tickets match, and tickets changed meanwhile are neither skipped nor repeated by OFFSET drift.
 */
export async function* ticketBatches(db: Executor, actor: Actor, filters: TicketFilters, size = 1000): AsyncGenerator<TicketListItem[]> {
  const sort = filters.sort ?? 'created_at'
  const order = filters.order ?? 'desc'
  // closed_at is the one nullable sort key: '' gives open tickets a fixed place in the keyset
  // order (first ascending, last descending); the others are never NULL and keep their type.
  const key = sort === 'priority' ? PRIORITY_RANK
    : sort === 'closed_at' ? sql<string>`COALESCE(ticket.closed_at, '')`
    : sql.ref<string | number>(`ticket.${sort}`)
  const base = { ...filters, page: undefined, perPage: undefined }
  let after: { k: string | number; id: number } | null = null
  for (;;) {
    let qb = listColumns(applyFilters(db, db.selectFrom('ticket'), actor, base) as SelectQueryBuilder<Database, 'ticket', {}>)
      .select(key.as('sort_key'))
    if (after) {
      const op = sql.raw(order === 'desc' ? '<' : '>')
      const last = after
      qb = qb.where(sql<boolean>`(${key}, ticket.id) ${op} (${last.k}, ${last.id})`)
    }
    const rows = await qb.orderBy(key, order).orderBy('ticket.id', order).limit(size).execute()
    if (rows.length === 0) return
    const tail = rows[rows.length - 1]
    after = { k: tail.sort_key, id: tail.id }
    yield rows
    if (rows.length < size) return
  }
}

/** Full-text matches as a table to join (SQLite), so the planner starts from them. */
function ftsHits(match: string) {
  return sql<{ rowid: number }>`(SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ${match})`.as('fts')
}
