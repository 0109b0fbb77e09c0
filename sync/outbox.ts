/**
 * Drains the CRM outbox: Cases upserted by external id (coalesced per ticket, 200 per call), then
 * comments (200 per call, one per Case per call so a Case's comments keep their order). Every
 * per-record result is read; failures retry with backoff and jitter or are parked as dead.
 */
import { LeaseLost, withLease, type HeldLease } from '../src/work/lease.js'
import { caseRowState, getOutboxRow } from '../src/db/crm-outbox.js'
import type { OutboxRows } from '../src/db/outbox.js'
import { outbox } from '../src/work/outbox.js'
import { backoffMs as backoff, CRM_RETRY } from '../src/work/backoff.js'
import { getShadows } from '../src/db/crm-shadow.js'
import { linkedCommentIds, notesForComment, ticketsForCase, type TicketForSync } from '../src/db/crm-tickets.js'
import { recordCasesUpserted, recordCommentsCreated, requestCaseSync, type CaseUpserted } from '../src/commands/crm-outbound.js'
import { CrmCallError, type RecordError } from './crm/adapter.js'
import { caseValues, changedValues, commentValues, sameComment, type CaseValues } from './crm/mapping.js'
import { pausedUntil, recordCallFailure, recordCallSuccess, type SyncContext } from './crm/context.js'
import { pushPeople } from './people.js'

export const OUTBOX_LEASE = 'crm-outbox'
const COLLECTION = 200

/** Per-record errors worth another try; anything else is the record's own fault and is parked at once. */
const TRANSIENT = new Set(['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION', 'REQUEST_RUNNING_TOO_LONG', 'QUERY_TIMEOUT', 'ALL_OR_NONE_OPERATION_ROLLED_BACK'])

export function isTransient(code: string): boolean {
  return TRANSIENT.has(code)
}

/** The CRM's backoff: 30 s, 1, 2, 4... minutes up to an hour, each between half and all of it. */
export function backoffMs(attempts: number, random: () => number): number {
  return backoff(attempts, CRM_RETRY, random)
}

/**
 * The CRM outbox: a row waits while an earlier row of its ticket waits or is in flight, so a
 * Case's writes go in order. Rows are claimed for as long as the drain's lease.
 */
const CRM = outbox('crm', { policy: CRM_RETRY, inOrderOfTicket: true })

type OutboxRow = OutboxRows['crm']

export interface DrainReport {
  skipped: 'paused' | 'leased' | null
  pausedUntil: string | null
  claimed: number
  casesSent: number
  casesCreated: number
  commentsCreated: number
  /** Comments found already in the CRM after an unknown outcome (linked, not sent again). */
  commentsRecovered: number
  done: number
  retrying: number
  dead: number
  deferred: number
  calls: number
  /** The outbox lease went to another worker mid-drain: this one stopped before its next call. */
  leaseLost?: boolean
  /** Account and contact rows pushed first (sync/people.ts). */
  people?: number
}

/** Test seam: runs after each CRM write call returns, before its results are recorded. */
export interface DrainHooks {
  afterCall?: (what: 'cases' | 'comments', count: number) => void | Promise<void>
}

class Aborted extends Error {}

type QueuedNote = Awaited<ReturnType<typeof notesForComment>>[number]
type Queues = Map<number, { row: OutboxRow; note: QueuedNote }[]>

function errorText(e: RecordError): string {
  return `${e.code}: ${e.message}${e.fields.length ? ` (${e.fields.join(', ')})` : ''}`
}

