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

/** Every parked CRM row (Case writes, and the accounts and contacts owed) back in the queue. */
export async function retryAllDead(db: Executor, now: string): Promise<number> {
  const res = await db.updateTable('crm_outbox').set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, done_at: null })
    .where('status', '=', 'dead').executeTakeFirst()
  const people = await db.updateTable('crm_people_outbox').set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, done_at: null })
    .where('status', '=', 'dead').executeTakeFirst()
  return Number(res.numUpdatedRows) + Number(people.numUpdatedRows)
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

