// The list and ticket queries the benchmarked pages run, called directly (no HTTP): CPU time
// per call, each SQL statement's time and SQLite's plan for the slow ones. --reference runs the
// lists in their first form (bench/portal/reference.ts) for before/after figures.
//
// The advanced-search cases (bench/portal/search-cases.ts) follow the page cases; --search runs
// only them, and the dashboard's figures (dashboardFigures) are timed for Ana and the admin.
//
//   npx tsx bench/portal/queries.ts --data DIR [--only NAME] [--repeat 5] [--reference] [--quiet] [--search]
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Kysely, SqliteDialect } from 'kysely'
import type { Database } from '../../src/db/schema.js'
import { openSqlite } from '../../src/db/index.js'
import { getTicketForActorByNumber, listNotes } from '../../src/db/ticket.js'
import { listTickets } from '../../src/db/ticket-search.js'
import { findLogin, loadActor } from '../../src/db/people.js'
import { dashboardFigures } from '../../src/db/reports.js'
import type { StaffActor } from '../../src/domain/permissions.js'
import { dayStart } from '../../src/domain/search.js'
import { DEFAULT_DAYS, windowStart } from '../../src/routes/desk/reports.js'
import type { BenchInfo } from './seed.js'
import { referenceList } from './reference.js'
import { ADMIN, PER_PAGE, searchCases, searchIds } from './search-cases.js'

interface Logged { sql: string; params: readonly unknown[]; ms: number }

async function main() {
  const { values } = parseArgs({ options: { data: { type: 'string' }, only: { type: 'string' }, repeat: { type: 'string', default: '5' }, reference: { type: 'boolean', default: false }, quiet: { type: 'boolean', default: false }, search: { type: 'boolean', default: false } } })
  const info = JSON.parse(readFileSync(join(resolve(values.data ?? ''), 'bench.json'), 'utf8')) as BenchInfo
  // Set up as the server's connections are (their page cache included), so figures match theirs.
  const sqlite = openSqlite(info.dbFile)
  let logged: Logged[] = []
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: sqlite }),
    log: (e) => { logged.push({ sql: e.query.sql, params: e.query.parameters, ms: e.queryDurationMillis }) }
  })
  const c = await findLogin(db, info.client.email)
  const s = await findLogin(db, info.staff.email)
  const client = (await loadActor(db, 'contact', c!.id))!
  const staff = (await loadActor(db, 'staff', s!.id))!
  const word = info.search.word
  const list = values.reference ? referenceList : listTickets
  const cases: [string, () => Promise<unknown>][] = [
    ['my requests', () => list(db, client, { q: '', situation: 'all', sort: 'created_at', order: 'desc', page: 1, perPage: 20 })],
    ['ticket page', async () => {
      const ticket = await getTicketForActorByNumber(db, client, info.ticketNumbers[0])
      await listNotes(db, client, ticket!.id)
    }],
    ['staff queue', () => list(db, staff, { scope: 'desks', situation: 'open', sort: 'created_at', order: 'desc', page: 1, perPage: 25 })],
    ['api search (staff)', () => list(db, staff, { q: word, page: 1, perPage: 20 })],
    ['my requests search', () => list(db, client, { q: word, situation: 'all', page: 1, perPage: 20 })],
    ['my requests open', () => list(db, client, { situation: 'open', page: 1, perPage: 20 })],
    ['staff queue mine', () => list(db, staff, { scope: 'mine', situation: 'open', page: 1, perPage: 25 })]
  ]
  const a = await findLogin(db, ADMIN.email)
  const admin = (await loadActor(db, 'staff', a!.id))!
  const actors = { staff, admin, client }
  const now = new Date()
  if (values.search) cases.length = 0
  for (const c of searchCases(await searchIds(db, info), now)) {
    cases.push([`search ${c.name}`, () => list(db, actors[c.who], { ...c.filters, perPage: PER_PAGE[c.who], now })])
  }
  // the dashboard's default window: tickets opened in the last 30 days
  const since = dayStart(windowStart(now, DEFAULT_DAYS))
  cases.push(
    ['dashboard figures (staff)', () => dashboardFigures(db, staff as StaffActor, now, since)],
    ['dashboard figures (admin)', () => dashboardFigures(db, admin as StaffActor, now, since)]
  )
  const repeat = Number(values.repeat)
  for (const [name, fn] of cases) {
    if (values.only && !name.includes(values.only)) continue
    await measure(name, fn)
  }
  async function measure(name: string, fn: () => Promise<unknown>) {
    const times: number[] = []
    const runs: Logged[][] = []
    const first = await fn() as { total?: number; totalCapped?: boolean } | undefined
    const matches = typeof first?.total === 'number' ? `, ${first.total}${first.totalCapped ? '+' : ''} matching` : ''
    const cpu = process.cpuUsage()
    for (let i = 0; i < repeat; i++) {
      logged = []
      const t0 = performance.now()
      await fn()
      times.push(performance.now() - t0)
      runs.push(logged)
    }
    const used = process.cpuUsage(cpu)
    times.sort((a, b) => a - b)
    process.stdout.write(`\n## ${name}: CPU ${((used.user + used.system) / 1000 / repeat).toFixed(2)} ms per call, wall median ${times[Math.floor(times.length / 2)].toFixed(1)} ms${matches}\n`)
    if (values.quiet) return
    runs[0].forEach((q, i) => {
      const ms = runs.map((r) => r[i].ms).sort((a, b) => a - b)[Math.floor(runs.length / 2)]
      process.stdout.write(`  ${ms.toFixed(2).padStart(8)} ms  ${q.sql.replace(/\s+/g, ' ')}\n`)
      if (ms > 0.3) {
        process.stdout.write(`${' '.repeat(14)}params ${JSON.stringify(q.params)}\n`)
        for (const p of sqlite.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.params as unknown[])) as { id: number; parent: number; detail: string }[]) {
          process.stdout.write(`${' '.repeat(14)}${p.detail}\n`)
        }
      }
    })
  }
  await db.destroy()
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