/** One drain: claims due rows in batches until none is left (or `maxRows`), under the outbox lease. */
export async function drainOutbox(ctx: SyncContext, opts: { batchRows?: number; maxRows?: number; hooks?: DrainHooks } = {}): Promise<DrainReport> {
  const report: DrainReport = {
    skipped: null, pausedUntil: null, claimed: 0, casesSent: 0, casesCreated: 0, commentsCreated: 0, commentsRecovered: 0,
    done: 0, retrying: 0, dead: 0, deferred: 0, calls: 0
  }
  const paused = await pausedUntil(ctx)
  if (paused) return { ...report, skipped: 'paused', pausedUntil: paused }
  // Accounts and contacts first, so the Cases that name them go out with their CRM ids.
  const people = await pushPeople(ctx)
  report.people = people.claimed
  const stopped = await pausedUntil(ctx)
  if (stopped) return { ...report, skipped: 'paused', pausedUntil: stopped, calls: people.calls }
  const callsBefore = ctx.crm.calls
  const held = await withLease(ctx, OUTBOX_LEASE, ctx.holder, ctx.leaseMs, async (lease) => {
    try {
      const batchRows = opts.batchRows ?? 2000
      const maxRows = opts.maxRows ?? Infinity
      while (report.claimed < maxRows) {
        lease.assertHeld()
        const { rows } = await CRM.claim(ctx.db, ctx.clock(), { limit: Math.min(batchRows, maxRows - report.claimed), leaseMs: ctx.leaseMs })
        if (rows.length === 0) break
        report.claimed += rows.length
        const pass = new Pass(ctx, lease, rows, report, opts.hooks ?? {})
        try {
          await pass.run()
        } catch (err) {
          if (err instanceof LeaseLost) {
            // Another worker has the outbox now: its rows come back to it when their claims run out.
            report.leaseLost = true
            break
          }
          if (!(err instanceof Aborted)) {
            // Not a CRM refusal but a fault of ours: what was claimed goes back with its try counted,
            // so the next drain first looks in the CRM for what this one may have written.
            await CRM.release(ctx.db, pass.unsettled(), ctx.clock(), null, { keepAttempt: true }).catch(() => undefined)
            throw err
          }
          report.pausedUntil = await pausedUntil(ctx)
          break
        }
      }
    } finally {
      report.calls = ctx.crm.calls - callsBefore
    }
  })
  if (!held.ran) return { ...report, skipped: 'leased' }
  if (report.calls > 0 && report.pausedUntil === null) await recordCallSuccess(ctx, 'outbound')
  if (report.claimed > 0) ctx.log.info({ ...report }, 'CRM outbox drained')
  return report
}

/** One batch of claimed rows: Cases first (a comment needs its Case id), then comments. */
class Pass {
  /** Claimed rows not yet settled (done, rescheduled, deferred or dead). */
  private open: Map<number, OutboxRow>
  private readonly caseIds = new Map<number, string>()

  constructor(private readonly ctx: SyncContext, private readonly lease: HeldLease, rows: OutboxRow[], private readonly report: DrainReport, private readonly hooks: DrainHooks) {
    this.open = new Map(rows.map((r) => [r.id, r]))
  }

  /**
   * Before every CRM call: the outbox lease must still be ours (else stop: another worker took
   * over), and the rows this pass still holds stay claimed for another lease period.
   */
  private async beforeCall(): Promise<void> {
    this.lease.assertHeld()
    if (this.open.size > 0) await CRM.extend(this.ctx.db, [...this.open.keys()], this.ctx.clock(), this.ctx.leaseMs)
  }

  private now(): string {
    return this.ctx.clock().toISOString()
  }

  /** Claimed rows not settled yet. */
  unsettled(): number[] {
    return [...this.open.keys()]
  }

  async run(): Promise<void> {
    const rows = [...this.open.values()]
    await this.sendCases(rows.filter((r) => r.kind === 'case'))
    await this.sendComments(rows.filter((r) => r.kind === 'comment'))
  }

  private async done(ids: number[]): Promise<void> {
    await CRM.complete(this.ctx.db, ids, this.ctx.clock())
    for (const id of ids) this.open.delete(id)
    this.report.done += ids.length
  }

  /** A record the CRM refused: try again later, or park it when the error will not pass or tries ran out. */
  private async failed(row: OutboxRow, error: RecordError): Promise<'dead' | string> {
    const text = errorText(error)
    this.open.delete(row.id)
    if (!isTransient(error.code) || row.attempts >= this.ctx.maxAttempts) {
      await CRM.park(this.ctx.db, row.id, this.ctx.clock(), text)
      this.report.dead++
      this.ctx.log.warn({ rowId: row.id, ticketId: row.ticket_id, kind: row.kind, error: text }, 'CRM outbox row parked as dead')
      return 'dead'
    }
    const next = await CRM.retry(this.ctx.db, row, this.ctx.clock(), text, { random: this.ctx.random })
    this.report.retrying++
    return next
  }

