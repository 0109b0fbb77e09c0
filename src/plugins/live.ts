// The web process's view of the change feed (live_event, written by triggers in every changing
// transaction): one reader per process, whatever number of pages are open, tells each open page's
// stream (src/routes/live-stream.ts) about the changes after the last one it read. On PostgreSQL a
// LISTEN connection wakes it as soon as a change commits (and a slow poll covers a lost
// notification); on SQLite, where there is nothing to listen to, it polls the table, one indexed
// read every POLL_MS while any page is open. Several web processes each read the same rows.
import fp from 'fastify-plugin'
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/index.js'
import { isSqliteUrl } from '../db/index.js'
import { lastLiveId, listenForLive, liveAfter, type LiveRow } from '../db/live.js'
import { keepLive } from '../commands/presence.js'
import type { Clock } from '../domain/clock.js'

export type LiveChange = LiveRow
export type LiveListener = (changes: LiveChange[]) => void

export interface LiveOptions {
  /** How often the table is read without a notification (SQLite: the delay a page sees). */
  pollMs: number
  /** PostgreSQL: listen for the triggers' NOTIFY on a connection of its own. */
  listenUrl: string | null
  /** How often a process confirms its pages' presence rows and clears dead processes' rows. */
  upkeepMs: number
}

/** A presence row not refreshed for this long belongs to a process that died. */
export const PRESENCE_STALE_MS = 90_000
/** Changes older than this are forgotten (every process read them within a poll). */
const KEEP_CHANGES_MS = 10 * 60_000
/** A gap in the ids (a PostgreSQL transaction that took its id, then committed later) is waited for this long. */
const GAP_WAIT_MS = 5_000
const BATCH = 1_000

