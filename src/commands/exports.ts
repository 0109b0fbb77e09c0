// XLSX exports of a search: a person asks for one (a few at a time), the worker writes it and
// marks it done with the "export ready" mail in the same transaction.
import { basename } from 'node:path'
import type { Executor } from '../db/index.js'
import type { ExportArea } from '../db/schema.js'
import type { FileStore } from '../storage/attachments.js'
import {
  activeExports, claimNextExport, dueForExpiry, failExport, finishExport, insertExport, lockOwner, markExpired, releaseExport, renewExport,
  type ExportJob, type ExportOwner, type FinishedExport
} from '../db/exports.js'
import type { MailToSend } from '../db/mail-outbox.js'
import { Refused, run, SYSTEM, type Deps, type Outcome, type Who } from './kernel.js'

/** Exports one person may have waiting or running at once. */
export const MAX_ACTIVE_EXPORTS = 3

export async function requestExport(deps: Deps, who: Who, input: { area: ExportArea; query: string; locale: string }): Promise<Outcome<{ exportId: number }>> {
  return run(deps, who, async (uow) => {
    const person = uow.who.person
    if (!person) throw new Refused('forbidden')
    const owner: ExportOwner = { kind: person.kind, id: person.id }
    await lockOwner(uow.trx, owner)
    const active = await activeExports(uow.trx, owner)
    if (active >= MAX_ACTIVE_EXPORTS) throw new Refused('too_many', { params: { max: String(MAX_ACTIVE_EXPORTS), active: String(active) } })
    return { exportId: await insertExport(uow.trx, { owner, area: input.area, query: input.query, locale: input.locale, now: uow.at }) }
  })
}

/**
 * A written export is done (only if this worker still holds it): its file goes into the store
 * (`done.filePath` names it there) and its owner is told. False: it was taken over.
 */
export async function completeExport(
  deps: Pick<Deps, 'db' | 'clock' | 'random'> & { store: FileStore<Executor> },
  input: { exportId: number; holder: string; localFile: string; done: Omit<FinishedExport, 'now'>; mail: MailToSend }
): Promise<boolean> {
  const outcome = await run(deps, SYSTEM, async (uow) => {
    if (!(await finishExport(uow.trx, input.exportId, input.holder, { ...input.done, now: uow.at }))) return false
    await deps.store.putFile('export', input.done.filePath, input.localFile, uow.trx)
    await uow.mail(input.mail)
    return true
  })
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}

type WorkDeps = Pick<Deps, 'db' | 'clock' | 'random'>

/** The worker claims the oldest waiting export (or one whose worker died); null when there is none. */
export async function claimExport(deps: WorkDeps, input: { holder: string; leaseMs: number; maxAttempts: number }): Promise<ExportJob | null> {
  const now = deps.clock()
  return claimNextExport(deps.db, {
    holder: input.holder, now: now.toISOString(), leaseUntil: new Date(now.getTime() + input.leaseMs).toISOString(), maxAttempts: input.maxAttempts
  })
}

/** Progress of a claimed export, which also renews the claim; false when another worker took it over. */
export async function recordExportProgress(deps: WorkDeps, input: { exportId: number; holder: string; rowsDone: number; rowsTotal?: number | null; leaseMs: number }): Promise<boolean> {
  return renewExport(deps.db, input.exportId, input.holder, {
    rowsDone: input.rowsDone, rowsTotal: input.rowsTotal, leaseUntil: new Date(deps.clock().getTime() + input.leaseMs).toISOString()
  })
}

/** A claimed export failed, with a short reason its owner sees translated (`code` or `code: detail`). */
export async function failExportJob(deps: WorkDeps, input: { exportId: number; holder: string; error: string }): Promise<boolean> {
  return failExport(deps.db, input.exportId, input.holder, input.error, deps.clock().toISOString())
}

/** The worker is stopping: the export goes back to the queue and the attempt does not count. */
export async function releaseExportJob(deps: WorkDeps, input: { exportId: number; holder: string }): Promise<void> {
  await releaseExport(deps.db, input.exportId, input.holder)
}

/** Finished exports whose download time is over: their files are to be deleted, each then marked expired. */
export async function exportsDueForExpiry(deps: WorkDeps) {
  return dueForExpiry(deps.db, deps.clock().toISOString())
}

/** An export's download time is over: its file is deleted and the job marked expired. */
export async function expireExport(deps: WorkDeps & { store: FileStore<Executor> }, job: { id: number; file_path: string | null }): Promise<void> {
  const outcome = await run(deps, SYSTEM, async (uow) => {
    if (job.file_path) await deps.store.remove('export', basename(job.file_path), uow.trx)
    await markExpired(uow.trx, job.id)
  })
  if (!outcome.ok) throw outcome.refusal
}
