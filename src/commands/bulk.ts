/**
 * Bulk actions of the staff queue: one action applied to many tickets, each through its own
 * command, so each is checked, refused or done exactly as on its own page. A small batch runs
 * while the page waits; a bigger one becomes a job the worker runs (sync/jobs/bulk.ts), and each
 * ticket's outcome is written inside that ticket's own transaction: a worker that dies half-way
 * and the one that takes over never apply the action to a ticket twice.
 */
import {
  claimNextBulkJob, deleteFinishedBulkJobs, finishBulkJob, insertBulkJob, markBulkItem, refuseRemaining,
  releaseBulkJob, renewBulkJob, unfinishedBulkJobs, type BulkJob
} from '../db/bulk-jobs.js'
import { lockOwner } from '../db/exports.js'
import type { BulkAction, BulkItemOutcome, BulkParams } from '../domain/bulk.js'
import { Refused, run, type Deps, type Outcome, type Who } from './kernel.js'
import { performTransition } from './lifecycle/index.js'
import { transferTicket } from './transfer.js'
import { editTicketFields, type FieldsEdited } from './edit-fields.js'

type BulkDeps = Pick<Deps, 'db' | 'clock' | 'random' | 'recordOutcome'>

/** Unfinished bulk jobs one staff member may have at once. */
export const BULK_JOBS_PER_PERSON = 3

/** A refusal as a bulk job keeps it (translated when shown). */
export interface StoredRefusal {
  code: Refused['code']
  fields: Refused['fields']
  params: Refused['params']
}

export function storedRefusal(refusal: Refused): StoredRefusal {
  return { code: refusal.code, fields: refusal.fields, params: refusal.params }
}

export function refusalFromStore(stored: string): Refused {
  const r = JSON.parse(stored) as StoredRefusal
  return new Refused(r.code, { fields: r.fields, params: r.params })
}

/** The action on one ticket: its own command, as its page would run it. */
export async function applyBulkAction(deps: BulkDeps, who: Who, action: BulkAction, params: BulkParams, ticketId: number): Promise<Outcome<unknown>> {
  const note = params.note.trim()
  switch (action) {
    case 'assign': return transferTicket(deps, who, { ticketId, assigneeId: params.assigneeId, note })
    case 'desk': return editTicketFields(deps, who, { ticketId, deskId: params.deskId! })
    case 'priority': return editTicketFields(deps, who, { ticketId, priority: params.priority })
    case 'pick_up': return performTransition(deps, who, 'pick_up', { ticketId })
    case 'resolve': return performTransition(deps, who, 'resolve', { ticketId, resolution: note })
    case 'close': return performTransition(deps, who, 'close', { ticketId, closureCategory: params.closureCategory, closureNote: note || null })
  }
}

/** How a ticket the command accepted came out: a field edit that found it already so changed nothing. */
export function acceptedAs(action: BulkAction, value: unknown): Exclude<BulkItemOutcome, 'refused'> {
  return (action === 'priority' || action === 'desk') && (value as FieldsEdited).changed.length === 0 ? 'unchanged' : 'done'
}

/** A bulk action for the worker: the job and its tickets, in the order chosen. */
export async function queueBulkJob(deps: Pick<Deps, 'db' | 'clock' | 'random'>, who: Who, input: { action: BulkAction; params: BulkParams; targets: readonly { id: number; number: number; title: string }[] }): Promise<Outcome<{ jobId: number }>> {
  return run(deps, who, async (uow) => {
    const actor = who.person
    if (!actor || actor.kind !== 'staff') throw new Refused('forbidden')
    // The person's row locked first (as exports do), so two simultaneous posts cannot both pass the count.
    await lockOwner(uow.trx, { kind: 'staff', id: actor.id })
    if ((await unfinishedBulkJobs(uow.trx, actor.id)) >= BULK_JOBS_PER_PERSON) throw new Refused('too_many', { params: { max: String(BULK_JOBS_PER_PERSON) } })
    return { jobId: await insertBulkJob(uow.trx, { staffId: actor.id, action: input.action, params: input.params, targets: input.targets, now: uow.at }) }
  })
}

type WorkDeps = Pick<Deps, 'db' | 'clock'>

/** The worker claims the oldest waiting job (or one whose worker died); null when there is none. */
export async function claimBulkJob(deps: WorkDeps, input: { holder: string; leaseMs: number; maxAttempts: number }): Promise<BulkJob | null> {
  const now = deps.clock()
  return claimNextBulkJob(deps.db, { holder: input.holder, now: now.toISOString(), leaseUntil: new Date(now.getTime() + input.leaseMs).toISOString(), maxAttempts: input.maxAttempts })
}

export async function renewBulkClaim(deps: WorkDeps, input: { jobId: number; holder: string; leaseMs: number }): Promise<boolean> {
  return renewBulkJob(deps.db, input.jobId, input.holder, new Date(deps.clock().getTime() + input.leaseMs).toISOString())
}

/** One ticket of a job: its command, with the ticket's outcome written in the command's own transaction. */
export async function runBulkItem(deps: Pick<Deps, 'db' | 'clock' | 'random'>, who: Who, job: BulkJob, item: { id: number; ticket_id: number }): Promise<BulkItemOutcome> {
  let accepted: BulkItemOutcome | null = null
  const outcome = await applyBulkAction({
    ...deps,
    recordOutcome: async (trx, value) => {
      accepted = acceptedAs(job.action, value)
      // Another worker got to this ticket first (this one's lease lapsed): undo, do not apply twice.
      if (!(await markBulkItem(trx, item.id, accepted, null))) throw new Refused('conflict')
    }
  }, who, job.action, job.params, item.ticket_id)
  if (outcome.ok) return accepted ?? 'done'
  // A refusal wrote nothing: recording it afterwards (or again, after a crash) changes no ticket.
  await markBulkItem(deps.db, item.id, 'refused', JSON.stringify(storedRefusal(outcome.refusal)))
  return 'refused'
}

/** The staff member is no longer there to act (turned off): every ticket left is refused. */
export async function refuseRestOfJob(deps: WorkDeps, input: { jobId: number }): Promise<void> {
  await refuseRemaining(deps.db, input.jobId, JSON.stringify(storedRefusal(new Refused('forbidden'))))
}

export async function finishBulkClaim(deps: WorkDeps, input: { jobId: number; holder: string; failed?: string }): Promise<boolean> {
  return finishBulkJob(deps.db, input.jobId, input.holder, input.failed ? 'failed' : 'done', deps.clock().toISOString(), input.failed ?? null)
}

export async function releaseBulkClaim(deps: WorkDeps, input: { jobId: number; holder: string }): Promise<void> {
  await releaseBulkJob(deps.db, input.jobId, input.holder)
}

/** Finished jobs' results are kept for a week. */
export async function pruneBulkJobs(deps: WorkDeps): Promise<number> {
  return deleteFinishedBulkJobs(deps.db, new Date(deps.clock().getTime() - 7 * 24 * 60 * 60 * 1000).toISOString())
}
