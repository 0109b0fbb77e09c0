// How many SQL statements each measured page runs (transactions' BEGIN and COMMIT left out), and which: the app is built in this process
// over a database made by bench/portal/seed.ts, and every query it executes is counted per request.
//
//   npx tsx bench/portal/statements.ts --data DIR [--show]
//
// --show prints each statement's SQL (shortened) under its page.
import { parseArgs } from 'node:util'
import type { InjectOptions } from 'fastify'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { Database } from '../../src/db/schema.js'
import { createDb, migrateToLatest, openSqlite } from '../../src/db/index.js'
import { buildApp } from '../../src/app.js'
import { findLogin, loadActor } from '../../src/db/people.js'
import { listTickets } from '../../src/db/ticket-search.js'
import { createApiTokenFor } from '../../src/commands/people.js'
import { openSeeded, runBench } from './seeded.js'
import { Agent } from '../../test/helpers/app.js'

/** A SQLite connection that counts (and keeps the SQL of) every statement Kysely asks it to prepare: one per query executed. */
function countingConnection(sqlite: SqliteDatabase.Database) {
  return {
    seen: [] as string[],
    prepare(text: string) {
      this.seen.push(text)
      return sqlite.prepare(text)
    },
    close() {
      sqlite.close()
    }
  }
}

async function main() {
  const { values } = parseArgs({ options: { data: { type: 'string', default: process.env.BENCH_DATA }, show: { type: 'boolean', default: false } } })
  const { info, config } = openSeeded(values.data)
  const base = await createDb(config.databaseUrl)
  await migrateToLatest(base)
  // The same connection createDb opens, counted.
  const sqlite = openSqlite(config.databaseUrl.slice('sqlite:'.length))
  const counter = countingConnection(sqlite)
  const texts: string[] = []
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: counter as unknown as SqliteDatabase.Database }) })
  const app = await buildApp({ config, db, logger: false })
  await app.ready()

  const login = async (email: string, password: string) => {
    const agent = new Agent(app)
    await agent.login(email, password)
    return [...agent.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ')
  }
  const client = await login(info.client.email, info.client.password)
  const staffCookie = await login(info.staff.email, info.staff.password)
  const staff = (await findLogin(base, info.staff.email))!
  const clientLogin = (await findLogin(base, info.client.email))!
  const clientToken = await createApiTokenFor({ db: base, clock: () => new Date(), random: Math.random }, clientLogin, 'statements')
  const staffActor = (await loadActor(base, staff.kind, staff.id))!
  const staffNumber = (await listTickets(base, staffActor, { perPage: 1, now: new Date() })).items[0].number
  const productId = (await base.selectFrom('product').select('id').orderBy('id').executeTakeFirstOrThrow()).id

  const pages: [string, InjectOptions][] = [
    ['My requests (GET /portal)', { method: 'GET', url: '/portal', headers: { cookie: client } }],
    ['client ticket page', { method: 'GET', url: `/portal/tickets/${info.ticketNumbers[0]}`, headers: { cookie: client } }],
    ['staff queue (GET /desk)', { method: 'GET', url: '/desk', headers: { cookie: staffCookie } }],
    ['staff ticket page', { method: 'GET', url: `/desk/tickets/${staffNumber}`, headers: { cookie: staffCookie } }],
    ['API create', {
      method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${clientToken}` },
      payload: { title: 'Printer offline', description: 'Since this morning.', productId }
    }]
  ]
  process.stdout.write('| page | statements per request |\n|---|---:|\n')
  for (const [name, request] of pages) {
    await app.inject(request) // warm: caches filled
    counter.seen = []
    const res = await app.inject(request)
    if (res.statusCode !== (request.method === 'POST' ? 201 : 200)) throw new Error(`${name}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    process.stdout.write(`| ${name} | ${counter.seen.filter((q) => !/^(begin|commit|rollback)/i.test(q)).length} |\n`)
    if (values.show) texts.push(`${name}:\n${counter.seen.map((q) => `  ${q.replace(/\s+/g, ' ').slice(0, 160)}`).join('\n')}`)
  }
  if (values.show) process.stdout.write(`\n${texts.join('\n')}\n`)
  await app.close()
  await db.destroy()
  await base.destroy()
}

runBench(main)
