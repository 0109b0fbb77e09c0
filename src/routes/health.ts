// Probes for load balancers and orchestrators. /healthz (liveness) says the process answers HTTP
// and touches nothing else: a database outage must not get every web process restarted.
// /readyz (readiness) says whether this process can do its work now: the database answers, it has
// run this code's migrations, and a worker is alive to carry out what requests queue.
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { ping } from '../db/index.js'
import { pendingMigrations } from '../db/health.js'
import { runningWorkers } from './admin/workers.js'

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.String() })
const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({ database: Check, migrations: Check, worker: Check })
})
type Check = Static<typeof Check>

/** A database that does not answer within this long counts as down (a probe must answer promptly). */
const CHECK_TIMEOUT_MS = 3000

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

export default async function health(fastify: FastifyInstance) {
  fastify.get('/healthz', {
    schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok' as const }
  })

  fastify.get('/readyz', {
    schema: { response: { 200: Ready, 503: Ready } }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    // Anyone may ask, so errors are named, not shown (a driver's message can carry hosts and users).
    const failed = (what: string, err: unknown): Check => {
      request.log.warn({ err, check: what }, 'readiness check failed')
      return { ok: false, detail: what === 'database' ? 'does not answer' : 'cannot tell: the query failed' }
    }
    const skipped: Check = { ok: false, detail: 'not checked: the database does not answer' }
    let database: Check
    let migrations = skipped
    let worker = skipped
    try {
      await withTimeout(ping(fastify.db), CHECK_TIMEOUT_MS)
      database = { ok: true, detail: 'answers' }
    } catch (err) {
      database = failed('database', err)
    }
    if (database.ok) {
      try {
        const pending = await withTimeout(pendingMigrations(fastify.db), CHECK_TIMEOUT_MS)
        migrations = pending.length === 0 ? { ok: true, detail: 'up to date' }
          : { ok: false, detail: `${pending.length} pending: ${pending.join(', ')}` }
      } catch (err) {
        migrations = failed('migrations', err)
      }
      try {
        // The same window as the admin pages: a worker beats three times per LEASE_SECONDS. In
        // ROLE=all this process's own worker counts like any other, through its heartbeat row.
        const workers = await withTimeout(runningWorkers(fastify), CHECK_TIMEOUT_MS)
        worker = workers.length > 0 ? { ok: true, detail: `${workers.length} running, last beat at ${workers[0].beatAt}` }
          : { ok: false, detail: `no worker heartbeat in the last ${fastify.config.LEASE_SECONDS} s` }
      } catch (err) {
        worker = failed('worker', err)
      }
    }
    const ready = database.ok && migrations.ok && worker.ok
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: { database, migrations, worker } })
  })
}
