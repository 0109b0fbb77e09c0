// Measures the portal's busiest pages against a bare Fastify route, in one run, on a database
// made by bench/portal/seed.ts:
//
//   npm run bench:portal -- --data DIR [--duration 10] [--connections 10] [--rounds 1] [--warmup 2] [--search]
//
// --search measures the advanced search instead (bench/portal/search-cases.ts: combined filters
// on /desk as Ana and as the admin, and on /portal as the busy account's manager), beside the
// plain queue and My requests; its aim is p99 < 100 ms.
//
// Experiments (not the shipped configuration; each prints a note): --cache-intl reuses
// Intl.DateTimeFormat objects, --pragma K=V sets a
// SQLite pragma on the app's connection (e.g. --pragma cache_size=-262144).
//
// With --processes N the app is instead the real server (`src/server.ts`, ROLE=web,
// WEB_CONCURRENCY=N) in processes of its own, and the server CPU per request is read from /proc
// for them all (the main process and its web processes).
//
// The real app (buildApp, logger off) and a bare Fastify server listen in this process; the
// load comes from autocannon in a child process (bench/portal/load.ts), so on a 2-core machine
// the servers get one core and the load generator the other, and this process's CPU time per
// request is the server's alone (a figure other work on the machine barely disturbs). Each target is warmed up, then measured for a fixed
// duration; with --rounds N every target is measured N times (interleaved) and medians printed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { cpus, loadavg, totalmem } from 'node:os'
import Fastify from 'fastify'
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process'
import type { Result } from 'autocannon'
import { sql } from 'kysely'
import { loadConfig } from '../../src/config.js'
import { createDb, migrateToLatest } from '../../src/db/index.js'
import { buildApp } from '../../src/app.js'
import { findLogin, loadActor } from '../../src/db/people.js'
import { listTickets } from '../../src/db/ticket-search.js'
import { createApiTokenFor } from '../../src/commands/people.js'
import type { Actor } from '../../src/domain/permissions.js'
import type { BenchInfo } from './seed.js'
import { login } from './seeded.js'
import { cacheIntlFormatters } from './experiments.js'
import { ADMIN, PER_PAGE, searchCases, searchIds, type SearchCase } from './search-cases.js'

interface Target {
  name: string
  base: string
  /** GET unless told (the create target POSTs; its check creates a ticket too). */
  requests: { path: string; method?: 'POST'; body?: string }[]
  headers: Record<string, string>
  /** p99 aim in ms (default 50, the page aim; the advanced search aims at 100). */
  aimP99?: number
}

interface Measure {
  rps: number
  p50: number
  p99: number
  /** Server CPU time (this process: user + system) per completed request. */
  cpuMs: number
  non2xx: number
  errors: number
}

function log(msg: string) {
  process.stdout.write(`${msg}\n`)
}


/** One request per target before measuring: the page must answer 200 with real content. */
async function check(target: Target, expect: (body: string) => string | null): Promise<number> {
  const first = target.requests[0]
  const res = await fetch(`${target.base}${first.path}`, { method: first.method ?? 'GET', body: first.body, headers: target.headers, redirect: 'manual' })
  const body = await res.text()
  if (res.status !== (first.method === 'POST' ? 201 : 200)) throw new Error(`${target.name}: ${target.requests[0].path} answered ${res.status}: ${body.slice(0, 300)}`)
  const problem = expect(body)
  if (problem) throw new Error(`${target.name}: ${problem}`)
  return Buffer.byteLength(body)
}

/** CPU time (ms) used so far by the server: this process, or the processes of a separate server. */
type CpuClock = () => number

const ownCpu: CpuClock = () => {
  const used = process.cpuUsage()
  return (used.user + used.system) / 1000
}

/** The CPU time (ms) of a process and its children, from /proc (clock ticks of 10 ms). */
function processTreeCpu(pid: number): CpuClock {
  const ticks = (p: number) => {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')
    return Number(fields[11]) + Number(fields[12])
  }
  return () => {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
    return [pid, ...children].reduce((sum, p) => sum + ticks(p), 0) * 10
  }
}

