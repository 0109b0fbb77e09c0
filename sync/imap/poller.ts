// The IMAP poller: one connection, one run at a time, woken by IDLE (or the server's NOOP
// polling where IDLE is missing) and by a periodic full check; reconnects with backoff.
import { EventEmitter } from 'node:events'
import { ImapFlow, type FetchMessageObject, type MailboxObject } from 'imapflow'
import type { Config } from '../../src/config.js'
import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import type { FileStore } from '../../src/storage/attachments.js'
import { createFileStore } from '../../src/db/file-store.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { getMailboxState, inboundByUids, unmovedInbound } from '../../src/db/mailbox.js'
import { recordMessagesMoved, saveMailboxPosition, startMailboxOver } from '../../src/commands/mail-intake.js'
import { applyMessage, prepareMessage, quarantineUnprocessable, type FetchedMessage, type InboundDeps, type Outcome, type Prepared } from './process.js'
import { ourSender } from './content.js'
import {
  fetchBatches, hasUidValidityChanged, parseImapUrl, pendingUids, reconnectDelayMs, resumeFrom, uidSet, type ImapTarget
} from './state.js'

export interface RunReport {
  fetched: number
  notes: number
  tickets: number
  quarantined: number
  duplicates: number
  moved: number
  uidValidityChanged: boolean
  /** Messages found but left for the next run (more than one run handles). */
  waiting: number
}

export interface ImapPollerOptions {
  config: Config
  db: Db
  log: Logger
  store?: FileStore
  clock?: () => Date
  random?: () => number
  /** Overrides IMAP_URL. */
  url?: string
  /** Full check interval (default IMAP_POLL_SECONDS). */
  pollMs?: number
  backoff?: { baseMs: number; maxMs: number }
  /** Messages fetched per round trip (default 100; also bounded to 32 MB of source). */
  batchSize?: number
  /** Messages handled per run before the run yields (default 2000). */
  maxPerRun?: number
  /** Test seam: called after a message's outcome is committed and before it is moved. */
  afterCommit?: (uid: number, outcome: Outcome) => void | Promise<void>
}

const BATCH_BYTES = 32 * 1024 * 1024

function emptyReport(): RunReport {
  return { fetched: 0, notes: 0, tickets: 0, quarantined: 0, duplicates: 0, moved: 0, uidValidityChanged: false, waiting: 0 }
}

function folderPath(name: string): string[] {
  return name.split('/').filter(Boolean)
}

/**
 * Watches one mailbox and turns its messages into notes. Events: `connected`, `disconnected`,
 * `reconnecting` ({ attempt, delayMs }), `run` (RunReport), `error` is never emitted (logged).
 */
export class ImapPoller extends EventEmitter {
  readonly target: ImapTarget
  private readonly deps: InboundDeps
  private readonly log: Logger
  private readonly pollMs: number
  private readonly backoff: { baseMs: number; maxMs: number }
  private readonly random: () => number
  private client: ImapFlow | null = null
  private stopped = false
  private wakeUp: (() => void) | null = null
  private pendingWake = false
  private waiters: ((r: RunReport) => void)[] = []
  private loop: Promise<void> | null = null
  private sleepTimer: NodeJS.Timeout | null = null
  private sleepDone: (() => void) | null = null
  /** Reconnect attempts since the last successful connection. */
  attempts = 0

  constructor(private readonly opts: ImapPollerOptions) {
    super()
    const url = opts.url ?? opts.config.IMAP_URL
    if (!url) throw new Error('IMAP_URL is not set')
    this.target = parseImapUrl(url)
    this.log = opts.log.child({ component: 'imap', mailbox: this.target.key })
    this.random = opts.random ?? Math.random
    this.pollMs = opts.pollMs ?? Math.round(opts.config.IMAP_POLL_SECONDS * 1000)
    this.backoff = opts.backoff ?? { baseMs: 1000, maxMs: 60_000 }
    const config = opts.config
    this.deps = {
      db: opts.db,
      store: opts.store ?? createFileStore(config, opts.db),
      key: mailTokenKey(config),
      clock: opts.clock ?? (() => new Date()),
      random: this.random,
      log: this.log,
      settings: {
        maxInboundBytes: Math.floor(config.MAX_INBOUND_MB * 1024 * 1024),
        maxAttachmentBytes: config.maxAttachmentBytes,
        unknownSenderReply: config.UNKNOWN_SENDER_REPLY,
        inboundDesk: config.INBOUND_DESK ?? null,
        publicUrl: config.publicUrl,
        defaultLocale: config.DEFAULT_LOCALE,
        ours: ourSender(config.MAIL_FROM, config.REPLY_TO_ADDRESS)
      }
    }
  }

