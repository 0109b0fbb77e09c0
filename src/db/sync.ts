/**
 * The CRM sync's tables: the outbox (work owed to the CRM), the shadow (last values synced per
 * Case field), sync_state (cursors, pauses, counters), and the reads and writes the sync makes on
 * tickets, notes and reference data.
 */
import { sql } from 'kysely'
import type { Executor } from './index.js'
import type { CrmOutboxKind, Priority, TicketSource } from './schema.js'
import { enqueueCaseSync } from './crm-outbox.js'

// ------------------------------------------------------------------ outbox

export interface OutboxRow {
  id: number
  ticket_id: number
  kind: CrmOutboxKind
  note_id: number | null
  /** Sends so far, this one included: above 1 the previous send may have reached the CRM. */
  attempts: number
}

/**
 * Claims due rows, oldest first: a row waiting for a retry holds back the later rows of its
 * ticket, so the writes for one Case go in order. Claiming counts the attempt before anything is
 * sent, so a crash after the call still leaves the mark that it may have been applied.
 */
export async function claimDueRows(db: Executor, now: string, limit: number): Promise<OutboxRow[]> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('crm_outbox as o')
      .select(['o.id', 'o.ticket_id', 'o.kind', 'o.note_id', 'o.attempts'])
      .where('o.status', '=', 'pending')
      .where('o.next_attempt_at', '<=', now)
      .where(({ not, exists, selectFrom }) => not(exists(
        selectFrom('crm_outbox as b').select('b.id')
          .whereRef('b.ticket_id', '=', 'o.ticket_id')
          .where('b.status', '=', 'pending')
          .whereRef('b.id', '<', 'o.id')
          .where('b.next_attempt_at', '>', now)
      )))
      .orderBy('o.id').limit(limit).execute()
    if (rows.length === 0) return []
    for (const part of chunk(rows.map((r) => r.id), 500)) {
      await trx.updateTable('crm_outbox').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('id', 'in', part).execute()
    }
    return rows.map((r) => ({ ...r, attempts: r.attempts + 1 }))
  })
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export async function markRowsDone(db: Executor, ids: number[], now: string): Promise<void> {
  for (const part of chunk(ids, 500)) {
    await db.updateTable('crm_outbox').set({ status: 'done', done_at: now, last_error: null })
      .where('id', 'in', part).where('status', '=', 'pending').execute()
  }
}

/** Puts claimed rows back untouched (the call never reached the CRM): the attempt does not count. */
export async function unclaimRows(db: Executor, ids: number[], error: string | null): Promise<void> {
  for (const part of chunk(ids, 500)) {
    await db.updateTable('crm_outbox').set((eb) => ({ attempts: sql<number>`CASE WHEN ${eb.ref('attempts')} > 0 THEN ${eb.ref('attempts')} - 1 ELSE 0 END`, last_error: error }))
      .where('id', 'in', part).where('status', '=', 'pending').execute()
  }
}

export async function rescheduleRow(db: Executor, id: number, nextAttemptAt: string, error: string): Promise<void> {
  await db.updateTable('crm_outbox').set({ next_attempt_at: nextAttemptAt, last_error: error.slice(0, 2000) })
    .where('id', '=', id).where('status', '=', 'pending').execute()
}

/** Holds a row back without counting an attempt (it waits for its Case). */
export async function deferRow(db: Executor, id: number, nextAttemptAt: string, error: string): Promise<void> {
  await db.updateTable('crm_outbox').set((eb) => ({ next_attempt_at: nextAttemptAt, last_error: error, attempts: sql<number>`CASE WHEN ${eb.ref('attempts')} > 0 THEN ${eb.ref('attempts')} - 1 ELSE 0 END` }))
    .where('id', '=', id).where('status', '=', 'pending').execute()
}

export async function markRowDead(db: Executor, id: number, error: string, now: string): Promise<void> {
  await db.updateTable('crm_outbox').set({ status: 'dead', last_error: error.slice(0, 2000), done_at: now })
    .where('id', '=', id).where('status', '=', 'pending').execute()
}

