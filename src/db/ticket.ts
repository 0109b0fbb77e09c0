// One ticket as pages, commands and jobs read it: its detail, notes, history and links, and
// the facts a change needs (eligible staff, names for history rows, tickets due for a job).
import type { Executor } from './index.js'
import type { Expression, SqlBool } from 'kysely'
import type { State } from '../domain/lifecycle.js'
import { OPEN_STATES } from '../domain/lifecycle.js'
import { canSeeNote, canSeeOriginalText, canSeeTicket, type Actor } from '../domain/permissions.js'
import { listColumns, scopeTicketsToActor } from './ticket-search.js'

function ticketDetail(db: Executor) {
  return listColumns(db.selectFrom('ticket'))
    .select([
      'ticket.description', 'ticket.url', 'ticket.impact', 'ticket.urgency', 'ticket.parent_id', 'ticket.version',
      'ticket.created_by_staff_id', 'ticket.resolution', 'ticket.closure_category', 'ticket.closure_note',
      'ticket.cancel_reason', 'ticket.cancel_reason_code', 'ticket.reopen_count', 'ticket.crm_case_id', 'ticket.crm_case_number', 'ticket.deleted_at',
      'contact.locale as contact_locale'
    ])
}

/** One ticket with the names a page shows, or undefined when missing or not visible to the actor. */
export async function getTicketForActor(db: Executor, actor: Actor, id: number) {
  const row = await ticketDetail(db).where('ticket.id', '=', id).executeTakeFirst()
  if (!row || !canSeeTicket(actor, row)) return undefined
  return row
}

/** The same, by the ticket's number (what page URLs carry). */
export async function getTicketForActorByNumber(db: Executor, actor: Actor, number: number) {
  const row = await ticketDetail(db).where('ticket.number', '=', number).executeTakeFirst()
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
    .select(['ticket.description', 'ticket.url', 'ticket.version', 'ticket.resolution', 'ticket.closure_category', 'ticket.closure_note'])
    .where('ticket.id', '=', id)
    .executeTakeFirst()
}

/**
 * Available staff allowed on a desk with their open-ticket counts (zero included). Someone who
 * serves some products only takes tickets of those products; someone who serves some catalog
 * areas only, tickets of items in those areas.
 */
export async function eligibleStaffLoads(db: Executor, deskId: number, ticket: { productId: number | null; categoryId: number | null }) {
  const { productId, categoryId } = ticket
  // Each candidate's open-ticket count is kept on their row (triggers on ticket): no count per create.
  const rows = await db.selectFrom('staff')
    .innerJoin('desk_member', (j) => j.onRef('desk_member.staff_id', '=', 'staff.id').on('desk_member.desk_id', '=', deskId))
    .select(['staff.id', 'staff.name', 'staff.open_tickets'])
    .where('staff.available', '=', 1)
    .where('staff.active', '=', 1)
    .where((eb) => {
      // Serving some (products, areas) and none of the ticket's: not eligible. `matches` is null when the ticket names none.
      const serves = (restricted: Expression<SqlBool>, matches: Expression<SqlBool> | null) => (matches === null ? eb.not(restricted) : eb.or([eb.not(restricted), matches]))
      const products = eb.selectFrom('staff_product as sp').select('sp.staff_id').whereRef('sp.staff_id', '=', 'staff.id')
      const areas = eb.selectFrom('staff_category as sc').select('sc.staff_id').whereRef('sc.staff_id', '=', 'staff.id')
      return eb.and([
        serves(eb.exists(products), productId === null ? null : eb.exists(products.where('sp.product_id', '=', productId))),
        serves(eb.exists(areas), categoryId === null ? null
          : eb.exists(areas.innerJoin('category as item', 'item.parent_id', 'sc.category_id').where('item.id', '=', categoryId)))
      ])
    })
    .execute()
  return rows.map((r) => ({ staffId: r.id, name: r.name, openCount: Number(r.open_tickets) }))
}

