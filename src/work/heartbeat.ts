// A worker's heartbeat: every few seconds its row says it is alive and what it runs with; the row
// goes when the worker stops. The admin pages read the workers' own settings from it (SMTP, IMAP,
// CRM), not the web process's, /readyz wants a fresh one, and /metrics publishes the counts it
// carries (the web process has no other way to learn a worker's numbers).
import type { Db } from '../db/index.js'
import type { Logger } from '../log.js'
import { dropHeartbeat, dropStaleHeartbeats, saveHeartbeat, type Heartbeat, type WorkerStats } from '../db/worker-heartbeat.js'
import { every } from './schedule.js'

/** A heartbeat older than this many beats means the worker is gone. */
export const STALE_AFTER_BEATS = 3

export interface HeartbeatSource extends Omit<Heartbeat, 'startedAt' | 'stats'> {
  /** The worker's counts as they are now, read at each beat. */
  stats?: () => WorkerStats
}

export function startHeartbeat(deps: { db: Db; clock: () => Date; log: Logger }, source: HeartbeatSource, everyMs: number): { stop(): Promise<void> } {
  const startedAt = deps.clock().toISOString()
  const { stats, ...beat } = source
  const schedule = every(everyMs, async () => {
    const now = deps.clock()
    await saveHeartbeat(deps.db, { ...beat, startedAt, stats: stats?.() ?? null }, now.toISOString())
    // Rows of workers that died long ago would only clutter the admin page.
    await dropStaleHeartbeats(deps.db, new Date(now.getTime() - 24 * 60 * 60_000).toISOString())
  }, { log: deps.log, name: 'heartbeat' })
  return {
    async stop() {
      await schedule.stop()
      await dropHeartbeat(deps.db, beat.holder).catch((err) => deps.log.warn({ err }, 'could not remove the heartbeat row'))
    }
  }
}
