// How long a write holds SQLite's one write lock, and what it runs while holding it: the app is
// built in this process over a database made by bench/portal/seed.ts, and each command's
// transaction is timed from its BEGIN IMMEDIATE to its COMMIT (wall time, one request at a time,
// so no wait for the lock is counted). With one writer at a time, this hold time bounds how many
// writes per second all the web processes together can make, however many cores they have.
//
//   npx tsx bench/portal/lock.ts --data DIR [--requests 400] [--show]
//
// --show prints the statements one transaction of each kind runs.
import { parseArgs } from 'node:util'
import { cpus, loadavg } from 'node:os'
import type { InjectOptions } from 'fastify'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { Database } from '../../src/db/schema.js'
import { CachedStatement, createDb, migrateToLatest, openSqlite, StatementCache } from '../../src/db/index.js'
import { buildApp } from '../../src/app.js'
import { findLogin } from '../../src/db/people.js'
import { createApiTokenFor } from '../../src/commands/people.js'
import { openSeeded, runBench } from './seeded.js'

/** The app's statement cache, noting when each transaction begins and commits and what runs between. */
class TimedConnection extends StatementCache {
  began = 0
  inside: string[] | null = null
  holds: number[] = []
  statements: number[] = []
  last: string[] = []

  override prepare(text: string): CachedStatement {
    const statement = super.prepare(text)
    if (text === 'begin') return this.#timed(statement, () => { this.began = performance.now(); this.inside = [] })
    if (text === 'commit' || text === 'rollback') {
      return this.#timed(statement, () => {
        this.holds.push(performance.now() - this.began)
        this.statements.push(this.inside?.length ?? 0)
        this.last = this.inside ?? []
        this.inside = null
      })
    }
    if (this.inside === null) return statement
    this.inside.push(text)
    return this.#measured(statement, text)
  }

  /** Time spent in SQLite per statement text inside transactions (all/run), for --show. */
  spent = new Map<string, number>()

  #measured(statement: CachedStatement, text: string): CachedStatement {
    const measured = Object.create(statement) as CachedStatement
    const add = (t0: number) => this.spent.set(text, (this.spent.get(text) ?? 0) + performance.now() - t0)
    measured.all = (parameters) => { const t0 = performance.now(); try { return statement.all(parameters) } finally { add(t0) } }
    measured.run = (parameters) => { const t0 = performance.now(); try { return statement.run(parameters) } finally { add(t0) } }
    return measured
  }

  #timed(statement: CachedStatement, after: () => void): CachedStatement {
    const timed = Object.create(statement) as CachedStatement
    timed.run = (parameters) => {
      const t0 = performance.now()
      const result = statement.run(parameters)
      this.spent.set(statement.statement.source, (this.spent.get(statement.statement.source) ?? 0) + performance.now() - t0)
      after()
      return result
    }
    return timed
  }

  take(): { holds: number[]; statements: number[]; last: string[]; spent: Map<string, number> } {
    const taken = { holds: this.holds, statements: this.statements, last: this.last, spent: this.spent }
    this.holds = []
    this.statements = []
    this.spent = new Map()
    return taken
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

async function main() {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: process.env.BENCH_DATA },
      requests: { type: 'string', default: '400' },
      show: { type: 'boolean', default: false }
    }
  })
  const { info, config } = openSeeded(values.data)
  const base = await createDb(config.databaseUrl)
  await migrateToLatest(base)
  // The connection createDb opens, timed.
  const connection = new TimedConnection(openSqlite(config.databaseUrl.slice('sqlite:'.length), config.SQLITE_CACHE_MB))
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection as unknown as SqliteDatabase.Database }) })
  const app = await buildApp({ config, db, logger: false })
  await app.ready()

  const client = (await findLogin(base, info.client.email))!
  const staff = (await findLogin(base, info.staff.email))!
  const deps = { db: base, clock: () => new Date(), random: Math.random }
  const clientToken = await createApiTokenFor(deps, client, 'bench-lock')
  const staffToken = await createApiTokenFor(deps, staff, 'bench-lock')
  const productId = (await base.selectFrom('product').select('id').orderBy('id').executeTakeFirstOrThrow()).id
  const created: number[] = []

  const kinds: { name: string; request: (i: number) => InjectOptions; status: number }[] = [
    {
      name: 'API create (client)',
      request: () => ({
        method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${clientToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ title: 'Printer offline on the 3rd floor', description: 'Since this morning; restarted twice.', productId })
      }),
      status: 201
    },
    {
      name: 'API note (staff reply to the client)',
      request: (i) => ({
        method: 'POST', url: `/api/v1/tickets/${created[i % created.length]}/notes`, headers: { authorization: `Bearer ${staffToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ body: 'Could you send a photo of the printer display?', visibility: 'public' })
      }),
      status: 201
    }
  ]
  const requests = Number(values.requests)
  const [l1, l5] = loadavg()
  process.stdout.write(`${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}; load average ${l1.toFixed(1)} / ${l5.toFixed(1)} at the start\n`)
  process.stdout.write(`Write lock held per request (BEGIN IMMEDIATE to COMMIT, wall ms), ${requests} requests one at a time after 50 to warm up\n\n`)
  process.stdout.write('| write | median ms | p90 ms | statements inside |\n|---|---:|---:|---:|\n')
  const shown: string[] = []
  for (const kind of kinds) {
    for (let i = 0; i < 50 + requests; i++) {
      if (i === 50) connection.take()
      const res = await app.inject(kind.request(i))
      if (res.statusCode !== kind.status) throw new Error(`${kind.name}: ${res.statusCode} ${res.body.slice(0, 300)}`)
      if (kind.status === 201 && res.json<{ id?: number }>().id !== undefined && created.length < 200) created.push(res.json<{ id: number }>().id)
    }
    const { holds, statements, last, spent } = connection.take()
    holds.sort((a, b) => a - b)
    statements.sort((a, b) => a - b)
    process.stdout.write(`| ${kind.name} | ${quantile(holds, 0.5).toFixed(3)} | ${quantile(holds, 0.9).toFixed(3)} | ${quantile(statements, 0.5)} |\n`)
    if (values.show) {
      const inSqlite = [...spent.values()].reduce((a, b) => a + b, 0) / requests
      shown.push(`${kind.name} (in SQLite ${inSqlite.toFixed(3)} ms of the hold; µs per request beside each):\n${[...last, 'commit'].map((q) => `  ${(((spent.get(q) ?? 0) / requests) * 1000).toFixed(0).padStart(5)}  ${q.replace(/\s+/g, ' ').slice(0, 140)}`).join('\n')}`)
    }
  }
  if (values.show) process.stdout.write(`\n${shown.join('\n')}\n`)
  const [e1, e5] = loadavg()
  process.stdout.write(`\nload average ${e1.toFixed(1)} / ${e5.toFixed(1)} at the end\n`)
  await app.close()
  await db.destroy()
  await base.destroy()
}

runBench(main)