/** The real count of open tickets per staff member (those with none are left out). */
function openTicketCounts(db: Executor) {
  return db.selectFrom('ticket').select(['assignee_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('assignee_id', 'is not', null).where('state', 'in', OPEN_STATES).where('deleted_at', 'is', null)
    .groupBy('assignee_id')
}

/** Staff whose kept open-ticket count differs from the real one: what `casebridge doctor` reports. */
export async function staffLoadDrift(db: Executor): Promise<{ staffId: number; name: string; kept: number; real: number }[]> {
  const real = new Map((await openTicketCounts(db).execute()).map((r) => [r.assignee_id!, Number(r.n)]))
  const staff = await db.selectFrom('staff').select(['id', 'name', 'open_tickets']).orderBy('id').execute()
  return staff.filter((s) => Number(s.open_tickets) !== (real.get(s.id) ?? 0))
    .map((s) => ({ staffId: s.id, name: s.name, kept: Number(s.open_tickets), real: real.get(s.id) ?? 0 }))
}

/** Sets every staff member's kept count to the real one (in the caller's transaction). */
export async function rebuildStaffLoads(db: Executor): Promise<void> {
  await db.updateTable('staff').set((eb) => ({
    open_tickets: eb.fn.coalesce(
      eb.selectFrom('ticket').select((c) => c.fn.countAll<number>().as('n'))
        .whereRef('ticket.assignee_id', '=', 'staff.id').where('ticket.state', 'in', OPEN_STATES).where('ticket.deleted_at', 'is', null),
      eb.lit(0)
    )
  })).execute()
}

/** Notes the actor may see, oldest first, each with its attachments (and its mail's whole text when they may read it). */
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
    notes: notes.map((n) => ({ ...n, original_text: canSeeOriginalText(actor, n) ? n.original_text : null, attachments: byNote.get(n.id) ?? [] })),
    descriptionAttachments: byNote.get(null) ?? []
  }
}

export async function listHistory(db: Executor, ticketId: number) {
  return db.selectFrom('ticket_event').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute()
}

/** A ticket as a command reads it before changing it (after taking its lock), with whether it was rated. */
export async function ticketForChange(db: Executor, ticketId: number) {
  const ticket = await db.selectFrom('ticket').selectAll().where('id', '=', ticketId).where('deleted_at', 'is', null).executeTakeFirst()
  if (!ticket) return undefined
  const rated = await db.selectFrom('survey').select('ticket_id').where('ticket_id', '=', ticketId).executeTakeFirst()
  return { ...ticket, rated: rated !== undefined }
}

export type TicketForChange = NonNullable<Awaited<ReturnType<typeof ticketForChange>>>

/** Names of staff members by id (history rows name people, not ids). */
export async function staffNames(db: Executor, ids: (number | null)[]): Promise<Map<number, string>> {
  const wanted = ids.filter((id): id is number => id !== null)
  if (wanted.length === 0) return new Map()
  const rows = await db.selectFrom('staff').select(['id', 'name']).where('id', 'in', wanted).execute()
  return new Map(rows.map((r) => [r.id, r.name]))
}

/** The name of an account, product, desk or catalog entry by id (null when none). */
export async function nameOf(db: Executor, table: 'account' | 'product' | 'staff' | 'desk' | 'category', id: number | null): Promise<string | null> {
  if (id === null) return null
  const row = await db.selectFrom(table).select('name').where('id', '=', id).executeTakeFirst()
  return row?.name ?? null
}

/** Open follow-up (child) tickets of a ticket. */
export async function openChildIds(db: Executor, ticketId: number, states: readonly string[]): Promise<number[]> {
  const rows = await db.selectFrom('ticket').select('id')
    .where('parent_id', '=', ticketId).where('state', 'in', states as State[]).where('deleted_at', 'is', null).orderBy('id').execute()
  return rows.map((r) => r.id)
}

export async function deskName(db: Executor, deskId: number): Promise<string | null> {
  return nameOf(db, 'desk', deskId)
}

export async function isDeskMember(db: Executor, deskId: number, staffId: number): Promise<boolean> {
  const row = await db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', deskId).where('staff_id', '=', staffId).executeTakeFirst()
  return row !== undefined
}

export async function activeStaffExists(db: Executor, staffId: number): Promise<boolean> {
  const row = await db.selectFrom('staff').select('id').where('id', '=', staffId).where('active', '=', 1).executeTakeFirst()
  return row !== undefined
}

/** Open tickets nobody is assigned to, oldest first. */
export async function unassignedOpenTickets(db: Executor, limit: number) {
  return db.selectFrom('ticket').select(['id', 'desk_id', 'product_id', 'category_id'])
    .where('assignee_id', 'is', null).where('state', 'in', OPEN_STATES).where('deleted_at', 'is', null)
    .orderBy('created_at').orderBy('id').limit(limit).execute()
}

