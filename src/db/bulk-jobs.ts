// Bulk actions run by the worker (migration 20261217090000): the job, claimed under a lease like
// an export, and its tickets, each with how it came out.
import type { Executor } from './index.js'
import { claimNextLeased, type ClaimOptions } from './leased-job.js'
import type { BulkAction, BulkItemOutcome, BulkParams } from '../domain/bulk.js'

export interface BulkJob {
  id: number
  staff_id: number
  action: BulkAction
  params: BulkParams
  total: number
  status: 'queued' | 'running' | 'done' | 'failed'
  holder: string | null
  lease_until: string | null
  attempts: number
  error: string | null
  created_at: string
  started_at: string | null
  finished_at: string | null
}

function toJob(row: Record<string, unknown>): BulkJob {
  return { ...(row as unknown as BulkJob), id: Number(row.id), params: JSON.parse(row.params as string) as BulkParams }
}

export async function insertBulkJob(trx: Executor, input: { staffId: number; action: BulkAction; params: BulkParams; targets: readonly { id: number; number: number; title: string }[]; now: string }): Promise<number> {
  const job = await trx.insertInto('bulk_job').values({
    staff_id: input.staffId, action: input.action, params: JSON.stringify(input.params), total: input.targets.length, status: 'queued', created_at: input.now
  }).returning('id').executeTakeFirstOrThrow()
  const id = Number(job.id)
  for (let i = 0; i < input.targets.length; i += 200) {
    await trx.insertInto('bulk_item').values(input.targets.slice(i, i + 200).map((t, j) => ({
      job_id: id, position: i + j, ticket_id: t.id, number: t.number, title: t.title
    }))).execute()
  }
  return id
}

/** A staff member's jobs not yet finished (a cap on them keeps one person from filling the queue). */
export async function unfinishedBulkJobs(db: Executor, staffId: number): Promise<number> {
  const row = await db.selectFrom('bulk_job').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('staff_id', '=', staffId).where('status', 'in', ['queued', 'running']).executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function getBulkJob(db: Executor, id: number): Promise<BulkJob | undefined> {
  const row = await db.selectFrom('bulk_job').selectAll().where('id', '=', id).executeTakeFirst()
  return row ? toJob(row) : undefined
}

/** How many tickets came out each way so far. */
export async function bulkProgress(db: Executor, jobId: number): Promise<Record<BulkItemOutcome | 'pending', number>> {
  const rows = await db.selectFrom('bulk_item').select(['outcome', (eb) => eb.fn.countAll<number>().as('n')])
    .where('job_id', '=', jobId).groupBy('outcome').execute()
  const out = { done: 0, unchanged: 0, refused: 0, pending: 0 }
  for (const r of rows) out[(r.outcome ?? 'pending') as keyof typeof out] = Number(r.n)
  return out
}

/** Every ticket of a finished job, refused first, each group in the order chosen. */
export async function bulkItems(db: Executor, jobId: number) {
  const rows = await db.selectFrom('bulk_item').select(['number', 'title', 'outcome', 'refusal', 'position'])
    .where('job_id', '=', jobId).orderBy('position').execute()
  return [...rows.filter((r) => r.outcome === 'refused'), ...rows.filter((r) => r.outcome !== 'refused')]
}

/** The next tickets still to do, in the order chosen. */
export async function pendingBulkItems(db: Executor, jobId: number, limit: number) {
  return db.selectFrom('bulk_item').select(['id', 'ticket_id', 'number']).where('job_id', '=', jobId).where('outcome', 'is', null)
    .orderBy('position').limit(limit).execute()
}

/** Records how one ticket came out, once; false when it already had an outcome. */
export async function markBulkItem(db: Executor, itemId: number, outcome: BulkItemOutcome, refusal: string | null): Promise<boolean> {
  const res = await db.updateTable('bulk_item').set({ outcome, refusal }).where('id', '=', itemId).where('outcome', 'is', null).executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** Every ticket still to do comes out refused with one reason (the staff member was turned off). */
export async function refuseRemaining(db: Executor, jobId: number, refusal: string): Promise<void> {
  await db.updateTable('bulk_item').set({ outcome: 'refused', refusal }).where('job_id', '=', jobId).where('outcome', 'is', null).execute()
}

/** Claims the oldest job waiting, or one whose worker died (src/db/leased-job.ts); it goes on from the tickets left. */
export async function claimNextBulkJob(db: Executor, opts: ClaimOptions): Promise<BulkJob | null> {
  const row = await claimNextLeased<Record<string, unknown>>(db, 'bulk_job', opts, (c) => ({ started_at: c.started_at ?? opts.now }))
  return row ? toJob(row) : null
}

/** Extends the lease; false when the job is no longer this worker's. */
export async function renewBulkJob(db: Executor, id: number, holder: string, leaseUntil: string): Promise<boolean> {
  const res = await db.updateTable('bulk_job').set({ lease_until: leaseUntil })
    .where('id', '=', id).where('status', '=', 'running').where('holder', '=', holder).executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

export async function finishBulkJob(db: Executor, id: number, holder: string, status: 'done' | 'failed', now: string, error: string | null = null): Promise<boolean> {
  const res = await db.updateTable('bulk_job').set({ status, finished_at: now, holder: null, lease_until: null, error })
    .where('id', '=', id).where('status', '=', 'running').where('holder', '=', holder).executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** The worker is stopping: the job goes back to the queue and the attempt does not count. */
export async function releaseBulkJob(db: Executor, id: number, holder: string): Promise<void> {
  await db.updateTable('bulk_job').set((eb) => ({ status: 'queued', holder: null, lease_until: null, attempts: eb('attempts', '-', 1) }))
    .where('id', '=', id).where('status', '=', 'running').where('holder', '=', holder).execute()
}

/** Finished jobs older than `before`, with their tickets (the results page is for the days after). */
export async function deleteFinishedBulkJobs(db: Executor, before: string): Promise<number> {
  const old = await db.selectFrom('bulk_job').select('id').where('status', 'in', ['done', 'failed']).where('finished_at', '<', before).limit(500).execute()
  if (old.length === 0) return 0
  const ids = old.map((o) => o.id)
  await db.deleteFrom('bulk_item').where('job_id', 'in', ids).execute()
  await db.deleteFrom('bulk_job').where('id', 'in', ids).execute()
  return ids.length
}
