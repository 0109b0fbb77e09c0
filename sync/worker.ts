import type { Config } from '../src/config.js'
import type { Db } from '../src/db/index.js'
import type { Logger } from '../src/log.js'
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { startHeartbeat } from '../src/work/heartbeat.js'
import type { WorkerStats } from '../src/db/worker-heartbeat.js'
import { VERSION } from '../src/version.js'
import { every } from '../src/work/schedule.js'
import { runScheduledJobs } from './jobs/index.js'
import { runExportJobsApart } from './jobs/export-process.js'
import { runBulkJobs } from './jobs/bulk.js'

/** How soon a bulk action asked for on the web is picked up (its page shows the progress). */
const BULK_POLL_MS = 1_000
import { startImapPoller, type RunReport } from './imap/poller.js'
import { startMailWorker } from '../src/mail/deliver.js'
import { createCrmAdapter, createSyncContext, type SyncContext } from './crm/context.js'
import type { CrmAdapter } from './crm/adapter.js'
import { drainOutbox } from './outbox.js'
import { pollInbound } from './inbound.js'
import { importReference } from './reference.js'

export interface Worker {
  stop(): Promise<void>
}

const REFERENCE_EVERY_MS = 15 * 60_000

/**
 * The CRM sync: reference data (first, then every 15 minutes), the outbox, then CRM changes, one
 * after the other so a first start links accounts and users before any Case goes out. Each step
 * takes its own database lease, so with several workers only one drains, polls or imports.
 */
export function startCrmSync(ctx: SyncContext, intervalMs: number): { stop(): Promise<void> } {
  let referenceAt = 0
  return every(intervalMs, async () => {
    if (Date.now() - referenceAt >= REFERENCE_EVERY_MS) {
      const report = await importReference(ctx)
      if (report.skipped === null && report.pausedUntil === null) referenceAt = Date.now()
    }
    await drainOutbox(ctx)
    await pollInbound(ctx)
  }, { log: ctx.log, name: 'crm sync' })
}

/** Where a URL points, without its credentials (user names and passwords never leave the process). */
function bareUrl(url: string | undefined | null): string | null {
  if (!url) return null
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname === '/' ? '' : u.pathname}`
  } catch {
    return null
  }
}

/** What a worker runs with, as the admin pages show it: no secrets. */
export function publishedSettings(config: Config, crmUrl?: string): Record<string, unknown> {
  const sf = config.crm.salesforce
  return {
    smtp: { configured: Boolean(config.SMTP_URL), server: bareUrl(config.SMTP_URL), from: config.MAIL_FROM, pollSeconds: config.MAIL_POLL_SECONDS },
    imap: { configured: Boolean(config.IMAP_URL), mailbox: bareUrl(config.IMAP_URL), pollSeconds: config.IMAP_POLL_SECONDS },
    crm: sf ? { kind: 'salesforce', url: sf.instanceUrl ?? sf.loginUrl, auth: sf.auth } : { kind: 'emulator', url: crmUrl ?? `http://127.0.0.1:${config.EMULATOR_PORT}` },
    syncSeconds: config.SYNC_INTERVAL_SECONDS,
    leaseSeconds: config.LEASE_SECONDS,
    publicUrl: config.publicUrl,
    database: config.databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres',
    node: process.version
  }
}

/** A worker's running counts: mail drains and IMAP passes report in, the CRM adapter is read at each beat. */
export function workerCounts(crm: Pick<CrmAdapter, 'calls' | 'apiUsage'>, imap: boolean) {
  const mail = { sent: 0, retried: 0, dead: 0 }
  let lastPass: { at: string; waiting: number } | null = null
  return {
    mailDrained(report: { sent: number; retried: number; dead: number }) {
      mail.sent += report.sent
      mail.retried += report.retried
      mail.dead += report.dead
    },
    imapPass(at: Date, waiting: number) {
      lastPass = { at: at.toISOString(), waiting }
    },
    snapshot(): WorkerStats {
      const usage = crm.apiUsage()
      return {
        mail: { ...mail },
        crm: { calls: crm.calls, apiUsed: usage?.used ?? null, apiMax: usage?.max ?? null },
        imap: imap ? { lastPassAt: lastPass?.at ?? null, waiting: lastPass?.waiting ?? 0 } : null
      }
    }
  }
}

