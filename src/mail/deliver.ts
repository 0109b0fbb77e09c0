// The worker's mail drainer: claims due outbox rows, sends them over SMTP, records the outcome.
// No transaction is ever open while we talk to the SMTP server (STYLE.md rule 4).
import nodemailer from 'nodemailer'
import type { Config } from '../config.js'
import type { Db } from '../db/index.js'
import type { Clock } from '../domain/clock.js'
import type { Logger } from '../log.js'
import { composeMail, mailSettings, type ComposedMail, type MailSettings } from './compose.js'
import { mailTokenKey } from '../security/mail-key.js'
import { outbox } from '../work/outbox.js'
import { DEFAULT_LEASE_MS } from '../work/lease.js'
import type { OutboxRows } from '../db/outbox.js'
import { backoffMs, MAIL_RETRY } from '../work/backoff.js'
import { every } from '../work/schedule.js'
import { mailFiles, withoutAttachments, type MailAttachment, type MailFiles } from './attachments.js'
import { createFileStore } from '../db/file-store.js'
import type { FileStore } from '../storage/attachments.js'

/** The part of a nodemailer transport the drainer uses; tests may hand in their own. */
export interface MailTransport {
  sendMail(message: Omit<ComposedMail, 'token'> & { attachments?: MailAttachment[] }): Promise<unknown>
  close?(): void
}

export interface MailDeps {
  db: Db
  settings: MailSettings
  key: Uint8Array
  /** null when no SMTP server is configured: nothing is sent, rows stay pending. */
  transport: MailTransport | null
  log?: Logger
  random?: () => number
  batchSize?: number
  /** How long a claimed row stays out of other drainers' reach while we send it. */
  leaseMs?: number
  /** Upper bound of rows handled in one drain, so one pass never runs for ever. */
  maxPerDrain?: number
  /** Files a mail may attach must lie under this folder (DATA_DIR). */
  attachmentRoot?: string
  /** Where files a mail names by store key are read (FILE_STORE=db). */
  store?: Pick<FileStore, 'read'>
  /** Mails sent at once over the pooled connections (default 4). */
  concurrency?: number
  /** The time claims are renewed from (default: the drain's start). */
  clock?: () => Date
}

/** Mails one scheduled drain takes before it looks again (the claim query's batches add up to it). */
export const MAX_PER_DRAIN = 200

export interface DrainReport {
  sent: number
  retried: number
  dead: number
}


/** The mail outbox: rows claimed in order of their ids, retried with the mail backoff. */
const MAIL = outbox('mail', { policy: MAIL_RETRY })

/** Delay before the next attempt after `attempts` failures (the mail backoff). */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  return backoffMs(attempts, MAIL_RETRY, random)
}

interface SmtpError extends Error {
  code?: string
  responseCode?: number
  command?: string
}

/** A 5xx answer (or an envelope the server would never take) will not get better by retrying. */
export function isPermanentFailure(err: unknown): boolean {
  const e = err as SmtpError
  if (typeof e?.responseCode === 'number') return e.responseCode >= 500 && e.responseCode < 600
  return e?.code === 'EENVELOPE'
}

export function describeError(err: unknown): string {
  const e = err as SmtpError
  const parts = [e?.message ?? String(err)]
  if (e?.code && !parts[0].includes(e.code)) parts.push(`(${e.code})`)
  return parts.join(' ').replace(/\s+/g, ' ').slice(0, 1000)
}

