import type { Executor } from './index.js'
import { sql, type Insertable } from 'kysely'
import type { SurveyTable } from './schema.js'
import type { Actor } from '../domain/permissions.js'
import { linkedTickets } from './ticket.js'
import { ticketApprovalState } from './approval.js'

type NewSurvey = Insertable<SurveyTable>

// Checklists, costs and satisfaction surveys: the smaller aggregates that hang off a ticket.

export async function listChecklist(db: Executor, ticketId: number) {
  return db.selectFrom('checklist_item').selectAll().where('ticket_id', '=', ticketId).orderBy('position').orderBy('id').execute()
}

export async function addChecklistRow(trx: Executor, ticketId: number, label: string, staffId: number | null, at: string): Promise<number> {
  const last = await trx.selectFrom('checklist_item').select((eb) => eb.fn.max('position').as('p')).where('ticket_id', '=', ticketId).executeTakeFirst()
  const item = await trx.insertInto('checklist_item').values({
    ticket_id: ticketId, label, position: Number(last?.p ?? 0) + 1, created_by_staff_id: staffId, created_at: at
  }).returning('id').executeTakeFirstOrThrow()
  return item.id
}

/** An item of this ticket (undefined when the item belongs to another). */
export async function checklistItem(db: Executor, ticketId: number, itemId: number) {
  return db.selectFrom('checklist_item').select(['label', 'done']).where('id', '=', itemId).where('ticket_id', '=', ticketId).executeTakeFirst()
}

export async function setChecklistRowDone(trx: Executor, itemId: number, done: boolean, staffId: number | null, at: string): Promise<void> {
  await trx.updateTable('checklist_item').set({ done: done ? 1 : 0, done_at: done ? at : null, done_by_staff_id: done ? staffId : null })
    .where('id', '=', itemId).execute()
}

export interface CostSummary {
  timeEntries: { staffName: string | null; minutes: number; rateCents: number; amountCents: number }[]
  items: { id: number; description: string; amount_cents: number; created_at: string; staff_name: string | null }[]
  timeMinutes: number
  timeCents: number
  itemsCents: number
  totalCents: number
}

/** Time spent on notes × each author's hourly rate, plus other cost items (`has`: skip what the ticket has none of). */
export async function costSummary(db: Executor, ticketId: number, has: Pick<TicketHas, 'time' | 'costItems'> = { time: true, costItems: true }): Promise<CostSummary> {
  const time = !has.time ? [] : await db.selectFrom('note').innerJoin('staff', 'staff.id', 'note.author_staff_id')
    .select(['staff.name', 'staff.hourly_rate_cents', (eb) => eb.fn.sum<number>('note.minutes_spent').as('minutes')])
    .where('note.ticket_id', '=', ticketId).where('note.minutes_spent', '>', 0)
    .groupBy(['staff.id', 'staff.name', 'staff.hourly_rate_cents']).orderBy('staff.name').execute()
  const timeEntries = time.map((r) => {
    const minutes = Number(r.minutes)
    return { staffName: r.name, minutes, rateCents: r.hourly_rate_cents, amountCents: Math.round((minutes * r.hourly_rate_cents) / 60) }
  })
  const items = !has.costItems ? [] : await db.selectFrom('cost_item').leftJoin('staff', 'staff.id', 'cost_item.staff_id')
    .select(['cost_item.id', 'cost_item.description', 'cost_item.amount_cents', 'cost_item.created_at', 'staff.name as staff_name'])
    .where('cost_item.ticket_id', '=', ticketId).orderBy('cost_item.id').execute()
  const timeCents = timeEntries.reduce((s, e) => s + e.amountCents, 0)
  const itemsCents = items.reduce((s, i) => s + i.amount_cents, 0)
  return { timeEntries, items, timeMinutes: timeEntries.reduce((s, e) => s + e.minutes, 0), timeCents, itemsCents, totalCents: timeCents + itemsCents }
}

export async function addCostRow(trx: Executor, ticketId: number, description: string, amountCents: number, staffId: number | null, at: string): Promise<void> {
  await trx.insertInto('cost_item').values({ ticket_id: ticketId, description, amount_cents: amountCents, staff_id: staffId, created_at: at }).execute()
}

export async function getSurvey(db: Executor, ticketId: number) {
  return db.selectFrom('survey').selectAll().where('ticket_id', '=', ticketId).executeTakeFirst()
}

/** Records the requester's opinion; the primary key makes a second rating impossible. */
export async function insertSurvey(trx: Executor, row: NewSurvey): Promise<void> {
  await trx.insertInto('survey').values(row).execute()
}

/** What hangs off a ticket besides its conversation. */
export interface TicketHas {
  survey: boolean
  checklist: boolean
  /** Notes with time spent. */
  time: boolean
  costItems: boolean
  /** Follow-up tickets (visible to the reader or not). */
  children: boolean
  approvals: boolean
}

/** TicketHas in one statement (each an index probe), so a page skips the look-ups that would find nothing. */
export async function ticketHas(db: Executor, ticketId: number): Promise<TicketHas> {
  const row = await db.selectNoFrom((eb) => [
    eb.exists(eb.selectFrom('survey').select(sql.lit(1).as('x')).where('survey.ticket_id', '=', ticketId)).as('survey'),
    eb.exists(eb.selectFrom('checklist_item').select(sql.lit(1).as('x')).where('checklist_item.ticket_id', '=', ticketId)).as('checklist'),
    eb.exists(eb.selectFrom('note').select(sql.lit(1).as('x')).where('note.ticket_id', '=', ticketId).where('note.minutes_spent', '>', 0)).as('time'),
    eb.exists(eb.selectFrom('cost_item').select(sql.lit(1).as('x')).where('cost_item.ticket_id', '=', ticketId)).as('cost_items'),
    eb.exists(eb.selectFrom('ticket').select(sql.lit(1).as('x')).where('ticket.parent_id', '=', ticketId)).as('children'),
    eb.exists(eb.selectFrom('approval').select(sql.lit(1).as('x')).where('approval.ticket_id', '=', ticketId)).as('approvals')
  ]).executeTakeFirstOrThrow()
  const yes = (v: unknown) => v === true || Number(v) === 1
  return {
    survey: yes(row.survey), checklist: yes(row.checklist), time: yes(row.time), costItems: yes(row.cost_items),
    children: yes(row.children), approvals: yes(row.approvals)
  }
}

/**
 * The parts of a ticket page beyond the ticket and its conversation — survey, checklist, costs,
 * linked tickets, approval — reading only those the ticket has (most tickets have none of them).
 */
export async function ticketExtras(db: Executor, actor: Actor, ticket: { id: number; parent_id: number | null; status: string }, now: Date) {
  const has = await ticketHas(db, ticket.id)
  const [survey, checklist, costs, links, approval] = await Promise.all([
    has.survey ? getSurvey(db, ticket.id) : undefined,
    has.checklist ? listChecklist(db, ticket.id) : [],
    costSummary(db, ticket.id, has),
    has.children || ticket.parent_id !== null ? linkedTickets(db, actor, ticket) : { parent: null, children: [] },
    has.approvals || ticket.status === 'awaiting_approval' ? ticketApprovalState(db, ticket, now) : null
  ])
  return { survey, checklist, costs, links, approval }
}
