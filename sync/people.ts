/**
 * Pushes the accounts and contacts created or edited in the portal to the CRM (crm_people_outbox),
 * before the Cases that name them. A record without a CRM id is first looked for there (an Account
 * by name, a Contact by e-mail) and linked when found, created only when not: so a push that
 * crashed after its create links on the next try instead of creating a twin. A linked record is
 * updated with the portal's values. A contact takes its first account as AccountId.
 */
import { LeaseLost, withLease, type HeldLease } from '../src/work/lease.js'
import { outbox } from '../src/work/outbox.js'
import { CRM_RETRY } from '../src/work/backoff.js'
import type { OutboxRows } from '../src/db/outbox.js'
import { accountsForCrm, contactsForCrm, type ContactForCrm } from '../src/db/crm-people.js'
import { recordCrmLinks, type CrmLink } from '../src/commands/crm-people.js'
import { CrmCallError, type PeopleObject, type RecordError, type RecordResult } from './crm/adapter.js'
import { pausedUntil, recordCallFailure, recordCallSuccess, type SyncContext } from './crm/context.js'
import { splitName } from './crm/demo.js'
import { isTransient } from './outbox.js'

export const PEOPLE_LEASE = 'crm-people'
const COLLECTION = 200
const PEOPLE = outbox('crm_people', { policy: CRM_RETRY })

type Row = OutboxRows['crm_people']

export interface PeopleReport {
  skipped: 'paused' | 'leased' | null
  claimed: number
  linked: number
  created: number
  updated: number
  retrying: number
  dead: number
  calls: number
}

const lower = (s: string) => s.trim().toLowerCase()

function errorText(e: RecordError): string {
  return `${e.code}: ${e.message}${e.fields.length ? ` (${e.fields.join(', ')})` : ''}`
}

/** The Contact fields the portal owns. */
export function contactValues(c: ContactForCrm): Record<string, unknown> {
  const { FirstName, LastName } = splitName(c.name || c.email)
  return { FirstName, LastName, Email: c.email, Phone: c.phone, ...(c.accountCrmId ? { AccountId: c.accountCrmId } : {}) }
}

class Stop extends Error {}

/** One push: claims due rows in batches until none is left, under its own lease. */
export async function pushPeople(ctx: SyncContext, opts: { batchRows?: number } = {}): Promise<PeopleReport> {
  const report: PeopleReport = { skipped: null, claimed: 0, linked: 0, created: 0, updated: 0, retrying: 0, dead: 0, calls: 0 }
  if (await pausedUntil(ctx)) return { ...report, skipped: 'paused' }
  const before = ctx.crm.calls
  const held = await withLease(ctx, PEOPLE_LEASE, ctx.holder, ctx.leaseMs, async (lease) => {
    try {
      for (;;) {
        lease.assertHeld()
        const { rows } = await PEOPLE.claim(ctx.db, ctx.clock(), { limit: opts.batchRows ?? COLLECTION, leaseMs: ctx.leaseMs })
        if (rows.length === 0) break
        report.claimed += rows.length
        const pass = new PeoplePass(ctx, lease, rows, report)
        try {
          await pass.run()
        } catch (err) {
          if (err instanceof Stop) {
            // Rows this pass had not reached yet go back at once, their try not counted.
            await PEOPLE.release(ctx.db, pass.unsettled(), ctx.clock(), null)
            break
          }
          // A fault of ours: the rows go back with their try counted (the next push looks before it creates).
          await PEOPLE.release(ctx.db, pass.unsettled(), ctx.clock(), null, { keepAttempt: true }).catch(() => undefined)
          throw err
        }
      }
    } catch (err) {
      if (!(err instanceof LeaseLost)) throw err
    } finally {
      report.calls = ctx.crm.calls - before
    }
  })
  if (!held.ran) return { ...report, skipped: 'leased' }
  if (report.calls > 0 && !(await pausedUntil(ctx))) await recordCallSuccess(ctx, 'outbound')
  if (report.claimed > 0) ctx.log.info({ ...report }, 'accounts and contacts pushed to the CRM')
  return report
}