/** Sends every due pending mail once (in small batches); returns what happened. */
export async function drainMailOutbox(deps: MailDeps, now: Date): Promise<DrainReport> {
  const report: DrainReport = { sent: 0, retried: 0, dead: 0 }
  if (!deps.transport) return report
  const batchSize = deps.batchSize ?? 20
  const maxPerDrain = deps.maxPerDrain ?? MAX_PER_DRAIN
  const random = deps.random ?? Math.random
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS
  const transport = deps.transport
  let handled = 0

  /** One claimed row: renewed, rendered, sent, settled. Never throws for the mail's own faults. */
  const deliver = async (row: OutboxRows['mail'], claim: string) => {
    const log = deps.log?.child({ mailId: row.id, ticketId: row.ticket_id, template: row.template })
    // The claim is renewed (and checked) right before the send: a row whose claim ran out may
    // have gone to another drainer, and then it is not sent here.
    const lease = await MAIL.renew(deps.db, row.id, claim, deps.clock?.() ?? now, leaseMs)
    if (lease === null) {
      log?.info('claim lost to another drainer; not sent here')
      return
    }
    // A failed attempt (the claim counted it already): tried again later, or parked for good
    // once it was the last one or can never succeed.
    const failed = async (error: string, permanent: boolean) => {
      if (row.attempts >= deps.settings.maxAttempts || permanent) {
        await MAIL.park(deps.db, row.id, now, error, lease)
        report.dead++
        log?.warn({ attempts: row.attempts, error }, 'mail parked as dead')
      } else {
        const next = await MAIL.retry(deps.db, row, now, error, { random, lease })
        report.retried++
        log?.info({ attempts: row.attempts, error, next }, 'mail not sent, will retry')
      }
    }
    let files: MailFiles
    try {
      files = await mailFiles(row, deps.attachmentRoot, deps.store)
    } catch (err) {
      // The file store did not answer (the database, with FILE_STORE=db): tried again later, never sent without its file.
      await failed(`attachment unreadable: ${describeError(err)}`, false)
      return
    }
    let mail: ComposedMail
    try {
      mail = composeMail(files.missing ? withoutAttachments(row) : row, deps.settings, deps.key)
    } catch (err) {
      // Rendering is deterministic: retrying the same row cannot help.
      await MAIL.park(deps.db, row.id, now, `render failed: ${describeError(err)}`, lease)
      report.dead++
      log?.error({ err }, 'mail cannot be rendered')
      return
    }
    try {
      const { token: _token, ...message } = mail
      await transport.sendMail(files.attachments.length > 0 ? { ...message, attachments: files.attachments } : message)
    } catch (err) {
      await failed(describeError(err), isPermanentFailure(err))
      return
    }
    await MAIL.complete(deps.db, [row.id], now)
    report.sent++
    log?.debug({ messageId: mail.messageId }, 'mail sent')
  }

  while (handled < maxPerDrain) {
    const { rows, lease } = await MAIL.claim(deps.db, now, { limit: Math.min(batchSize, maxPerDrain - handled), leaseMs })
    if (rows.length === 0) break
    handled += rows.length
    // A few at a time over the pooled connections.
    const queue = [...rows]
    await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 4, queue.length) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) await deliver(row, lease)
    }))
  }
  return report
}

/** A nodemailer SMTP transport for SMTP_URL (timeouts can be overridden in the URL's query). */
export function smtpTransport(url: string): MailTransport {
  // Pooled: connections stay open between messages (one TLS handshake and login per connection,
  // not per mail) and several mails go out at once.
  return nodemailer.createTransport({
    url, pool: true, maxConnections: 4, maxMessages: 500, connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000
  })
}

export interface MailWorkerOptions {
  config: Config
  db: Db
  log: Logger
  clock?: Clock
  random?: () => number
  /** Overrides the transport built from SMTP_URL (tests). */
  transport?: MailTransport | null
  intervalMs?: number
  /** Told what each scheduled drain did (the worker counts it for /metrics). */
  onDrain?: (report: DrainReport) => void
}

export interface MailWorker {
  /** Runs one drain now (waits for a running one first); the worker keeps its schedule. */
  drainNow(): Promise<DrainReport>
  stop(): Promise<void>
}

/** Drains the mail outbox every MAIL_POLL_SECONDS, never overlapping itself. */
export function startMailWorker(opts: MailWorkerOptions): MailWorker {
  const { config, db, log } = opts
  const clock = opts.clock ?? (() => new Date())
  const transport = opts.transport !== undefined ? opts.transport : config.SMTP_URL ? smtpTransport(config.SMTP_URL) : null
  const deps: MailDeps = {
    db, settings: mailSettings(config), key: mailTokenKey(config), transport, log, random: opts.random, attachmentRoot: config.dataDir,
    store: createFileStore(config, db),
    leaseMs: config.LEASE_SECONDS * 1000, clock
  }
  const intervalMs = opts.intervalMs ?? Math.round(config.MAIL_POLL_SECONDS * 1000)
  if (!transport) log.warn('SMTP_URL is not set: notifications stay in the mail outbox (see /admin/mail)')

  let stopping = false
  // A drain takes up to MAX_PER_DRAIN mails; while it finds that many, the next one starts at
  // once rather than after MAIL_POLL_SECONDS (a burst of notifications leaves as fast as the SMTP
  // server takes them), until the outbox is empty or the worker stops.
  const drain = async () => {
    const total: DrainReport = { sent: 0, retried: 0, dead: 0 }
    for (;;) {
      const report = await drainMailOutbox({ ...deps, maxPerDrain: MAX_PER_DRAIN }, clock())
      opts.onDrain?.(report)
      total.sent += report.sent
      total.retried += report.retried
      total.dead += report.dead
      if (stopping || report.sent + report.retried + report.dead < MAX_PER_DRAIN) return total
    }
  }
  const schedule = every(intervalMs, drain, { log, name: 'mail drain', startNow: transport !== null })
  return {
    drainNow: () => schedule.runNow(),
    async stop() {
      stopping = true
      await schedule.stop()
      transport?.close?.()
    }
  }
}