/** Pending case rows of these tickets not claimed in this pass (coalesced into the upsert that is going out). */
export async function pendingCaseRowIds(db: Executor, ticketIds: number[], now: string): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>()
  for (const part of chunk(ticketIds, 500)) {
    const rows = await db.selectFrom('crm_outbox').select(['id', 'ticket_id'])
      .where('ticket_id', 'in', part).where('kind', '=', 'case').where('status', '=', 'pending').where('next_attempt_at', '<=', now).execute()
    for (const r of rows) out.set(r.ticket_id, [...(out.get(r.ticket_id) ?? []), r.id])
  }
  return out
}

/** Whether a ticket still has a case row waiting (pending) or parked (dead), and the soonest retry. */
export async function caseRowState(db: Executor, ticketIds: number[]): Promise<Map<number, { pendingUntil: string | null; dead: string | null }>> {
  const out = new Map<number, { pendingUntil: string | null; dead: string | null }>()
  for (const part of chunk(ticketIds, 500)) {
    const rows = await db.selectFrom('crm_outbox').select(['ticket_id', 'status', 'next_attempt_at', 'last_error'])
      .where('ticket_id', 'in', part).where('kind', '=', 'case').where('status', 'in', ['pending', 'dead']).execute()
    for (const r of rows) {
      const cur = out.get(r.ticket_id) ?? { pendingUntil: null, dead: null }
      if (r.status === 'pending') cur.pendingUntil = cur.pendingUntil === null || r.next_attempt_at < cur.pendingUntil ? r.next_attempt_at : cur.pendingUntil
      else cur.dead = r.last_error ?? 'dead'
      out.set(r.ticket_id, cur)
    }
  }
  return out
}

/** Sends a parked row again from scratch; a parked case row takes the comments it held back with it. */
export async function retryDeadRow(db: Executor, id: number, now: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('crm_outbox').select(['id', 'ticket_id', 'kind']).where('id', '=', id).where('status', '=', 'dead').executeTakeFirst()
    if (!row) return false
    let q = trx.updateTable('crm_outbox').set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, done_at: null })
    q = row.kind === 'case'
      ? q.where('status', '=', 'dead').where((eb) => eb.or([eb('id', '=', id), eb.and([eb('ticket_id', '=', row.ticket_id), eb('kind', '=', 'comment')])]))
      : q.where('id', '=', id)
    await q.execute()
    return true
  })
}

export async function retryAllDead(db: Executor, now: string): Promise<number> {
  const res = await db.updateTable('crm_outbox').set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, done_at: null })
    .where('status', '=', 'dead').executeTakeFirst()
  return Number(res.numUpdatedRows)
}

export interface OutboxStats {
  pending: number
  due: number
  failing: number
  dead: number
  done: number
  oldestPendingAt: string | null
}

export async function outboxStats(db: Executor, now: string): Promise<OutboxStats> {
  const rows = await db.selectFrom('crm_outbox')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
    .groupBy('status').execute()
  const by = Object.fromEntries(rows.map((r) => [r.status, r]))
  const due = await db.selectFrom('crm_outbox').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending').where('next_attempt_at', '<=', now).executeTakeFirstOrThrow()
  const failing = await db.selectFrom('crm_outbox').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'pending').where('last_error', 'is not', null).executeTakeFirstOrThrow()
  return {
    pending: Number(by.pending?.n ?? 0),
    due: Number(due.n),
    failing: Number(failing.n),
    dead: Number(by.dead?.n ?? 0),
    done: Number(by.done?.n ?? 0),
    oldestPendingAt: (by.pending?.oldest as string | null | undefined) ?? null
  }
}

/** Parked rows with their ticket (number, title) and note kind, newest first. */
export async function listDeadRows(db: Executor, limit = 100) {
  return db.selectFrom('crm_outbox')
    .innerJoin('ticket', 'ticket.id', 'crm_outbox.ticket_id')
    .leftJoin('note', 'note.id', 'crm_outbox.note_id')
    .select([
      'crm_outbox.id', 'crm_outbox.kind', 'crm_outbox.attempts', 'crm_outbox.last_error', 'crm_outbox.created_at', 'crm_outbox.done_at',
      'ticket.id as ticket_id', 'ticket.number as ticket_number', 'ticket.title as ticket_title', 'note.kind as note_kind'
    ])
    .where('crm_outbox.status', '=', 'dead')
    .orderBy('crm_outbox.id', 'desc').limit(limit).execute()
}

export async function getOutboxRow(db: Executor, id: number) {
  return db.selectFrom('crm_outbox').selectAll().where('id', '=', id).executeTakeFirst()
}

