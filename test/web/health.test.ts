// /healthz says the process answers (nothing else is touched); /readyz says whether it can work:
// the database answers, its migrations are all run, and a worker has beaten lately.
import t from 'tap'
import pino from 'pino'
import { Migrator } from 'kysely'
import { testApp } from '../helpers/app.js'
import { buildApp } from '../../src/app.js'
import { startHeartbeat } from '../../src/work/heartbeat.js'
import { migrationProvider, migrations } from '../../src/db/migrations/index.js'
import type { FastifyInstance } from 'fastify'

const silent = pino({ level: 'silent' })

interface Readiness {
  status: string
  checks: Record<'database' | 'migrations' | 'worker', { ok: boolean; detail: string }>
}

async function readyz(app: FastifyInstance): Promise<{ status: number; body: Readiness }> {
  const res = await app.inject({ url: '/readyz' })
  return { status: res.statusCode, body: res.json() as Readiness }
}

t.test('ready once a worker beats; not when its heartbeat is stale', async (t) => {
  const env = await testApp(t, { demo: false })
  let r = await readyz(env.app)
  t.equal(r.status, 503, 'no worker yet: not ready')
  t.match(r.body, {
    status: 'not_ready',
    checks: { database: { ok: true, detail: 'answers' }, migrations: { ok: true, detail: 'up to date' }, worker: { ok: false, detail: `no worker heartbeat in the last ${env.config.LEASE_SECONDS} s` } }
  }, 'each check named, the failing one says why')

  // A worker that last beat two lease periods ago has died: it does not count.
  const longAgo = new Date(Date.now() - 2 * env.config.LEASE_SECONDS * 1000)
  const dead = startHeartbeat({ db: env.db, clock: () => longAgo, log: silent }, { holder: 'h:1:dead', role: 'worker', host: 'h', pid: 1, version: '0', settings: {} }, 50)
  t.teardown(() => dead.stop())
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.equal((await readyz(env.app)).status, 503, 'a stale heartbeat is no worker')

  const live = startHeartbeat({ db: env.db, clock: () => new Date(), log: silent }, { holder: 'h:2:live', role: 'worker', host: 'h', pid: 2, version: '0', settings: {} }, 50)
  t.teardown(() => live.stop())
  await new Promise((resolve) => setTimeout(resolve, 120))
  r = await readyz(env.app)
  t.equal(r.status, 200, 'a fresh heartbeat: ready')
  t.match(r.body, { status: 'ready', checks: { database: { ok: true }, migrations: { ok: true }, worker: { ok: true, detail: /^1 running, last beat at / } } })
  t.equal((await env.app.inject({ url: '/readyz' })).headers['cache-control'], 'no-store')

  await live.stop()
  t.equal((await readyz(env.app)).status, 503, 'a worker that stopped removed its row')
})

t.test('a pending migration makes it not ready, naming the migration', async (t) => {
  const env = await testApp(t, { demo: false })
  const beat = startHeartbeat({ db: env.db, clock: () => new Date(), log: silent }, { holder: 'h:3:x', role: 'all', host: 'h', pid: 3, version: '0', settings: {} }, 50)
  t.teardown(() => beat.stop())
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.equal((await readyz(env.app)).status, 200)

  const last = Object.keys(migrations).sort().at(-1)!
  const migrator = new Migrator({ db: env.db, provider: migrationProvider })
  const down = await migrator.migrateDown()
  t.error(down.error, 'the last migration undone')
  const r = await readyz(env.app)
  t.equal(r.status, 503, 'not ready')
  t.same(r.body.checks.migrations, { ok: false, detail: `1 pending: ${last}` })
  t.equal(r.body.checks.database.ok, true)
  const up = await migrator.migrateToLatest()
  t.error(up.error)
  t.equal((await readyz(env.app)).status, 200, 'ready again once migrated')
})

t.test('the database gone: /healthz still answers, /readyz does not pass', async (t) => {
  const env = await testApp(t, { demo: false })
  // An app of its own over the same database, every query of which fails as on a lost connection.
  const down = env.db.withPlugin({
    transformQuery() { throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432 user casebridge'), { code: 'ECONNREFUSED' }) },
    transformResult: async (args) => args.result
  })
  const app = await buildApp({ config: env.config, db: down, logger: false })
  t.teardown(() => app.close())

  const live = await app.inject({ url: '/healthz' })
  t.equal(live.statusCode, 200, 'liveness does not touch the database')
  t.same(live.json(), { status: 'ok' })
  const r = await readyz(app)
  t.equal(r.status, 503)
  t.same(r.body, {
    status: 'not_ready',
    checks: {
      database: { ok: false, detail: 'does not answer' },
      migrations: { ok: false, detail: 'not checked: the database does not answer' },
      worker: { ok: false, detail: 'not checked: the database does not answer' }
    }
  }, 'no driver message is shown to whoever asks')
})