class PeoplePass {
  private open: Map<number, Row>

  constructor(private readonly ctx: SyncContext, private readonly lease: HeldLease, rows: Row[], private readonly report: PeopleReport) {
    this.open = new Map(rows.map((r) => [r.id, r]))
  }

  unsettled(): number[] {
    return [...this.open.keys()]
  }

  async run(): Promise<void> {
    const rows = [...this.open.values()]
    const accountRows = rows.filter((r) => r.entity === 'account')
    const contactRows = rows.filter((r) => r.entity === 'contact')
    // A contact's account goes first, so the Contact can name it.
    const contacts = await contactsForCrm(this.ctx.db, contactRows.map((r) => r.entity_id))
    const implied = [...contacts.values()].filter((c) => c.accountId !== null && c.accountCrmId === null).map((c) => c.accountId!)
    await this.pushAccounts(accountRows, implied)
    await this.pushContacts(contactRows)
  }

  private async beforeCall(): Promise<void> {
    this.lease.assertHeld()
    if (this.open.size > 0) await PEOPLE.extend(this.ctx.db, [...this.open.keys()], this.ctx.clock(), this.ctx.leaseMs)
  }

  private async call<T>(fn: () => Promise<T>, inFlight: Row[]): Promise<T> {
    await this.beforeCall()
    try {
      return await fn()
    } catch (err) {
      const e = err instanceof CrmCallError ? err : new CrmCallError('request', 'ERROR', (err as Error)?.message ?? String(err), true, { cause: err })
      const until = await recordCallFailure(this.ctx, e)
      if (e.kind === 'request') {
        for (const row of inFlight) await this.failed(row, { code: e.code, message: e.message, fields: [] })
        throw new Stop()
      }
      // Every row goes back; one the call may have reached keeps its try (the next push looks first).
      const flying = new Set(inFlight.map((r) => r.id))
      const untouched = [...this.open.values()].filter((r) => !(e.maybeApplied && flying.has(r.id))).map((r) => r.id)
      await PEOPLE.release(this.ctx.db, untouched, this.ctx.clock(), `${e.code}: ${e.message}`)
      const touched = [...this.open.keys()].filter((id) => !untouched.includes(id))
      if (touched.length > 0) await PEOPLE.release(this.ctx.db, touched, this.ctx.clock(), `${e.code}: ${e.message}`, { keepAttempt: true })
      this.open.clear()
      this.ctx.log.warn({ code: e.code, kind: e.kind, until }, 'CRM call failed while pushing accounts and contacts; paused')
      throw new Stop()
    }
  }

  private async done(rows: Row[]): Promise<void> {
    if (rows.length === 0) return
    await PEOPLE.complete(this.ctx.db, rows.map((r) => r.id), this.ctx.clock())
    for (const r of rows) this.open.delete(r.id)
  }

  private async failed(row: Row, error: RecordError): Promise<void> {
    const text = errorText(error)
    this.open.delete(row.id)
    if (!isTransient(error.code) || row.attempts >= this.ctx.maxAttempts) {
      await PEOPLE.park(this.ctx.db, row.id, this.ctx.clock(), text)
      this.report.dead++
      this.ctx.log.warn({ rowId: row.id, entity: row.entity, entityId: row.entity_id, error: text }, 'CRM account or contact parked as dead')
      return
    }
    await PEOPLE.retry(this.ctx.db, row, this.ctx.clock(), text, { random: this.ctx.random })
    this.report.retrying++
  }