// ------------------------------------------------------------------ shadow

export async function getShadows(db: Executor, ticketIds: number[]): Promise<Map<number, Map<string, string | null>>> {
  const out = new Map<number, Map<string, string | null>>()
  for (const part of chunk(ticketIds, 500)) {
    const rows = await db.selectFrom('crm_shadow').select(['ticket_id', 'field', 'value']).where('ticket_id', 'in', part).execute()
    for (const r of rows) {
      const m = out.get(r.ticket_id) ?? new Map<string, string | null>()
      m.set(r.field, r.value)
      out.set(r.ticket_id, m)
    }
  }
  return out
}

/** Records what the Case now holds for these fields. */
export async function saveShadow(db: Executor, ticketId: number, values: Record<string, string | null>, now: string): Promise<void> {
  const rows = Object.entries(values).map(([field, value]) => ({ ticket_id: ticketId, field, value, synced_at: now }))
  if (rows.length === 0) return
  await db.insertInto('crm_shadow').values(rows)
    .onConflict((oc) => oc.columns(['ticket_id', 'field']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), synced_at: eb.ref('excluded.synced_at') })))
    .execute()
}

export async function clearShadow(db: Executor, ticketId: number): Promise<void> {
  await db.deleteFrom('crm_shadow').where('ticket_id', '=', ticketId).execute()
}

// ------------------------------------------------------------------ sync_state

/** Keys of the sync's health in sync_state (cursors live under inbound.* and reference.*). */
export const SYNC_STATE = {
  pausedUntil: 'crm.paused_until',
  pauseReason: 'crm.pause_reason',
  failures: 'crm.consecutive_failures',
  lastError: 'crm.last_error',
  lastErrorAt: 'crm.last_error_at',
  apiUsage: 'crm.api_usage',
  emulatorUrl: 'crm.emulator_url',
  outboundSuccess: 'outbound.last_success',
  inboundSuccess: 'inbound.last_success',
  referenceSuccess: 'reference.last_success'
} as const

export async function getSyncState(db: Executor, key: string): Promise<string | null> {
  const row = await db.selectFrom('sync_state').select('value').where('key', '=', key).executeTakeFirst()
  return row?.value ?? null
}

export async function getSyncStates(db: Executor, prefix: string): Promise<Record<string, { value: string; updatedAt: string }>> {
  const rows = await db.selectFrom('sync_state').select(['key', 'value', 'updated_at']).where('key', 'like', `${prefix}%`).execute()
  return Object.fromEntries(rows.map((r) => [r.key, { value: r.value, updatedAt: r.updated_at }]))
}

export async function setSyncState(db: Executor, key: string, value: string, now: string): Promise<void> {
  await db.insertInto('sync_state').values({ key, value, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now })).execute()
}

export async function deleteSyncState(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('sync_state').where('key', '=', key).execute()
}

// ------------------------------------------------------------------ tickets and notes as the outbound sees them

/** Tickets with the CRM ids of their account, contact, product and assignee, and the description's attachments. */
export async function ticketsForCase(db: Executor, ids: number[]) {
  const out = []
  for (const part of chunk(ids, 500)) {
    const rows = await db.selectFrom('ticket')
      .leftJoin('account', 'account.id', 'ticket.account_id')
      .leftJoin('contact', 'contact.id', 'ticket.contact_id')
      .leftJoin('product', 'product.id', 'ticket.product_id')
      .leftJoin('staff', 'staff.id', 'ticket.assignee_id')
      .select([
        'ticket.id', 'ticket.number', 'ticket.title', 'ticket.description', 'ticket.url', 'ticket.state', 'ticket.status',
        'ticket.priority', 'ticket.source', 'ticket.crm_case_id', 'ticket.crm_case_number', 'ticket.deleted_at',
        'account.crm_id as account_crm_id', 'contact.crm_id as contact_crm_id', 'product.crm_id as product_crm_id',
        'staff.crm_user_id as owner_crm_id'
      ])
      .where('ticket.id', 'in', part).execute()
    const files = await db.selectFrom('attachment').select(['id', 'ticket_id', 'filename'])
      .where('ticket_id', 'in', part).where('note_id', 'is', null).orderBy('id').execute()
    for (const r of rows) out.push({ ...r, attachments: files.filter((f) => f.ticket_id === r.id).map((f) => ({ id: f.id, filename: f.filename })) })
  }
  return out
}

