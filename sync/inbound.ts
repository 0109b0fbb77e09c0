/**
 * Polls the CRM for Cases and CaseComments changed since a persisted cursor (SystemModstamp minus
 * an overlap window, deduplicated) and applies what CRM users changed through the same domain
 * rules the portal uses: owner, account, product and priority; published comments become replies.
 */
import { acquireLease, releaseLease } from './jobs/lease.js'
import { transferTicket, updateTicketFields, ConflictError } from '../src/db/ticket.js'
import { addTicketNoteIn } from '../src/commands/notes.js'
import { enqueueCaseSync } from '../src/db/crm-outbox.js'
import { assertAllowed, TransitionRefused, TicketNotFound, type Performer } from '../src/commands/transitions.js'
import {
  accountIdByCrmId, getShadows, getSyncState, hasUnconfirmedCaseSend, lastLocalChange, linkCrmUser, linkedCommentIds, productIdByCrmId, saveShadow,
  setCaseLink, setNoteComment, setSyncState, staffIdByCrmUser, ticketForInbound, ticketIdsByCase, upsertCrmAccount, upsertCrmProduct,
  type TicketForInbound
} from '../src/db/sync.js'
import type { Priority } from '../src/db/schema.js'
import type { ChangePage, CrmCase, CrmComment } from './crm/adapter.js'
import { CrmCallError } from './crm/adapter.js'
import { INBOUND_FIELDS, casePriority, sameId, shadowValue, ticketPriority, type InboundField } from './crm/mapping.js'
import { pausedUntil, recordCallFailure, recordCallSuccess, type SyncContext } from './crm/context.js'

export const INBOUND_LEASE = 'crm-inbound'
const LEASE_MS = 10 * 60_000
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
  const now = ctx.clock().toISOString()
  await setSyncState(ctx.db, `inbound.${name}.cursor`, cursor.at, now)
  await setSyncState(ctx.db, `inbound.${name}.seen`, JSON.stringify(seen), now)
}

