import { sql, type SelectQueryBuilder } from 'kysely'
import type { Executor } from './index.js'
import type { Database } from './schema.js'
import { isPostgres } from './migrations/util.js'
import { scopeTicketsToActor } from './ticket-search.js'
import { slaCondition } from './sla-query.js'
import { OPEN_STATES } from '../domain/lifecycle.js'
import type { StaffActor } from '../domain/permissions.js'
import { addTotals, csatOf, NO_RATINGS, SATISFIED_FROM, type Csat, type Period, type RatingTotals } from '../domain/csat.js'

export interface DashboardFigures {
  byState: { open: number; in_progress: number; on_hold: number }
  /** achieved and breached: tickets opened since the window's start, in every state; at risk and overdue: open tickets now. */
  sla: { achieved: number; breached: number; at_risk: number; overdue: number }
  perDesk: { deskId: number; deskName: string; count: number }[]
  /** assigneeId null: open tickets nobody holds. */
  perAssignee: { assigneeId: number | null; assigneeName: string | null; count: number }[]
}

const count = sql<number>`count(*)`

/**
 * The dashboard figures over the tickets the actor may see (admins: all). Service levels achieved and
 * breached are those of the tickets opened since `since` (a window, so the page does not read every
 * ticket ever finished); at risk and overdue are the open tickets' now.
 */
export async function dashboardFigures(db: Executor, actor: StaffActor, now: Date, since: string): Promise<DashboardFigures> {
  const visible = (opts?: { tested: boolean }) => scopeTicketsToActor(db.selectFrom('ticket'), actor, opts)

  const states = await visible().select(['ticket.state', count.as('n')])
    .where('ticket.state', 'in', OPEN_STATES).groupBy('ticket.state').execute()
  const byState = { open: 0, in_progress: 0, on_hold: 0 }
  for (const r of states) byState[r.state as keyof typeof byState] = Number(r.n)

  // slaCondition is slaStatus written in SQL: the figures are counted without reading the tickets.
  const slaCount = (status: 'achieved' | 'breached' | 'at_risk') =>
    sql<number>`coalesce(sum(case when ${slaCondition(db, status, now)} then 1 else 0 end), 0)`
  // The states are listed (not "not cancelled") so each, with the window, is a range of the list
  // indexes, and the scope is tested on the range's entries rather than leading.
  const window = await visible({ tested: true })
    .select([slaCount('achieved').as('achieved'), slaCount('breached').as('breached')])
    .where('ticket.state', 'in', [...OPEN_STATES, 'resolved', 'closed']).where('ticket.created_at', '>=', since)
    .where('ticket.resolution_due_at', 'is not', null).executeTakeFirstOrThrow()
  const current = await visible()
    .select([slaCount('at_risk').as('at_risk'), slaCount('breached').as('overdue')])
    .where('ticket.state', 'in', OPEN_STATES).where('ticket.resolution_due_at', 'is not', null).executeTakeFirstOrThrow()
  const sla = {
    achieved: Number(window.achieved), breached: Number(window.breached),
    at_risk: Number(current.at_risk), overdue: Number(current.overdue)
  }

  const perDesk = await visible().innerJoin('desk', 'desk.id', 'ticket.desk_id')
    .select(['desk.id as deskId', 'desk.name as deskName', count.as('count')])
    .where('ticket.state', 'in', OPEN_STATES).groupBy(['desk.id', 'desk.name']).orderBy('count', 'desc').orderBy('desk.name').execute()

  const perAssignee = await visible().leftJoin('staff', 'staff.id', 'ticket.assignee_id')
    .select(['ticket.assignee_id as assigneeId', 'staff.name as assigneeName', count.as('count')])
    .where('ticket.state', 'in', OPEN_STATES).groupBy(['ticket.assignee_id', 'staff.name']).orderBy('count', 'desc').orderBy('staff.name').execute()

  return {
    byState, sla,
    perDesk: perDesk.map((r) => ({ ...r, count: Number(r.count) })),
    perAssignee: perAssignee.map((r) => ({ ...r, count: Number(r.count) }))
  }
}

/** Per requester, by the search's status groups (each figure is one search); on hold is a part of open. */
export interface RequesterRow {
  contactId: number
  name: string
  email: string
  total: number
  open: number
  onHold: number
  waiting: number
  closed: number
  cancelled: number
}

export interface RepeatedIssue {
  contactId: number
  name: string
  kind: 'product' | 'category'
  subjectId: number
  subject: string
  count: number
  tickets: number[]
}

/** Rows shown per table: a summary, not a listing. */
export const SUMMARY_LIMIT = 100

/**
 * Tickets per requester opened since `since` (open, of which on hold, waiting, closed, cancelled), and the requesters who
 * opened two or more tickets about the same product or catalog item in that window.
 */
