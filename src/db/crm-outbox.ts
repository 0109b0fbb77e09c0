import { sql } from 'kysely'
import type { Executor } from './index.js'
import type { CrmOutboxKind } from './schema.js'
import { chunk } from './chunk.js'

/**
 * Owes the CRM an upsert of the ticket's Case. Pending rows coalesce: one waiting row per
 * ticket is enough, because the drainer sends the ticket as it is when it runs.
 */
export async function insertCaseSync(db: Executor, ticketId: number, now: string): Promise<void> {
  // Called inside the change's write transaction, so the check and the insert cannot interleave.
  const waiting = await db.selectFrom('crm_outbox').select('id')
    .where('ticket_id', '=', ticketId).where('kind', '=', 'case').where('status', '=', 'pending').where('attempts', '=', 0)
    .executeTakeFirst()
  if (waiting) return
  await db.insertInto('crm_outbox').values({ ticket_id: ticketId, kind: 'case', next_attempt_at: now, created_at: now }).execute()
}

/** Owes the CRM a CaseComment for a note (public notes publish, internal ones do not). */
export async function insertCommentSync(db: Executor, ticketId: number, noteId: number, now: string): Promise<void> {
  await db.insertInto('crm_outbox').values({ ticket_id: ticketId, kind: 'comment', note_id: noteId, next_attempt_at: now, created_at: now }).execute()
}

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

/** Sends a parked row again from scratch; a parked case row takes the comments it held back with it (call in a transaction). */
export async function retryDeadRow(trx: Executor, id: number, now: string): Promise<boolean> {
  const row = await trx.selectFrom('crm_outbox').select(['id', 'ticket_id', 'kind']).where('id', '=', id).where('status', '=', 'dead').executeTakeFirst()
  if (!row) return false
  let q = trx.updateTable('crm_outbox').set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, done_at: null })
  q = row.kind === 'case'
    ? q.where('status', '=', 'dead').where((eb) => eb.or([eb('id', '=', id), eb.and([eb('ticket_id', '=', row.ticket_id), eb('kind', '=', 'comment')])]))
    : q.where('id', '=', id)
  await q.execute()
  return true
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