  start(): this {
    this.loop ??= this.main()
    return this
  }

  /** Asks for a run and resolves with the report of the next run that starts after the call. */
  runNow(): Promise<RunReport> {
    const p = new Promise<RunReport>((resolve) => this.waiters.push(resolve))
    this.wake()
    return p
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.sleepTimer) clearTimeout(this.sleepTimer)
    this.sleepDone?.()
    this.wake()
    const client = this.client
    if (client?.usable) {
      await Promise.race([client.logout().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())])
    }
    client?.close()
    await this.loop
  }

  private wake() {
    this.pendingWake = true
    const w = this.wakeUp
    this.wakeUp = null
    w?.()
  }

  private waitForWork(client: ImapFlow): Promise<void> {
    if (this.pendingWake || this.stopped || !client.usable) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), this.pollMs)
      this.wakeUp = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepTimer = setTimeout(() => {
        this.sleepTimer = null
        this.sleepDone = null
        resolve()
      }, ms)
      this.sleepDone = resolve
    })
  }

  private newClient(): ImapFlow {
    const t = this.target
    const client = new ImapFlow({
      host: t.host, port: t.port, secure: t.secure, auth: { user: t.user, pass: t.pass },
      logger: false, connectionTimeout: 30_000, greetingTimeout: 15_000, socketTimeout: 5 * 60_000,
      // Restarting IDLE now and then keeps NAT boxes and idle timeouts from dropping us silently.
      maxIdleTime: 4 * 60_000,
      // Our runs hold the mailbox lock from start to end, so IDLE may start soon after one ends.
      autoIdleDelay: 1000
    })
    client.on('error', (err: Error) => this.log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'IMAP connection error'))
    client.on('exists', () => this.wake())
    client.on('close', () => this.wake())
    return client
  }

  private async main(): Promise<void> {
    while (!this.stopped) {
      const client = this.newClient()
      this.client = client
      try {
        await client.connect()
        this.attempts = 0
        await this.ensureFolders(client)
        await client.mailboxOpen(this.target.mailbox)
        this.log.info({ idle: client.capabilities.has('IDLE') }, 'IMAP connected')
        this.emit('connected')
        this.pendingWake = true
        while (!this.stopped && client.usable) {
          await this.waitForWork(client)
          if (this.stopped || !client.usable) break
          this.pendingWake = false
          const waiting = this.waiters
          this.waiters = []
          const report = await this.runOnce(client).catch((err: unknown) => {
            // Back in the queue: they get the report of the run after the reconnect.
            this.waiters.unshift(...waiting)
            throw err
          })
          for (const w of waiting) w(report)
          this.emit('run', report)
        }
      } catch (err) {
        if (!this.stopped) this.log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'IMAP run failed')
      } finally {
        client.close()
        this.client = null
      }
      if (this.stopped) break
      this.emit('disconnected')
      this.attempts++
      const delayMs = reconnectDelayMs(this.attempts, this.backoff, this.random)
      this.log.info({ attempt: this.attempts, delayMs }, 'IMAP reconnecting')
      this.emit('reconnecting', { attempt: this.attempts, delayMs })
      await this.sleep(delayMs)
    }
  }

  private async ensureFolders(client: ImapFlow) {
    const existing = new Set((await client.list()).map((m) => m.path))
    for (const name of [this.opts.config.IMAP_PROCESSED_FOLDER, this.opts.config.IMAP_QUARANTINE_FOLDER]) {
      const parts = folderPath(name)
      if (existing.has(name) || existing.has(parts.join('.'))) continue
      try {
        await client.mailboxCreate(parts)
      } catch (err) {
        this.log.warn({ err: { message: (err as Error).message }, folder: name }, 'cannot create IMAP folder')
      }
    }
  }

  private async move(client: ImapFlow, uids: number[], folder: string): Promise<boolean> {
    if (uids.length === 0) return true
    try {
      await client.messageMove(uidSet(uids), folderPath(folder), { uid: true })
      return true
    } catch (err) {
      this.log.error({ err: { message: (err as Error).message }, folder, count: uids.length }, 'IMAP move failed; retried next run')
      return false
    }
  }

  /** Moves decided messages: handled ones to the processed folder, refused ones to quarantine. */
  private async moveDecided(client: ImapFlow, rows: { id: number; uid: number; result: string }[], report: RunReport) {
    const config = this.opts.config
    const done: number[] = []
    for (const [folder, pick] of [
      [config.IMAP_PROCESSED_FOLDER, (r: string) => r !== 'quarantined'],
      [config.IMAP_QUARANTINE_FOLDER, (r: string) => r === 'quarantined']
    ] as const) {
      const group = rows.filter((r) => pick(r.result))
      if (await this.move(client, group.map((r) => r.uid), folder)) {
        done.push(...group.map((r) => r.id))
        report.moved += group.length
      }
    }
    await recordMessagesMoved(this.deps, done)
  }

  /** One pass over the mailbox: finish moves left over, then every message after the stored UID. */
  async runOnce(client: ImapFlow): Promise<RunReport> {
    const report = emptyReport()
    const { db } = this.opts
    const key = this.target.key
    const lock = await client.getMailboxLock(this.target.mailbox)
    // People change (new contacts, deactivations): senders are looked up afresh each run.
    this.deps.senderCache = new Map()
    try {
      const mailbox = client.mailbox as MailboxObject
      const uidValidity = String(mailbox.uidValidity)
      const stored = await getMailboxState(db, key)
      if (hasUidValidityChanged(stored, uidValidity)) {
        report.uidValidityChanged = true
        this.log.warn({ was: stored?.uidValidity, now: uidValidity }, 'UIDVALIDITY changed: starting over, known Message-IDs are skipped')
        await startMailboxOver(this.deps, key, uidValidity)
      }
      let nextUid = resumeFrom(stored, uidValidity)
      const save = () => saveMailboxPosition(this.deps, {
        mailbox: key, uidValidity, nextUid, highestModseq: mailbox.highestModseq !== undefined ? String(mailbox.highestModseq) : null
      })

      const leftover = await unmovedInbound(db, key, uidValidity)
      if (leftover.length > 0) await this.moveDecided(client, leftover, report)

      const found = mailbox.exists > 0 ? (await client.search({ uid: `${nextUid}:*` }, { uid: true })) || [] : []
      const pending = pendingUids(found, nextUid)
      const uids = pending.slice(0, this.opts.maxPerRun ?? 2000)
      report.waiting = pending.length - uids.length
      if (uids.length > 0) {
        const meta = (await client.fetchAll(uidSet(uids), { uid: true, size: true, envelope: true }, { uid: true }))
          .sort((a, b) => a.uid - b.uid)
        const decided = new Map((await inboundByUids(db, key, uidValidity, uids)).map((r) => [r.uid, r]))
        const again = [...decided.values()].filter((r) => r.moved_at === null)
        if (again.length > 0) await this.moveDecided(client, again, report)
        const todo = meta.filter((m) => !decided.has(m.uid))
        const limit = this.deps.settings.maxInboundBytes
        for (const segment of this.segments(todo, limit)) {
          const fetched = segment.large ? [{ uid: segment.items[0].uid, size: segment.items[0].size ?? 0, source: null, envelope: envelopeOf(segment.items[0]) }]
            : await this.fetchSources(client, segment.items)
          const decidedNow: { id: number; uid: number; result: string }[] = []
          // Parsing and storing originals overlap (I/O); decisions and writes go one at a time.
          const prepared = await Promise.all(fetched.map((msg) => prepareMessage(this.deps, { mailbox: key, uidValidity, uid: msg.uid }, msg)))
          for (const prep of prepared) {
            const msg = prep.msg
            report.fetched++
            const outcome = await this.decide({ mailbox: key, uidValidity, uid: msg.uid }, prep)
            if (outcome.result === 'duplicate') report.duplicates++
            else if (outcome.result === 'quarantined') report.quarantined++
            else if (outcome.result === 'ticket') report.tickets++
            else report.notes++
            await this.opts.afterCommit?.(msg.uid, outcome)
            decidedNow.push({ id: 'inboundId' in outcome ? outcome.inboundId : -1, uid: msg.uid, result: outcome.result })
          }
          // Duplicates have no row of their own: they go to the processed folder all the same.
          const rows = decidedNow.filter((d) => d.id > 0)
          await this.moveDecided(client, rows, report)
          const dupes = decidedNow.filter((d) => d.id <= 0).map((d) => d.uid)
          if (await this.move(client, dupes, this.opts.config.IMAP_PROCESSED_FOLDER)) report.moved += dupes.length
          nextUid = Math.max(nextUid, ...segment.items.map((m) => m.uid + 1))
          await save()
        }
        nextUid = Math.max(nextUid, ...uids.map((u) => u + 1))
        if (uids.length >= (this.opts.maxPerRun ?? 2000)) this.pendingWake = true
      }
      await save()
    } finally {
      lock.release()
    }
    return report
  }

  private segments(items: FetchMessageObject[], limit: number): { large: boolean; items: FetchMessageObject[] }[] {
    const out: { large: boolean; items: FetchMessageObject[] }[] = []
    let run: FetchMessageObject[] = []
    const flush = () => {
      if (run.length === 0) return
      const byUid = new Map(run.map((m) => [m.uid, m]))
      for (const b of fetchBatches(run.map((m) => ({ uid: m.uid, size: m.size ?? 0 })), this.opts.batchSize ?? 100, BATCH_BYTES)) {
        out.push({ large: false, items: b.map((u) => byUid.get(u)!) })
      }
      run = []
    }
    for (const m of items) {
      if ((m.size ?? 0) > limit) {
        flush()
        out.push({ large: true, items: [m] })
      } else {
        run.push(m)
      }
    }
    flush()
    return out
  }

  private async fetchSources(client: ImapFlow, items: FetchMessageObject[]): Promise<FetchedMessage[]> {
    const got = await client.fetchAll(uidSet(items.map((m) => m.uid)), { uid: true, source: true }, { uid: true })
    const byUid = new Map(got.map((m) => [m.uid, m.source ?? null]))
    // A message expunged meanwhile simply is not there any more.
    return items.filter((m) => byUid.has(m.uid)).map((m) => ({ uid: m.uid, size: m.size ?? 0, source: byUid.get(m.uid) ?? Buffer.alloc(0), envelope: envelopeOf(m) }))
  }

  /** Decides one message; an unexpected failure quarantines it so the ones after still flow. */
  private async decide(key: { mailbox: string; uidValidity: string; uid: number }, prep: Prepared): Promise<Outcome> {
    const msg = prep.msg
    try {
      return await applyMessage(this.deps, key, prep)
    } catch (err) {
      this.log.error({ err, uid: msg.uid }, 'message could not be processed; quarantined')
      return quarantineUnprocessable(this.deps, key, msg, `processing failed: ${(err as Error).message}`)
    }
  }
}

function envelopeOf(m: FetchMessageObject): FetchedMessage['envelope'] {
  const from = m.envelope?.from?.[0]?.address ?? null
  return { messageId: m.envelope?.messageId ?? null, from: from ? from.toLowerCase() : null, subject: m.envelope?.subject ?? null }
}

/** Starts the poller for IMAP_URL (the worker calls this when it is set). */
export function startImapPoller(opts: ImapPollerOptions): ImapPoller {
  return new ImapPoller(opts).start()
}
