// /metrics speaks Prometheus' text format to a scraper holding METRICS_TOKEN: the web process's
// requests by route pattern, and what it reads from the database at scrape time (outboxes, leases,
// and each worker's counts, published with its heartbeat).
import t from 'tap'
import pino from 'pino'
import { sql } from 'kysely'
import { apiToken, loginAs, testApp } from '../helpers/app.js'
import { syncEnv } from '../sync/helpers.js'
import { makeTicket } from '../helpers/tickets.js'
import { startHeartbeat } from '../../src/work/heartbeat.js'
import { acquireLease } from '../../src/work/lease.js'
import { workerCounts } from '../../sync/worker.js'
import { startMailWorker } from '../../src/mail/deliver.js'
import { bearerMatches } from '../../src/plugins/metrics.js'
import type { WorkerStats } from '../../src/db/worker-heartbeat.js'
import type { FastifyInstance } from 'fastify'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.js'

const TOKEN = 'metrics-token-0123456789abcdef'
const silent = pino({ level: 'silent' })

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of a text exposition (the parts these tests read: names, labels, values). */
function parse(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2]
    out.push({ name: m[1], labels, value: Number(m[3]) })
  }
  return out
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = find(samples, name, labels)
  if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${hits.length} series`)
  return hits[0]?.value
}

async function scrape(app: FastifyInstance): Promise<{ text: string; samples: Sample[] }> {
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`)
  return { text: res.body, samples: parse(res.body) }
}

t.test('the bearer comparison', async (t) => {
  t.ok(bearerMatches(`Bearer ${TOKEN}`, TOKEN))
  t.ok(bearerMatches(`bearer   ${TOKEN} `, TOKEN), 'scheme in any case, spaces around')
  t.notOk(bearerMatches(`Bearer ${TOKEN}x`, TOKEN), 'a longer token')
  t.notOk(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN), 'a shorter one')
  t.notOk(bearerMatches(TOKEN, TOKEN), 'no scheme')
  t.notOk(bearerMatches(`Basic ${TOKEN}`, TOKEN), 'another scheme')
  t.notOk(bearerMatches(undefined, TOKEN), 'no header')
})

