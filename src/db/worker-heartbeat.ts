// Worker processes say they are alive, with what they run with (minus secrets) and the leases
// they hold; the admin pages and /readyz read it.
import type { Executor } from './index.js'

export interface Heartbeat {
  holder: string
  role: string
  host: string
  pid: number
  version: string
  settings: Record<string, unknown>
  startedAt: string
  /** What the worker counted since it started; /metrics publishes it per worker. */
  stats?: WorkerStats | null
}

/** A worker's own counts since it started (they start at zero again when it restarts). */
export interface WorkerStats {
  mail: { sent: number; retried: number; dead: number }
  /** CRM API calls made, and the daily allowance as the CRM last reported it (Sforce-Limit-Info). */
  crm: { calls: number; apiUsed: number | null; apiMax: number | null }
  /** The IMAP poller's last completed pass and the messages it left for the next; null without IMAP_URL. */
  imap: { lastPassAt: string | null; waiting: number } | null
}

export async function saveHeartbeat(db: Executor, beat: Heartbeat, at: string): Promise<void> {
  const values = {
    role: beat.role, host: beat.host, pid: beat.pid, version: beat.version, settings: JSON.stringify(beat.settings),
    stats: beat.stats ? JSON.stringify(beat.stats) : null, beat_at: at
  }
  await db.insertInto('worker_heartbeat').values({ holder: beat.holder, started_at: beat.startedAt, ...values })
    .onConflict((oc) => oc.column('holder').doUpdateSet(values)).execute()
}

export async function dropHeartbeat(db: Executor, holder: string): Promise<void> {
  await db.deleteFrom('worker_heartbeat').where('holder', '=', holder).execute()
}

export interface WorkerView extends Heartbeat {
  stats: WorkerStats | null
  beatAt: string
  /** The leases this worker holds now (by name). */
  leases: string[]
}

/** Workers heard from since `since` (older rows are processes that stopped or died), newest first. */
export async function liveWorkers(db: Executor, since: string): Promise<WorkerView[]> {
  const rows = await db.selectFrom('worker_heartbeat').selectAll().where('beat_at', '>=', since).orderBy('beat_at', 'desc').execute()
  if (rows.length === 0) return []
  const leases = await db.selectFrom('job_lease').select(['name', 'holder']).where('holder', 'in', rows.map((r) => r.holder)).execute()
  return rows.map((r) => ({
    holder: r.holder, role: r.role, host: r.host, pid: r.pid, version: r.version, startedAt: r.started_at, beatAt: r.beat_at,
    settings: parsed<Record<string, unknown>>(r.settings) ?? {}, stats: r.stats === null ? null : parsed<WorkerStats>(r.stats),
    leases: leases.filter((l) => l.holder === r.holder).map((l) => l.name).sort()
  }))
}

function parsed<T>(json: string): T | null {
  try {
    return JSON.parse(json) as T
  } catch {
    return null
  }
}

/** Rows of workers not heard from since `before` (they stopped or died), removed. */
export async function dropStaleHeartbeats(db: Executor, before: string): Promise<void> {
  await db.deleteFrom('worker_heartbeat').where('beat_at', '<', before).execute()
}