/** Walks every page after the cursor, applying each record not seen yet and moving the cursor page by page. */
async function walk<T extends { Id: string; SystemModstamp: string }>(
  ctx: SyncContext, name: string, overlapMs: number,
  first: (since: string) => Promise<ChangePage<T>>, apply: (records: T[]) => Promise<void>,
  content: (r: T) => string = () => ''
): Promise<number> {
  const keyOf = (r: T) => `${r.Id}@${r.SystemModstamp}#${content(r)}`
  const cursor = await loadCursor(ctx, name)
  const since = new Date(Math.max(0, Date.parse(cursor.at) - overlapMs)).toISOString()
  let page: ChangePage<T> | null = await first(since)
  let count = 0
  while (page) {
    const fresh = page.records.filter((r) => !cursor.seen.has(keyOf(r)))
    await apply(fresh)
    count += fresh.length
    for (const r of page.records) {
      cursor.seen.add(keyOf(r))
      const at = isoOf(r.SystemModstamp)
      if (at > cursor.at) cursor.at = at
    }
    await saveCursor(ctx, name, cursor, overlapMs)
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
  if (!(await acquireLease(ctx.db, INBOUND_LEASE, ctx.holder, ctx.clock(), LEASE_MS))) return { ...report, skipped: 'leased' }
  const overlap = opts.overlapMs ?? DEFAULT_OVERLAP_MS
  const before = ctx.crm.calls
  try {
    const integration = await ctx.crm.integrationUserId()
    report.cases = await walk(ctx, 'case', overlap, (since) => ctx.crm.changedCases(since), async (records) => {
      for (const rec of records) {
        try {
          await applyCase(ctx, rec, integration, report)
        } catch (err) {
          // one Case we cannot apply must not stop the others behind it (the cursor moves on)
          if (err instanceof CrmCallError) throw err
          report.failed++
          ctx.log.error({ err, caseId: rec.Id, ticketId: rec.externalId }, 'could not apply a CRM Case change')
        }
      }
    }, (r) => [r.OwnerId, r.AccountId, r.ProductId, r.Priority, r.LastModifiedById].join('|'))
    await walk(ctx, 'comment', overlap, (since) => ctx.crm.changedComments(since), async (records) => {
      await applyComments(ctx, records, integration, report)
    })
  } catch (err) {
    if (!(err instanceof CrmCallError)) throw err
    report.pausedUntil = await recordCallFailure(ctx, err)
    ctx.log.warn({ code: err.code, kind: err.kind }, 'CRM inbound poll failed')
  } finally {
    report.calls = ctx.crm.calls - before
    await releaseLease(ctx.db, INBOUND_LEASE, ctx.holder)
  }
  if (report.calls > 0 && report.pausedUntil === null) await recordCallSuccess(ctx, 'inbound')
  if (report.applied || report.replies || report.refused) ctx.log.info({ ...report }, 'CRM changes applied')
  return report
}

function crmPerformer(name: string): Performer {
  return { ref: { type: 'crm', id: null, name }, role: 'crm' }
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
  const now = ctx.clock().toISOString()
  if (field === 'OwnerId') {
    const found = await staffIdByCrmUser(ctx.db, crmId)
    if (found !== undefined) return found
    const user = await ctx.crm.getReference('User', crmId)
    if (user) await linkCrmUser(ctx.db, user, now)
    return staffIdByCrmUser(ctx.db, crmId)
  }
  if (field === 'AccountId') {
    const found = await accountIdByCrmId(ctx.db, crmId)
    if (found !== undefined) return found
    const account = await ctx.crm.getReference('Account', crmId)
    if (account) await upsertCrmAccount(ctx.db, account, now)
    return accountIdByCrmId(ctx.db, crmId)
  }
  const found = await productIdByCrmId(ctx.db, crmId)
  if (found !== undefined) return found
  const product = await ctx.crm.getReference('Product2', crmId)
  if (product) await upsertCrmProduct(ctx.db, product, now)
  return productIdByCrmId(ctx.db, crmId)
}

/**
 * Compares one changed Case with its ticket field by field. A value equal to the shadow is our
 * own write coming back; one equal to the ticket needs nothing; otherwise the later change wins
 * (the CRM's LastModifiedDate against the portal's last change of that field).
 */
async function applyCase(ctx: SyncContext, rec: CrmCase, integration: string, report: InboundReport): Promise<void> {
  const ticketId = rec.externalId && /^\d{1,12}$/.test(rec.externalId) ? Number(rec.externalId) : null
  if (ticketId === null) return
  const t = await ticketForInbound(ctx.db, ticketId)
  if (!t || t.deleted_at !== null) return
  if (t.crm_case_id && !sameId(t.crm_case_id, rec.Id)) return
  if (!t.crm_case_id || !t.crm_case_number) await setCaseLink(ctx.db, t.id, rec.Id, rec.CaseNumber || null)

  // our own write of this Case is unconfirmed (a worker died or timed out after sending): judge
  // its fields when that write is redone and comes back, not against a shadow that may be stale
  if (await hasUnconfirmedCaseSend(ctx.db, t.id)) return
  const ours = sameId(rec.LastModifiedById, integration)
  // a change found on a record we touched last was made before our write by someone we cannot name
  const actorName = !ours && rec.LastModifiedByName ? rec.LastModifiedByName : ctx.mapping.t('sync.crmUser')
  const changedAt = sfTime(rec.LastModifiedDate)
  const shadow = (await getShadows(ctx.db, [t.id])).get(t.id) ?? new Map<string, string | null>()
  const now = ctx.clock().toISOString()
  const settled: Record<string, string | null> = {}
  const transfer: { assigneeId?: number; accountId?: number; productId?: number | null } = {}
  const transferFields: InboundField[] = []
  let priority: Priority | null = null
  let pushBack = false

  for (const field of Object.keys(INBOUND_FIELDS) as InboundField[]) {
    const crm = shadowValue(rec[field])
    // a Case we created without an owner belongs to the integration user: that says nothing about the assignee
    if (field === 'OwnerId' && sameId(crm, integration)) continue
    if (shadow.has(field) && same(field, crm, shadow.get(field))) {
      if (ours) report.echoes++
      continue
    }
    if (same(field, crm, localValue(ctx, t, field))) {
      settled[field] = crm
      continue
    }
    const localAt = await lastLocalChange(ctx.db, t.id, INBOUND_FIELDS[field])
    if (localAt && Date.parse(localAt) > changedAt) {
      // the portal changed it later: its value stands and goes to the Case again
      settled[field] = crm
      pushBack = true
      report.overruled++
      continue
    }
    if (field === 'Priority') {
      const p = ticketPriority(ctx.maps, crm, t.priority)
      if (p === null) {
        report.unmapped++
        continue
      }
      priority = p
      continue
    }
    if (crm === null) {
      if (field === 'ProductId') {
        transfer.productId = null
        transferFields.push(field)
      } else {
        report.unmapped++
      }
      continue
    }
    const id = await resolve(ctx, field, crm)
    if (id === undefined) {
      report.unmapped++
      ctx.log.info({ ticketId: t.id, field, crmId: crm }, 'CRM value has no counterpart in the portal; left as is')
      continue
    }
    if (field === 'OwnerId') transfer.assigneeId = id
    if (field === 'AccountId') transfer.accountId = id
    if (field === 'ProductId') transfer.productId = id
    transferFields.push(field)
  }

  const performer = crmPerformer(actorName)
  const ctxRef = { actor: performer.ref, now }
  const attempt = async (fields: InboundField[], action: 'transfer' | 'categorize', write: () => Promise<{ changed: string[] }>) => {
    try {
      await assertAllowed(ctx.db, performer, t.id, action)
      const res = await write()
      report.applied += res.changed.length
    } catch (err) {
      if (!(err instanceof TransitionRefused || err instanceof TicketNotFound || err instanceof ConflictError)) throw err
      // the portal's rules say no (a closed ticket, say): put the Case back to the ticket's value
      report.refused += fields.length
      pushBack = true
      ctx.log.info({ ticketId: t.id, fields, reason: (err as Error).message }, 'CRM change refused by the lifecycle')
    }
    for (const f of fields) settled[f] = shadowValue(rec[f])
  }
  if (transferFields.length > 0) {
    await attempt(transferFields, 'transfer', () => transferTicket(ctx.db, t.id, { ...transfer, source: 'crm' }, ctxRef))
  }
  if (priority !== null) {
    const p = priority
    await attempt(['Priority'], 'categorize', () => updateTicketFields(ctx.db, t.id, { priority: p }, { ...ctxRef, random: ctx.random }))
  }
  await saveShadow(ctx.db, t.id, settled, now)
  if (pushBack) await enqueueCaseSync(ctx.db, t.id, now)
}

/** Published comments written by CRM users become staff replies (never sent back: source crm, comment id kept). */
async function applyComments(ctx: SyncContext, records: CrmComment[], integration: string, report: InboundReport): Promise<void> {
  const candidates = records.filter((c) => c.IsPublished && !sameId(c.CreatedById, integration) && (c.CommentBody ?? '').trim() !== '')
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
  const performer = crmPerformer(c.CreatedByName ?? ctx.mapping.t('sync.crmUser'))
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const res = await addTicketNoteIn(trx, { clock: ctx.clock, random: ctx.random }, performer, ticketId, {
        mode: 'reply', body: (c.CommentBody ?? '').trim(), source: 'crm'
      })
      if (res.noteId !== null) await setNoteComment(trx, res.noteId, c.Id)
    })
    report.replies++
  } catch (err) {
    if (!(err instanceof TransitionRefused || err instanceof TicketNotFound)) throw err
    ctx.log.info({ ticketId, commentId: c.Id, reason: err.message }, 'CRM comment not added: the ticket takes no replies')
  }
}
