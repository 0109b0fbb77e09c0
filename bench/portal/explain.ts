// Which queries does each benchmarked page run, how long does each take, and how does SQLite
// plan it? Builds the app over a logging Kysely on a bench database and requests each page:
//
//   npx tsx bench/portal/explain.ts --data DIR [--plans] [--repeat 5] [--only 'ticket page'] [--cache-intl] [--search]
//
// --search explains the advanced-search pages (bench/portal/search-cases.ts) instead.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config.js'
import type { Database } from '../../src/db/schema.js'
import { migrateToLatest } from '../../src/db/index.js'
import { buildApp } from '../../src/app.js'
import { findLogin } from '../../src/db/people.js'
import { createApiTokenFor } from '../../src/commands/people.js'
import type { BenchInfo } from './seed.js'
import { cacheIntlFormatters } from './experiments.js'
import { ADMIN, searchCases, searchIds } from './search-cases.js'

interface Logged { sql: string; params: readonly unknown[]; ms: number }

async function loginCookie(app: FastifyInstance, email: string, password: string): Promise<string> {
  const form = await app.inject({ method: 'GET', url: '/login' })
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? ''
  const jar = new Map<string, string>()
  for (const c of form.cookies as { name: string; value: string }[]) jar.set(c.name, c.value)
  const cookie = () => [...jar].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ')
  const res = await app.inject({
    method: 'POST', url: '/login', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, email, password }).toString()
  })
  if (res.statusCode !== 302) throw new Error(`login ${email}: ${res.statusCode}`)
  for (const c of res.cookies as { name: string; value: string }[]) jar.set(c.name, c.value)
  return cookie()
}

async function main() {
  const { values } = parseArgs({
    options: { data: { type: 'string' }, plans: { type: 'boolean', default: false }, repeat: { type: 'string', default: '5' }, only: { type: 'string' }, 'cache-intl': { type: 'boolean', default: false }, search: { type: 'boolean', default: false } }
  })
  if (values['cache-intl']) cacheIntlFormatters()
  const dir = resolve(values.data ?? '')
  const info = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as BenchInfo
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', COOKIE_SECURE: 'false', SEED: 'none', LOGIN_RATE_LIMIT: '1000' })
  const sqlite = new SqliteDatabase(info.dbFile)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  let logged: Logged[] = []
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: sqlite }),
    log: (e) => { logged.push({ sql: e.query.sql, params: e.query.parameters, ms: e.queryDurationMillis }) }
  })
  await migrateToLatest(db)
  const app = await buildApp({ config, db, logger: false })
  await app.ready()
  const client = await loginCookie(app, info.client.email, info.client.password)
  const staffCookie = await loginCookie(app, info.staff.email, info.staff.password)
  const staff = await findLogin(db, info.staff.email)
  const token = await createApiTokenFor({ db, clock: () => new Date(), random: Math.random }, staff!, 'explain')
  const pages: [string, string, Record<string, string>][] = [
    ['My requests', '/portal', { cookie: client }],
    ['ticket page', `/portal/tickets/${info.ticketNumbers[0]}`, { cookie: client }],
    ['staff queue', '/desk', { cookie: staffCookie }],
    ['api search', `/api/v1/tickets?q=${info.search.word}`, { authorization: `Bearer ${token}` }]
  ]
  if (values.search) {
    const cookies = { staff: staffCookie, client, admin: await loginCookie(app, ADMIN.email, ADMIN.password) }
    pages.length = 0
    for (const c of searchCases(await searchIds(db, info), new Date())) pages.push([c.name, c.url, { cookie: cookies[c.who] }])
  }
  const repeat = Number(values.repeat)
  for (const [name, url, headers] of pages) {
    if (values.only && !name.includes(values.only)) continue
    const runs: Logged[][] = []
    const totals: number[] = []
    for (let i = 0; i < repeat; i++) {
      logged = []
      const t0 = performance.now()
      const res = await app.inject({ method: 'GET', url, headers })
      totals.push(performance.now() - t0)
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`)
      runs.push(logged)
    }
    const last = runs[runs.length - 1]
    totals.sort((a, b) => a - b)
    process.stdout.write(`\n## ${name} (${url}): median ${totals[Math.floor(totals.length / 2)].toFixed(1)} ms per request, ${last.length} queries\n`)
    last.forEach((q, i) => {
      const ms = runs.map((r) => r[i]?.ms ?? 0).sort((a, b) => a - b)[Math.floor(runs.length / 2)]
      process.stdout.write(`  ${ms.toFixed(2).padStart(8)} ms  ${q.sql.replace(/\s+/g, ' ').slice(0, values.plans ? 4000 : 160)}\n`)
      if (values.plans && ms > 0.5) {
        const plan = sqlite.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.params as unknown[])) as { id: number; parent: number; detail: string }[]
        const depth = new Map<number, number>([[0, 0]])
        for (const p of plan) {
          const d = (depth.get(p.parent) ?? 0) + 1
          depth.set(p.id, d)
          process.stdout.write(`${' '.repeat(14 + d * 2)}${p.detail}\n`)
        }
        process.stdout.write(`${' '.repeat(14)}params: ${JSON.stringify(q.params)}\n`)
      }
    })
  }
  await app.close()
  await db.destroy()
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
