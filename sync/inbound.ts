/**
 * Polls the CRM for Cases and CaseComments changed since a persisted cursor (SystemModstamp minus
 * an overlap window, deduplicated) and applies what CRM users changed through the same domain
 * rules the portal uses: owner, account, product and priority; published comments become replies.
 */
import { LeaseLost, withLease, type HeldLease } from '../src/work/lease.js'
import { crmWho } from '../src/commands/kernel.js'
import { applyCrmCaseChange, applyCrmComment, type CaseChange } from '../src/commands/crm-inbound.js'
import { importCrmRecord } from '../src/commands/crm-reference.js'
import { hasUnconfirmedCaseSend } from '../src/db/crm-outbox.js'
import { getShadows } from '../src/db/crm-shadow.js'
import { getSyncState } from '../src/db/sync-state.js'
import {
  accountIdByCrmId, lastLocalChange, linkedCommentIds, productIdByCrmId, staffIdByCrmUser, ticketForInbound, ticketIdsByCase,
  type TicketForInbound
} from '../src/db/crm-tickets.js'
import { saveProgress } from '../src/work/state.js'
import { cleanText } from '../src/domain/text.js'
import type { Priority } from '../src/db/schema.js'
import type { ChangePage, CrmCase, CrmComment } from './crm/adapter.js'
import { CrmCallError } from './crm/adapter.js'
import { INBOUND_FIELDS, casePriority, sameId, shadowValue, ticketPriority, type InboundField } from './crm/mapping.js'
import { pausedUntil, recordCallFailure, recordCallSuccess, type SyncContext } from './crm/context.js'

export const INBOUND_LEASE = 'crm-inbound'
/** SystemModstamp is set when a transaction starts, so a slow one can commit "in the past": look back this far. */
export const DEFAULT_OVERLAP_MS = 5 * 60_000
const EPOCH = '1970-01-01T00:00:00.000Z'

export interface InboundReport {
  skipped: 'paused' | 'leased' | null
  pausedUntil: string | null
  cases: number
  /** Ticket fields changed from the CRM. */
  applied: number
  /** Fields equal to what we last sent (our own writes coming back). */
  echoes: number
  /** CRM changes older than a change made in the portal since: the portal's value is sent again. */
  overruled: number
  /** CRM changes the lifecycle refused (e.g. on a closed ticket): the Case is put back. */
  refused: number
  /** CRM values with no counterpart in the portal (a user who is not staff, say). */
  unmapped: number
  replies: number
  /** Records that could not be applied (logged with their error). */
  failed: number
  calls: number
  /** The inbound lease went to another worker mid-poll: this one stopped. */
  leaseLost?: boolean
}

/** Salesforce datetimes ("2026-11-23T10:00:00.000+0000") as epoch milliseconds. */
export function sfTime(value: string): number {
  return Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
}

function isoOf(value: string): string {
  return new Date(sfTime(value)).toISOString()
}

interface Cursor {
  at: string
  /**
   * Versions already applied inside the overlap window: Id@SystemModstamp#content. The content
   * is part of the key because two edits within one second can share a SystemModstamp.
   */
  seen: Set<string>
}

function stampOfKey(key: string): string {
  const at = key.indexOf('@')
  const hash = key.indexOf('#', at)
  return key.slice(at + 1, hash < 0 ? undefined : hash)
}

async function loadCursor(ctx: SyncContext, name: string): Promise<Cursor> {
  const at = await getSyncState(ctx.db, `inbound.${name}.cursor`) ?? EPOCH
  const seen = JSON.parse(await getSyncState(ctx.db, `inbound.${name}.seen`) ?? '[]') as string[]
  return { at, seen: new Set(seen) }
}

async function saveCursor(ctx: SyncContext, name: string, cursor: Cursor, overlapMs: number): Promise<void> {
  const floor = Date.parse(cursor.at) - overlapMs
  const seen = [...cursor.seen].filter((k) => sfTime(stampOfKey(k)) > floor)
  cursor.seen = new Set(seen)
  await saveProgress(ctx, { [`inbound.${name}.cursor`]: cursor.at, [`inbound.${name}.seen`]: JSON.stringify(seen) })
}

