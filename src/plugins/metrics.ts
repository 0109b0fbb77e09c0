// /metrics in Prometheus' text format (prom-client), for a scraper holding METRICS_TOKEN. Without
// the setting the route does not exist (404, like any unknown address) and requests are not timed.
//
// The web process times its own requests. Everything else is read at scrape time from the
// database, because the workers are other processes, often on other machines: the outboxes, the
// leases, and each worker's counts, which it publishes with its heartbeat (worker_heartbeat.stats).
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { leaseHolders, outboxDepths, type LeaseRow, type OutboxDepth } from '../db/metrics.js'
import type { WorkerView } from '../db/worker-heartbeat.js'
import { runningWorkers } from '../routes/admin/workers.js'

const PREFIX = 'casebridge_'

/** The bearer token, compared in constant time (both sides hashed first, so lengths never differ). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1]
  if (given === undefined) return false
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(given), digest(token))
}

/** "2xx", "4xx"...: one series per class, not per status code. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`
}

/** The route pattern (`/desk/tickets/:id`), never the address asked for: ids and queries would make a series each. */
export function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched'
}

export interface ScrapeData {
  outboxes: OutboxDepth[]
  leases: LeaseRow[]
  workers: WorkerView[]
}

const seconds = (fromIso: string, now: Date) => (now.getTime() - Date.parse(fromIso)) / 1000

/** Every metric of one app, on a registry of its own (tests build many apps in one process). */
export function createMetrics() {
  const registry = new Registry()
  const registers = [registry]
  const workerLabels = ['host', 'pid'] as const
  const m = {
    http: new Histogram({
      name: `${PREFIX}http_request_duration_seconds`, help: 'Time to answer HTTP requests, by method, route pattern and status class',
      labelNames: ['method', 'route', 'status_class'] as const, registers
    }),
    outboxRows: new Gauge({ name: `${PREFIX}outbox_rows`, help: 'Outbox rows waiting to be sent (pending) or parked after too many attempts (dead)', labelNames: ['kind', 'state'] as const, registers }),
    outboxAge: new Gauge({ name: `${PREFIX}outbox_oldest_pending_age_seconds`, help: 'Age of the oldest pending outbox row (0 when none waits)', labelNames: ['kind'] as const, registers }),
    lease: new Gauge({ name: `${PREFIX}lease_expires_in_seconds`, help: 'Seconds until a named lease runs out unless renewed (negative: expired, not yet taken over)', labelNames: ['lease', 'holder'] as const, registers }),
    workers: new Gauge({ name: `${PREFIX}workers`, help: 'Worker processes whose heartbeat is fresh', registers }),
    workerInfo: new Gauge({ name: `${PREFIX}worker_info`, help: 'One series per live worker process (value 1)', labelNames: [...workerLabels, 'role', 'version'] as const, registers }),
    workerBeat: new Gauge({ name: `${PREFIX}worker_heartbeat_age_seconds`, help: 'Seconds since the worker last beat', labelNames: workerLabels, registers }),
    mails: new Counter({ name: `${PREFIX}worker_mails_total`, help: 'Mail sending attempts since the worker started: sent, retried (failed, tried again later) or dead (failed for good)', labelNames: [...workerLabels, 'outcome'] as const, registers }),
    crmCalls: new Counter({ name: `${PREFIX}worker_crm_calls_total`, help: 'CRM API calls the worker made since it started', labelNames: workerLabels, registers }),
    apiRemaining: new Gauge({ name: `${PREFIX}worker_crm_api_remaining`, help: 'Daily CRM API calls left, as the CRM last reported to the worker (Sforce-Limit-Info)', labelNames: workerLabels, registers }),
    apiLimit: new Gauge({ name: `${PREFIX}worker_crm_api_limit`, help: 'Daily CRM API allowance, as the CRM last reported to the worker', labelNames: workerLabels, registers }),
    imapLag: new Gauge({ name: `${PREFIX}worker_imap_last_pass_age_seconds`, help: 'Seconds since the worker\'s IMAP poller last completed a pass (since the worker started, before the first)', labelNames: workerLabels, registers }),
    imapWaiting: new Gauge({ name: `${PREFIX}worker_imap_waiting_messages`, help: 'Messages the IMAP poller\'s last pass found but left for the next one', labelNames: workerLabels, registers })
  }

  /** Sets the scrape-time metrics from what the database says now. */
  const apply = (data: ScrapeData, now: Date) => {
    for (const metric of [m.outboxRows, m.outboxAge, m.lease, m.workerInfo, m.workerBeat, m.mails, m.crmCalls, m.apiRemaining, m.apiLimit, m.imapLag, m.imapWaiting]) metric.reset()
    for (const o of data.outboxes) {
      m.outboxRows.set({ kind: o.kind, state: 'pending' }, o.pending)
      m.outboxRows.set({ kind: o.kind, state: 'dead' }, o.dead)
      m.outboxAge.set({ kind: o.kind }, o.oldestPendingAt ? Math.max(0, seconds(o.oldestPendingAt, now)) : 0)
    }
    for (const l of data.leases) m.lease.set({ lease: l.name, holder: l.holder }, -seconds(l.expiresAt, now))
    m.workers.set(data.workers.length)
    for (const w of data.workers) {
      const labels = { host: w.host, pid: String(w.pid) }
      m.workerInfo.set({ ...labels, role: w.role, version: w.version }, 1)
      m.workerBeat.set(labels, Math.max(0, seconds(w.beatAt, now)))
      const stats = w.stats
      if (!stats) continue
      // Counters are the worker's own totals: set, not added (reset above, then raised to the value).
      for (const outcome of ['sent', 'retried', 'dead'] as const) m.mails.inc({ ...labels, outcome }, stats.mail[outcome])
      m.crmCalls.inc(labels, stats.crm.calls)
      if (stats.crm.apiMax !== null && stats.crm.apiUsed !== null) {
        m.apiLimit.set(labels, stats.crm.apiMax)
        m.apiRemaining.set(labels, Math.max(0, stats.crm.apiMax - stats.crm.apiUsed))
      }
      if (stats.imap) {
        m.imapLag.set(labels, Math.max(0, seconds(stats.imap.lastPassAt ?? w.startedAt, now)))
        m.imapWaiting.set(labels, stats.imap.waiting)
      }
    }
  }
  return { registry, http: m.http, apply }
}

/** Registered at the app's root (outside the session/CSRF site, like the API) so every route is timed. */
export default fp(async function metrics(fastify: FastifyInstance) {
  const token = fastify.config.METRICS_TOKEN
  if (!token) return
  const { registry, http, apply } = createMetrics()
  // The process itself: CPU, memory, event loop lag, garbage collection.
  collectDefaultMetrics({ register: registry, prefix: PREFIX })

  fastify.addHook('onResponse', async (request, reply) => {
    http.observe({ method: request.method, route: routeLabel(request), status_class: statusClass(reply.statusCode) }, reply.elapsedTime / 1000)
  })

  fastify.get('/metrics', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    if (!bearerMatches(request.headers.authorization, token)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').type('text/plain; charset=utf-8').send('unauthorized\n')
    }
    const now = fastify.clock()
    const [outboxes, leases, workers] = [await outboxDepths(fastify.db), await leaseHolders(fastify.db), await runningWorkers(fastify)]
    apply({ outboxes, leases, workers }, now)
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}, { name: 'metrics', dependencies: ['external'] })
