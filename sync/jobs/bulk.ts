// The worker's bulk actions (src/commands/bulk.ts): claims a job under a lease, applies its
// action to its tickets in the order chosen, each ticket through its own command with its outcome
// written in that command's transaction, and renews the lease between batches. A worker that dies
// half-way leaves the rest for the next one once its lease lapses; a worker that is stopping puts
// the job back in the queue.
import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import { systemClock, type Clock } from '../../src/domain/clock.js'
import { loadStaffActor } from '../../src/db/people.js'
import { pendingBulkItems } from '../../src/db/bulk-jobs.js'
import { personWho } from '../../src/commands/kernel.js'
import { claimBulkJob, finishBulkClaim, pruneBulkJobs, refuseRestOfJob, releaseBulkClaim, renewBulkClaim, runBulkItem } from '../../src/commands/bulk.js'

/** Tickets between two lease renewals. */
export const BULK_BATCH = 25

export interface BulkRunOptions {
  db: Db
  /** Names this worker in claims. */
  holder: string
  leaseMs: number
  clock?: Clock
  log?: Logger
  /** The worker is stopping: the job goes back to the queue before the next ticket. */
  signal?: AbortSignal
  maxAttempts?: number
  /** Called after each ticket (tests stop a worker half-way here). */
  onItem?: (done: number) => void
}

/** Runs every bulk job waiting (and any whose worker died); returns how many tickets it handled. */
export async function runBulkJobs(opts: BulkRunOptions): Promise<number> {
  const clock = opts.clock ?? systemClock
  const deps = { db: opts.db, clock, random: Math.random }
  let handled = 0
  for (;;) {
    if (opts.signal?.aborted) return handled
    const job = await claimBulkJob(deps, { holder: opts.holder, leaseMs: opts.leaseMs, maxAttempts: opts.maxAttempts ?? 5 })
    if (!job) break
    opts.log?.info({ jobId: job.id, action: job.action, total: job.total, attempt: job.attempts }, 'bulk job claimed')
    for (;;) {
      if (opts.signal?.aborted) {
        await releaseBulkClaim(deps, { jobId: job.id, holder: opts.holder })
        return handled
      }
      if (!(await renewBulkClaim(deps, { jobId: job.id, holder: opts.holder, leaseMs: opts.leaseMs }))) {
        opts.log?.warn({ jobId: job.id }, 'bulk job taken over by another worker')
        break
      }
      // The staff member as they are now: their desks and permissions decide, not those they had when they asked.
      const actor = await loadStaffActor(opts.db, job.staff_id)
      if (!actor) await refuseRestOfJob(deps, { jobId: job.id })
      const batch = actor ? await pendingBulkItems(opts.db, job.id, BULK_BATCH) : []
      if (batch.length === 0) {
        await finishBulkClaim(deps, { jobId: job.id, holder: opts.holder })
        opts.log?.info({ jobId: job.id }, 'bulk job finished')
        break
      }
      for (const item of batch) {
        if (opts.signal?.aborted) break
        await runBulkItem(deps, personWho(actor!), job, item)
        handled++
        opts.onItem?.(handled)
      }
    }
  }
  // Results are read for a few days after; older jobs go when the next ones have run.
  if (handled > 0) await pruneBulkJobs(deps)
  return handled
}