export async function requestSummary(db: Executor, actor: StaffActor, since: string) {
  const visible = () => scopeTicketsToActor(db.selectFrom('ticket'), actor).where('ticket.created_at', '>=', since)

  const requesters = await visible().innerJoin('contact', 'contact.id', 'ticket.contact_id')
    .select([
      'contact.id as contactId', 'contact.name as name', 'contact.email as email', count.as('total'),
      sql<number>`sum(case when ticket.state in (${sql.join(OPEN_STATES.map((s) => sql.lit(s)))}) then 1 else 0 end)`.as('open'),
      sql<number>`sum(case when ticket.state = 'on_hold' then 1 else 0 end)`.as('onHold'),
      sql<number>`sum(case when ticket.state = 'resolved' then 1 else 0 end)`.as('waiting'),
      sql<number>`sum(case when ticket.state = 'closed' then 1 else 0 end)`.as('closed'),
      sql<number>`sum(case when ticket.state = 'cancelled' then 1 else 0 end)`.as('cancelled')
    ])
    .groupBy(['contact.id', 'contact.name', 'contact.email'])
    .orderBy('total', 'desc').orderBy('contact.name').limit(SUMMARY_LIMIT).execute()

  const byProduct = await visible().innerJoin('contact', 'contact.id', 'ticket.contact_id')
    .innerJoin('product', 'product.id', 'ticket.product_id')
    .select(['contact.id as contactId', 'contact.name as name', 'product.id as subjectId', 'product.name as subject', count.as('count')])
    .groupBy(['contact.id', 'contact.name', 'product.id', 'product.name']).having(count, '>=', 2)
    .orderBy('count', 'desc').orderBy('contact.name').limit(SUMMARY_LIMIT).execute()
  const byCategory = await visible().innerJoin('contact', 'contact.id', 'ticket.contact_id')
    .innerJoin('category', 'category.id', 'ticket.category_id')
    .select(['contact.id as contactId', 'contact.name as name', 'category.id as subjectId', 'category.name as subject', count.as('count')])
    .groupBy(['contact.id', 'contact.name', 'category.id', 'category.name']).having(count, '>=', 2)
    .orderBy('count', 'desc').orderBy('contact.name').limit(SUMMARY_LIMIT).execute()

  const groups = [
    ...byProduct.map((r) => ({ ...r, kind: 'product' as const, count: Number(r.count), tickets: [] as number[] })),
    ...byCategory.map((r) => ({ ...r, kind: 'category' as const, count: Number(r.count), tickets: [] as number[] }))
  ].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)).slice(0, SUMMARY_LIMIT)

  // The ticket numbers of each group, so every repeated issue links to its tickets.
  const contactIds = [...new Set(groups.map((g) => g.contactId))]
  if (contactIds.length > 0) {
    const rows = await visible().select(['ticket.number', 'ticket.contact_id', 'ticket.product_id', 'ticket.category_id'])
      .where('ticket.contact_id', 'in', contactIds)
      .where((eb) => eb.or([eb('ticket.product_id', 'is not', null), eb('ticket.category_id', 'is not', null)]))
      .orderBy('ticket.number').execute()
    for (const g of groups) {
      g.tickets = rows.filter((r) => r.contact_id === g.contactId && (g.kind === 'product' ? r.product_id : r.category_id) === g.subjectId)
        .map((r) => r.number)
    }
  }

  return {
    requesters: requesters.map((r) => ({
      ...r, total: Number(r.total), open: Number(r.open), onHold: Number(r.onHold), waiting: Number(r.waiting),
      closed: Number(r.closed), cancelled: Number(r.cancelled)
    })) as RequesterRow[],
    repeated: groups as RepeatedIssue[]
  }
}

/** The satisfaction of one desk, one assignee (null: nobody held the ticket) or one period. */
export interface CsatRow extends Csat {
  id: number | null
  name: string | null
}

export interface CsatPeriod extends Csat {
  period: Period
}

export interface CsatFigures {
  total: Csat
  perDesk: CsatRow[]
  perStaff: CsatRow[]
  /** Every period of the window, oldest first; those without ratings have `ratings` 0 and null figures. */
  overTime: CsatPeriod[]
}

/**
 * Satisfaction over the ratings given in `periods` (the dashboard's window, see windowPeriods) on
 * the tickets the actor may see: in all, per desk, per assignee and per period. One statement: the
 * ratings are read from their time index (survey_created_idx) and each one's ticket is tested for
 * the scope, then grouped by desk, assignee and period together.
 */