t.test('METRICS_TOKEN: checked at start, readable from a file, never echoed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-metrics-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.throws(() => loadConfig({ DATA_DIR: dir, METRICS_TOKEN: 'short-one' }), { message: /METRICS_TOKEN: .*\(got \[redacted\]\)/ }, 'at least 16 characters, and the value is not shown')
  t.throws(() => loadConfig({ DATA_DIR: dir, METRICS_TOKEN: 'has a space in it, long enough' }), { message: /METRICS_TOKEN/ })
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`)
  t.equal(loadConfig({ DATA_DIR: dir, METRICS_TOKEN_FILE: join(dir, 'token') }).METRICS_TOKEN, TOKEN, 'METRICS_TOKEN_FILE')
})

t.test('without METRICS_TOKEN there is no /metrics', async (t) => {
  const env = await testApp(t, { demo: false })
  t.equal((await env.app.inject({ url: '/metrics' })).statusCode, 404)
  t.equal((await env.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 404, 'whatever is sent')
})

t.test('a token is required, and a wrong one refused', async (t) => {
  const env = await testApp(t, { demo: false, env: { METRICS_TOKEN: TOKEN } })
  const none = await env.app.inject({ url: '/metrics' })
  t.equal(none.statusCode, 401, 'no token')
  t.equal(none.headers['www-authenticate'], 'Bearer realm="metrics"')
  t.notMatch(none.body, 'casebridge_', 'and no metric')
  t.equal((await env.app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } })).statusCode, 401, 'a wrong token')
  t.equal((await env.app.inject({ url: '/metrics', headers: { authorization: TOKEN } })).statusCode, 401, 'the token without the Bearer scheme')
  const ok = await env.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(ok.statusCode, 200)
  t.match(ok.headers['content-type'], /^text\/plain; version=0\.0\.4/, 'Prometheus text format')
  t.equal(ok.headers['cache-control'], 'no-store')
  t.match(ok.body, '# TYPE casebridge_http_request_duration_seconds histogram')
  t.match(ok.body, /^casebridge_process_resident_memory_bytes \d+/m, 'and the process itself')
})

t.test('requests by method, route pattern and status class', async (t) => {
  const env = await testApp(t, { env: { METRICS_TOKEN: TOKEN } })
  const staff = await loginAs(env.app, 'ana@casebridge.test')
  const ticket = await makeTicket(env.db, env.ids)
  t.equal((await staff.get(`/desk/tickets/${ticket.number}`)).statusCode, 200)
  t.equal((await staff.get(`/desk/tickets/${ticket.number}`)).statusCode, 200)
  t.equal((await staff.get('/desk/tickets/999999')).statusCode, 404)
  t.equal((await env.app.inject({ url: '/no/such/page/123' })).statusCode, 404)
  const token = await apiToken(env.db, 'bob@acme.test')
  t.equal((await env.app.inject({ url: `/api/v1/tickets/${ticket.id}`, headers: { authorization: `Bearer ${token}` } })).statusCode, 200)

  const { text, samples } = await scrape(env.app)
  const count = 'casebridge_http_request_duration_seconds_count'
  t.equal(value(samples, count, { method: 'GET', route: '/desk/tickets/:number', status_class: '2xx' }), 2, 'two pages of the ticket route')
  t.equal(value(samples, count, { method: 'GET', route: '/desk/tickets/:number', status_class: '4xx' }), 1, 'one not found, same route')
  t.equal(value(samples, count, { method: 'GET', route: '/api/v1/tickets/:id', status_class: '2xx' }), 1, 'the API')
  t.equal(value(samples, count, { method: 'GET', route: 'unmatched', status_class: '4xx' }), 1, 'an address no route serves')
  t.ok((value(samples, count, { method: 'POST', route: '/login', status_class: '3xx' }) ?? 0) >= 1, 'the login')
  t.notMatch(text, `/desk/tickets/${ticket.number}"`, 'no raw address in a label')
  t.notMatch(text, '/no/such/page', 'not even an unknown one')
  const buckets = find(samples, 'casebridge_http_request_duration_seconds_bucket', { route: '/desk/tickets/:number', status_class: '2xx' })
  t.ok(buckets.length > 5, 'a histogram, with buckets')
  t.equal(buckets.find((b) => b.labels.le === '+Inf')?.value, 2)
})