export type TicketForSync = Awaited<ReturnType<typeof ticketsForCase>>[number]

/** Notes owed as comments, with their ticket's Case and their attachments. */
export async function notesForComment(db: Executor, noteIds: number[]) {
  const out = []
  for (const part of chunk(noteIds, 500)) {
    const rows = await db.selectFrom('note').innerJoin('ticket', 'ticket.id', 'note.ticket_id')
      .select(['note.id', 'note.ticket_id', 'note.kind', 'note.visibility', 'note.body', 'note.author_name', 'note.source', 'note.crm_comment_id', 'ticket.crm_case_id', 'ticket.deleted_at'])
      .where('note.id', 'in', part).execute()
    const files = await db.selectFrom('attachment').select(['id', 'note_id', 'filename']).where('note_id', 'in', part).orderBy('id').execute()
    for (const r of rows) out.push({ ...r, attachments: files.filter((f) => f.note_id === r.id).map((f) => ({ id: f.id, filename: f.filename })) })
  }
  return out
}

/** Links a ticket to its Case; metadata only, so the ticket's version is left alone. */
export async function setCaseLink(db: Executor, ticketId: number, caseId: string, caseNumber: string | null): Promise<void> {
  await db.updateTable('ticket').set(caseNumber === null ? { crm_case_id: caseId } : { crm_case_id: caseId, crm_case_number: caseNumber })
    .where('id', '=', ticketId).execute()
}

export async function setNoteComment(db: Executor, noteId: number, commentId: string): Promise<void> {
  await db.updateTable('note').set({ crm_comment_id: commentId }).where('id', '=', noteId).execute()
}

/** Which of these CRM comment ids already belong to a note. */
export async function linkedCommentIds(db: Executor, commentIds: string[]): Promise<Set<string>> {
  const out = new Set<string>()
  for (const part of chunk(commentIds, 500)) {
    const rows = await db.selectFrom('note').select('crm_comment_id').where('crm_comment_id', 'in', part).execute()
    for (const r of rows) if (r.crm_comment_id) out.add(r.crm_comment_id)
  }
  return out
}

/** Tickets (not deleted or deleted) by their Case id. */
export async function ticketIdsByCase(db: Executor, caseIds: string[]): Promise<Map<string, { id: number; deleted: boolean }>> {
  const out = new Map<string, { id: number; deleted: boolean }>()
  for (const part of chunk(caseIds, 500)) {
    const rows = await db.selectFrom('ticket').select(['id', 'crm_case_id', 'deleted_at']).where('crm_case_id', 'in', part).execute()
    for (const r of rows) out.set(r.crm_case_id!, { id: r.id, deleted: r.deleted_at !== null })
  }
  return out
}

// ------------------------------------------------------------------ inbound

/** A ticket as the inbound compares it with its Case: current values and their CRM ids. */
export async function ticketForInbound(db: Executor, ticketId: number) {
  return db.selectFrom('ticket')
    .leftJoin('account', 'account.id', 'ticket.account_id')
    .leftJoin('product', 'product.id', 'ticket.product_id')
    .leftJoin('staff', 'staff.id', 'ticket.assignee_id')
    .select([
      'ticket.id', 'ticket.number', 'ticket.title', 'ticket.priority', 'ticket.assignee_id', 'ticket.account_id', 'ticket.product_id',
      'ticket.crm_case_id', 'ticket.crm_case_number', 'ticket.deleted_at', 'ticket.created_at',
      'account.crm_id as account_crm_id', 'product.crm_id as product_crm_id', 'staff.crm_user_id as owner_crm_id'
    ])
    .where('ticket.id', '=', ticketId).executeTakeFirst()
}

export type TicketForInbound = NonNullable<Awaited<ReturnType<typeof ticketForInbound>>>

/**
 * True while a Case write for the ticket was sent (or is being sent) with no answer recorded: the
 * Case may hold values the shadow does not know yet, so its fields cannot be judged until then.
 */
export async function hasUnconfirmedCaseSend(db: Executor, ticketId: number): Promise<boolean> {
  const row = await db.selectFrom('crm_outbox').select('id')
    .where('ticket_id', '=', ticketId).where('kind', '=', 'case').where('status', '=', 'pending')
    .where('attempts', '>', 0).where('last_error', 'is', null).executeTakeFirst()
  return row !== undefined
}