/**
 * Resolved tickets waiting for the requester's answer, or accepted and not yet closed, resolved
 * before `cutoff`, oldest first (auto-closure): of these desks, or (`except`) of every desk but these.
 */
export async function waitingForClosureSince(db: Executor, cutoff: string, limit: number, desks: { only: number[] } | { except: number[] } = { except: [] }): Promise<number[]> {
  let qb = db.selectFrom('ticket').select('id')
    .where('state', '=', 'resolved').where('status', 'in', ['waiting_for_closure', 'accepted'])
    .where('resolved_at', '<=', cutoff).where('deleted_at', 'is', null)
  if ('only' in desks) qb = qb.where('desk_id', 'in', desks.only.length > 0 ? desks.only : [0])
  else if (desks.except.length > 0) qb = qb.where('desk_id', 'not in', desks.except)
  const rows = await qb.orderBy('resolved_at').limit(limit).execute()
  return rows.map((r) => r.id)
}

/** Desks with their own auto-closure days, grouped by the number of days. */
export async function deskAutoCloseDays(db: Executor): Promise<Map<number, number[]>> {
  const rows = await db.selectFrom('desk').select(['id', 'auto_close_days']).where('auto_close_days', 'is not', null).execute()
  const out = new Map<number, number[]>()
  for (const r of rows) out.set(r.auto_close_days!, [...(out.get(r.auto_close_days!) ?? []), r.id])
  return out
}

/** Open tickets with a resolution target not yet reported as breached (the SLA escalation job). */
/** Tickets whose SLA watch instant has come (the oldest first), at most `limit`: through ticket_sla_watch_idx. */
export async function dueForSlaCheck(db: Executor, now: string, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('ticket').select('id')
    .where('sla_watch_at', 'is not', null).where('sla_watch_at', '<=', now)
    .orderBy('sla_watch_at').orderBy('id').limit(limit).execute()
  return rows.map((r) => r.id)
}

/** What the SLA job needs of one ticket (null when deleted). */
export async function slaWatchTicket(db: Executor, ticketId: number) {
  return db.selectFrom('ticket')
    .select(['id', 'number', 'title', 'state', 'created_at', 'response_due_at', 'resolution_due_at', 'first_response_at', 'resolved_at', 'sla_paused_at', 'sla_paused_ms', 'sla_at_risk_at', 'sla_alert'])
    .where('id', '=', ticketId).where('deleted_at', 'is', null).executeTakeFirst() ?? null
}

/** What a client's list row offers besides the ticket's state: whether it was rated, its files and occurrences, whether its account is on. */
export interface ClientRowFacts {
  rated: boolean
  attachments: number
  occurrences: number
  accountActive: boolean
}

/**
 * The facts of a page of a client's list, in one statement: the survey, the files given with the
 * description, the occurrences a client may read, and the account's state (a closed ticket's
 * reply opens a follow-up, which an account turned off does not take).
 */
export async function clientRowFacts(db: Executor, ids: readonly number[]): Promise<Map<number, ClientRowFacts>> {
  const facts = new Map<number, ClientRowFacts>()
  if (ids.length === 0) return facts
  const rows = await db.selectFrom('ticket')
    .innerJoin('account', 'account.id', 'ticket.account_id')
    .select((eb) => [
      'ticket.id', 'account.active',
      eb.exists(eb.selectFrom('survey').select('survey.ticket_id').whereRef('survey.ticket_id', '=', 'ticket.id')).as('rated'),
      eb.selectFrom('attachment').select((e) => e.fn.countAll<number>().as('n')).whereRef('attachment.ticket_id', '=', 'ticket.id').where('attachment.note_id', 'is', null).as('attachments'),
      eb.selectFrom('note').select((e) => e.fn.countAll<number>().as('n')).whereRef('note.ticket_id', '=', 'ticket.id')
        .where('note.kind', '=', 'occurrence').where('note.visibility', '=', 'public').as('occurrences')
    ])
    .where('ticket.id', 'in', ids)
    .execute()
  for (const r of rows) {
    facts.set(r.id, { rated: Boolean(r.rated), attachments: Number(r.attachments ?? 0), occurrences: Number(r.occurrences ?? 0), accountActive: r.active === 1 })
  }
  return facts
}
