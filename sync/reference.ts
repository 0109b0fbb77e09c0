/**
 * Reference data from the CRM: Accounts, Products, Users (mapped to staff by e-mail) and Contacts
 * into the portal. The first run imports everything; later runs take what changed since a cursor.
 */
import { LeaseLost, withLease } from '../src/work/lease.js'
import { getSyncState } from '../src/db/sync-state.js'
import { importCrmRecord, type CrmReference } from '../src/commands/crm-reference.js'
import { saveProgress } from '../src/work/state.js'
import { CrmCallError, type ReferenceObject, type ReferenceRecords } from './crm/adapter.js'
import { pausedUntil, recordCallFailure, recordCallSuccess, type SyncContext } from './crm/context.js'
import { sfTime } from './inbound.js'

export const REFERENCE_LEASE = 'crm-reference'
/** Accounts before Contacts, so a new contact finds its account. */
export const REFERENCE_OBJECTS: ReferenceObject[] = ['Account', 'Product2', 'User', 'Contact']
/** Re-reading a little is harmless (every write is idempotent) and covers late commits. */
const OVERLAP_MS = 5 * 60_000

export type ReferenceCounts = Record<string, number>

export interface ReferenceReport {
  skipped: 'paused' | 'leased' | null
  pausedUntil: string | null
  counts: Record<ReferenceObject, ReferenceCounts>
  calls: number
}

async function applyOne<T extends ReferenceObject>(ctx: SyncContext, object: T, rec: ReferenceRecords[T]): Promise<string> {
  return importCrmRecord(ctx, { object, record: rec } as CrmReference)
}

/** One import pass under the reference lease; `full` ignores the cursors (an initial import again). */
export async function importReference(ctx: SyncContext, opts: { full?: boolean } = {}): Promise<ReferenceReport> {
  const counts = Object.fromEntries(REFERENCE_OBJECTS.map((o) => [o, {}])) as Record<ReferenceObject, ReferenceCounts>
  const report: ReferenceReport = { skipped: null, pausedUntil: null, counts, calls: 0 }
  const paused = await pausedUntil(ctx)
  if (paused) return { ...report, skipped: 'paused', pausedUntil: paused }
  const before = ctx.crm.calls
  const held = await withLease(ctx, REFERENCE_LEASE, ctx.holder, ctx.leaseMs, async (lease) => {
    try {
      for (const object of REFERENCE_OBJECTS) {
        const key = `reference.${object}.cursor`
        const cursor = opts.full ? null : await getSyncState(ctx.db, key)
        const since = cursor ? new Date(Date.parse(cursor) - OVERLAP_MS).toISOString() : null
        let latest = cursor
        lease.assertHeld()
        let page = await ctx.crm.changedReference(object, since)
        for (;;) {
          for (const rec of page.records) {
            lease.assertHeld()
            let outcome: string
            try {
              outcome = await applyOne(ctx, object, rec)
            } catch (err) {
              // a record the portal cannot take (a clash on a unique e-mail, say) must not block the rest
              outcome = 'failed'
              ctx.log.error({ err, object, crmId: rec.Id }, 'could not import a CRM reference record')
            }
            counts[object][outcome] = (counts[object][outcome] ?? 0) + 1
            const at = new Date(sfTime(rec.SystemModstamp)).toISOString()
            if (!latest || at > latest) latest = at
          }
          if (latest) await saveProgress(ctx, { [key]: latest })
          lease.assertHeld()
          const next = page.more()
          if (!next) break
          page = await next
        }
      }
    } catch (err) {
      if (err instanceof LeaseLost) return
      if (!(err instanceof CrmCallError)) throw err
      report.pausedUntil = await recordCallFailure(ctx, err)
      ctx.log.warn({ code: err.code, kind: err.kind }, 'CRM reference import failed')
    } finally {
      report.calls = ctx.crm.calls - before
    }
  })
  if (!held.ran) return { ...report, skipped: 'leased' }
  if (report.calls > 0 && report.pausedUntil === null) await recordCallSuccess(ctx, 'reference')
  return report
}
