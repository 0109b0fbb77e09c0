import { sql, type ExpressionBuilder, type OrderByModifiers, type SelectQueryBuilder } from 'kysely'
import type { Executor, Trx } from './index.js'
import type { Database, Level, NoteKind, Priority, TicketSource, TicketType, Visibility } from './schema.js'
import { canSeeNote, canSeeTicket, type Actor } from '../domain/permissions.js'
import { pickLeastLoaded } from '../domain/assignment.js'
import { OPEN_STATES, STATES, STATUS_STATE, type Status } from '../domain/lifecycle.js'
import { dayAfter, dayStart, type SearchFilters, type Situation, type Sort } from '../domain/search.js'
import { slaCondition, slaStates } from './sla-query.js'
import { isPostgres } from './migrations/util.js'
import { recordEvent, actorRef, type ActorRef } from './event.js'
import type { StoredFile } from '../storage/attachments.js'
import { slaDueFor } from './sla.js'
import { notifyParties } from './mail-outbox.js'
import { enqueueCommentSync } from './crm-outbox.js'
import { startApprovalIn } from './approval.js'

export class ConflictError extends Error {
  readonly code = 'conflict'
}

export { SORTS, SITUATIONS, type Sort, type Situation } from '../domain/search.js'

const SITUATION_STATES: Record<Exclude<Situation, 'all'>, readonly string[]> = {
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
  if (f.situation && f.situation !== 'all') qb = qb.where('ticket.state', 'in', SITUATION_STATES[f.situation])
  if (f.state) qb = qb.where('ticket.state', '=', f.state)
  if (f.status) qb = qb.where('ticket.status', '=', f.status)
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

function listColumns(qb: SelectQueryBuilder<Database, 'ticket', {}>) {
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
      'ticket.resolved_at', 'ticket.closed_at', 'ticket.sla_paused_ms',
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
function filterStates(f: TicketFilters): readonly string[] | null {
  let states: readonly string[] | null = f.situation && f.situation !== 'all' ? SITUATION_STATES[f.situation] : null
  const narrow = (allowed: readonly string[]) => { states = states ? states.filter((s) => allowed.includes(s)) : allowed }
  if (f.state) narrow([f.state])
  if (f.status) narrow([STATUS_STATE[f.status as Status]])
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

async function fewMatches(db: Executor, match: string): Promise<boolean> {
  const row = await db.selectFrom(sql<{ rowid: number }>`(SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ${match} LIMIT ${TITLE_FIRST_MAX + 1})`.as('hits'))
    .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n) <= TITLE_FIRST_MAX
}

const MAX_PIECES = 60

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
  let pieces = scopePieces(actor).flatMap((piece) => (piece.byState && states
    ? states.map((state) => <O>(qb: TicketQuery<O>) => piece.where(qb).where('ticket.state', '=', state))
    : [piece.where]))
  if (pieces.length === 0) return { items: [], total: 0, totalCapped: false, page, perPage }
  // Someone managing very many accounts or desks: one query with the OR (SQLite allows 500 compound terms).
  if (pieces.length > MAX_PIECES) pieces = [<O>(qb: TicketQuery<O>) => scopeTicketsToActor(qb, actor)]
  const filtered = (piece: ScopePiece['where'], f: TicketFilters = filters) => applyListFilters(db, piece(db.selectFrom('ticket')), actor, f)

  let match = staffFtsMatch(db, actor, filters)
  if (match && !filters.q?.trim() && !(await fewMatches(db, match))) match = null
  const withoutQ = { ...filters, q: undefined, title: undefined }
  // Counting reads the matches' ids, at most COUNT_CAP + 1 of them: when there are no more than
  // the cap, that is every match, and the page is those rows sorted (one look-up per match,
  // instead of reading the scope's pieces a second time).
  let matched: { id: number }[]
  if (match) {
    matched = await applyFilters(db, db.selectFrom('ticket'), actor, withoutQ)
      .innerJoin(ftsHits(match), (join) => join.onRef('fts.rowid', '=', 'ticket.id'))
      .select('ticket.id').limit(COUNT_CAP + 1).execute()
  } else {
    // UNION ALL of disjoint pieces under one LIMIT: counting stops at the cap, piece by piece.
    // Each match says which piece it came from: past the cap, the pieces read to their end
    // without a match are left out of the page's query, which would read them again.
    // Title words too common to start from (fewMatches) are tested once, on the rows the pieces
    // give, rather than inside each piece, where SQLite would read their full-text matches again
    // (Ana's open tickets, title `printer` + critical, at 1M tickets: 96 -> 30 ms).
    const titleMatch = !isPostgres(db) && filters.title?.trim() ? ftsQuery(filters.title.trim()) : null
    const countFilters = titleMatch ? { ...filters, title: undefined } : filters
    const union = pieces.map((piece, i) => filtered(piece, countFilters).select(['ticket.id', sql.lit(i).as('p')]))
      .reduce((all, next) => all.unionAll(next))
    const seen = titleMatch
      ? await db.selectFrom(union.as('m')).select(['m.id', 'm.p']).where('m.id', 'in', titleHits(titleMatch)).limit(COUNT_CAP + 1).execute()
      : await union.limit(COUNT_CAP + 1).execute()
    matched = seen
    if (seen.length > COUNT_CAP) {
      const hits = new Set(seen.map((r) => Number(r.p)))
      // SQLite reads the pieces in order, so those before the last one matched were read to
      // their end. (PostgreSQL's planner may read a UNION ALL in any order: nothing is left out.)
      const readUpTo = isPostgres(db) ? 0 : Math.max(...hits)
      pieces = pieces.filter((_, i) => i >= readUpTo || hits.has(i))
    }
  }
  const n = matched.length

  const offset = (page - 1) * perPage
  let items: TicketListItem[]
  if (n === 0) {
    items = []
  } else if (n <= COUNT_CAP) {
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

/** One ticket with the names a page shows, or undefined when missing or not visible to the actor. */
export async function getTicketForActor(db: Executor, actor: Actor, id: number) {
  const row = await listColumns(db.selectFrom('ticket'))
    .select([
      'ticket.description', 'ticket.url', 'ticket.impact', 'ticket.urgency', 'ticket.parent_id', 'ticket.version',
      'ticket.created_by_staff_id', 'ticket.resolution', 'ticket.closure_category', 'ticket.closure_note',
      'ticket.cancel_reason', 'ticket.reopen_count', 'ticket.crm_case_id', 'ticket.crm_case_number', 'ticket.deleted_at'
    ])
    .where('ticket.id', '=', id)
    .executeTakeFirst()
  if (!row || !canSeeTicket(actor, row)) return undefined
  return row
}

export type TicketDetail = NonNullable<Awaited<ReturnType<typeof getTicketForActor>>>

/** A ticket's origin ticket and its follow-up (child) tickets, each only when the actor may see it. */
export async function linkedTickets(db: Executor, actor: Actor, ticket: { id: number; parent_id: number | null }) {
  const columns = ['ticket.id', 'ticket.number', 'ticket.title', 'ticket.state', 'ticket.status'] as const
  const parent = ticket.parent_id === null ? undefined
    : await scopeTicketsToActor(db.selectFrom('ticket'), actor).select(columns).where('ticket.id', '=', ticket.parent_id).executeTakeFirst()
  const children = await scopeTicketsToActor(db.selectFrom('ticket'), actor).select(columns)
    .where('ticket.parent_id', '=', ticket.id).orderBy('ticket.id').execute()
  return { parent: parent ?? null, children }
}

/**
 * A ticket with its names, without a visibility check: only for the receipt of someone who
 * just created or transferred it and may no longer see it (staff opening for another desk).
 */
export async function getTicketReceipt(db: Executor, id: number) {
  return listColumns(db.selectFrom('ticket'))
    .select(['ticket.description', 'ticket.url', 'ticket.version'])
    .where('ticket.id', '=', id)
    .executeTakeFirst()
}

export async function getTicketIdByNumber(db: Executor, number: number): Promise<number | undefined> {
  const row = await db.selectFrom('ticket').select('id').where('number', '=', number).executeTakeFirst()
  return row?.id
}

/**
 * Takes the ticket's write lock before reading it (a no-op update: a row lock on PostgreSQL,
 * the database write lock on SQLite), so read-check-write sequences never interleave.
 */
export async function lockTicket(trx: Executor, ticketId: number): Promise<void> {
  await trx.updateTable('ticket').set((eb) => ({ version: eb.ref('version') })).where('id', '=', ticketId).execute()
}

export async function nextCounter(trx: Executor, name: string): Promise<number> {
  // The UPDATE takes the write lock first, so every read that follows in the transaction
  // (assignment loads) sees a settled picture even with several processes on one file.
  const updated = await trx.updateTable('counter').set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', name).returning('value').executeTakeFirst()
  if (updated) return Number(updated.value)
  await trx.insertInto('counter').values({ name, value: 1 }).execute()
  return 1
}

/** Available staff allowed on a desk/product with their open-ticket counts (zero included). */
export async function eligibleStaffLoads(db: Executor, deskId: number, productId: number | null) {
  // One index-only count per candidate (ticket_live_assignee_state_idx), not a join over every ticket.
  const rows = await db.selectFrom('staff')
    .innerJoin('desk_member', (j) => j.onRef('desk_member.staff_id', '=', 'staff.id').on('desk_member.desk_id', '=', deskId))
    .select(['staff.id', (eb) => eb.selectFrom('ticket').select((c) => c.fn.countAll<number>().as('n'))
      .whereRef('ticket.assignee_id', '=', 'staff.id').where('ticket.state', 'in', OPEN_STATES).where('ticket.deleted_at', 'is', null)
      .as('open_count')])
    .where('staff.available', '=', 1)
    .where('staff.active', '=', 1)
    .where((eb) => {
      const restricted = eb.exists(eb.selectFrom('staff_product as sp').select('sp.staff_id').whereRef('sp.staff_id', '=', 'staff.id'))
      if (productId === null) return eb.not(restricted)
      return eb.or([
        eb.not(restricted),
        eb.exists(eb.selectFrom('staff_product as sp').select('sp.staff_id')
          .whereRef('sp.staff_id', '=', 'staff.id').where('sp.product_id', '=', productId))
      ])
    })
    .execute()
  return rows.map((r) => ({ staffId: r.id, openCount: Number(r.open_count) }))
}

async function staffName(db: Executor, id: number | null): Promise<string | null> {
  if (id === null) return null
  const row = await db.selectFrom('staff').select('name').where('id', '=', id).executeTakeFirst()
  return row?.name ?? null
}

export interface CreateTicketInput {
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
  files: StoredFile[]
  parentId?: number | null
}

export interface CreateContext {
  actor: ActorRef
  now: string
  random?: () => number
}

/** Inserts a ticket and assigns it by least load in the same write transaction. */
export async function createTicket(db: Executor, input: CreateTicketInput, ctx: CreateContext) {
  return db.transaction().execute(async (trx) => createTicketIn(trx, input, ctx))
}

export async function createTicketIn(trx: Trx, input: CreateTicketInput, ctx: CreateContext) {
  const number = await nextCounter(trx, 'ticket_number')
  const loads = await eligibleStaffLoads(trx, input.deskId, input.productId)
  const assigneeId = pickLeastLoaded(loads, ctx.random)
  const due = await slaDueFor(trx, input.priority, ctx.now)
  const ticket = await trx.insertInto('ticket').values({
    number, title: input.title, description: input.description, url: input.url,
    ticket_type: input.ticketType, account_id: input.accountId, contact_id: input.contactId,
    created_by_staff_id: input.createdByStaffId, product_id: input.productId, category_id: input.categoryId,
    desk_id: input.deskId, impact: input.impact ?? null, urgency: input.urgency ?? null, priority: input.priority,
    source: input.source, state: 'open', status: 'new', assignee_id: assigneeId, parent_id: input.parentId ?? null,
    response_due_at: due.responseDueAt, resolution_due_at: due.resolutionDueAt,
    created_at: ctx.now, updated_at: ctx.now
  }).returning(['id', 'number', 'assignee_id']).executeTakeFirstOrThrow()
  await insertAttachments(trx, ticket.id, null, input.files, ctx.now)
  await recordEvent(trx, { ticketId: ticket.id, actor: ctx.actor, action: 'created', at: ctx.now })
  if (assigneeId !== null) {
    await recordEvent(trx, {
      ticketId: ticket.id, actor: { type: 'system', id: null, name: null }, action: 'assigned', field: 'assignee',
      to: await staffName(trx, assigneeId), at: ctx.now
    })
  }
  // The requester gets an acknowledgement even when they opened it; the assignee a notice.
  const data = { number, title: input.title, actorName: ctx.actor.name, parentId: input.parentId ?? null }
  await notifyParties(trx, ticket.id, ['requester'], 'ticket.created', data, { now: ctx.now })
  await notifyParties(trx, ticket.id, ['assignee'], 'ticket.created', data, { now: ctx.now, actor: ctx.actor })
  // A catalog item may need the requester's manager to approve it first (db/approval.ts).
  await startApprovalIn(trx, {
    id: ticket.id, number, title: input.title, description: input.description, contactId: input.contactId,
    accountId: input.accountId, categoryId: input.categoryId, parentId: input.parentId ?? null
  }, { now: ctx.now })
  return ticket
}

async function insertAttachments(trx: Executor, ticketId: number, noteId: number | null, files: StoredFile[], now: string) {
  for (const f of files) {
    await trx.insertInto('attachment').values({
      ticket_id: ticketId, note_id: noteId, filename: f.filename, content_type: f.contentType,
      size: f.size, sha256: f.sha256, created_at: now
    }).execute()
  }
}

export interface AddNoteInput {
  ticketId: number
  kind: NoteKind
  visibility: Visibility
  body: string
  source: TicketSource
  files: StoredFile[]
  sendEmail?: boolean
  minutesSpent?: number | null
  occurredAt?: string | null
  category?: string | null
  origin?: string | null
}

/** Appends a note (notes are never edited) and bumps the ticket. */
export async function addNote(db: Executor, input: AddNoteInput, ctx: { actor: ActorRef; now: string }) {
  return db.transaction().execute((trx) => addNoteIn(trx, input, ctx))
}

export async function addNoteIn(trx: Trx, input: AddNoteInput, ctx: { actor: ActorRef; now: string }) {
  const note = await trx.insertInto('note').values({
    ticket_id: input.ticketId, kind: input.kind, visibility: input.visibility, body: input.body,
    author_staff_id: ctx.actor.type === 'staff' ? ctx.actor.id : null,
    author_contact_id: ctx.actor.type === 'contact' ? ctx.actor.id : null,
    author_name: ctx.actor.name, source: input.source, send_email: input.sendEmail ? 1 : 0,
    occurred_at: input.occurredAt ?? null, minutes_spent: input.minutesSpent ?? null,
    category: input.category ?? null, origin: input.origin ?? null, created_at: ctx.now
  }).returning('id').executeTakeFirstOrThrow()
  await insertAttachments(trx, input.ticketId, note.id, input.files, ctx.now)
  if (input.source !== 'crm') await enqueueCommentSync(trx, input.ticketId, note.id, ctx.now)
  await trx.updateTable('ticket')
    .set((eb) => ({ updated_at: ctx.now, version: eb('version', '+', 1) }))
    .where('id', '=', input.ticketId).execute()
  if (ctx.actor.type === 'staff' && input.visibility === 'public') {
    await trx.updateTable('ticket').set({ first_response_at: ctx.now })
      .where('id', '=', input.ticketId).where('first_response_at', 'is', null).execute()
  }
  await recordEvent(trx, {
    ticketId: input.ticketId, actor: ctx.actor, at: ctx.now,
    action: input.kind === 'occurrence' || input.kind === 'message' ? input.kind : input.visibility === 'internal' ? 'internal' : 'reply'
  })
  return note
}

/** Notes the actor may see, oldest first, each with its attachments. */
export async function listNotes(db: Executor, actor: Actor, ticketId: number) {
  let q = db.selectFrom('note').selectAll().where('ticket_id', '=', ticketId)
  if (actor.kind === 'contact') q = q.where('visibility', '=', 'public')
  const notes = (await q.orderBy('id').execute()).filter((n) => canSeeNote(actor, n))
  const attachments = await db.selectFrom('attachment')
    .select(['id', 'note_id', 'filename', 'content_type', 'size'])
    .where('ticket_id', '=', ticketId).orderBy('id').execute()
  const byNote = new Map<number | null, typeof attachments>()
  for (const a of attachments) byNote.set(a.note_id, [...(byNote.get(a.note_id) ?? []), a])
  return {
    notes: notes.map((n) => ({ ...n, attachments: byNote.get(n.id) ?? [] })),
    descriptionAttachments: byNote.get(null) ?? []
  }
}

export async function listHistory(db: Executor, ticketId: number) {
  return db.selectFrom('ticket_event').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute()
}

export interface TransferInput {
  assigneeId?: number | null
  accountId?: number
  productId?: number | null
  note?: string
  expectedVersion?: number
  source?: TicketSource
}

async function nameOf(db: Executor, table: 'account' | 'product' | 'staff', id: number | null): Promise<string | null> {
  if (id === null) return null
  const row = await db.selectFrom(table).select('name').where('id', '=', id).executeTakeFirst()
  return row?.name ?? null
}

/** Moves a ticket to another assignee, account or product with an internal note; one event per field. */
export async function transferTicket(db: Executor, ticketId: number, input: TransferInput, ctx: { actor: ActorRef; now: string }) {
  return db.transaction().execute(async (trx) => {
    await lockTicket(trx, ticketId)
    const current = await trx.selectFrom('ticket').select(['assignee_id', 'account_id', 'product_id', 'version'])
      .where('id', '=', ticketId).executeTakeFirstOrThrow()
    if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) throw new ConflictError('version mismatch')
    const changes: { field: 'assignee' | 'account' | 'product'; column: 'assignee_id' | 'account_id' | 'product_id'; table: 'staff' | 'account' | 'product'; from: number | null; to: number | null }[] = []
    if (input.assigneeId !== undefined && input.assigneeId !== current.assignee_id) changes.push({ field: 'assignee', column: 'assignee_id', table: 'staff', from: current.assignee_id, to: input.assigneeId })
    if (input.accountId !== undefined && input.accountId !== current.account_id) changes.push({ field: 'account', column: 'account_id', table: 'account', from: current.account_id, to: input.accountId })
    if (input.productId !== undefined && input.productId !== current.product_id) changes.push({ field: 'product', column: 'product_id', table: 'product', from: current.product_id, to: input.productId })
    if (changes.length === 0 && !input.note) return { changed: [] as string[] }
    const set: Record<string, unknown> = { updated_at: ctx.now }
    for (const c of changes) set[c.column] = c.to
    const updated = await trx.updateTable('ticket')
      .set((eb) => ({ ...set, version: eb('version', '+', 1) }))
      .where('id', '=', ticketId).where('version', '=', current.version).executeTakeFirst()
    if (Number(updated.numUpdatedRows) !== 1) throw new ConflictError('version mismatch')
    for (const c of changes) {
      await recordEvent(trx, {
        ticketId, actor: ctx.actor, action: 'transfer', field: c.field,
        from: await nameOf(trx, c.table, c.from), to: await nameOf(trx, c.table, c.to), note: input.note ?? null, at: ctx.now
      })
    }
    if (input.note) {
      await addNoteIn(trx, { ticketId, kind: 'internal', visibility: 'internal', body: input.note, source: input.source ?? 'portal', files: [] }, ctx)
    }
    if (changes.some((c) => c.field === 'assignee' && c.to !== null)) {
      const t = await trx.selectFrom('ticket').select(['number', 'title']).where('id', '=', ticketId).executeTakeFirstOrThrow()
      await notifyParties(trx, ticketId, ['assignee'], 'ticket.transfer', { number: t.number, title: t.title, note: input.note ?? null, actorName: ctx.actor.name }, { now: ctx.now, actor: ctx.actor })
    }
    return { changed: changes.map((c) => c.field) }
  })
}

export interface FieldUpdateInput {
  priority?: Priority
  categoryId?: number | null
  productId?: number | null
  deskId?: number
  impact?: Level | null
  urgency?: Level | null
  source?: TicketSource
  expectedVersion?: number
}

/** Staff edits from the ticket's side column; a desk change re-assigns when the assignee is not a member. */
export async function updateTicketFields(db: Executor, ticketId: number, input: FieldUpdateInput, ctx: { actor: ActorRef; now: string; random?: () => number }) {
  return db.transaction().execute(async (trx) => {
    await lockTicket(trx, ticketId)
    const current = await trx.selectFrom('ticket').select(['priority', 'category_id', 'product_id', 'desk_id', 'assignee_id', 'version', 'impact', 'urgency', 'source', 'created_at', 'sla_paused_ms', 'first_response_at', 'response_due_at'])
      .where('id', '=', ticketId).executeTakeFirstOrThrow()
    if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) throw new ConflictError('version mismatch')
    const set: Record<string, unknown> = {}
    const events: { field: string; from: string | null; to: string | null }[] = []
    for (const field of ['impact', 'urgency', 'source'] as const) {
      const value = input[field]
      if (value !== undefined && value !== current[field]) {
        set[field] = value
        events.push({ field, from: current[field], to: value })
      }
    }
    if (input.priority !== undefined && input.priority !== current.priority) {
      set.priority = input.priority
      events.push({ field: 'priority', from: current.priority, to: input.priority })
      // Targets follow the new priority, counted from the ticket's start plus its time on hold.
      const due = await slaDueFor(trx, input.priority, new Date(Date.parse(current.created_at) + Number(current.sla_paused_ms)).toISOString())
      set.resolution_due_at = due.resolutionDueAt
      if (!current.first_response_at) set.response_due_at = due.responseDueAt
      set.sla_alert = null
    }
    if (input.categoryId !== undefined && input.categoryId !== current.category_id) {
      set.category_id = input.categoryId
      const names = await trx.selectFrom('category').select(['id', 'name']).where('id', 'in', [current.category_id ?? -1, input.categoryId ?? -1]).execute()
      events.push({ field: 'category', from: names.find((n) => n.id === current.category_id)?.name ?? null, to: names.find((n) => n.id === input.categoryId)?.name ?? null })
    }
    if (input.productId !== undefined && input.productId !== current.product_id) {
      set.product_id = input.productId
      events.push({ field: 'product', from: await nameOf(trx, 'product', current.product_id), to: await nameOf(trx, 'product', input.productId) })
    }
    if (input.deskId !== undefined && input.deskId !== current.desk_id) {
      set.desk_id = input.deskId
      const deskNames = await trx.selectFrom('desk').select(['id', 'name']).where('id', 'in', [current.desk_id, input.deskId]).execute()
      events.push({ field: 'desk', from: deskNames.find((d) => d.id === current.desk_id)?.name ?? null, to: deskNames.find((d) => d.id === input.deskId)?.name ?? null })
      const member = current.assignee_id === null ? undefined : await trx.selectFrom('desk_member').select('staff_id')
        .where('desk_id', '=', input.deskId).where('staff_id', '=', current.assignee_id).executeTakeFirst()
      if (!member) {
        const productId = (set.product_id as number | null | undefined) ?? current.product_id
        const next = pickLeastLoaded(await eligibleStaffLoads(trx, input.deskId, productId), ctx.random)
        set.assignee_id = next
        events.push({ field: 'assignee', from: await staffName(trx, current.assignee_id), to: await staffName(trx, next) })
      }
    }
    if (events.length === 0) return { changed: [] as string[] }
    const updated = await trx.updateTable('ticket')
      .set((eb) => ({ ...set, updated_at: ctx.now, version: eb('version', '+', 1) }))
      .where('id', '=', ticketId).where('version', '=', current.version).executeTakeFirst()
    if (Number(updated.numUpdatedRows) !== 1) throw new ConflictError('version mismatch')
    for (const e of events) {
      await recordEvent(trx, { ticketId, actor: ctx.actor, action: e.field === 'assignee' ? 'assigned' : 'updated', field: e.field, from: e.from, to: e.to, at: ctx.now })
    }
    return { changed: events.map((e) => e.field) }
  })
}

/** Hands unassigned open tickets to available staff by least load, oldest first. */
export async function assignBacklog(db: Executor, ctx: { now: string; random?: () => number; limit?: number }): Promise<number> {
  const waiting = await db.selectFrom('ticket').select(['id', 'desk_id', 'product_id'])
    .where('assignee_id', 'is', null).where('state', 'in', OPEN_STATES).where('deleted_at', 'is', null)
    .orderBy('created_at').orderBy('id').limit(ctx.limit ?? 500).execute()
  let assigned = 0
  for (const t of waiting) {
    const done = await db.transaction().execute(async (trx) => {
      const next = pickLeastLoaded(await eligibleStaffLoads(trx, t.desk_id, t.product_id), ctx.random)
      if (next === null) return false
      const res = await trx.updateTable('ticket').set((eb) => ({ assignee_id: next, updated_at: ctx.now, version: eb('version', '+', 1) }))
        .where('id', '=', t.id).where('assignee_id', 'is', null).executeTakeFirst()
      if (Number(res.numUpdatedRows) !== 1) return false
      await recordEvent(trx, { ticketId: t.id, actor: { type: 'system', id: null, name: null }, action: 'assigned', field: 'assignee', to: await staffName(trx, next), at: ctx.now })
      return true
    })
    if (done) assigned++
  }
  return assigned
}

export function ticketActor(actor: Actor): ActorRef {
  return actorRef(actor)
}

export type { ExpressionBuilder }
