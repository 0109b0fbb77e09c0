// The rows of the two outboxes (mail_outbox: notifications to send; crm_outbox: Case writes to
// make) as one queue: due rows are claimed under a lease, then settled as done, retried later,
// parked as dead, or put back untouched. src/work/outbox.ts is the mechanism built on these.
import { sql, type Kysely, type Selectable } from 'kysely'
import type { CrmOutboxTable, CrmPeopleOutboxTable, MailOutboxTable } from './schema.js'
import type { Executor } from './index.js'
import { chunk } from './chunk.js'

export type OutboxName = 'mail' | 'crm' | 'crm_people'

export interface OutboxRows {
  mail: Selectable<MailOutboxTable>
  crm: Selectable<CrmOutboxTable>
  crm_people: Selectable<CrmPeopleOutboxTable>
}

interface QueueRow {
  id: number
  status: string
  attempts: number
  next_attempt_at: string
  last_error: string | null
  ticket_id: number | null
  sent_at?: string | null
  done_at?: string | null
}

const TABLE = { mail: 'mail_outbox', crm: 'crm_outbox', crm_people: 'crm_people_outbox' } as const
/** What a row becomes when it went through. */
const DONE = { mail: { status: 'sent', at: 'sent_at' }, crm: { status: 'done', at: 'done_at' }, crm_people: { status: 'done', at: 'done_at' } } as const

/** Both tables share the queue's columns; queries over either are written once against this view of them. */
function q(db: Executor, name: OutboxName) {
  return { db: db as unknown as Kysely<{ q: QueueRow }>, table: TABLE[name] as unknown as 'q' }
}

/**
 * Claims up to `limit` due rows, oldest first, for one sending attempt: each row's next attempt is
 * moved to `leaseUntil` (the claim, which every later write may check) and the attempt counted
 * before anything is sent, so a crash after the send still leaves the mark that it may have
 * happened. One statement: two workers never claim the same row. `inOrderOf`: a row whose earlier
 * sibling (same ticket) waits or is in flight waits too, so a Case's writes go in order.
 */
export async function claimRows<N extends OutboxName>(db: Executor, name: N, opts: { now: string; leaseUntil: string; limit: number; inOrderOfTicket?: boolean }): Promise<OutboxRows[N][]> {
  const { db: k, table } = q(db, name)
  const t = sql.table(TABLE[name])
  const inOrder = opts.inOrderOfTicket
    ? sql`AND NOT EXISTS (SELECT 1 FROM ${t} b WHERE b.ticket_id = o.ticket_id AND b.status = 'pending' AND b.id < o.id AND b.next_attempt_at > ${opts.now})`
    : sql``
  const due = sql<number>`(SELECT o.id FROM ${t} o WHERE o.status = 'pending' AND o.next_attempt_at <= ${opts.now} ${inOrder} ORDER BY o.id LIMIT ${opts.limit})`
  const rows = await k.updateTable(table)
    .set((eb) => ({ next_attempt_at: opts.leaseUntil, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', due).where('status', '=', 'pending').where('next_attempt_at', '<=', opts.now)
    .returningAll().execute()
  // the attempt is counted in what comes back: above 1, an earlier send may have reached the other side
  return (rows as unknown as OutboxRows[N][]).sort((a, b) => a.id - b.id)
}

/** Keeps claimed rows claimed until `leaseUntil` (a drain still working on them renews its claim). */
export async function extendClaims(db: Executor, name: OutboxName, ids: number[], leaseUntil: string): Promise<void> {
  const { db: k, table } = q(db, name)
  for (const part of chunk(ids, 500)) {
    await k.updateTable(table).set({ next_attempt_at: leaseUntil }).where('id', 'in', part).where('status', '=', 'pending').execute()
  }
}

/**
 * Renews one row's claim from `lease` to `leaseUntil`, only if the row is still under that claim:
 * false when the claim ran out and another drainer took the row (it must not be sent here then).
 */
export async function renewClaim(db: Executor, name: OutboxName, id: number, lease: string, leaseUntil: string): Promise<boolean> {
  const { db: k, table } = q(db, name)
  const res = await k.updateTable(table).set({ next_attempt_at: leaseUntil })
    .where('id', '=', id).where('status', '=', 'pending').where('next_attempt_at', '=', lease).executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** Marks rows sent/done (only while still pending, and, given `lease`, only if still under that claim). */
export async function completeRows(db: Executor, name: OutboxName, ids: number[], now: string, lease?: string): Promise<void> {
  const { db: k, table } = q(db, name)
  const done = DONE[name]
  for (const part of chunk(ids, 500)) {
    await k.updateTable(table).set({ status: done.status, [done.at]: now, last_error: null } as Partial<QueueRow>)
      .where('id', 'in', part).where('status', '=', 'pending')
      .$if(lease !== undefined, (qb) => qb.where('next_attempt_at', '=', lease!))
      .execute()
  }
}

/** The next attempt of a claimed row at `nextAttemptAt`, with the error that made it fail. */
export async function rescheduleRow(db: Executor, name: OutboxName, id: number, nextAttemptAt: string, error: string, lease?: string): Promise<void> {
  const { db: k, table } = q(db, name)
  await k.updateTable(table).set({ next_attempt_at: nextAttemptAt, last_error: error.slice(0, 2000) })
    .where('id', '=', id).where('status', '=', 'pending')
    .$if(lease !== undefined, (qb) => qb.where('next_attempt_at', '=', lease!))
    .execute()
}

/** Parks a row as dead: no more attempts until an admin sends it again. */
export async function parkRow(db: Executor, name: OutboxName, id: number, error: string, now: string, lease?: string): Promise<void> {
  const { db: k, table } = q(db, name)
  await k.updateTable(table).set({ status: 'dead', last_error: error.slice(0, 2000), ...(name !== 'mail' ? { done_at: now } : {}) })
    .where('id', '=', id).where('status', '=', 'pending')
    .$if(lease !== undefined, (qb) => qb.where('next_attempt_at', '=', lease!))
    .execute()
}

/**
 * Puts claimed rows back, due at `at`, with why: without counting the attempt (the call never
 * reached the other side, or the row waits for something else first), or, `keepAttempt`, counting
 * it (the drain stopped without knowing whether its call went through: the next one looks first).
 */
export async function releaseRows(db: Executor, name: OutboxName, ids: number[], at: string, reason: string | null, keepAttempt = false): Promise<void> {
  const { db: k, table } = q(db, name)
  for (const part of chunk(ids, 500)) {
    await k.updateTable(table)
      .set((eb) => ({
        next_attempt_at: at, last_error: reason === null ? null : reason.slice(0, 2000),
        ...(keepAttempt ? {} : { attempts: sql<number>`CASE WHEN ${eb.ref('attempts')} > 0 THEN ${eb.ref('attempts')} - 1 ELSE 0 END` })
      }))
      .where('id', 'in', part).where('status', '=', 'pending').execute()
  }
}

/**
 * A dead row back in the queue with a fresh set of attempts; false when it was not dead. A mail
 * keeps its last error for reference (the mail page shows it beside the retry); a CRM row starts
 * clean, because the ticket's sync badge reads a pending row's error as "failing now".
 */
export async function reviveRow(db: Executor, name: OutboxName, id: number, now: string): Promise<boolean> {
  const { db: k, table } = q(db, name)
  const res = await k.updateTable(table).set({ status: 'pending', attempts: 0, next_attempt_at: now, ...(name !== 'mail' ? { done_at: null, last_error: null } : {}) })
    .where('id', '=', id).where('status', '=', 'dead').executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}