/** When the portal last changed a ticket field (history rows not written by the CRM), else when the ticket was created. */
export async function lastLocalChange(db: Executor, ticketId: number, field: string): Promise<string | null> {
  const row = await db.selectFrom('ticket_event').select((eb) => eb.fn.max('created_at').as('at'))
    .where('ticket_id', '=', ticketId).where('field', '=', field).where('actor_type', '!=', 'crm').executeTakeFirst()
  return (row?.at as string | null | undefined) ?? null
}

export async function staffIdByCrmUser(db: Executor, crmUserId: string): Promise<number | undefined> {
  const row = await db.selectFrom('staff').select('id').where('crm_user_id', '=', crmUserId).where('active', '=', 1).executeTakeFirst()
  return row?.id
}

export async function accountIdByCrmId(db: Executor, crmId: string): Promise<number | undefined> {
  return (await db.selectFrom('account').select('id').where('crm_id', '=', crmId).executeTakeFirst())?.id
}

export async function productIdByCrmId(db: Executor, crmId: string): Promise<number | undefined> {
  return (await db.selectFrom('product').select('id').where('crm_id', '=', crmId).executeTakeFirst())?.id
}

export async function ticketPriorityOf(db: Executor, ticketId: number): Promise<Priority | undefined> {
  return (await db.selectFrom('ticket').select('priority').where('id', '=', ticketId).executeTakeFirst())?.priority
}

// ------------------------------------------------------------------ reference data from the CRM

/** A record just linked to the CRM: the Cases of its tickets can now name it, so they are sent again. */
async function resendCasesOf(db: Executor, column: 'account_id' | 'contact_id' | 'product_id' | 'assignee_id', id: number, now: string): Promise<void> {
  const tickets = await db.selectFrom('ticket').select('id')
    .where(column, '=', id).where('crm_case_id', 'is not', null).where('deleted_at', 'is', null).execute()
  for (const t of tickets) await enqueueCaseSync(db, t.id, now)
}

const lower = (s: string) => s.trim().toLowerCase()

/** Links or creates the account for a CRM Account: by CRM id, else by name (an unlinked one). */
export async function upsertCrmAccount(db: Executor, rec: { Id: string; Name: string }, now: string): Promise<'linked' | 'updated' | 'created' | 'unchanged'> {
  const name = rec.Name.trim() || rec.Id
  const byId = await db.selectFrom('account').select(['id', 'name']).where('crm_id', '=', rec.Id).executeTakeFirst()
  if (byId) {
    if (byId.name === name) return 'unchanged'
    await db.updateTable('account').set({ name }).where('id', '=', byId.id).execute()
    return 'updated'
  }
  const byName = await db.selectFrom('account').select('id').where(sql`lower(name)`, '=', lower(name)).where('crm_id', 'is', null).executeTakeFirst()
  if (byName) {
    await db.updateTable('account').set({ crm_id: rec.Id, name }).where('id', '=', byName.id).execute()
    await resendCasesOf(db, 'account_id', byName.id, now)
    return 'linked'
  }
  await db.insertInto('account').values({ name, crm_id: rec.Id, created_at: now }).execute()
  return 'created'
}

/**
 * Links or creates the contact for a CRM Contact: by CRM id, else by e-mail. A new contact has no
 * password (they set one through the portal's reset); its CRM account becomes one of its accounts.
 */