/** Walks every page after the cursor, applying each record not seen yet and moving the cursor page by page. */
async function walk<T extends { Id: string; SystemModstamp: string }>(
  ctx: SyncContext, lease: HeldLease, name: string, overlapMs: number,
  first: (since: string) => Promise<ChangePage<T>>, apply: (records: T[]) => Promise<void>,
  content: (r: T) => string = () => ''
): Promise<number> {
  const keyOf = (r: T) => `${r.Id}@${r.SystemModstamp}#${content(r)}`
  const cursor = await loadCursor(ctx, name)
  const since = new Date(Math.max(0, Date.parse(cursor.at) - overlapMs)).toISOString()
  lease.assertHeld()
  let page: ChangePage<T> | null = await first(since)
  let count = 0
  while (page) {
    lease.assertHeld()
    const fresh = page.records.filter((r) => !cursor.seen.has(keyOf(r)))
    await apply(fresh)
    count += fresh.length
    for (const r of page.records) {
      cursor.seen.add(keyOf(r))
      const at = isoOf(r.SystemModstamp)
      if (at > cursor.at) cursor.at = at
    }
    await saveCursor(ctx, name, cursor, overlapMs)
    lease.assertHeld()
    const next: Promise<ChangePage<T>> | null = page.more()
    page = next ? await next : null
  }
  return count
}

/** One inbound pass (Cases, then comments) under the inbound lease. */
export async function pollInbound(ctx: SyncContext, opts: { overlapMs?: number } = {}): Promise<InboundReport> {
  const report: InboundReport = { skipped: null, pausedUntil: null, cases: 0, applied: 0, echoes: 0, overruled: 0, refused: 0, unmapped: 0, replies: 0, failed: 0, calls: 0 }
  const paused = await pausedUntil(ctx)
  if (paused) return { ...report, skipped: 'paused', pausedUntil: paused }
  const overlap = opts.overlapMs ?? DEFAULT_OVERLAP_MS
  const before = ctx.crm.calls
  const held = await withLease(ctx, INBOUND_LEASE, ctx.holder, ctx.leaseMs, async (lease) => {
    try {
      const integration = await ctx.crm.integrationUserId()
      report.cases = await walk(ctx, lease, 'case', overlap, (since) => ctx.crm.changedCases(since), async (records) => {
        for (const rec of records) {
          lease.assertHeld()
          try {
            await applyCase(ctx, rec, integration, report)
          } catch (err) {
            // one Case we cannot apply must not stop the others behind it (the cursor moves on)
            if (err instanceof CrmCallError || err instanceof LeaseLost) throw err
            report.failed++
            ctx.log.error({ err, caseId: rec.Id, ticketId: rec.externalId }, 'could not apply a CRM Case change')
          }
        }
      }, (r) => [r.OwnerId, r.AccountId, r.ProductId, r.Priority, r.LastModifiedById].join('|'))
      await walk(ctx, lease, 'comment', overlap, (since) => ctx.crm.changedComments(since), async (records) => {
        await applyComments(ctx, records, integration, report)
      })
    } catch (err) {
      if (err instanceof LeaseLost) {
        // another worker polls now; the cursor was saved page by page
        report.leaseLost = true
        return
      }
      if (!(err instanceof CrmCallError)) throw err
      report.pausedUntil = await recordCallFailure(ctx, err)
      ctx.log.warn({ code: err.code, kind: err.kind }, 'CRM inbound poll failed')
    } finally {
      report.calls = ctx.crm.calls - before
    }
  })
  if (!held.ran) return { ...report, skipped: 'leased' }
  if (report.calls > 0 && report.pausedUntil === null) await recordCallSuccess(ctx, 'inbound')
  if (report.applied || report.replies || report.refused) ctx.log.info({ ...report }, 'CRM changes applied')
  return report
}

function localValue(ctx: SyncContext, t: TicketForInbound, field: InboundField): string | null {
  switch (field) {
    case 'OwnerId': return t.owner_crm_id
    case 'AccountId': return t.account_crm_id
    case 'ProductId': return t.product_crm_id
    case 'Priority': return casePriority(ctx.maps, t.priority)
  }
}

function same(field: InboundField, a: string | null | undefined, b: string | null | undefined): boolean {
  if (field === 'Priority') return (a ?? '').toLowerCase() === (b ?? '').toLowerCase()
  return sameId(a, b)
}

