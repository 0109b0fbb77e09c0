// Several machines on one PostgreSQL: 2 web and 2 worker processes, a load of tickets opened 50 at
// a time through the API with a staff reply each, then the checks a support team cares about.
//
//   scripts/pg-test.sh --run npx tsx bench/scale/run.ts [--tickets 2000] [--concurrency 50] [--chaos]
//
// (scripts/pg-test.sh --run starts a throwaway PostgreSQL and gives its URL as TEST_DATABASE_URL;
// or set DATABASE_URL to a server where this role may create databases.)
//
// Every process is the real `src/server.ts` (`ROLE=web` twice, `ROLE=worker` twice) over one
// fresh database; the CRM is the emulator in its own process (`casebridge emulator`), reached by
// both workers through the production jsforce adapter; mail goes to an SMTP server in this process
// that notes each message's Message-ID, recipient and arrival time. Each ticket is opened by a
// client through one web process and answered by its assignee through the other, every POST with
// an Idempotency-Key and retried on a network error or 5xx.
//
// --chaos kills (SIGKILL) one worker and one web process at a third of the load and starts them
// again two seconds later; requests that hit the dead one are retried on the other.
//
// Then, once the outboxes are empty (or 180 s have passed), it checks: no ticket or reply lost,
// no duplicate Case or case comment (the emulator, by external id), every queued mail received
// exactly once (by Message-ID), least-load balance (max − min open tickets per available staff
// member of the desk ≤ 1), the last notification received within 60 s of the load ending; and
// prints mails/s. Exit status 1 when a check fails.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { AddressInfo } from 'node:net'
import jsforce from 'jsforce'
import pg from 'pg'
import { SMTPServer } from 'smtp-server'
import { createDb, migrateToLatest, type Db } from '../../src/db/index.js'
import { seedDemo } from '../../src/commands/demo.js'
import { createApiTokenFor } from '../../src/commands/people.js'
import { API_VERSION } from '../../sync/crm/salesforce.js'
import { mirrorPortalToCrm } from '../../sync/crm/demo.js'
import { EXTERNAL_ID_FIELD } from '../../sync/crm/mapping.js'

const { values: args } = parseArgs({
  options: { tickets: { type: 'string' }, concurrency: { type: 'string' }, chaos: { type: 'boolean' }, keep: { type: 'boolean' } }
})
const N = Number(args.tickets ?? 2000)
const CONCURRENCY = Number(args.concurrency ?? 50)
const PRODUCT = 'Casebridge Cloud'
const DESK = 'Product Support'

const root = new URL('../../', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'casebridge-scale-'))
const say = (s: string) => process.stdout.write(s + '\n')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

// ------------------------------------------------------------------------------------------ parts

