// XLSX exports of searches: the web asks for them, the worker claims and writes them
// (sync/jobs/exports.ts), their owner lists and downloads them.
import { randomBytes } from 'node:crypto'
import type { Executor } from './index.js'
import { claimNextLeased, leasedJobWaiting, type ClaimOptions } from './leased-job.js'
import type { Database, ExportArea, ExportStatus } from './schema.js'

export interface ExportOwner {
  kind: 'staff' | 'contact'
  id: number
}

const OWNER_COLUMN = { staff: 'staff_id', contact: 'contact_id' } as const

/** Statuses of a job that is still to be written. */
export const ACTIVE_EXPORT_STATUSES: readonly ExportStatus[] = ['queued', 'running']

/**
 * A no-op write to the owner's row: on PostgreSQL a row lock, on SQLite the write lock, so two
 * simultaneous requests cannot both pass a count of the owner's exports.
 */
export async function lockOwner(trx: Executor, owner: ExportOwner): Promise<void> {
  await trx.updateTable(owner.kind).set((eb) => ({ active: eb.ref('active') })).where('id', '=', owner.id).execute()
}

/** How many of the owner's exports are waiting or running. */
export async function activeExports(db: Executor, owner: ExportOwner): Promise<number> {
  const counted = await db.selectFrom('export_job').select((eb) => eb.fn.countAll<number>().as('n'))
    .where(OWNER_COLUMN[owner.kind], '=', owner.id).where('status', 'in', ACTIVE_EXPORT_STATUSES)
    .executeTakeFirstOrThrow()
  return Number(counted.n)
}

export async function insertExport(trx: Executor, input: { owner: ExportOwner; area: ExportArea; query: string; locale: string; now: string }): Promise<number> {
  const row = await trx.insertInto('export_job').values({
    staff_id: input.owner.kind === 'staff' ? input.owner.id : null,
    contact_id: input.owner.kind === 'contact' ? input.owner.id : null,
    area: input.area, query: input.query, locale: input.locale, status: 'queued',
    file_key: randomBytes(18).toString('base64url'), created_at: input.now
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

const LIST_COLUMNS = [
  'id', 'area', 'query', 'status', 'rows_done', 'rows_total', 'file_size', 'error', 'expires_at',
  'created_at', 'started_at', 'finished_at'
] as const

/** The owner's exports, newest first. */
export async function listExports(db: Executor, owner: ExportOwner, limit = 50) {
  return db.selectFrom('export_job').select(LIST_COLUMNS)
    .where(OWNER_COLUMN[owner.kind], '=', owner.id)
    .orderBy('id', 'desc').limit(limit).execute()
}

export type ExportListItem = Awaited<ReturnType<typeof listExports>>[number]

/** One export, only if it belongs to `owner` (anyone else, admins included, gets nothing). */
export async function getExportForOwner(db: Executor, owner: ExportOwner, id: number) {
  return db.selectFrom('export_job').select([...LIST_COLUMNS, 'file_path'])
    .where('id', '=', id).where(OWNER_COLUMN[owner.kind], '=', owner.id)
    .executeTakeFirst()
}

export async function getExport(db: Executor, id: number) {
  return db.selectFrom('export_job').selectAll().where('id', '=', id).executeTakeFirst()
}

export type ExportJob = NonNullable<Awaited<ReturnType<typeof getExport>>>

export type { ClaimOptions }

/** Whether an export waits to be claimed: one look-up. */
export async function exportWaiting(db: Executor, now: string): Promise<boolean> {
  return leasedJobWaiting(db, 'export_job', now)
}

/** Claims the oldest export that is waiting, or whose worker died (src/db/leased-job.ts); it starts from its first row. */
export async function claimNextExport(db: Executor, opts: ClaimOptions): Promise<ExportJob | null> {
  return claimNextLeased<ExportJob>(db, 'export_job', opts, () => ({ started_at: opts.now, rows_done: 0, error: null }))
}

/** Records progress and extends the lease; false when the job is no longer ours. */
export async function renewExport(db: Executor, id: number, holder: string, progress: { rowsDone: number; rowsTotal?: number | null; leaseUntil: string }): Promise<boolean> {
  const res = await db.updateTable('export_job')
    .set({
      rows_done: progress.rowsDone, lease_until: progress.leaseUntil,
      ...(progress.rowsTotal !== undefined ? { rows_total: progress.rowsTotal } : {})
    })
    .where('id', '=', id).where('status', '=', 'running').where('holder', '=', holder)
    .executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

export interface FinishedExport {
  rowsDone: number
  filePath: string
  fileSize: number
  expiresAt: string
  now: string
}

/** Marks a written export done (only if still ours); the caller queues its e-mail in the same transaction. */
export async function finishExport(db: Executor, id: number, holder: string, done: FinishedExport): Promise<boolean> {
  const res = await db.updateTable('export_job')
    .set({
      status: 'done', rows_done: done.rowsDone, rows_total: done.rowsDone, file_path: done.filePath, file_size: done.fileSize,
      expires_at: done.expiresAt, finished_at: done.now, holder: null, lease_until: null, error: null
    })
    .where('id', '=', id).where('status', '=', 'running').where('holder', '=', holder)
    .executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** Marks a claimed export failed with a short reason the owner sees translated (`code` or `code: detail`). */
export async function failExport(db: Executor, id: number, holder: string, error: string, now: string): Promise<boolean> {
  const res = await db.updateTable('export_job')
    .set({ status: 'failed', error: error.slice(0, 1000), finished_at: now, holder: null, lease_until: null })
    .where('id', '=', id).where('status', '=', 'running').where('holder', '=', holder)
    .executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** Finished exports whose download time is over (their files are to be deleted). */
export async function dueForExpiry(db: Executor, now: string, limit = 100) {
  return db.selectFrom('export_job').select(['id', 'file_path', 'file_key'])
    .where('status', '=', 'done').where('expires_at', '<=', now)
    .orderBy('expires_at').limit(limit).execute()
}

export async function markExpired(db: Executor, id: number): Promise<void> {
  await db.updateTable('export_job').set({ status: 'expired', file_path: null })
    .where('id', '=', id).where('status', '=', 'done').execute()
}

/** Owners as the worker reloads them (the visibility of their tickets is checked at run time). */
export function ownerOf(job: { staff_id: number | null; contact_id: number | null }): ExportOwner {
  return job.staff_id !== null ? { kind: 'staff', id: job.staff_id } : { kind: 'contact', id: job.contact_id! }
}

/** Puts a claimed export back in the queue (the worker is stopping); the attempt does not count. */
export async function releaseExport(db: Executor, id: number, holder: string): Promise<void> {
  await db.updateTable('export_job')
    .set((eb) => ({ status: 'queued', holder: null, lease_until: null, rows_done: 0, attempts: eb('attempts', '-', 1) }))
    .where('id', '=', id).where('status', '=', 'running').where('holder', '=', holder)
    .execute()
}

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** The name a person sees for an export's file: `tickets-2026-04-06-12.xlsx`. */
export function exportFileName(prefix: string, id: number, createdAt: string): string {
  return `${prefix}-${createdAt.slice(0, 10)}-${id}.xlsx`
}
