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
}

export async function saveHeartbeat(db: Executor, beat: Heartbeat, at: string): Promise<void> {
  const values = { role: beat.role, host: beat.host, pid: beat.pid, version: beat.version, settings: JSON.stringify(beat.settings), beat_at: at }
  await db.insertInto('worker_heartbeat').values({ holder: beat.holder, started_at: beat.startedAt, ...values })
    .onConflict((oc) => oc.column('holder').doUpdateSet(values)).execute()
}

export async function dropHeartbeat(db: Executor, holder: string): Promise<void> {
  await db.deleteFrom('worker_heartbeat').where('holder', '=', holder).execute()
}

export interface WorkerView extends Heartbeat {
  beatAt: string
  /** The leases this worker holds now (by name). */
  leases: string[]
}

/** Workers heard from since `since` (older rows are processes that stopped or died), newest first. */
export async function liveWorkers(db: Executor, since: string): Promise<WorkerView[]> {
  const rows = await db.selectFrom('worker_heartbeat').selectAll().where('beat_at', '>=', since).orderBy('beat_at', 'desc').execute()
  if (rows.length === 0) return []
  const leases = await db.selectFrom('job_lease').select(['name', 'holder']).where('holder', 'in', rows.map((r) => r.holder)).execute()
  return rows.map((r) => {
    let settings: Record<string, unknown> = {}
    try {
      settings = JSON.parse(r.settings) as Record<string, unknown>
    } catch {
      settings = {}
    }
    return {
      holder: r.holder, role: r.role, host: r.host, pid: r.pid, version: r.version, settings, startedAt: r.started_at, beatAt: r.beat_at,
      leases: leases.filter((l) => l.holder === r.holder).map((l) => l.name).sort()
    }
  })
}

/** Rows of workers not heard from since `before` (they stopped or died), removed. */
export async function dropStaleHeartbeats(db: Executor, before: string): Promise<void> {
  await db.deleteFrom('worker_heartbeat').where('beat_at', '<', before).execute()
}