t.test('outbox depth and age, leases, read at scrape time', async (t) => {
  const env = await testApp(t, { env: { METRICS_TOKEN: TOKEN } })
  await makeTicket(env.db, env.ids)
  await makeTicket(env.db, env.ids)
  const count = async (table: 'mail_outbox' | 'crm_outbox', status: string) =>
    Number((await env.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', status as never).executeTakeFirstOrThrow()).n)
  // Two CRM rows parked, and every pending row made ten minutes old.
  const crm = await env.db.selectFrom('crm_outbox').select('id').orderBy('id').limit(2).execute()
  t.equal(crm.length, 2, 'the tickets queued Case writes')
  await env.db.updateTable('crm_outbox').set({ status: 'dead' }).where('id', 'in', crm.map((r) => r.id)).execute()
  const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString()
  await sql`UPDATE mail_outbox SET created_at = ${tenMinutesAgo} WHERE status = 'pending'`.execute(env.db)
  await sql`UPDATE crm_outbox SET created_at = ${tenMinutesAgo} WHERE status = 'pending'`.execute(env.db)
  await acquireLease(env.db, 'crm-outbox', 'host-a:101:abcd', new Date(), 30_000)
  await acquireLease(env.db, 'scheduled-jobs', 'host-b:202:efgh', new Date(Date.now() - 60_000), 15_000)

  const { samples } = await scrape(env.app)
  for (const [kind, table] of [['mail', 'mail_outbox'], ['crm', 'crm_outbox']] as const) {
    const pending = await count(table, 'pending')
    t.equal(value(samples, 'casebridge_outbox_rows', { kind, state: 'pending' }), pending, `${kind}: ${pending} pending`)
    t.equal(value(samples, 'casebridge_outbox_rows', { kind, state: 'dead' }), await count(table, 'dead'), `${kind}: dead rows`)
    const age = value(samples, 'casebridge_outbox_oldest_pending_age_seconds', { kind }) ?? -1
    if (pending > 0) t.ok(age >= 600 && age < 700, `${kind}: the oldest pending row is ten minutes old (${age})`)
  }
  t.equal(value(samples, 'casebridge_outbox_rows', { kind: 'crm', state: 'dead' }), 2)
  const held = value(samples, 'casebridge_lease_expires_in_seconds', { lease: 'crm-outbox', holder: 'host-a:101:abcd' }) ?? 0
  t.ok(held > 25 && held <= 30, `a held lease runs out in about 30 s (${held})`)
  const expired = value(samples, 'casebridge_lease_expires_in_seconds', { lease: 'scheduled-jobs', holder: 'host-b:202:efgh' }) ?? 0
  t.ok(expired < -40, `an expired lease shows how long ago (${expired})`)

  // Nothing waits: ages go to 0, and the numbers follow the database from one scrape to the next.
  await env.db.updateTable('mail_outbox').set({ status: 'sent' }).where('status', '=', 'pending').execute()
  const again = (await scrape(env.app)).samples
  t.equal(value(again, 'casebridge_outbox_rows', { kind: 'mail', state: 'pending' }), 0)
  t.equal(value(again, 'casebridge_outbox_oldest_pending_age_seconds', { kind: 'mail' }), 0)
})

t.test('each worker\'s counts come from its heartbeat, labelled by host and pid', async (t) => {
  const env = await testApp(t, { demo: false, env: { METRICS_TOKEN: TOKEN } })
  t.equal(value((await scrape(env.app)).samples, 'casebridge_workers'), 0, 'no worker yet')
  const stats: WorkerStats = {
    mail: { sent: 12, retried: 3, dead: 1 },
    crm: { calls: 40, apiUsed: 250, apiMax: 15000 },
    imap: { lastPassAt: new Date(Date.now() - 90_000).toISOString(), waiting: 7 }
  }
  const one = startHeartbeat({ db: env.db, clock: () => new Date(), log: silent }, {
    holder: 'w1:111:aaaa', role: 'worker', host: 'w1', pid: 111, version: '0.1.0', settings: {}, stats: () => stats
  }, 50)
  const two = startHeartbeat({ db: env.db, clock: () => new Date(), log: silent }, {
    holder: 'w2:222:bbbb', role: 'all', host: 'w2', pid: 222, version: '0.1.0', settings: {}
  }, 50)
  t.teardown(async () => { await one.stop(); await two.stop() })
  await new Promise((r) => setTimeout(r, 150))

  let { samples } = await scrape(env.app)
  const w1 = { host: 'w1', pid: '111' }
  t.equal(value(samples, 'casebridge_workers'), 2)
  t.equal(value(samples, 'casebridge_worker_info', { ...w1, role: 'worker', version: '0.1.0' }), 1)
  t.ok((value(samples, 'casebridge_worker_heartbeat_age_seconds', w1) ?? 99) < 5, 'a fresh beat')
  t.equal(value(samples, 'casebridge_worker_mails_total', { ...w1, outcome: 'sent' }), 12)
  t.equal(value(samples, 'casebridge_worker_mails_total', { ...w1, outcome: 'retried' }), 3)
  t.equal(value(samples, 'casebridge_worker_mails_total', { ...w1, outcome: 'dead' }), 1)
  t.equal(value(samples, 'casebridge_worker_crm_calls_total', w1), 40)
  t.equal(value(samples, 'casebridge_worker_crm_api_limit', w1), 15000)
  t.equal(value(samples, 'casebridge_worker_crm_api_remaining', w1), 14750)
  const lag = value(samples, 'casebridge_worker_imap_last_pass_age_seconds', w1) ?? 0
  t.ok(lag >= 90 && lag < 120, `IMAP lag: the last pass 90 s ago (${lag})`)
  t.equal(value(samples, 'casebridge_worker_imap_waiting_messages', w1), 7)
  t.equal(find(samples, 'casebridge_worker_mails_total', { host: 'w2' }).length, 0, 'a worker that publishes no counts has none')
  t.match((await scrape(env.app)).text, '# TYPE casebridge_worker_mails_total counter')

  // The counts move with the worker's next beat.
  stats.mail.sent = 15
  await new Promise((r) => setTimeout(r, 150))
  t.equal(value((await scrape(env.app)).samples, 'casebridge_worker_mails_total', { ...w1, outcome: 'sent' }), 15)

  // A stopped worker removes its row; its series go with it.
  await one.stop()
  ;({ samples } = await scrape(env.app))
  t.equal(value(samples, 'casebridge_workers'), 1)
  t.equal(find(samples, 'casebridge_worker_info', w1).length, 0)
  t.equal(find(samples, 'casebridge_worker_crm_calls_total', w1).length, 0)
})

t.test('a worker\'s CRM calls and the allowance the CRM reports (Sforce-Limit-Info)', async (t) => {
  const env = await syncEnv(t, { env: { METRICS_TOKEN: TOKEN }, emulator: { apiLimit: 5000 } })
  const counts = workerCounts(env.adapter, false)
  t.same(counts.snapshot().mail, { sent: 0, retried: 0, dead: 0 })
  t.equal(counts.snapshot().crm.calls, env.adapter.calls)
  await makeTicket(env.db, env.ids)
  await env.drainAll()
  // The mail worker tells what each drain did.
  const mailWorker = startMailWorker({ config: env.config, db: env.db, log: silent, transport: { sendMail: async () => ({}) }, onDrain: (r) => counts.mailDrained(r) })
  await mailWorker.drainNow()
  await mailWorker.stop()
  const sent = await env.db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'sent').executeTakeFirstOrThrow()
  t.ok(Number(sent.n) > 0, 'the new ticket\'s mail went out')
  t.same(counts.snapshot().mail, { sent: Number(sent.n), retried: 0, dead: 0 }, 'and was counted')
  counts.mailDrained({ sent: 2, retried: 1, dead: 0 })
  counts.mailDrained({ sent: 1, retried: 0, dead: 1 })
  const snap = counts.snapshot()
  t.same(snap.mail, { sent: Number(sent.n) + 3, retried: 1, dead: 1 }, 'drains add up')
  t.ok(snap.crm.calls > 0, `CRM calls counted (${snap.crm.calls})`)
  t.equal(snap.crm.apiMax, 5000, 'the allowance the emulator reported')
  t.ok(snap.crm.apiUsed !== null && snap.crm.apiUsed > 0, 'and the usage')
  t.equal(snap.imap, null, 'no IMAP poller: no IMAP numbers')

  const beat = startHeartbeat({ db: env.db, clock: () => new Date(), log: silent }, {
    holder: 'w3:333:cccc', role: 'worker', host: 'w3', pid: 333, version: '0.1.0', settings: {}, stats: () => counts.snapshot()
  }, 50)
  t.teardown(() => beat.stop())
  await new Promise((r) => setTimeout(r, 150))
  const { samples } = await scrape(env.app)
  const w3 = { host: 'w3', pid: '333' }
  t.equal(value(samples, 'casebridge_worker_crm_calls_total', w3), env.adapter.calls)
  t.equal(value(samples, 'casebridge_worker_crm_api_remaining', w3), 5000 - env.adapter.apiUsage()!.used)
  t.equal(find(samples, 'casebridge_worker_imap_last_pass_age_seconds', w3).length, 0)

  const imapCounts = workerCounts(env.adapter, true)
  t.same(imapCounts.snapshot().imap, { lastPassAt: null, waiting: 0 }, 'before the first pass')
  const at = new Date()
  imapCounts.imapPass(at, 3)
  t.same(imapCounts.snapshot().imap, { lastPassAt: at.toISOString(), waiting: 3 })
})
