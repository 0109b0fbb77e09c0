// listTickets as it was first written (one query, the actor's scope as an OR): the oracle for
// bench/portal/equivalence.ts and the "before" of bench/portal/queries.ts --reference. The
// advanced-search filters (issue 6) are written here again as plain conditions on that query.
import { sql, type SelectQueryBuilder } from 'kysely'
import type { Db } from '../../src/db/index.js'
import type { Database } from '../../src/db/schema.js'
import { COUNT_CAP, ftsQuery, scopeTicketsToActor, type TicketFilters } from '../../src/db/ticket-search.js'
import { OPEN_STATES, type State } from '../../src/domain/lifecycle.js'
import { dayAfter, dayStart } from '../../src/domain/search.js'
import { slaCondition } from '../../src/db/sla-query.js'
import type { Actor } from '../../src/domain/permissions.js'

type TicketQuery = SelectQueryBuilder<Database, 'ticket', {}>

const SITUATION_STATES: Record<string, readonly State[]> = { open: OPEN_STATES, waiting: ['resolved'], closed: ['closed'], cancelled: ['cancelled'] }

/** The list exactly as it was first written: one query with the scope as an OR. */
export async function referenceList(db: Db, actor: Actor, f: TicketFilters) {
  const perPage = Math.min(Math.max(f.perPage ?? 20, 1), 100)
  const page = Math.max(f.page ?? 1, 1)
  const sort = f.sort ?? 'created_at'
  const order = f.order ?? 'desc'
  const filtered = () => {
    let qb = scopeTicketsToActor(db.selectFrom('ticket'), actor) as TicketQuery
    if (f.q && f.q.trim()) {
      const trimmed = f.q.trim()
      const asNumber = /^#?\d{1,12}$/.test(trimmed) ? Number(trimmed.replace('#', '')) : null
      const match = ftsQuery(trimmed)
      // "#5" is ticket 5 only; a bare "5" also finds words beginning with 5
      if (asNumber !== null && trimmed.startsWith('#')) qb = qb.where('ticket.number', '=', asNumber)
      else qb = qb.where((eb) => {
        const text = match ? eb('ticket.id', 'in', sql<number>`(SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ${match})`) : sql<boolean>`0 = 1`
        return asNumber !== null ? eb.or([text, eb('ticket.number', '=', asNumber)]) : eb.and([text])
      })
    }
    if (f.title && f.title.trim()) {
      const match = ftsQuery(f.title.trim())
      qb = match ? qb.where('ticket.id', 'in', sql<number>`(SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ${`title : (${match})`})`) : qb.where(sql<boolean>`0 = 1`)
    }
    if (f.number !== undefined) qb = qb.where('ticket.number', '=', f.number)
    if (f.openedFrom) qb = qb.where('ticket.created_at', '>=', dayStart(f.openedFrom))
    if (f.openedTo) qb = qb.where('ticket.created_at', '<', dayAfter(f.openedTo))
    if (f.closedFrom) qb = qb.where('ticket.closed_at', '>=', dayStart(f.closedFrom))
    if (f.closedTo) qb = qb.where('ticket.closed_at', '<', dayAfter(f.closedTo))
    if (f.deskId !== undefined) qb = qb.where('ticket.desk_id', '=', f.deskId)
    if (f.ticketType) qb = qb.where('ticket.ticket_type', '=', f.ticketType)
    if (f.categoryId !== undefined) qb = qb.where('ticket.category_id', '=', f.categoryId)
    if (f.areaId !== undefined) {
      const area = f.areaId
      qb = qb.where('ticket.category_id', 'in', db.selectFrom('category').select('category.id').where((c) => c.or([c('category.parent_id', '=', area), c('category.id', '=', area)])))
    }
    if (f.productId !== undefined) qb = qb.where('ticket.product_id', '=', f.productId)
    if (f.priority) qb = qb.where('ticket.priority', '=', f.priority)
    if (f.requesterId !== undefined) qb = qb.where('ticket.contact_id', '=', f.requesterId)
    if (f.accountId !== undefined) qb = qb.where('ticket.account_id', '=', f.accountId)
    if (f.sla) qb = qb.where(slaCondition(db, f.sla, f.now ?? new Date()))
    if (actor.kind === 'staff' && f.assigneeId !== undefined) {
      qb = f.assigneeId === 'none' ? qb.where('ticket.assignee_id', 'is', null) : qb.where('ticket.assignee_id', '=', f.assigneeId)
    }
    if (f.situation && f.situation !== 'all') qb = qb.where('ticket.state', 'in', SITUATION_STATES[f.situation])
    if (f.state) qb = qb.where('ticket.state', '=', f.state)
    if (f.status) qb = qb.where('ticket.status', '=', f.status)
    if (actor.kind === 'staff') {
      if (f.scope === 'mine') qb = qb.where('ticket.assignee_id', '=', actor.id)
      if (f.scope === 'unassigned') qb = qb.where('ticket.assignee_id', 'is', null)
    }
    return qb
  }
  const rank = sql<number>`CASE ticket.priority WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END`
  let items = filtered().select('ticket.id')
  items = sort === 'priority' ? items.orderBy(rank, order).orderBy('ticket.id', order) : items.orderBy(`ticket.${sort}`, order).orderBy('ticket.id', order)
  const rows = await items.limit(perPage).offset((page - 1) * perPage).execute()
  const counted = await db.selectFrom(filtered().select(sql<number>`1`.as('one')).limit(COUNT_CAP + 1).as('m'))
    .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const n = Number(counted.n)
  return { ids: rows.map((r) => r.id), total: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP }
}

