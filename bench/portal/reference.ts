// listTickets as it was first written (one query, the actor's scope as an OR): the oracle for
// bench/portal/equivalence.ts and the "before" of bench/portal/queries.ts --reference.
import { sql, type SelectQueryBuilder } from 'kysely'
import type { Db } from '../../src/db/index.js'
import type { Database } from '../../src/db/schema.js'
import { COUNT_CAP, ftsQuery, scopeTicketsToActor, type TicketFilters } from '../../src/db/ticket.js'
import { OPEN_STATES } from '../../src/domain/lifecycle.js'
import type { Actor } from '../../src/domain/permissions.js'

type TicketQuery = SelectQueryBuilder<Database, 'ticket', {}>

const SITUATION_STATES: Record<string, readonly string[]> = { open: OPEN_STATES, waiting: ['resolved'], closed: ['closed'], cancelled: ['cancelled'] }

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
      qb = qb.where((eb) => {
        const text = match ? eb('ticket.id', 'in', sql<number>`(SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ${match})`) : sql<boolean>`0 = 1`
        return asNumber !== null ? eb.or([text, eb('ticket.number', '=', asNumber)]) : eb.and([text])
      })
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

