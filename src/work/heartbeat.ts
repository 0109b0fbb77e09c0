// A worker's heartbeat: every few seconds its row says it is alive and what it runs with; the row
// goes when the worker stops. The admin pages read the workers' own settings from it (SMTP, IMAP,
// CRM), not the web process's, and /readyz wants a fresh one.
import type { Db } from '../db/index.js'
import type { Logger } from '../log.js'
import { dropHeartbeat, dropStaleHeartbeats, saveHeartbeat, type Heartbeat } from '../db/worker-heartbeat.js'
import { every } from './schedule.js'

/** A heartbeat older than this many beats means the worker is gone. */
export const STALE_AFTER_BEATS = 3

export function startHeartbeat(deps: { db: Db; clock: () => Date; log: Logger }, beat: Omit<Heartbeat, 'startedAt'>, everyMs: number): { stop(): Promise<void> } {
  const startedAt = deps.clock().toISOString()
  const schedule = every(everyMs, async () => {
    const now = deps.clock()
    await saveHeartbeat(deps.db, { ...beat, startedAt }, now.toISOString())
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