export async function csatFigures(db: Executor, actor: StaffActor, periods: Period[]): Promise<CsatFigures> {
  const empty: CsatFigures = { total: csatOf(NO_RATINGS), perDesk: [], perStaff: [], overTime: periods.map((period) => ({ period, ...csatOf(NO_RATINGS) })) }
  if (periods.length === 0) return empty
  const since = periods[0].start
  const until = periods[periods.length - 1].end
  // The period's index, newest first: the first boundary a rating is not before.
  const periodOf = periods.length === 1 ? sql<number>`0`
    : sql<number>`case ${sql.join(periods.slice(1).map((p, i) => sql`when survey.created_at >= ${p.start} then ${sql.lit(i + 1)}`).reverse(), sql` `)} else 0 end`
  const figures = [
    periodOf.as('period'), count.as('ratings'),
    sql<number>`sum(case when survey.rating >= ${sql.lit(SATISFIED_FROM)} then 1 else 0 end)`.as('satisfied'),
    sql<number>`sum(survey.rating)`.as('sum')
  ]
  const names = ['desk.id as deskId', 'desk.name as deskName', 'ticket.assignee_id as staffId', 'staff.name as staffName'] as const
  // By the period's alias: the CASE written again would carry other parameters, which PostgreSQL
  // does not take for the same expression.
  const groups = ['desk.id', 'desk.name', 'ticket.assignee_id', 'staff.name', sql.ref('period')] as const
  // Each rating's ticket, looked up by its key and tested for the scope (`tested`: the scope's
  // columns are not where a search starts, so the ratings' index leads). SQLite does so by itself.
  // PostgreSQL, costing thousands of key look-ups above one pass over the table, would read every
  // ticket into a hash (0.5 s at 600,000 tickets): a lateral look-up per rating keeps it to the
  // period's tickets (LIMIT 1, on the key, keeps the planner from folding it back into a join).
  const rows = isPostgres(db)
    ? await db.selectFrom('survey').where('survey.created_at', '>=', since).where('survey.created_at', '<', until)
      .innerJoinLateral((eb) => scopeTicketsToActor(eb.selectFrom('ticket') as unknown as SelectQueryBuilder<Database, 'ticket', {}>, actor)
        .select(['ticket.desk_id', 'ticket.assignee_id']).where(sql<boolean>`ticket.id = survey.ticket_id`).limit(1).as('ticket'), (join) => join.onTrue())
      .innerJoin('desk', 'desk.id', 'ticket.desk_id').leftJoin('staff', 'staff.id', 'ticket.assignee_id')
      .select([...names, ...figures]).groupBy([...groups]).execute()
    : await scopeTicketsToActor(db.selectFrom('ticket'), actor, { tested: true })
      .innerJoin('survey', 'survey.ticket_id', 'ticket.id').where('survey.created_at', '>=', since).where('survey.created_at', '<', until)
      .innerJoin('desk', 'desk.id', 'ticket.desk_id').leftJoin('staff', 'staff.id', 'ticket.assignee_id')
      .select([...names, ...figures]).groupBy([...groups]).execute()

  const desks = new Map<number, CsatRow & RatingTotals>()
  const staff = new Map<number | null, CsatRow & RatingTotals>()
  const overTime = periods.map(() => NO_RATINGS)
  let total = NO_RATINGS
  for (const r of rows) {
    const totals: RatingTotals = { ratings: Number(r.ratings), satisfied: Number(r.satisfied), sum: Number(r.sum) }
    total = addTotals(total, totals)
    const i = Number(r.period)
    overTime[i] = addTotals(overTime[i], totals)
    const desk = desks.get(r.deskId) ?? { id: r.deskId, name: r.deskName, ...csatOf(NO_RATINGS) }
    desks.set(r.deskId, { ...desk, ...addTotals(desk, totals) })
    const person = staff.get(r.staffId) ?? { id: r.staffId, name: r.staffName, ...csatOf(NO_RATINGS) }
    staff.set(r.staffId, { ...person, ...addTotals(person, totals) })
  }
  // Most ratings first (the figures that say most), then by name; nobody's tickets last among equals.
  const ranked = (list: Iterable<CsatRow & RatingTotals>): CsatRow[] => [...list]
    .map((r) => ({ ...csatOf(r), id: r.id, name: r.name }))
    .sort((a, b) => b.ratings - a.ratings || (a.name === null ? 1 : 0) - (b.name === null ? 1 : 0) || (a.name ?? '').localeCompare(b.name ?? ''))
  return {
    total: csatOf(total),
    perDesk: ranked(desks.values()),
    perStaff: ranked(staff.values()),
    overTime: periods.map((period, i) => ({ period, ...csatOf(overTime[i]) }))
  }
}

/** Each ticket's rating and its comment, for the tickets of an export's batch that have one. */
export async function ratingsOf(db: Executor, ticketIds: number[]): Promise<Map<number, { rating: number; comment: string | null }>> {
  if (ticketIds.length === 0) return new Map()
  const rows = await db.selectFrom('survey').select(['ticket_id', 'rating', 'comment']).where('ticket_id', 'in', ticketIds).execute()
  return new Map(rows.map((r) => [r.ticket_id, { rating: r.rating, comment: r.comment }]))
}