/** The staff member, account or product a CRM id stands for, importing the record when it is new to us. */
async function resolve(ctx: SyncContext, field: InboundField, crmId: string): Promise<number | undefined> {
  if (field === 'OwnerId') {
    const found = await staffIdByCrmUser(ctx.db, crmId)
    if (found !== undefined) return found
    const user = await ctx.crm.getReference('User', crmId)
    if (user) await importCrmRecord(ctx, { object: 'User', record: user })
    return staffIdByCrmUser(ctx.db, crmId)
  }
  if (field === 'AccountId') {
    const found = await accountIdByCrmId(ctx.db, crmId)
    if (found !== undefined) return found
    const account = await ctx.crm.getReference('Account', crmId)
    if (account) await importCrmRecord(ctx, { object: 'Account', record: account })
    return accountIdByCrmId(ctx.db, crmId)
  }
  const found = await productIdByCrmId(ctx.db, crmId)
  if (found !== undefined) return found
  const product = await ctx.crm.getReference('Product2', crmId)
  if (product) await importCrmRecord(ctx, { object: 'Product2', record: product })
  return productIdByCrmId(ctx.db, crmId)
}

/** How many times a Case is compared again when its ticket changed while it was being compared. */
const CONFLICT_RETRIES = 3

/**
 * Compares one changed Case with its ticket and applies what CRM users changed. The comparison
 * reads the ticket; the change is applied only if the ticket is still at the version read
 * (otherwise it is compared again), so a change made in the portal meanwhile is never
 * overwritten: it is either the later one and stands, or the earlier one and the CRM's applies on top.
 */
async function applyCase(ctx: SyncContext, raw: CrmCase, integration: string, report: InboundReport): Promise<void> {
  const rec = cleaned(raw)
  const ticketId = rec.externalId && /^\d{1,12}$/.test(rec.externalId) ? Number(rec.externalId) : null
  if (ticketId === null) return
  for (let attempt = 1; ; attempt++) {
    const t = await ticketForInbound(ctx.db, ticketId)
    if (!t || t.deleted_at !== null) return
    if (t.crm_case_id && !sameId(t.crm_case_id, rec.Id)) return
    const link = !t.crm_case_id || !t.crm_case_number ? { caseId: rec.Id, caseNumber: rec.CaseNumber || null } : undefined
    // our own write of this Case is unconfirmed (a worker died or timed out after sending): judge
    // its fields when that write is redone and comes back, not against a shadow that may be stale
    const change: CaseChange = (await hasUnconfirmedCaseSend(ctx.db, t.id))
      ? { ticketId: t.id, version: t.version, link, settled: {}, pushBack: false }
      : await compareCase(ctx, rec, t, integration, report)
    if (!change.link && link) change.link = link
    if (!change.link && Object.keys(change.settled).length === 0 && !change.transfer && !change.priority && !change.pushBack) return
    const ours = sameId(rec.LastModifiedById, integration)
    // a change found on a record we touched last was made before our write by someone we cannot name
    const actorName = !ours && rec.LastModifiedByName ? rec.LastModifiedByName : ctx.mapping.t('sync.crmUser')
    const outcome = await applyCrmCaseChange({ ...ctx, store: undefined }, crmWho(actorName), change)
    if (outcome.ok) {
      report.applied += outcome.value.applied
      for (const r of outcome.value.refused) {
        report.refused += r.fields.length
        ctx.log.info({ ticketId: t.id, fields: r.fields, reason: r.code }, 'CRM change refused by the lifecycle')
      }
      return
    }
    if (outcome.refusal.code !== 'conflict' || attempt >= CONFLICT_RETRIES) {
      report.failed++
      ctx.log.warn({ ticketId: t.id, reason: outcome.refusal.code }, 'CRM change not applied')
      return
    }
  }
}

/**
 * Compares a changed Case with its ticket field by field. A value equal to the shadow is our own
 * write coming back; one equal to the ticket needs nothing; otherwise the later change wins
 * (the CRM's LastModifiedDate against the portal's last change of that field).
 */
