import pino from 'pino'
import type { Test } from 'tap'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { addTicketNote, performerOf } from '../helpers/commands.js'
import type { Connection } from 'jsforce'
import { testApp, type TestEnv, type TestAppOptions } from '../helpers/app.js'
import { emulatorFor, TEST_CLIENT, type EmulatorEnv } from '../emulator/helpers.js'
import type { EmulatorOptions } from '../../sync/emulator/index.js'
import { SalesforceAdapter } from '../../sync/crm/salesforce.js'
import { createSyncContext, type SyncContext } from '../../sync/crm/context.js'
import { mirrorPortalToCrm } from '../../sync/crm/demo.js'
import { drainOutbox, type DrainHooks } from '../../sync/outbox.js'
import { pollInbound } from '../../sync/inbound.js'
import { importReference } from '../../sync/reference.js'

interface Tap {
  teardown(fn: () => unknown): void
}

export interface SyncEnv extends TestEnv {
  crm: EmulatorEnv
  adapter: SalesforceAdapter
  ctx: SyncContext
  /** The sync's clock runs with real time plus an offset tests move to skip backoffs and pauses. */
  now: { offset: number; advance(ms: number): void; ms(): number }
  drain(hooks?: DrainHooks): ReturnType<typeof drainOutbox>
  /** Drains until nothing is due (moving the clock past backoffs when `skipWaits`). */
  drainAll(opts?: { skipWaits?: boolean; max?: number }): Promise<void>
  poll(): ReturnType<typeof pollInbound>
  /** A CRM user's own jsforce connection (password grant). */
  crmUser(): Promise<Connection>
  /** The integration user's connection, for reading what landed in the CRM. */
  reader(): Promise<Connection>
}

/**
 * The app with the demo organisation, a fresh emulator, the portal's reference data mirrored into
 * it and imported back (so accounts, contacts, products and staff have CRM ids), and a sync context.
 */
export async function syncEnv(t: Tap, opts: { app?: TestAppOptions; emulator?: Partial<EmulatorOptions>; env?: Record<string, string>; mirror?: boolean } = {}): Promise<SyncEnv> {
  const env = await testApp(t, { ...opts.app, env: { PUBLIC_URL: 'https://support.example.com', ...opts.env, ...opts.app?.env } })
  const crm = await emulatorFor(t, opts.emulator)
  const adapter = new SalesforceAdapter({
    settings: { auth: 'client_credentials', loginUrl: crm.url, instanceUrl: null, ...TEST_CLIENT },
    callTimeoutMs: 20_000
  })
  const now = { offset: 0, advance(ms: number) { this.offset += ms }, ms() { return Date.now() + this.offset } }
  const ctx = createSyncContext({
    db: env.db, crm: adapter, config: env.config, log: pino({ level: 'silent' }),
    clock: () => new Date(now.ms()), random: () => 0.5, holder: 'test-worker'
  })
  if (opts.mirror !== false) {
    const admin = await crm.connect()
    await mirrorPortalToCrm(env.db, admin, (u) => crm.emu.createUser({ username: u.username, email: u.email, firstName: u.firstName ?? undefined, lastName: u.lastName, password: 'emulator' }))
    await importReference(ctx)
  }
  const drain = (hooks?: DrainHooks) => drainOutbox(ctx, { hooks })
  return {
    ...env, crm, adapter, ctx, now, drain,
    async drainAll(o = {}) {
      for (let i = 0; i < (o.max ?? 50); i++) {
        const r = await drain()
        const due = await env.db.selectFrom('crm_outbox').select('next_attempt_at').where('status', '=', 'pending').orderBy('next_attempt_at').executeTakeFirst()
        if (!due) return
        if (r.claimed === 0 && r.skipped === null && !o.skipWaits) return
        if (o.skipWaits) {
          const paused = r.pausedUntil ? Date.parse(r.pausedUntil) : 0
          const target = Math.max(Date.parse(due.next_attempt_at), paused) + 1
          if (target > now.ms()) now.advance(target - now.ms())
        }
      }
      throw new Error('outbox did not drain')
    },
    poll: () => pollInbound(ctx),
    crmUser: () => crm.crmConnection(),
    reader: () => crm.connect()
  }
}