async function freshDatabase(serverUrl: string): Promise<string> {
  const name = `casebridge_scale_${Date.now()}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

interface Received { messageId: string; to: string[]; at: number }

async function smtpSink(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = []
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, maxClients: 100,
    onData(stream, session, callback) {
      let head = ''
      let inHead = true
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        if (!inHead) return
        head += chunk
        const end = head.indexOf('\r\n\r\n')
        if (end >= 0) { head = head.slice(0, end); inHead = false }
      })
      stream.on('end', () => {
        const unfolded = head.replace(/\r\n[ \t]+/g, ' ')
        const messageId = /^message-id:\s*(.+)$/im.exec(unfolded)?.[1]?.trim() ?? '(none)'
        received.push({ messageId, to: session.envelope.rcptTo.map((r) => r.address), at: Date.now() })
        callback()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as AddressInfo).port
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

async function startEmulator(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'emulator', '--port', '0', '--file', join(dir, 'emulator.db')], {
    cwd: root, env: { ...process.env, DATA_DIR: dir, DATABASE_URL: '', SALESFORCE_CLIENT_ID: 'casebridge', SALESFORCE_CLIENT_SECRET: 'emulator' }, stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  for (;;) {
    const m = out.match(/listening on (http:\/\/\S+)/)
    if (m) return { url: m[1], stop: async () => { child.kill('SIGTERM'); await exited } }
    if (child.exitCode !== null) throw new Error(`emulator exited:\n${out}`)
    await sleep(100)
  }
}

class Proc {
  child: ChildProcess | null = null
  constructor(readonly name: string, readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root, env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'pipe']
    })
    child.stderr!.setEncoding('utf8').on('data', (c: string) => { if (/error|fatal/i.test(c)) process.stderr.write(`[${this.name}] ${c}`) })
    this.child = child
    if (this.env.ROLE !== 'web') { await sleep(500); return }
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.env.PORT}/healthz`)).ok) return
      } catch { /* not up yet */ }
      if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}`)
      await sleep(100)
    }
    throw new Error(`${this.name} did not start`)
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => { child.once('exit', () => resolve()); child.kill(signal) })
  }
}

/** A free TCP port for a web process (asked of the kernel, then released). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

// ------------------------------------------------------------------------------------------ load

interface Counters { requests: number; retries: number; failures: string[]; why: Map<string, number> }

/** POSTs JSON with an Idempotency-Key, on `bases` in turn: a network error or a 5xx is tried again on the next. */
async function post(bases: string[], first: number, path: string, token: string, body: unknown, counters: Counters): Promise<any> {
  const key = randomUUID()
  // A key whose first request died with its web process stays claimed until the API deems it
  // abandoned (two minutes): keep retrying past that.
  const giveUp = Date.now() + 180_000
  for (let attempt = 0; Date.now() < giveUp; attempt++) {
    const base = bases[(first + attempt) % bases.length]
    counters.requests++
    try {
      const res = await fetch(base + path, {
        method: 'POST', body: JSON.stringify(body),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key }
      })
      if (res.status < 500 && res.status !== 409) {
        const json = await res.json()
        if (res.status >= 400) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`)
        return json
      }
      counters.why.set(String(res.status), (counters.why.get(String(res.status)) ?? 0) + 1)
      if (process.env.SCALE_DEBUG) say(`  ${path} attempt ${attempt}: ${res.status} ${(await res.text()).slice(0, 200)}`)
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(`${path}: `)) throw err
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
      counters.why.set(code, (counters.why.get(code) ?? 0) + 1)
    }
    counters.retries++
    await sleep(Math.min(200 * (attempt + 1), 5_000))
  }
  throw new Error(`${path}: no answer in 180 s`)
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const server = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL
  if (!server || !/^postgres/.test(server)) throw new Error('set DATABASE_URL (or run under scripts/pg-test.sh --run) to a PostgreSQL server')
  say(`machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  say(`load: ${fmt(N)} tickets, ${CONCURRENCY} at a time, a staff reply each${args.chaos ? '; chaos: a worker and a web process killed at a third' : ''}`)

  const databaseUrl = await freshDatabase(server)
  const db: Db = await createDb(databaseUrl)
  await migrateToLatest(db)
  await seedDemo(db)
  const emulator = await startEmulator()
  const sink = await smtpSink()
  const admin = new jsforce.Connection({ oauth2: { loginUrl: emulator.url, clientId: 'casebridge', clientSecret: 'emulator' }, version: API_VERSION })
  await admin.authorize({ grant_type: 'client_credentials' })
  await mirrorPortalToCrm(db, admin)

  const shared = {
    DATABASE_URL: databaseUrl, SMTP_URL: sink.url, SMTP_FROM: 'support@casebridge.test',
    SALESFORCE_LOGIN_URL: emulator.url, SALESFORCE_CLIENT_ID: 'casebridge', SALESFORCE_CLIENT_SECRET: 'emulator',
    SESSION_SECRET: randomBytes(32).toString('hex'), MAIL_TOKEN_SECRET: randomBytes(32).toString('hex'),
    PUBLIC_URL: 'https://support.example.com', LOG_LEVEL: 'warn', SEED: 'none', COOKIE_SECURE: 'false'
  }
  const webPorts = [await freePort(), await freePort()]
  const procs = [
    new Proc('web-1', { ...shared, ROLE: 'web', WEB_CONCURRENCY: '1', PORT: String(webPorts[0]), DATA_DIR: join(dir, 'web-1') }),
    new Proc('web-2', { ...shared, ROLE: 'web', WEB_CONCURRENCY: '1', PORT: String(webPorts[1]), DATA_DIR: join(dir, 'web-2') }),
    new Proc('worker-1', { ...shared, ROLE: 'worker', PORT: '0', DATA_DIR: join(dir, 'worker-1') }),
    new Proc('worker-2', { ...shared, ROLE: 'worker', PORT: '0', DATA_DIR: join(dir, 'worker-2') })
  ]
  const bases = webPorts.map((p) => `http://127.0.0.1:${p}/api/v1`)
  try {
    for (const p of procs) await p.start()

    // Clients of the accounts, and every staff member of the desk, with an API token each.
    const product = await db.selectFrom('product').select('id').where('name', '=', PRODUCT).executeTakeFirstOrThrow()
    // Clients of one account each (one who belongs to several names the account on each ticket).
    const memberships = await db.selectFrom('contact_account').select(['contact_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('contact_id').execute()
    const contacts = memberships.filter((m) => Number(m.n) === 1).map((m) => ({ id: m.contact_id })).sort((a, b) => a.id - b.id)
    const staff = await db.selectFrom('staff').innerJoin('desk_member', 'desk_member.staff_id', 'staff.id').innerJoin('desk', 'desk.id', 'desk_member.desk_id')
      .select(['staff.id', 'staff.available']).where('desk.name', '=', DESK).where('staff.role', '=', 'staff').execute()
    const specialists = await db.selectFrom('staff_product').select(['staff_id', 'product_id']).execute()
    // Who least load chooses among: available members of the desk who serve the product.
    const eligible = staff.filter((s) => s.available && (!specialists.some((p) => p.staff_id === s.id) || specialists.some((p) => p.staff_id === s.id && p.product_id === product.id))).map((s) => s.id)
    const clientTokens = await Promise.all(contacts.map((c) => createApiTokenFor({ db, clock: () => new Date(), random: Math.random }, { kind: 'contact', id: c.id }, 'scale')))
    const staffTokens = new Map<number, string>()
    for (const s of staff) staffTokens.set(s.id, await createApiTokenFor({ db, clock: () => new Date(), random: Math.random }, { kind: 'staff', id: s.id }, 'scale'))
    const mailsBefore = await db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()

    const counters: Counters = { requests: 0, retries: 0, failures: [], why: new Map() }
    let next = 0
    let done = 0
    let chaos: Promise<void> | null = null
    const startedAt = Date.now()
    const lane = async () => {
      for (;;) {
        const i = next++
        if (i >= N) return
        if (args.chaos && i === Math.floor(N / 3) && !chaos) {
          chaos = (async () => {
            await Promise.all([procs[2].kill('SIGKILL'), procs[1].kill('SIGKILL')])
            say(`  chaos: worker-1 and web-2 killed at ticket ${i}`)
            await sleep(2000)
            await Promise.all([procs[2].start(), procs[1].start()])
            say('  chaos: both started again')
          })()
        }
        try {
          const token = clientTokens[i % clientTokens.length]
          const ticket = await post(bases, i, '/tickets', token, { title: `Scale ticket ${i + 1}`, description: 'Opened by bench/scale.', productId: product.id }, counters)
          const assignee = ticket.assignee?.id as number | undefined
          const staffToken = assignee === undefined ? undefined : staffTokens.get(assignee)
          if (!staffToken) throw new Error(`ticket ${ticket.number} assigned to ${assignee ?? 'nobody'}, not a desk member`)
          await post(bases, i + 1, `/tickets/${ticket.id}/notes`, staffToken, { body: `Scale reply ${i + 1}: we are on it.` }, counters)
          done++
        } catch (err) {
          counters.failures.push((err as Error).message)
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, lane))
    if (chaos) await chaos
    const loadEnd = Date.now()
    const loadSeconds = (loadEnd - startedAt) / 1000
    say(`load: ${fmt(done)} tickets with a reply in ${loadSeconds.toFixed(1)} s (${fmt(done / loadSeconds, 1)} tickets/s, ${fmt(counters.requests)} requests, ${counters.retries} retried, ${counters.failures.length} failed)`)
    for (const f of counters.failures.slice(0, 5)) say(`  failure: ${f}`)
    if (counters.why.size > 0) say(`  retried because: ${[...counters.why].map(([k, n]) => `${k} ×${n}`).join(', ')}`)

    // Wait for the outboxes to empty and every queued mail to arrive.
    const deadline = Date.now() + 180_000
    let expectedMails = 0
    for (;;) {
      const pendingMail = await db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()
      const pendingCrm = await db.selectFrom('crm_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()
      const sent = await db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'sent').executeTakeFirstOrThrow()
      expectedMails = Number(sent.n)
      if (Number(pendingMail.n) === 0 && Number(pendingCrm.n) === 0 && sink.received.length >= expectedMails) break
      if (Date.now() > deadline) { say(`  gave up waiting: ${pendingMail.n} mails and ${pendingCrm.n} CRM rows pending`); break }
      await sleep(500)
    }
    const settledSeconds = (Date.now() - loadEnd) / 1000

    // ------------------------------------------------------------------ checks
    const problems: string[] = []
    const check = (ok: boolean, line: string) => { say(`  ${ok ? 'ok  ' : 'FAIL'} ${line}`); if (!ok) problems.push(line) }
    say(`\nafter ${settledSeconds.toFixed(1)} s:`)

    const tickets = await db.selectFrom('ticket').select(['id', 'title', 'crm_case_id']).where('title', 'like', 'Scale ticket %').execute()
    const titles = new Set(tickets.map((t) => t.title))
    check(tickets.length === N && titles.size === N, `tickets: ${fmt(tickets.length)} stored for ${fmt(N)} opened (${fmt(titles.size)} distinct: none lost, none twice)`)
    const replies = await db.selectFrom('note').select('body').where('body', 'like', 'Scale reply %').execute()
    const replyBodies = new Set(replies.map((r) => r.body))
    check(replies.length === N && replyBodies.size === N, `replies: ${fmt(replies.length)} stored for ${fmt(N)} sent (${fmt(replyBodies.size)} distinct)`)

    const cases = await admin.query<{ Id: string; [k: string]: unknown }>(`SELECT Id, ${EXTERNAL_ID_FIELD} FROM Case WHERE Subject LIKE 'Scale ticket %'`, { autoFetch: true, maxFetch: 1_000_000 })
    const byTicket = new Map<string, number>()
    for (const c of cases.records) byTicket.set(String(c[EXTERNAL_ID_FIELD]), (byTicket.get(String(c[EXTERNAL_ID_FIELD])) ?? 0) + 1)
    const twice = [...byTicket.values()].filter((n) => n > 1).length
    const linked = tickets.filter((t) => t.crm_case_id !== null).length
    check(cases.records.length === N && twice === 0 && linked === N, `Cases: ${fmt(cases.records.length)} for ${fmt(N)} tickets, ${twice} duplicated, ${fmt(linked)} tickets linked`)
    // A comment's body cannot be filtered on (a long text area, as in Salesforce): read them all.
    const allComments = await admin.query<{ CommentBody: string }>('SELECT CommentBody FROM CaseComment', { autoFetch: true, maxFetch: 1_000_000 })
    // Each comment is headed by its author (sync/crm/mapping.ts), then the reply.
    const comments = allComments.records.map((c) => /Scale reply \d+/.exec(c.CommentBody ?? '')?.[0]).filter((b): b is string => b !== undefined)
    const commentBodies = new Set(comments)
    check(comments.length === N && commentBodies.size === N, `case comments: ${fmt(comments.length)} for ${fmt(N)} replies (${fmt(commentBodies.size)} distinct)`)

    const queued = await db.selectFrom('mail_outbox').select(['id', 'status', 'message_key']).execute()
    const newMails = queued.length - Number(mailsBefore.n)
    const ids = new Map<string, number>()
    for (const m of sink.received) ids.set(m.messageId, (ids.get(m.messageId) ?? 0) + 1)
    const dupMails = [...ids.values()].filter((n) => n > 1).length
    const notSent = queued.filter((m) => m.status !== 'sent').length
    check(notSent === 0, `mails: ${fmt(queued.length)} queued (${fmt(newMails)} by this load), ${notSent} not sent`)
    check(sink.received.length === expectedMails && dupMails === 0, `mails received: ${fmt(sink.received.length)} for ${fmt(expectedMails)} sent, ${dupMails} Message-IDs received twice`)

    // What least load counts: each person's open tickets, on any desk.
    const open = await db.selectFrom('ticket')
      .select(['ticket.assignee_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('ticket.state', 'in', ['open', 'in_progress', 'on_hold']).where('ticket.deleted_at', 'is', null)
      .groupBy('ticket.assignee_id').execute()
    const loads = eligible.map((id) => Number(open.find((o) => o.assignee_id === id)?.n ?? 0))
    check(Math.max(...loads) - Math.min(...loads) <= 1, `least-load balance over the ${eligible.length} available staff of ${DESK} serving ${PRODUCT}: ${loads.join(' / ')} open tickets (max − min = ${Math.max(...loads) - Math.min(...loads)})`)

    const times = sink.received.map((m) => m.at).sort((a, b) => a - b)
    const lastAfterLoad = times.length ? (times[times.length - 1] - loadEnd) / 1000 : 0
    check(lastAfterLoad <= 60, `last notification received ${lastAfterLoad.toFixed(1)} s after the load ended (limit 60 s)`)
    const during = times.filter((t) => t >= startedAt)
    const span = during.length > 1 ? (during[during.length - 1] - during[0]) / 1000 : 0
    say(`\nmail: ${fmt(during.length)} messages in ${span.toFixed(1)} s → ${fmt(span > 0 ? during.length / span : 0, 1)} mails/s (2 workers, pooled SMTP)`)
    say(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
    if (problems.length > 0) {
      say(`\n${problems.length} check(s) failed`)
      process.exitCode = 1
    } else {
      say('\nall checks passed')
    }
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')))
    await emulator.stop()
    await sink.close()
    await db.destroy()
    if (!args.keep) rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