  /**
   * A call that failed as a whole. Rows it never reached are put back without counting the try;
   * rows it may have reached keep the mark. Limits, outages and refused credentials end the pass.
   */
  private async callFailed(err: unknown, inFlight: OutboxRow[]): Promise<void> {
    const e = err instanceof CrmCallError ? err : new CrmCallError('request', 'ERROR', (err as Error)?.message ?? String(err), true, { cause: err })
    const until = await recordCallFailure(this.ctx, e)
    if (e.kind === 'request') {
      // the CRM refused the request itself (a field the org lacks, say): each row counts a try
      for (const row of inFlight) await this.failed(row, { code: e.code, message: e.message, fields: [] })
      return
    }
    const flying = new Set(inFlight.map((r) => r.id))
    const untouched = [...this.open.values()].filter((r) => !(e.maybeApplied && flying.has(r.id))).map((r) => r.id)
    await CRM.release(this.ctx.db, untouched, this.ctx.clock(), `${e.code}: ${e.message}`)
    this.open.clear()
    this.ctx.log.warn({ code: e.code, kind: e.kind, until, rows: inFlight.length }, 'CRM call failed; outbox paused')
    throw new Aborted()
  }

  // ---------------------------------------------------------------- cases

  private async sendCases(rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return
    const ctx = this.ctx
    const byTicket = new Map<number, OutboxRow[]>()
    for (const r of rows) byTicket.set(r.ticket_id, [...(byTicket.get(r.ticket_id) ?? []), r])
    const tickets = await ticketsForCase(ctx.db, [...byTicket.keys()])
    const shadows = await getShadows(ctx.db, [...byTicket.keys()])
    const outgoing: { ticket: TicketForSync; rows: OutboxRow[]; values: CaseValues; sent: CaseValues; full: boolean }[] = []
    for (const t of tickets) {
      const mine = byTicket.get(t.id)!
      // a deleted ticket leaves its Case as it was: soft delete in the portal, never a delete in the CRM
      if (t.deleted_at !== null) {
        await this.done(mine.map((r) => r.id))
        continue
      }
      const shadow = shadows.get(t.id) ?? new Map<string, string | null>()
      const full = !t.crm_case_id || shadow.size === 0
      const values = caseValues({
        id: t.id, number: t.number, title: t.title, description: t.description, url: t.url, state: t.state, status: t.status,
        priority: t.priority, source: t.source, accountCrmId: t.account_crm_id, contactCrmId: t.contact_crm_id,
        productCrmId: t.product_crm_id, ownerCrmId: t.owner_crm_id, attachments: t.attachments
      }, ctx.maps, ctx.mapping)
      const sent = changedValues(values, shadow, full)
      if (!full && Object.keys(sent).length === 0) {
        if (t.crm_case_id) this.caseIds.set(t.id, t.crm_case_id)
        await this.done(mine.map((r) => r.id))
        continue
      }
      outgoing.push({ ticket: t, rows: mine, values, sent, full })
    }

    for (let i = 0; i < outgoing.length; i += COLLECTION) {
      const batch = outgoing.slice(i, i + COLLECTION)
      const inFlight = batch.flatMap((b) => b.rows)
      let results
      await this.beforeCall()
      try {
        results = await ctx.crm.upsertCases(batch.map((b) => ({ externalId: String(b.ticket.id), values: b.sent })))
      } catch (err) {
        await this.callFailed(err, inFlight)
        continue
      }
      await this.hooks.afterCall?.('cases', batch.length)
      this.report.casesSent += batch.length
      // the collection answer has ids, not CaseNumbers: one query fetches those of new links
      const needNumber = batch.flatMap((b, k) => {
        const r = results[k]
        return r.ok && (r.created || !b.ticket.crm_case_number || b.ticket.crm_case_id !== r.id) ? [r.id] : []
      })
      let numbers = new Map<string, string>()
      if (needNumber.length > 0) {
        try {
          numbers = await ctx.crm.caseNumbers(needNumber)
        } catch (err) {
          // the Cases are written; their numbers arrive with the next inbound pass
          ctx.log.warn({ err: (err as Error).message }, 'could not read new CaseNumbers')
        }
      }
      const accepted: CaseUpserted[] = []
      for (let k = 0; k < batch.length; k++) {
        const b = batch[k]
        const r = results[k]
        if (!r.ok) continue
        if (r.created) this.report.casesCreated++
        this.caseIds.set(b.ticket.id, r.id)
        accepted.push({
          ticketId: b.ticket.id, caseId: r.id, caseNumber: numbers.get(r.id) ?? null, created: r.created, full: b.full,
          sent: b.sent as Record<string, string | null>, rowIds: b.rows.map((row) => row.id)
        })
      }
      await recordCasesUpserted(ctx, accepted)
      for (let k = 0; k < batch.length; k++) {
        const r = results[k]
        if (r.ok) {
          for (const row of batch[k].rows) this.open.delete(row.id)
          this.report.done += batch[k].rows.length
        } else {
          for (const row of batch[k].rows) await this.failed(row, r.error)
        }
      }
    }
  }

