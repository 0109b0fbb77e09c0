// The one outbox mechanism, for mail (SMTP) and CRM (Salesforce) alike: a drainer claims due rows
// under a lease, sends them with no transaction open, and settles each: done, retried after a
// backoff, parked as dead after too many tries (an admin may send it again), or put back untouched
// when the send never happened. A crashed drainer's rows come back when their lease runs out.
import type { Executor } from '../db/index.js'
import { claimRows, completeRows, extendClaims, parkRow, releaseRows, renewClaim, rescheduleRow, type OutboxName, type OutboxRows } from '../db/outbox.js'
import { backoffMs, type BackoffPolicy } from './backoff.js'

export interface Claimed<R> {
  rows: R[]
  /** The claim: the rows' next attempt, which settling checks so a row taken over is left alone. */
  lease: string
}

export interface Outbox<N extends OutboxName> {
  /** Claims up to `limit` due rows for `leaseMs`. */
  claim(db: Executor, now: Date, opts: { limit: number; leaseMs: number }): Promise<Claimed<OutboxRows[N]>>
  /** Keeps the drain's claimed rows for another `leaseMs` (before each long outside call). */
  extend(db: Executor, ids: number[], now: Date, leaseMs: number): Promise<void>
  /**
   * Renews one row's claim just before it is sent: the new claim, or null when the claim ran out
   * and another drainer has the row (then it is not sent here).
   */
  renew(db: Executor, id: number, lease: string, now: Date, leaseMs: number): Promise<string | null>
  complete(db: Executor, ids: number[], now: Date, lease?: string): Promise<void>
  /** A failed attempt: the next one after the backoff for `attempts`; returns when. */
  retry(db: Executor, row: { id: number; attempts: number }, now: Date, error: string, opts: { random: () => number; lease?: string; policy?: BackoffPolicy }): Promise<string>
  park(db: Executor, id: number, now: Date, error: string, lease?: string): Promise<void>
  /**
   * Rows back in the queue at `at` (default now): the send never reached them (the try is not
   * counted), or, `keepAttempt`, the drain stopped not knowing whether it did.
   */
  release(db: Executor, ids: number[], now: Date, reason: string | null, opts?: { at?: Date; keepAttempt?: boolean }): Promise<void>
}

export function outbox<N extends OutboxName>(name: N, opts: { inOrderOfTicket?: boolean; policy: BackoffPolicy }): Outbox<N> {
  return {
    async claim(db, now, c) {
      const lease = new Date(now.getTime() + c.leaseMs).toISOString()
      const rows = await claimRows(db, name, { now: now.toISOString(), leaseUntil: lease, limit: c.limit, inOrderOfTicket: opts.inOrderOfTicket })
      return { rows, lease }
    },
    extend: (db, ids, now, leaseMs) => extendClaims(db, name, ids, new Date(now.getTime() + leaseMs).toISOString()),
    async renew(db, id, lease, now, leaseMs) {
      const next = new Date(now.getTime() + leaseMs).toISOString()
      // The same instant again would not prove the claim is ours: move it by at least a millisecond.
      const until = next === lease ? new Date(Date.parse(next) + 1).toISOString() : next
      return (await renewClaim(db, name, id, lease, until)) ? until : null
    },
    complete: (db, ids, now, lease) => completeRows(db, name, ids, now.toISOString(), lease),
    async retry(db, row, now, error, r) {
      const next = new Date(now.getTime() + backoffMs(row.attempts, r.policy ?? opts.policy, r.random)).toISOString()
      await rescheduleRow(db, name, row.id, next, error, r.lease)
      return next
    },
    park: (db, id, now, error, lease) => parkRow(db, name, id, error, now.toISOString(), lease),
    release: (db, ids, now, reason, r = {}) => releaseRows(db, name, ids, (r.at ?? now).toISOString(), reason, r.keepAttempt)
  }
}
