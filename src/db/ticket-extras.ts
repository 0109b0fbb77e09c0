import type { Executor } from './index.js'
import { recordEvent, type ActorRef } from './event.js'
import { lockTicket } from './ticket.js'

// Checklists, costs, satisfaction surveys and deletion: the smaller aggregates that hang off a ticket.

export async function listChecklist(db: Executor, ticketId: number) {
  return db.selectFrom('checklist_item').selectAll().where('ticket_id', '=', ticketId).orderBy('position').orderBy('id').execute()
}

export async function addChecklistItem(db: Executor, ticketId: number, label: string, ctx: { actor: ActorRef; now: string }) {
  return db.transaction().execute(async (trx) => {
    const last = await trx.selectFrom('checklist_item').select((eb) => eb.fn.max('position').as('p')).where('ticket_id', '=', ticketId).executeTakeFirst()
    const item = await trx.insertInto('checklist_item').values({
      ticket_id: ticketId, label, position: Number(last?.p ?? 0) + 1, created_by_staff_id: ctx.actor.id, created_at: ctx.now
    }).returning('id').executeTakeFirstOrThrow()
    await recordEvent(trx, { ticketId, actor: ctx.actor, action: 'checklist_added', field: 'checklist', to: label, at: ctx.now })
    return item.id
  })
}

/** Ticks or unticks an item of this ticket; false when the item is not the ticket's. */
export async function setChecklistItemDone(db: Executor, ticketId: number, itemId: number, done: boolean, ctx: { actor: ActorRef; now: string }): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const item = await trx.selectFrom('checklist_item').select(['label', 'done']).where('id', '=', itemId).where('ticket_id', '=', ticketId).executeTakeFirst()
    if (!item) return false
    if ((item.done === 1) === done) return true
    await trx.updateTable('checklist_item').set({ done: done ? 1 : 0, done_at: done ? ctx.now : null, done_by_staff_id: done ? ctx.actor.id : null })
      .where('id', '=', itemId).execute()
    await recordEvent(trx, { ticketId, actor: ctx.actor, action: done ? 'checklist_done' : 'checklist_undone', field: 'checklist', to: item.label, at: ctx.now })
    return true
  })
}

export interface CostSummary {
  timeEntries: { staffName: string | null; minutes: number; rateCents: number; amountCents: number }[]
  items: { id: number; description: string; amount_cents: number; created_at: string; staff_name: string | null }[]
  timeMinutes: number
  timeCents: number
  itemsCents: number
  totalCents: number
}

/** Time spent on notes × each author's hourly rate, plus other cost items. */
export async function costSummary(db: Executor, ticketId: number): Promise<CostSummary> {
  const time = await db.selectFrom('note').innerJoin('staff', 'staff.id', 'note.author_staff_id')
    .select(['staff.name', 'staff.hourly_rate_cents', (eb) => eb.fn.sum<number>('note.minutes_spent').as('minutes')])
    .where('note.ticket_id', '=', ticketId).where('note.minutes_spent', '>', 0)
    .groupBy(['staff.id', 'staff.name', 'staff.hourly_rate_cents']).orderBy('staff.name').execute()
  const timeEntries = time.map((r) => {
    const minutes = Number(r.minutes)
    return { staffName: r.name, minutes, rateCents: r.hourly_rate_cents, amountCents: Math.round((minutes * r.hourly_rate_cents) / 60) }
  })
  const items = await db.selectFrom('cost_item').leftJoin('staff', 'staff.id', 'cost_item.staff_id')
    .select(['cost_item.id', 'cost_item.description', 'cost_item.amount_cents', 'cost_item.created_at', 'staff.name as staff_name'])
    .where('cost_item.ticket_id', '=', ticketId).orderBy('cost_item.id').execute()
  const timeCents = timeEntries.reduce((s, e) => s + e.amountCents, 0)
  const itemsCents = items.reduce((s, i) => s + i.amount_cents, 0)
  return { timeEntries, items, timeMinutes: timeEntries.reduce((s, e) => s + e.minutes, 0), timeCents, itemsCents, totalCents: timeCents + itemsCents }
}

export async function addCostItem(db: Executor, ticketId: number, description: string, amountCents: number, ctx: { actor: ActorRef; now: string }) {
  return db.transaction().execute(async (trx) => {
    await trx.insertInto('cost_item').values({ ticket_id: ticketId, description, amount_cents: amountCents, staff_id: ctx.actor.id, created_at: ctx.now }).execute()
    await recordEvent(trx, { ticketId, actor: ctx.actor, action: 'cost_added', field: 'cost', to: `${description} (${(amountCents / 100).toFixed(2)})`, at: ctx.now })
  })
}

export async function getSurvey(db: Executor, ticketId: number) {
  return db.selectFrom('survey').selectAll().where('ticket_id', '=', ticketId).executeTakeFirst()
}

/** Records the requester's opinion; the primary key makes a second rating impossible. */
export async function saveSurvey(db: Executor, ticketId: number, contactId: number, rating: number, comment: string | null, ctx: { actor: ActorRef; now: string }) {
  return db.transaction().execute(async (trx) => {
    await lockTicket(trx, ticketId)
    await trx.insertInto('survey').values({ ticket_id: ticketId, contact_id: contactId, rating, comment, created_at: ctx.now }).execute()
    await recordEvent(trx, { ticketId, actor: ctx.actor, action: 'rate', field: 'rating', to: String(rating), note: comment, at: ctx.now })
  })
}

/** Soft delete: hidden everywhere, kept in the database; the CRM Case is never deleted. */
export async function softDeleteTicket(db: Executor, ticketId: number, reason: string | null, ctx: { actor: ActorRef; now: string }) {
  return db.transaction().execute(async (trx) => {
    const res = await trx.updateTable('ticket').set((eb) => ({ deleted_at: ctx.now, updated_at: ctx.now, version: eb('version', '+', 1) }))
      .where('id', '=', ticketId).where('deleted_at', 'is', null).executeTakeFirst()
    if (Number(res.numUpdatedRows) !== 1) return false
    await recordEvent(trx, { ticketId, actor: ctx.actor, action: 'delete', note: reason, at: ctx.now })
    return true
  })
}
