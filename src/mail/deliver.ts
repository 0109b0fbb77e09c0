// The worker's mail drainer: claims due outbox rows, sends them over SMTP, records the outcome.
// No transaction is ever open while we talk to the SMTP server (STYLE.md rule 4).
import nodemailer from 'nodemailer'
import type { Config } from '../config.js'
import type { Db } from '../db/index.js'
import type { Clock } from '../domain/clock.js'
import type { Logger } from '../log.js'
import { composeMail, mailSettings, type ComposedMail, type MailSettings } from './compose.js'
import { mailTokenKey } from './keys.js'
import { claimMail, dueMail, markDead, markRetry, markSent } from '../db/mail-outbox.js'
import { mailFiles, withoutAttachments, type MailAttachment, type MailFiles } from './attachments.js'

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
}

export interface DrainReport {
  sent: number
  retried: number
  dead: number
}

const BASE_DELAY_MS = 2 * 60_000
const MAX_DELAY_MS = 6 * 60 * 60_000
const DEFAULT_LEASE_MS = 10 * 60_000

/** Delay before the next attempt after `attempts` failures: exponential, capped, with jitter. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const exp = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1))
  // "Equal jitter": half fixed, half random, so drainers that failed together spread out.
  return Math.round(exp / 2 + (exp / 2) * random())
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
  const at = now.toISOString()
  const leaseUntil = new Date(now.getTime() + (deps.leaseMs ?? DEFAULT_LEASE_MS)).toISOString()
  const batchSize = deps.batchSize ?? 10
  const maxPerDrain = deps.maxPerDrain ?? 200
  let handled = 0
  while (handled < maxPerDrain) {
    const rows = await dueMail(deps.db, at, Math.min(batchSize, maxPerDrain - handled))
    if (rows.length === 0) break
    for (const row of rows) {
      handled++
      if (!(await claimMail(deps.db, row.id, row.next_attempt_at, leaseUntil))) continue
      const attempts = row.attempts + 1
      const log = deps.log?.child({ mailId: row.id, ticketId: row.ticket_id, template: row.template })
      let mail: ComposedMail
      let files: MailFiles
      try {
        files = mailFiles(row, deps.attachmentRoot)
        mail = composeMail(files.missing ? withoutAttachments(row) : row, deps.settings, deps.key)
      } catch (err) {
        // Rendering is deterministic: retrying the same row cannot help.
        await markDead(deps.db, row.id, leaseUntil, `render failed: ${describeError(err)}`)
        report.dead++
        log?.error({ err }, 'mail cannot be rendered')
        continue
      }
      try {
        const { token: _token, ...message } = mail
        await deps.transport.sendMail(files.attachments.length > 0 ? { ...message, attachments: files.attachments } : message)
      } catch (err) {
        const error = describeError(err)
        if (attempts >= deps.settings.maxAttempts || isPermanentFailure(err)) {
          await markDead(deps.db, row.id, leaseUntil, error)
          report.dead++
          log?.warn({ attempts, error }, 'mail parked as dead')
        } else {
          const next = new Date(now.getTime() + retryDelayMs(attempts, deps.random)).toISOString()
          await markRetry(deps.db, row.id, leaseUntil, next, error)
          report.retried++
          log?.info({ attempts, error, next }, 'mail not sent, will retry')
        }
        continue
      }
      await markSent(deps.db, row.id, at)
      report.sent++
      log?.debug({ messageId: mail.messageId }, 'mail sent')
    }
  }
  return report
}

/** A nodemailer SMTP transport for SMTP_URL (timeouts can be overridden in the URL's query). */
export function smtpTransport(url: string): MailTransport {
  return nodemailer.createTransport({
    url, connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000
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
  const deps: MailDeps = { db, settings: mailSettings(config), key: mailTokenKey(config), transport, log, random: opts.random, attachmentRoot: config.dataDir }
  const intervalMs = opts.intervalMs ?? Math.round(config.MAIL_POLL_SECONDS * 1000)
  if (!transport) log.warn('SMTP_URL is not set: notifications stay in the mail outbox (see /admin/mail)')

  let timer: NodeJS.Timeout | null = null
  let running: Promise<DrainReport> | null = null
  let stopped = false

  const drain = (): Promise<DrainReport> => {
    const previous = running ?? Promise.resolve(null)
    const next = previous.then(() => drainMailOutbox(deps, clock()))
    const tracked = next.catch((err) => {
      log.error({ err }, 'mail drain failed')
      return { sent: 0, retried: 0, dead: 0 }
    }).finally(() => {
      if (running === tracked) running = null
    })
    running = tracked
    return next
  }
  const tick = () => {
    timer = null
    void drain().catch(() => undefined).finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs)
    })
  }
  if (transport) timer = setTimeout(tick, 0)

  return {
    drainNow: drain,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      if (running) await running
      transport?.close?.()
    }
  }
}