/** Cases in the emulator, keyed by Portal_Ticket_Id__c. */
export async function casesByTicket(conn: Connection): Promise<Map<string, Record<string, any>[]>> {
  const res = await conn.query<Record<string, any>>('SELECT Id, CaseNumber, Portal_Ticket_Id__c, Subject, Description, Status, Priority, Origin, AccountId, ContactId, OwnerId, ProductId, LastModifiedById FROM Case')
  let page = res
  const out = new Map<string, Record<string, any>[]>()
  for (;;) {
    for (const r of page.records) out.set(String(r.Portal_Ticket_Id__c), [...(out.get(String(r.Portal_Ticket_Id__c)) ?? []), r])
    if (page.done || !page.nextRecordsUrl) break
    page = await conn.queryMore(page.nextRecordsUrl)
  }
  return out
}

export async function commentsOf(conn: Connection, caseId: string): Promise<Record<string, any>[]> {
  const res = await conn.query<Record<string, any>>(`SELECT Id, CommentBody, IsPublished, CreatedById FROM CaseComment WHERE ParentId = '${caseId}' ORDER BY CreatedDate, Id`)
  return res.records
}

export async function allComments(conn: Connection): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = []
  let page = await conn.query<Record<string, any>>('SELECT Id, ParentId, CommentBody, IsPublished FROM CaseComment')
  for (;;) {
    out.push(...page.records)
    if (page.done || !page.nextRecordsUrl) break
    page = await conn.queryMore(page.nextRecordsUrl)
  }
  return out
}

/** Every live ticket has exactly one Case; every note we wrote has exactly one comment, linked both ways. */
export async function assertExactlyOnce(t: Test, env: SyncEnv) {
  const { db } = env
  const reader = await env.reader()
  const cases = await casesByTicket(reader)
  const tickets = await db.selectFrom('ticket').select(['id', 'crm_case_id']).where('deleted_at', 'is', null).execute()
  const wrong = tickets.filter((tk) => cases.get(String(tk.id))?.length !== 1 || cases.get(String(tk.id))![0].Id !== tk.crm_case_id)
  t.same(wrong, [], `each of the ${tickets.length} tickets has exactly one Case`)
  const notes = await db.selectFrom('note').select(['id', 'crm_comment_id']).where('source', '!=', 'crm').execute()
  const comments = await allComments(reader)
  t.equal(comments.length, notes.length, `one comment per note (${notes.length})`)
  t.equal(new Set(notes.map((n) => n.crm_comment_id)).size, notes.length, 'each note linked to its own comment')
  t.ok(notes.every((n) => n.crm_comment_id !== null && comments.some((c) => c.Id === n.crm_comment_id)), 'every link points at a real comment')
  t.equal(await db.selectFrom('crm_outbox').select('id').where('status', '!=', 'done').executeTakeFirst(), undefined, 'nothing left in the outbox')
}

export async function ticketsWithNotes(env: SyncEnv, n: number) {
  const ana = await staffActor(env.db, env.ids, 'ana@casebridge.test')
  const made = []
  for (let i = 0; i < n; i++) {
    const tk = await makeTicket(env.db, env.ids, { title: `Outage ticket ${i}`, contact: i % 2 ? 'bob@acme.test' : 'alice@acme.test' })
    await addTicketNote({ db: env.db, clock: () => new Date() }, performerOf(ana), tk.id, { mode: 'reply', body: `Looking into ${i}` })
    if (i % 3 === 0) await addTicketNote({ db: env.db, clock: () => new Date() }, performerOf(ana), tk.id, { mode: 'internal', body: `Note ${i}` })
    made.push(tk)
  }
  return made
}