  /** Links what the CRM already has, creates the rest, updates the linked ones that were edited. */
  private async push<R extends { id: number; crmId: string | null }>(opts: {
    object: PeopleObject
    records: R[]
    /** The rows owing each record (none for an account pushed only because a contact names it). */
    rowsOf: (id: number) => Row[]
    key: (r: R) => string
    values: (r: R) => Record<string, unknown>
    /** The CRM record's key, as `key` gives it for a portal record. */
    crmKey: (c: { Name: string; Email?: string | null }) => string
  }): Promise<void> {
    const entity = opts.object === 'Account' ? 'account' : 'contact'
    const unlinked = opts.records.filter((r) => r.crmId === null)
    const inFlight = (rs: R[]) => rs.flatMap((r) => opts.rowsOf(r.id))
    const links: CrmLink[] = []
    if (unlinked.length > 0) {
      const found = await this.call(() => this.ctx.crm.findPeople(opts.object, unlinked.map(opts.key)), inFlight(unlinked))
      const byKey = new Map<string, string>()
      for (const c of found) if (!byKey.has(opts.crmKey(c))) byKey.set(opts.crmKey(c), c.Id)
      const missing: R[] = []
      for (const r of unlinked) {
        const crmId = byKey.get(opts.key(r))
        if (crmId) links.push({ entity, id: r.id, crmId })
        else missing.push(r)
      }
      this.report.linked += unlinked.length - missing.length
      for (let i = 0; i < missing.length; i += COLLECTION) {
        const part = missing.slice(i, i + COLLECTION)
        const results: RecordResult[] = await this.call(() => this.ctx.crm.createPeople(opts.object, part.map(opts.values)), inFlight(part))
        for (const [j, res] of results.entries()) {
          if (res.ok) {
            links.push({ entity, id: part[j].id, crmId: res.id })
            this.report.created++
          } else {
            for (const row of opts.rowsOf(part[j].id)) await this.failed(row, res.error)
          }
        }
      }
      await recordCrmLinks(this.ctx, links)
      await this.done(links.flatMap((l) => opts.rowsOf(l.id)))
    }
    // Records linked before this push were edited in the portal: the CRM gets the portal's values.
    const edited = opts.records.filter((r) => r.crmId !== null && opts.rowsOf(r.id).length > 0)
    for (let i = 0; i < edited.length; i += COLLECTION) {
      const part = edited.slice(i, i + COLLECTION)
      const results = await this.call(() => this.ctx.crm.updatePeople(opts.object, part.map((r) => ({ ...opts.values(r), Id: r.crmId! }))), inFlight(part))
      for (const [j, res] of results.entries()) {
        if (res.ok) {
          await this.done(opts.rowsOf(part[j].id))
          this.report.updated++
        } else {
          for (const row of opts.rowsOf(part[j].id)) await this.failed(row, res.error)
        }
      }
    }
  }

  private async pushAccounts(rows: Row[], implied: number[]): Promise<void> {
    const ids = [...new Set([...rows.map((r) => r.entity_id), ...implied])]
    const accounts = [...(await accountsForCrm(this.ctx.db, ids)).values()]
    // A row for an account that is gone has nothing to send.
    await this.done(rows.filter((r) => !accounts.some((a) => a.id === r.entity_id)))
    await this.push({
      object: 'Account', records: accounts, key: (a) => lower(a.name), crmKey: (c) => lower(c.Name),
      rowsOf: (id) => rows.filter((r) => r.entity_id === id && this.open.has(r.id)),
      values: (a) => ({ Name: a.name })
    })
  }

  private async pushContacts(rows: Row[]): Promise<void> {
    // Read again: the accounts just pushed have their CRM ids now.
    const contacts = [...(await contactsForCrm(this.ctx.db, rows.map((r) => r.entity_id))).values()]
    await this.done(rows.filter((r) => !contacts.some((c) => c.id === r.entity_id)))
    await this.push({
      object: 'Contact', records: contacts, key: (c) => lower(c.email), crmKey: (c) => lower(c.Email ?? ''),
      rowsOf: (id) => rows.filter((r) => r.entity_id === id && this.open.has(r.id)),
      values: contactValues
    })
  }
}
