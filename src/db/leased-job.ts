// What the worker's leased jobs share (XLSX exports, bulk actions): a job waits ('queued') until
// a worker claims it under a lease, and one whose worker stopped renewing the lease (a crash) is
// claimed again by another, until its attempts are used up.
import type { ExpressionBuilder, Kysely } from 'kysely'
import type { Executor } from './index.js'

export type LeasedTable = 'export_job' | 'bulk_job'

export interface ClaimOptions {
  /** This claim's identity: every later write checks it, so a job taken over is left alone. */
  holder: string
  now: string
  leaseUntil: string
  /** A job left running by workers that died this many times is failed instead of run again. */
  maxAttempts: number
}

// Both tables have these columns; the builder is told so once, here.
const loose = (db: Executor) => db as unknown as Kysely<any>
type AnyBuilder = ExpressionBuilder<any, any>

/** A job a worker may take: waiting, or running under a claim whose lease has lapsed. */
function claimable(now: string) {
  return (eb: AnyBuilder) => eb.or([
    eb('status', '=', 'queued'),
    eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)])
  ])
}

/** Whether a job waits to be claimed: one look-up. */
export async function leasedJobWaiting(db: Executor, table: LeasedTable, now: string): Promise<boolean> {
  return (await loose(db).selectFrom(table).select('id').where(claimable(now)).limit(1).executeTakeFirst()) !== undefined
}

/**
 * Claims the oldest job that is waiting, or whose worker stopped renewing its lease: the update
 * only succeeds if the row is still as read, so two workers never run the same job. Jobs that
 * already used up their attempts are failed on the way ('interrupted'). `claimed` names the
 * job's own columns to set with the claim; the row comes back as it now is.
 */
export async function claimNextLeased<Row extends Record<string, unknown>>(
  db: Executor, table: LeasedTable, opts: ClaimOptions, claimed: (candidate: Row) => Record<string, unknown>
): Promise<Row | null> {
  for (let tries = 0; tries < 20; tries++) {
    const candidate = await loose(db).selectFrom(table).selectAll().where(claimable(opts.now)).orderBy('id').limit(1).executeTakeFirst() as Row | undefined
    if (!candidate) return null
    // Only if nobody changed the row since it was read (another worker, or the holder renewing).
    const unchanged = (eb: AnyBuilder) => eb.and([
      eb('id', '=', candidate.id), eb('status', '=', candidate.status),
      candidate.holder === null ? eb('holder', 'is', null) : eb('holder', '=', candidate.holder),
      candidate.lease_until === null ? eb('lease_until', 'is', null) : eb('lease_until', '=', candidate.lease_until)
    ])
    if (Number(candidate.attempts) >= opts.maxAttempts) {
      await loose(db).updateTable(table).set({ status: 'failed', error: 'interrupted', holder: null, lease_until: null, finished_at: opts.now }).where(unchanged).execute()
      continue
    }
    const set = { status: 'running', holder: opts.holder, lease_until: opts.leaseUntil, ...claimed(candidate) }
    const res = await loose(db).updateTable(table).set((eb: AnyBuilder) => ({ ...set, attempts: eb('attempts', '+', 1) })).where(unchanged).executeTakeFirst()
    if (Number(res.numUpdatedRows) === 1) return { ...candidate, ...set, attempts: Number(candidate.attempts) + 1 }
  }
  return null
}