  // ---------------------------------------------------------------- comments

  private async sendComments(rows: OutboxRow[]): Promise<void> {
    const ctx = this.ctx
    const live = rows.filter((r) => this.open.has(r.id)).sort((a, b) => a.id - b.id)
    if (live.length === 0) return
    const notes = new Map((await notesForComment(ctx.db, live.map((r) => r.note_id).filter((id): id is number => id !== null))).map((n) => [n.id, n]))
    const waiting = await caseRowState(ctx.db, [...new Set(live.map((r) => r.ticket_id))])
    const queues: Queues = new Map()
    for (const row of live) {
      const note = row.note_id === null ? undefined : notes.get(row.note_id)
      if (!note || note.crm_comment_id) {
        await this.done([row.id])
        continue
      }
      const caseId = this.caseIds.get(row.ticket_id) ?? note.crm_case_id
      if (!caseId) {
        if (note.deleted_at !== null) {
          await this.done([row.id])
          continue
        }
        const w = waiting.get(row.ticket_id)
        this.open.delete(row.id)
        if (w?.dead) {
          await CRM.park(ctx.db, row.id, ctx.clock(), ctx.mapping.t('sync.error.caseNotSynced', { error: w.dead }))
          this.report.dead++
        } else {
          // the Case is not there yet: wait for it without spending a try
          const at = w?.pendingUntil && w.pendingUntil > this.now() ? w.pendingUntil : new Date(ctx.clock().getTime() + 5_000).toISOString()
          if (!w?.pendingUntil) await requestCaseSync(ctx, row.ticket_id)
          await CRM.release(ctx.db, [row.id], ctx.clock(), ctx.mapping.t('sync.error.waitingForCase'), { at: new Date(at) })
          this.report.deferred++
        }
        continue
      }
      note.crm_case_id = caseId
      queues.set(row.ticket_id, [...(queues.get(row.ticket_id) ?? []), { row, note }])
    }

    await this.recoverSentComments(queues)

    // Each call carries at most one comment per Case, so a failed comment holds back the later ones.
    for (;;) {
      const heads = [...queues.entries()].filter(([, q]) => q.length > 0)
      if (heads.length === 0) break
      for (let i = 0; i < heads.length; i += COLLECTION) {
        const batch = heads.slice(i, i + COLLECTION).map(([ticketId, q]) => ({ ticketId, ...q[0] }))
        const records = batch.map((b) => {
          const c = commentValues({ id: b.note.id, kind: b.note.kind, visibility: b.note.visibility, body: b.note.body, authorName: b.note.author_name, source: b.note.source, attachments: b.note.attachments }, ctx.mapping)
          return { caseId: b.note.crm_case_id!, body: c.CommentBody, isPublished: c.IsPublished }
        })
        let results
        await this.beforeCall()
        try {
          results = await ctx.crm.createComments(records)
        } catch (err) {
          await this.callFailed(err, batch.map((b) => b.row))
          for (const b of batch) {
            const failedRow = queues.get(b.ticketId)!.shift()!
            await this.holdBack(queues, b.ticketId, await this.nextAttemptOf(failedRow.row.id))
          }
          continue
        }
        await this.hooks.afterCall?.('comments', batch.length)
        await recordCommentsCreated(ctx, batch.flatMap((b, k) => {
          const r = results[k]
          return r.ok ? [{ noteId: b.note.id, commentId: r.id, rowId: b.row.id }] : []
        }))
        for (let k = 0; k < batch.length; k++) {
          const b = batch[k]
          const r = results[k]
          const q = queues.get(b.ticketId)!
          q.shift()
          if (r.ok) {
            this.open.delete(b.row.id)
            this.report.done++
            this.report.commentsCreated++
            continue
          }
          const outcome = await this.failed(b.row, r.error)
          // keep the Case's comments in order: the rest wait for this one
          if (outcome !== 'dead') await this.holdBack(queues, b.ticketId, outcome)
        }
      }
    }
  }