export async function upsertCrmContact(db: Executor, rec: { Id: string; Name: string; Email: string | null; Phone: string | null; AccountId: string | null }, now: string): Promise<'linked' | 'updated' | 'created' | 'unchanged' | 'skipped'> {
  const accountId = rec.AccountId ? await accountIdByCrmId(db, rec.AccountId) : undefined
  const name = rec.Name.trim()
  let contactId: number
  let result: 'linked' | 'updated' | 'created' | 'unchanged'
  const byId = await db.selectFrom('contact').select(['id', 'name', 'phone']).where('crm_id', '=', rec.Id).executeTakeFirst()
  if (byId) {
    contactId = byId.id
    const changed = (name && byId.name !== name) || (rec.Phone !== null && byId.phone !== rec.Phone)
    if (changed) await db.updateTable('contact').set({ name: name || byId.name, phone: rec.Phone ?? byId.phone }).where('id', '=', byId.id).execute()
    result = changed ? 'updated' : 'unchanged'
  } else {
    if (!rec.Email) return 'skipped'
    const email = lower(rec.Email)
    const byEmail = await db.selectFrom('contact').select(['id', 'crm_id']).where('email', '=', email).executeTakeFirst()
    if (byEmail) {
      if (byEmail.crm_id !== null) return 'skipped'
      await db.updateTable('contact').set({ crm_id: rec.Id, ...(name ? { name } : {}), ...(rec.Phone ? { phone: rec.Phone } : {}) }).where('id', '=', byEmail.id).execute()
      await resendCasesOf(db, 'contact_id', byEmail.id, now)
      contactId = byEmail.id
      result = 'linked'
    } else {
      const row = await db.insertInto('contact').values({ name: name || email, email, password_hash: null, phone: rec.Phone, crm_id: rec.Id, created_at: now })
        .returning('id').executeTakeFirstOrThrow()
      contactId = row.id
      result = 'created'
    }
  }
  if (accountId !== undefined) {
    await db.insertInto('contact_account').values({ contact_id: contactId, account_id: accountId, is_manager: 0 })
      .onConflict((oc) => oc.columns(['contact_id', 'account_id']).doNothing()).execute()
  }
  return result
}

/** Maps a CRM User to the staff member with the same e-mail (staff are never created from the CRM). */
export async function linkCrmUser(db: Executor, rec: { Id: string; Email: string | null; IsActive: boolean }, now: string = new Date().toISOString()): Promise<'linked' | 'unlinked' | 'unchanged' | 'skipped'> {
  const current = await db.selectFrom('staff').select(['id']).where('crm_user_id', '=', rec.Id).executeTakeFirst()
  if (!rec.IsActive) {
    // an inactive user cannot own Cases: leave OwnerId alone rather than have every upsert refused
    if (!current) return 'skipped'
    await db.updateTable('staff').set({ crm_user_id: null }).where('id', '=', current.id).execute()
    return 'unlinked'
  }
  if (!rec.Email) return 'skipped'
  const staff = await db.selectFrom('staff').select(['id', 'crm_user_id']).where('email', '=', lower(rec.Email)).executeTakeFirst()
  if (!staff) return 'skipped'
  if (staff.crm_user_id === rec.Id) return 'unchanged'
  if (current && current.id !== staff.id) await db.updateTable('staff').set({ crm_user_id: null }).where('id', '=', current.id).execute()
  await db.updateTable('staff').set({ crm_user_id: rec.Id }).where('id', '=', staff.id).execute()
  await resendCasesOf(db, 'assignee_id', staff.id, now)
  return 'linked'
}

/** Links or creates the product for a CRM Product2: by CRM id, else by product code, else by name. */
export async function upsertCrmProduct(db: Executor, rec: { Id: string; Name: string; ProductCode: string | null; IsActive: boolean }, now: string): Promise<'linked' | 'updated' | 'created' | 'unchanged'> {
  const name = rec.Name.trim() || rec.Id
  const active = rec.IsActive ? 1 : 0
  const byId = await db.selectFrom('product').select(['id', 'name', 'code', 'active']).where('crm_id', '=', rec.Id).executeTakeFirst()
  if (byId) {
    if (byId.name === name && byId.code === rec.ProductCode && byId.active === active) return 'unchanged'
    await db.updateTable('product').set({ name, code: rec.ProductCode, active }).where('id', '=', byId.id).execute()
    return 'updated'
  }
  const byCode = rec.ProductCode
    ? await db.selectFrom('product').select('id').where('code', '=', rec.ProductCode).where('crm_id', 'is', null).executeTakeFirst()
    : undefined
  const match = byCode ?? await db.selectFrom('product').select('id').where(sql`lower(name)`, '=', lower(name)).where('crm_id', 'is', null).executeTakeFirst()
  if (match) {
    await db.updateTable('product').set({ crm_id: rec.Id, name, active, ...(rec.ProductCode ? { code: rec.ProductCode } : {}) }).where('id', '=', match.id).execute()
    await resendCasesOf(db, 'product_id', match.id, now)
    return 'linked'
  }
  await db.insertInto('product').values({ name, code: rec.ProductCode, crm_id: rec.Id, active, created_at: now }).execute()
  return 'created'
}