/** The real server in processes of its own (ROLE=web, WEB_CONCURRENCY=processes) over the bench database. */
async function startServer(dir: string, processes: number): Promise<{ base: string; cpu: CpuClock; stop: () => Promise<void> }> {
  const probe = Fastify()
  const port = Number(new URL(await probe.listen({ port: 0, host: '127.0.0.1' })).port)
  await probe.close()
  // The project's root (this file is bench/portal/run.ts, or dist/bench/portal/run.js in the
  // build), and the server as `npm start` runs it: the production build.
  const root = new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url).pathname
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' })
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    cwd: root, stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ROLE: 'web', WEB_CONCURRENCY: String(processes), PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'warn', COOKIE_SECURE: 'false', SEED: 'none', LOGIN_RATE_LIMIT: '1000' }
  })
  const base = `http://127.0.0.1:${port}`
  for (const deadline = Date.now() + 120_000; ;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`)
    const up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false)
    if (up) break
    if (Date.now() > deadline) throw new Error('the server did not start in 2 minutes')
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return { base, cpu: processTreeCpu(child.pid!), stop: async () => { child.kill('SIGTERM'); await exited } }
}

function fire(loader: ChildProcess, target: Target, seconds: number, connections: number, cpuClock: CpuClock): Promise<Measure> {
  return new Promise((done, fail) => {
    const cpuBefore = target.base === bareBaseUrl ? ownCpu() : cpuClock()
    loader.once('message', (msg: { error?: string; result?: Result }) => {
      const usedMs = (target.base === bareBaseUrl ? ownCpu() : cpuClock()) - cpuBefore
      if (msg.error || !msg.result) return fail(new Error(msg.error ?? 'no result from the load generator'))
      const result = msg.result
      done({
        rps: result.requests.total / (result.duration || seconds),
        p50: result.latency.p50,
        p99: result.latency.p99,
        cpuMs: usedMs / Math.max(result.requests.total, 1),
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts
      })
    })
    loader.send({ url: target.base, connections, duration: seconds, headers: target.headers, requests: target.requests })
  })
}

/** The bare route's address: its CPU is this process's own whatever serves the app. */
let bareBaseUrl = ''

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function main() {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: process.env.BENCH_DATA },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '2' },
      only: { type: 'string' },
      search: { type: 'boolean', default: false },
      out: { type: 'string' },
      'cache-intl': { type: 'boolean', default: false },
      pragma: { type: 'string', multiple: true, default: [] },
      processes: { type: 'string', default: '0' }
    }
  })
  if (!values.data) throw new Error('pass --data DIR (a directory made by bench/portal/seed.ts)')
  const dir = resolve(values.data)
  const infoFile = join(dir, 'bench.json')
  if (!existsSync(infoFile)) throw new Error(`${infoFile} is missing: seed first (npm run bench:seed -- --data ${dir})`)
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as BenchInfo
  const duration = Number(values.duration)
  const connections = Number(values.connections)
  const rounds = Number(values.rounds)
  const warmup = Number(values.warmup)

  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', COOKIE_SECURE: 'false', SEED: 'none', LOGIN_RATE_LIMIT: '1000' })
  const experiments: string[] = []
  const db = await createDb(config.databaseUrl)
  const applied = await migrateToLatest(db)
  if (applied.length > 0) log(`applied migrations: ${applied.join(', ')}`)
  for (const p of values.pragma ?? []) {
    if (!/^\w+\s*=\s*-?\w+$/.test(p)) throw new Error(`--pragma ${p}: expected NAME=VALUE`)
    await sql.raw(`PRAGMA ${p}`).execute(db)
    experiments.push(`PRAGMA ${p}`)
  }
  if (values['cache-intl']) {
    cacheIntlFormatters()
    experiments.push('Intl.DateTimeFormat objects reused')
  }
  const processes = Number(values.processes)
  if (!Number.isInteger(processes) || processes < 0) throw new Error('--processes N: a whole number (0: the app in this process)')
  const app = processes > 0 ? null : await buildApp({ config, db, logger: false })
  const server = processes > 0 ? await startServer(dir, processes) : null
  const appBase = server ? server.base : await app!.listen({ port: 0, host: '127.0.0.1' })
  const cpuClock = server ? server.cpu : ownCpu

  // The reference: the same framework, process and host, with no work behind the route.
  const bare = Fastify({ logger: false })
  const bareHtml = '<!doctype html><html><head><title>ok</title></head><body><p>Hello from a bare route.</p></body></html>'
  bare.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(bareHtml))
  const bareBase = await bare.listen({ port: 0, host: '127.0.0.1' })
  bareBaseUrl = bareBase

  const clientCookie = await login(appBase, info.client.email, info.client.password)
  const staffCookie = await login(appBase, info.staff.email, info.staff.password)
  const staff = await findLogin(db, info.staff.email)
  if (!staff) throw new Error(`no staff ${info.staff.email}`)
  const token = await createApiTokenFor({ db, clock: () => new Date(), random: Math.random }, staff, 'bench')
  const client = await findLogin(db, info.client.email)
  if (!client) throw new Error(`no client ${info.client.email}`)
  const clientToken = await createApiTokenFor({ db, clock: () => new Date(), random: Math.random }, client, 'bench')
  // Tickets in the staff member's queue (the client's tickets may be on another desk).
  const staffActor = await loadActor(db, staff.kind, staff.id)
  if (!staffActor) throw new Error(`no staff ${info.staff.email}`)
  const productId = (await db.selectFrom('product').select('id').orderBy('id').executeTakeFirstOrThrow()).id
  const staffNumbers = (await listTickets(db, staffActor, { perPage: 20, now: new Date() })).items.map((t) => t.number)
  const word = info.search.word

  let all: (Target & { expect: (body: string) => string | null })[] = [
    { name: 'bare Fastify route', base: bareBase, requests: [{ path: '/' }], headers: {}, expect: () => null },
    {
      name: 'portal: My requests (GET /portal)', base: appBase, requests: [{ path: '/portal' }], headers: { cookie: clientCookie },
      expect: (b) => (b.includes('/portal/tickets/') ? null : 'no ticket links on My requests')
    },
    {
      name: 'portal: ticket page (GET /portal/tickets/:n)', base: appBase,
      requests: info.ticketNumbers.map((n) => ({ path: `/portal/tickets/${n}` })), headers: { cookie: clientCookie },
      expect: (b) => (b.includes(`#${info.ticketNumbers[0]}`) ? null : 'ticket number missing from its page')
    },
    {
      name: 'desk: staff queue (GET /desk)', base: appBase, requests: [{ path: '/desk' }], headers: { cookie: staffCookie },
      expect: (b) => (b.includes('/desk/tickets/') ? null : 'no ticket links in the queue')
    },
    {
      name: 'desk: staff ticket page (GET /desk/tickets/:n)', base: appBase,
      requests: staffNumbers.map((n) => ({ path: `/desk/tickets/${n}` })), headers: { cookie: staffCookie },
      expect: (b) => (b.includes(`#${staffNumbers[0]}`) ? null : 'ticket number missing from its staff page')
    },
    {
      // Each request opens a ticket (assigned by least load): the create path, end to end.
      name: 'api: create a ticket (POST /api/v1/tickets)', base: appBase,
      requests: [{ path: '/api/v1/tickets', method: 'POST', body: JSON.stringify({ title: 'Printer offline on the 3rd floor', description: 'Since this morning; restarted twice.', productId })  }],
      headers: { authorization: `Bearer ${clientToken}`, 'content-type': 'application/json' },
      expect: (b) => (/"number":\d+/.test(b) ? null : 'no ticket number in the answer')
    },
    {
      name: `api: GET /api/v1/tickets?q=${word}`, base: appBase, requests: [{ path: `/api/v1/tickets?q=${encodeURIComponent(word)}` }],
      headers: { authorization: `Bearer ${token}` },
      expect: (b) => {
        const json = JSON.parse(b) as { items?: unknown[]; total?: number }
        return json.items && json.items.length > 0 && (json.total ?? 0) > 0 ? null : `no results for "${word}"`
      }
    }
  ]
  if (values.search) {
    const adminCookie = await login(appBase, ADMIN.email, ADMIN.password)
    const cookies = { staff: staffCookie, admin: adminCookie, client: clientCookie }
    const actorOf = async (email: string): Promise<Actor> => {
      const who = await findLogin(db, email)
      const actor = who ? await loadActor(db, who.kind, who.id) : null
      if (!actor) throw new Error(`no login ${email}`)
      return actor
    }
    const actors = { staff: await actorOf(info.staff.email), admin: await actorOf(ADMIN.email), client: await actorOf(info.client.email) }
    const now = new Date()
    // The page must show what listTickets gives for the same filters: its first ticket, or none.
    const expectSame = async (c: SearchCase) => {
      const want = await listTickets(db, actors[c.who], { ...c.filters, perPage: PER_PAGE[c.who], now })
      const first = want.items[0]?.number
      const area = c.who === 'client' ? 'portal' : 'desk'
      return (b: string) => first === undefined
        ? (b.includes(`/${area}/tickets/`) ? 'tickets listed where the search finds none' : null)
        : (b.includes(`/${area}/tickets/${first}"`) ? null : `ticket #${first} (first of ${want.total}${want.totalCapped ? '+' : ''}) missing: are the filters applied?`)
    }
    all = [all[0], all[1], all[3]]
    for (const c of searchCases(await searchIds(db, info), now)) {
      all.push({ name: `search ${c.name} (${c.url})`, base: appBase, requests: [{ path: c.url }], headers: { cookie: cookies[c.who] }, aimP99: 100, expect: await expectSame(c) })
    }
  }
  const targets = all.filter((t, i) => i === 0 || !values.only || t.name.includes(values.only))

  log(`database: ${info.tickets.toLocaleString('en')} tickets, ${info.notes.toLocaleString('en')} notes, ${info.accounts.toLocaleString('en')} accounts (${dir})`)
  log(`client ${info.client.email} manages an account with ${info.client.accountTickets.toLocaleString('en')} tickets; staff ${info.staff.email}; search "${word}" matches ${info.search.matches.toLocaleString('en')} tickets`)
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`)
  log(`load: autocannon, ${connections} connections, ${warmup} s warm-up + ${duration} s per target, ${rounds} round(s)`)
  log(server ? `server: src/server.ts with ROLE=web WEB_CONCURRENCY=${processes}, in processes of its own (CPU per request: all of them, from /proc)` : 'server: the app in this process')
  log(experiments.length > 0 ? `EXPERIMENT (not the shipped configuration): ${experiments.join('; ')}\n` : 'configuration: as shipped\n')
  const sizes = new Map<string, number>()
  for (const t of targets) sizes.set(t.name, await check(t, t.expect))

  // load.ts under tsx, load.js in the build (`npm run build`, then `node dist/bench/portal/run.js`)
  const loader = fork(new URL(import.meta.url.endsWith('.ts') ? './load.ts' : './load.js', import.meta.url).pathname, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const results = new Map<string, Measure[]>(targets.map((t) => [t.name, []]))
  const ratios = new Map<string, number[]>(targets.map((t) => [t.name, []]))
  for (let r = 0; r < rounds; r++) {
    let bareRps = 0
    for (const t of targets) {
      if (warmup > 0) await fire(loader, t, warmup, connections, cpuClock)
      const m = await fire(loader, t, duration, connections, cpuClock)
      if (t === targets[0]) bareRps = m.rps
      results.get(t.name)!.push(m)
      ratios.get(t.name)!.push(m.rps / bareRps)
      log(`round ${r + 1}: ${t.name}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, server CPU ${m.cpuMs.toFixed(2)} ms/req${m.non2xx || m.errors ? `, non-2xx ${m.non2xx}, errors ${m.errors}` : ''}`)
    }
  }

  const bareCpu = median(results.get(targets[0].name)!.map((m) => m.cpuMs))
  const rows = targets.map((t) => {
    const ms = results.get(t.name)!
    const ratio = median(ratios.get(t.name)!)
    const p99 = median(ms.map((m) => m.p99))
    const cpuMs = median(ms.map((m) => m.cpuMs))
    const isBare = t === targets[0]
    return {
      name: t.name,
      rps: median(ms.map((m) => m.rps)),
      p50: median(ms.map((m) => m.p50)),
      p99,
      ratio,
      cpuMs,
      cpuRatio: bareCpu / cpuMs,
      bytes: sizes.get(t.name)!,
      aim: isBare ? '' : t.aimP99 !== undefined ? (p99 < t.aimP99 ? 'met' : 'missed') : ratio >= 0.2 && p99 < 50 ? 'met' : 'missed',
      failures: ms.reduce((n, m) => n + m.non2xx + m.errors, 0)
    }
  })
  const header = `| target | req/s | p50 ms | p99 ms | vs bare | server CPU ms/req | CPU vs bare | body | ${values.search ? 'aim (search: p99 < 100 ms; pages: ≥20%, p99 < 50 ms)' : 'aim (≥20%, p99 < 50 ms)'} |`
  log(`\n${rounds > 1 ? `medians of ${rounds} rounds\n` : ''}${header}\n|---|---:|---:|---:|---:|---:|---:|---:|---|`)
  for (const r of rows) {
    log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${(r.ratio * 100).toFixed(1)}% | ${r.cpuMs.toFixed(2)} | ${(r.cpuRatio * 100).toFixed(1)}% | ${(r.bytes / 1024).toFixed(1)} KiB | ${r.aim}${r.failures ? ` (${r.failures} failed)` : ''} |`)
  }
  log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`)
  log('\nvs bare: req/s over the bare route\'s req/s in the same round. CPU vs bare: the bare route\'s server CPU per request over the page\'s')
  log('(the throughput ratio one core would give with nothing else running; it barely moves when the machine is shared).')
  if (values.out) writeFileSync(values.out, JSON.stringify({ info, connections, duration, rounds, experiments, rows, at: new Date().toISOString() }, null, 2))

  loader.disconnect()
  await bare.close()
  await app?.close()
  await server?.stop()
  await db.destroy()
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