export class LiveFeed {
  /** This process, as its presence rows name it. */
  readonly process = randomUUID()
  private readonly listeners = new Set<LiveListener>()
  /** Every change up to here has been handed out. */
  private watermark = 0
  /** Changes after the watermark already handed out (a later id committed before an earlier one). */
  private readonly ahead = new Set<number>()
  private gapSince: number | null = null
  private running = false
  private starting: Promise<void> | null = null
  private reading = false
  private again = false
  private pollTimer: NodeJS.Timeout | null = null
  private upkeepTimer: NodeJS.Timeout | null = null
  private unlisten: (() => Promise<void>) | null = null
  private relisten: NodeJS.Timeout | null = null
  /** (when, watermark then): what may be forgotten once it is old enough. */
  private checkpoints: { at: number; id: number }[] = []
  /** Open pages of this process with a presence row. */
  presenceRows = 0
  /** How each open stream ends (all of them end when the server stops: it would wait for each page). */
  readonly streams = new Set<() => void>()
  /** Open streams per person ('staff:3'), for the cap on them. */
  readonly perPerson = new Map<string, number>()

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly random: () => number, private readonly log: FastifyBaseLogger, private readonly opts: LiveOptions) {}

  get listening(): number {
    return this.listeners.size
  }

  /** Hears every change from now on; the feed runs while anyone listens. */
  async subscribe(listener: LiveListener): Promise<() => void> {
    this.listeners.add(listener)
    if (!this.running) {
      this.starting ??= this.start().finally(() => { this.starting = null })
      await this.starting
    }
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0) void this.stop()
    }
  }

  private async start(): Promise<void> {
    this.watermark = await lastLiveId(this.db)
    this.ahead.clear()
    this.gapSince = null
    this.checkpoints = []
    this.running = true
    this.schedule()
    this.upkeepTimer = setInterval(() => void this.upkeep(), this.opts.upkeepMs)
    this.upkeepTimer.unref()
    if (this.opts.listenUrl) await this.listen()
  }

  private async listen(): Promise<void> {
    if (!this.running || !this.opts.listenUrl) return
    try {
      this.unlisten = await listenForLive(this.opts.listenUrl, () => this.wake(), (err) => {
        this.log.warn({ err }, 'live feed: LISTEN connection lost; polling until it is back')
        const stop = this.unlisten
        this.unlisten = null
        void stop?.()
        this.retryListen()
      })
    } catch (err) {
      this.log.warn({ err }, 'live feed: cannot LISTEN; polling until it can')
      this.retryListen()
    }
  }

  private retryListen(): void {
    if (!this.running || this.relisten) return
    this.relisten = setTimeout(() => {
      this.relisten = null
      void this.listen()
    }, 5_000)
    this.relisten.unref()
  }

  private async stop(): Promise<void> {
    if (!this.running || this.starting) return
    this.running = false
    if (this.pollTimer) clearTimeout(this.pollTimer)
    if (this.upkeepTimer) clearInterval(this.upkeepTimer)
    if (this.relisten) clearTimeout(this.relisten)
    this.pollTimer = this.upkeepTimer = this.relisten = null
    const unlisten = this.unlisten
    this.unlisten = null
    await unlisten?.()
  }

  async close(): Promise<void> {
    for (const end of [...this.streams]) end()
    this.listeners.clear()
    await this.starting?.catch(() => {})
    await this.stop()
  }

  /** Reads now (a notification came, or a test wants the changes at once). */
  wake(): void {
    if (!this.running) return
    if (this.reading) {
      this.again = true
      return
    }
    if (this.pollTimer) clearTimeout(this.pollTimer)
    this.pollTimer = null
    void this.read()
  }

  private schedule(): void {
    if (!this.running || this.pollTimer) return
    // With LISTEN, the poll only covers a notification lost while reconnecting.
    const ms = this.unlisten ? Math.max(this.opts.pollMs, 2_000) : this.opts.pollMs
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null
      void this.read()
    }, ms)
    this.pollTimer.unref()
  }

  private async read(): Promise<void> {
    if (this.reading || !this.running) return
    this.reading = true
    try {
      for (;;) {
        this.again = false
        const rows = await liveAfter(this.db, this.watermark, BATCH)
        const fresh = rows.filter((r) => !this.ahead.has(r.id))
        for (const r of fresh) this.ahead.add(r.id)
        this.advance()
        if (fresh.length > 0) this.emit(fresh)
        if (rows.length < BATCH && !this.again) break
      }
    } catch (err) {
      this.log.warn({ err }, 'live feed: reading the changes failed; trying again')
    } finally {
      this.reading = false
      this.schedule()
    }
  }

  /** Moves the watermark over every id handed out in a row; past a gap only once it has waited long enough. */
  private advance(): void {
    for (;;) {
      while (this.ahead.delete(this.watermark + 1)) this.watermark++
      if (this.ahead.size === 0) {
        this.gapSince = null
        return
      }
      const now = Date.now()
      this.gapSince ??= now
      if (now - this.gapSince < GAP_WAIT_MS) return
      // Ids a rolled-back transaction took are never filled: step over them.
      this.watermark = Math.min(...this.ahead) - 1
      this.gapSince = null
    }
  }

  private emit(changes: LiveChange[]): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(changes)
      } catch (err) {
        this.log.error({ err }, 'live feed: a listener failed')
      }
    }
  }

  private async upkeep(): Promise<void> {
    if (!this.running) return
    const now = Date.now()
    this.checkpoints.push({ at: now, id: this.watermark })
    let pruneThrough: number | null = null
    while (this.checkpoints.length > 0 && now - this.checkpoints[0].at >= KEEP_CHANGES_MS) pruneThrough = this.checkpoints.shift()!.id
    try {
      await keepLive({ db: this.db, clock: this.clock, random: this.random }, {
        process: this.process, hasRows: this.presenceRows > 0,
        staleBefore: new Date(this.clock().getTime() - PRESENCE_STALE_MS).toISOString(),
        pruneThrough: pruneThrough !== null && pruneThrough > 0 ? pruneThrough : null
      })
    } catch (err) {
      this.log.warn({ err }, 'live feed: upkeep failed; trying again at the next round')
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The change feed the live pages follow (one per process). */
    live: LiveFeed
  }
}

export default fp<{ live?: Partial<LiveOptions> }>(async function live(fastify, opts) {
  const url = fastify.config.databaseUrl
  const feed = new LiveFeed(fastify.db, fastify.clock, fastify.random, fastify.log, {
    pollMs: 250, upkeepMs: 30_000, listenUrl: isSqliteUrl(url) ? null : url, ...opts.live
  })
  fastify.decorate('live', feed)
  // Open streams end with the server (close() waits for connections; a stream would hold it).
  fastify.addHook('preClose', async () => {
    await feed.close()
  })
}, { name: 'live', dependencies: ['external'] })
