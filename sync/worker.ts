import type { Config } from '../src/config.js'
import type { Db } from '../src/db/index.js'
import type { Logger } from '../src/log.js'
import { randomUUID } from 'node:crypto'
import { every } from '../src/work/schedule.js'
import { runScheduledJobs } from './jobs/index.js'
import { runExportJobs } from './jobs/exports.js'
import { startImapPoller } from './imap/poller.js'
import { startMailWorker } from '../src/mail/deliver.js'
import { createCrmAdapter, createSyncContext, type SyncContext } from './crm/context.js'
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

/** The worker role: scheduled jobs, mail out and in, CRM sync. */
export async function startWorker(opts: { config: Config; db: Db; log: Logger; crmUrl?: string }): Promise<Worker> {
  const { db, log } = opts
  const holder = `worker-${process.pid}-${randomUUID().slice(0, 8)}`
  const jobs: { stop(): Promise<void> }[] = [
    every(60_000, async () => {
      await runScheduledJobs(db, new Date(), holder, log)
    }, { log, name: 'scheduled jobs' })
  ]
  // XLSX exports asked for on the web: each job is claimed by one worker, so several may run.
  const exportsStop = new AbortController()
  const exportsLoop = every(opts.config.EXPORT_POLL_SECONDS * 1000, async () => {
    await runExportJobs({ db, config: opts.config, holder, log: log.child({ worker: 'exports' }), signal: exportsStop.signal })
  }, { log, name: 'exports' })
  jobs.push({ stop: async () => { exportsStop.abort(); await exportsLoop.stop() } })
  // Outgoing mail: drains the mail outbox over SMTP (stays queued when SMTP_URL is unset).
  jobs.push(startMailWorker({ config: opts.config, db, log: log.child({ worker: 'mail' }) }))
  // Incoming mail: IDLE/polling on IMAP_URL, one run at a time, reconnecting with backoff.
  if (opts.config.IMAP_URL) jobs.push(startImapPoller({ config: opts.config, db, log }))
  // CRM sync: the configured Salesforce org, else the emulator the server started (crmUrl).
  const crmLog = log.child({ worker: 'crm' })
  const crm = createSyncContext({ db, crm: createCrmAdapter(opts.config, crmLog, opts.crmUrl), config: opts.config, log: crmLog, holder })
  jobs.push(startCrmSync(crm, opts.config.SYNC_INTERVAL_SECONDS * 1000))
  log.info('worker started')
  return { stop: async () => { await Promise.all(jobs.map((j) => j.stop())) } }
}