async function compareCase(ctx: SyncContext, rec: CrmCase, t: TicketForInbound, integration: string, report: InboundReport): Promise<CaseChange> {
  const ours = sameId(rec.LastModifiedById, integration)
  const changedAt = sfTime(rec.LastModifiedDate)
  const shadow = (await getShadows(ctx.db, [t.id])).get(t.id) ?? new Map<string, string | null>()
  const change: CaseChange = { ticketId: t.id, version: t.version, settled: {}, pushBack: false }
  const transfer: NonNullable<CaseChange['transfer']> = {}

  for (const field of Object.keys(INBOUND_FIELDS) as InboundField[]) {
    const crm = shadowValue(rec[field])
    // a Case we created without an owner belongs to the integration user: that says nothing about the assignee
    if (field === 'OwnerId' && sameId(crm, integration)) continue
    if (shadow.has(field) && same(field, crm, shadow.get(field))) {
      if (ours) report.echoes++
      continue
    }
    // from here on the Case's value is settled, whatever becomes of it
    change.settled[field] = crm
    if (same(field, crm, localValue(ctx, t, field))) continue
    const localAt = await lastLocalChange(ctx.db, t.id, INBOUND_FIELDS[field])
    if (localAt && Date.parse(localAt) > changedAt) {
      // the portal changed it later: its value stands and goes to the Case again
      change.pushBack = true
      report.overruled++
      continue
    }
    if (field === 'Priority') {
      const p = ticketPriority(ctx.maps, crm, t.priority)
      if (p === null) {
        delete change.settled[field]
        report.unmapped++
      } else {
        change.priority = p
      }
      continue
    }
    if (crm === null) {
      if (field === 'ProductId') transfer.productId = null
      else {
        delete change.settled[field]
        report.unmapped++
      }
      continue
    }
    const id = await resolve(ctx, field, crm)
    if (id === undefined) {
      delete change.settled[field]
      report.unmapped++
      ctx.log.info({ ticketId: t.id, field, crmId: crm }, 'CRM value has no counterpart in the portal; left as is')
      continue
    }
    if (field === 'OwnerId') transfer.assigneeId = id
    if (field === 'AccountId') transfer.accountId = id
    if (field === 'ProductId') transfer.productId = id
  }
  if (Object.keys(transfer).length > 0) change.transfer = transfer
  return change
}

/**
 * A CRM record with its text cleaned (src/domain/text.ts): a NUL or a broken surrogate in what a
 * CRM user wrote is dropped from it, rather than the comment or the change being refused.
 */
function cleaned<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === 'string' ? cleanText(v) : v])) as T
}

/** Published comments written by CRM users become staff replies (never sent back: source crm, comment id kept). */
async function applyComments(ctx: SyncContext, records: CrmComment[], integration: string, report: InboundReport): Promise<void> {
  const candidates = records.map(cleaned).filter((c) => c.IsPublished && !sameId(c.CreatedById, integration) && (c.CommentBody ?? '').trim() !== '')
  if (candidates.length === 0) return
  const tickets = await ticketIdsByCase(ctx.db, candidates.map((c) => c.ParentId))
  const known = await linkedCommentIds(ctx.db, candidates.map((c) => c.Id))
  for (const c of candidates) {
    const ticket = [...tickets.entries()].find(([caseId]) => sameId(caseId, c.ParentId))?.[1]
    if (!ticket || ticket.deleted || known.has(c.Id)) continue
    try {
      await addCrmReply(ctx, ticket.id, c, report)
    } catch (err) {
      report.failed++
      ctx.log.error({ err, commentId: c.Id, ticketId: ticket.id }, 'could not add a CRM comment as a reply')
    }
  }
}

/** One CRM comment as a staff reply, with its comment id, in one transaction (so it is never imported twice). */
async function addCrmReply(ctx: SyncContext, ticketId: number, c: CrmComment, report: InboundReport): Promise<void> {
  const outcome = await applyCrmComment({ ...ctx, store: undefined }, crmWho(c.CreatedByName ?? ctx.mapping.t('sync.crmUser')), {
    ticketId, commentId: c.Id, body: c.CommentBody ?? ''
  })
  if (outcome.ok) report.replies++
  else ctx.log.info({ ticketId, commentId: c.Id, reason: outcome.refusal.code }, 'CRM comment not added: the ticket takes no replies')
}