// ------------------------------------------------------------------ ticket page badge

export type CrmSyncState = 'synced' | 'pending' | 'error' | 'dead'

export interface CrmSyncBadge {
  caseNumber: string | null
  caseId: string | null
  state: CrmSyncState
  /** When the Case last took a change from this ticket. */
  syncedAt: string | null
  /** Whole minutes since syncedAt (for "synced n min ago"). */
  minutesAgo: number | null
  /** The error of a failing or parked row. */
  error: string | null
}

/** The Case number and sync state a ticket page shows: dead > error > pending > synced. */
export async function crmSyncBadge(db: Executor, ticketId: number, now: Date = new Date()): Promise<CrmSyncBadge | null> {
  const ticket = await db.selectFrom('ticket').select(['crm_case_id', 'crm_case_number']).where('id', '=', ticketId).executeTakeFirst()
  if (!ticket) return null
  const rows = await db.selectFrom('crm_outbox').select(['status', 'last_error', 'done_at'])
    .where('ticket_id', '=', ticketId).where('status', 'in', ['pending', 'dead']).execute()
  const synced = await db.selectFrom('crm_outbox').select((eb) => eb.fn.max('done_at').as('at'))
    .where('ticket_id', '=', ticketId).where('status', '=', 'done').executeTakeFirst()
  const syncedAt = (synced?.at as string | null | undefined) ?? null
  const dead = rows.find((r) => r.status === 'dead')
  const failing = rows.find((r) => r.status === 'pending' && r.last_error !== null)
  const state: CrmSyncState = dead ? 'dead' : failing ? 'error' : rows.length > 0 || !ticket.crm_case_id ? 'pending' : 'synced'
  return {
    caseNumber: ticket.crm_case_number,
    caseId: ticket.crm_case_id,
    state,
    syncedAt,
    minutesAgo: syncedAt ? Math.max(0, Math.floor((now.getTime() - Date.parse(syncedAt)) / 60_000)) : null,
    error: dead?.last_error ?? failing?.last_error ?? null
  }
}

export type { TicketSource }

// ------------------------------------------------------------------ admin page

export interface SyncOverview {
  outbox: OutboxStats
  dead: Awaited<ReturnType<typeof listDeadRows>>
  lastOutbound: string | null
  lastInbound: string | null
  lastReference: string | null
  lastError: { message: string; at: string } | null
  paused: { until: string; reason: string } | null
  apiUsage: { used: number; max: number; percent: number; at: string } | null
  emulatorUrl: string | null
}

/** Everything the admin sync page shows, read in one go. */
export async function syncOverview(db: Executor, now: Date): Promise<SyncOverview> {
  const at = now.toISOString()
  const states = { ...(await getSyncStates(db, 'crm.')), ...(await getSyncStates(db, 'outbound.')), ...(await getSyncStates(db, 'inbound.last')), ...(await getSyncStates(db, 'reference.last')) }
  const v = (key: string) => states[key]?.value ?? null
  const pausedUntil = v(SYNC_STATE.pausedUntil)
  let apiUsage: SyncOverview['apiUsage'] = null
  const usage = states[SYNC_STATE.apiUsage]
  if (usage) {
    try {
      const u = JSON.parse(usage.value) as { used: number; max: number }
      apiUsage = { used: u.used, max: u.max, percent: u.max > 0 ? Math.round((u.used / u.max) * 1000) / 10 : 0, at: usage.updatedAt }
    } catch {
      apiUsage = null
    }
  }
  return {
    outbox: await outboxStats(db, at),
    dead: await listDeadRows(db, 200),
    lastOutbound: v(SYNC_STATE.outboundSuccess),
    lastInbound: v(SYNC_STATE.inboundSuccess),
    lastReference: v(SYNC_STATE.referenceSuccess),
    lastError: v(SYNC_STATE.lastError) ? { message: v(SYNC_STATE.lastError)!, at: v(SYNC_STATE.lastErrorAt) ?? states[SYNC_STATE.lastError].updatedAt } : null,
    paused: pausedUntil && pausedUntil > at ? { until: pausedUntil, reason: v(SYNC_STATE.pauseReason) ?? '' } : null,
    apiUsage,
    emulatorUrl: v(SYNC_STATE.emulatorUrl)
  }
}