  /** Defers a Case's remaining comments until `until` (default: a backoff from now) without spending tries. */
  private async holdBack(queues: Queues, ticketId: number, until: string | null): Promise<void> {
    const q = queues.get(ticketId) ?? []
    const at = until ?? new Date(this.ctx.clock().getTime() + backoffMs(1, this.ctx.random)).toISOString()
    for (const later of q.splice(0)) {
      this.open.delete(later.row.id)
      await CRM.release(this.ctx.db, [later.row.id], this.ctx.clock(), this.ctx.mapping.t('sync.error.waitingForEarlier'), { at: new Date(at) })
      this.report.deferred++
    }
  }

  private async nextAttemptOf(rowId: number): Promise<string | null> {
    const row = await getOutboxRow(this.ctx.db, rowId)
    return row && row.status === 'pending' ? row.next_attempt_at : null
  }

  /**
   * Comments sent before (the row was claimed earlier) may have been created even though we never
   * saw the answer (a crash, a timeout): look for them on their Cases and link instead of sending twice.
   */
  private async recoverSentComments(queues: Queues): Promise<void> {
    const ctx = this.ctx
    const suspect = [...queues.values()].flat().filter((q) => q.row.attempts > 1)
    if (suspect.length === 0) return
    let existing
    await this.beforeCall()
    try {
      existing = await ctx.crm.commentsBy([...new Set(suspect.map((s) => s.note.crm_case_id!))], await ctx.crm.integrationUserId())
    } catch (err) {
      await this.callFailed(err, [])
      // not knowing what is already there, sending now could make duplicates: these Cases wait
      for (const ticketId of new Set(suspect.map((s) => s.row.ticket_id))) await this.holdBack(queues, ticketId, null)
      return
    }
    const taken = await linkedCommentIds(ctx.db, existing.map((c) => c.Id))
    const at = this.now()
    for (const [ticketId, q] of queues) {
      const keep = []
      for (const item of q) {
        if (item.row.attempts <= 1) {
          keep.push(item)
          continue
        }
        const want = commentValues({ id: item.note.id, kind: item.note.kind, visibility: item.note.visibility, body: item.note.body, authorName: item.note.author_name, source: item.note.source, attachments: item.note.attachments }, ctx.mapping)
        const match = existing.find((c) => c.ParentId.slice(0, 15) === item.note.crm_case_id!.slice(0, 15) && !taken.has(c.Id) && sameComment(c, want))
        if (!match) {
          keep.push(item)
          continue
        }
        taken.add(match.Id)
        await recordCommentsCreated(ctx, [{ noteId: item.note.id, commentId: match.Id, rowId: item.row.id }])
        this.open.delete(item.row.id)
        this.report.done++
        this.report.commentsRecovered++
      }
      queues.set(ticketId, keep)
    }
  }
}