/** The worker role: scheduled jobs, mail out and in, CRM sync, and its heartbeat. */
export async function startWorker(opts: { config: Config; db: Db; log: Logger; crmUrl?: string }): Promise<Worker> {
  const { db, log } = opts
  // One name per process, on every lease and claim it takes: host, pid and a random part.
  const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const jobs: { stop(): Promise<void> }[] = [
    every(60_000, async () => {
      await runScheduledJobs(db, new Date(), holder, log, opts.config.LEASE_SECONDS * 1000, opts.config.AUDIT_RETENTION_DAYS)
    }, { log, name: 'scheduled jobs' })
  ]
  // XLSX exports asked for on the web: each job is claimed by one worker, so several may run.
  const exportsStop = new AbortController()
  const exportsLoop = every(opts.config.EXPORT_POLL_SECONDS * 1000, async () => {
    // Each run with work waiting starts a process of its own (export-process.ts): an export's garbage never grows this one.
    await runExportJobsApart({ db, config: opts.config, holder, log: log.child({ worker: 'exports' }), signal: exportsStop.signal, leaseMs: opts.config.LEASE_SECONDS * 1000 })
  }, { log, name: 'exports' })
  jobs.push({ stop: async () => { exportsStop.abort(); await exportsLoop.stop() } })
  // Bulk actions too big for the page to wait on: claimed by one worker at a time, like exports.
  const bulkStop = new AbortController()
  const bulkLoop = every(BULK_POLL_MS, async () => {
    await runBulkJobs({ db, holder, leaseMs: opts.config.LEASE_SECONDS * 1000, log: log.child({ worker: 'bulk' }), signal: bulkStop.signal })
  }, { log, name: 'bulk actions' })
  jobs.push({ stop: async () => { bulkStop.abort(); await bulkLoop.stop() } })
  // CRM sync: the configured Salesforce org, else the emulator the server started (crmUrl).
  const crmLog = log.child({ worker: 'crm' })
  const crm = createSyncContext({ db, crm: createCrmAdapter(opts.config, crmLog, opts.crmUrl), config: opts.config, log: crmLog, holder })
  const counts = workerCounts(crm.crm, Boolean(opts.config.IMAP_URL))
  // Outgoing mail: drains the mail outbox over SMTP (stays queued when SMTP_URL is unset).
  jobs.push(startMailWorker({ config: opts.config, db, log: log.child({ worker: 'mail' }), onDrain: (report) => counts.mailDrained(report) }))
  // Incoming mail: IDLE/polling on IMAP_URL, one run at a time, reconnecting with backoff.
  if (opts.config.IMAP_URL) {
    const poller = startImapPoller({ config: opts.config, db, log })
    poller.on('run', (report: RunReport) => counts.imapPass(new Date(), report.waiting))
    jobs.push(poller)
  }
  jobs.push(startCrmSync(crm, opts.config.SYNC_INTERVAL_SECONDS * 1000))
  const heartbeat = startHeartbeat({ db, clock: () => new Date(), log }, {
    holder, role: opts.config.ROLE, host: hostname(), pid: process.pid, version: VERSION, settings: publishedSettings(opts.config, opts.crmUrl),
    stats: () => counts.snapshot()
  }, Math.max(1000, Math.floor((opts.config.LEASE_SECONDS * 1000) / 3)))
  log.info({ holder }, 'worker started')
  return {
    stop: async () => {
      await Promise.all(jobs.map((j) => j.stop()))
      await heartbeat.stop()
    }
  }
}
