// What the pages show of the CRM sync: a ticket's Case badge and the admin overview.
import { peopleOutboxOverview } from './crm-people.js'
import type { Executor } from './index.js'
import { listDeadRows, outboxStats, type OutboxStats } from './crm-outbox.js'
import { getSyncStates, SYNC_STATE } from './sync-state.js'

export type CrmSyncState = 'synced' | 'pending' | 'error' | 'dead'

export interface CrmSyncBadge {
  caseNumber: string | null
  caseId: string | null
  state: CrmSyncState
  /** When the Case last took a change from this ticket. */
  syncedAt: string | null
  /** Whole minutes since syncedAt (for "synced n min ago"). */
  minutesAgo: number | null
  /** The error of a failing or parked row. */
  error: string | null
}

/** The Case number and sync state a ticket page shows: dead > error > pending > synced. */
export async function crmSyncBadge(db: Executor, ticketId: number, now: Date = new Date()): Promise<CrmSyncBadge | null> {
  // One statement: the Case link and what the ticket's outbox rows say, as subqueries by ticket_id.
  const row = await db.selectFrom('ticket').select((eb) => {
    const rows = (status: 'pending' | 'dead' | 'done') => eb.selectFrom('crm_outbox').whereRef('crm_outbox.ticket_id', '=', 'ticket.id').where('crm_outbox.status', '=', status)
    return [
      'ticket.crm_case_id', 'ticket.crm_case_number',
      rows('dead').select('crm_outbox.id').limit(1).as('dead_id'),
      rows('dead').select('crm_outbox.last_error').orderBy('crm_outbox.id', 'desc').limit(1).as('dead_error'),
      rows('pending').select('crm_outbox.id').limit(1).as('pending_id'),
      rows('pending').where('crm_outbox.last_error', 'is not', null).select('crm_outbox.last_error').orderBy('crm_outbox.id', 'desc').limit(1).as('failing_error'),
      rows('done').select((c) => c.fn.max('crm_outbox.done_at').as('at')).as('synced_at')
    ]
  }).where('ticket.id', '=', ticketId).executeTakeFirst()
  if (!row) return null
  const syncedAt = (row.synced_at as string | null) ?? null
  const dead = row.dead_id !== null
  const failing = row.failing_error !== null
  const state: CrmSyncState = dead ? 'dead' : failing ? 'error' : row.pending_id !== null || !row.crm_case_id ? 'pending' : 'synced'
  return {
    caseNumber: row.crm_case_number,
    caseId: row.crm_case_id,
    state,
    syncedAt,
    minutesAgo: syncedAt ? Math.max(0, Math.floor((now.getTime() - Date.parse(syncedAt)) / 60_000)) : null,
    error: (dead ? row.dead_error : null) ?? row.failing_error ?? null
  }
}

export interface SyncOverview {
  outbox: OutboxStats
  people: Awaited<ReturnType<typeof peopleOutboxOverview>>
  dead: Awaited<ReturnType<typeof listDeadRows>>
  lastOutbound: string | null
  lastInbound: string | null
  lastReference: string | null
  lastError: { message: string; at: string } | null
  paused: { until: string; reason: string } | null
  apiUsage: { used: number; max: number; percent: number; at: string } | null
  emulatorUrl: string | null
}

/** Everything the admin sync page shows, read in one go. */
export async function syncOverview(db: Executor, now: Date): Promise<SyncOverview> {
  const at = now.toISOString()
  const states = { ...(await getSyncStates(db, 'crm.')), ...(await getSyncStates(db, 'outbound.')), ...(await getSyncStates(db, 'inbound.last')), ...(await getSyncStates(db, 'reference.last')) }
  const v = (key: string) => states[key]?.value ?? null
  const pausedUntil = v(SYNC_STATE.pausedUntil)
  let apiUsage: SyncOverview['apiUsage'] = null
  const usage = states[SYNC_STATE.apiUsage]
  if (usage) {
    try {
      const u = JSON.parse(usage.value) as { used: number; max: number }
      apiUsage = { used: u.used, max: u.max, percent: u.max > 0 ? Math.round((u.used / u.max) * 1000) / 10 : 0, at: usage.updatedAt }
    } catch {
      apiUsage = null
    }
  }
  return {
    outbox: await outboxStats(db, at),
    people: await peopleOutboxOverview(db),
    dead: await listDeadRows(db, 200),
    lastOutbound: v(SYNC_STATE.outboundSuccess),
    lastInbound: v(SYNC_STATE.inboundSuccess),
    lastReference: v(SYNC_STATE.referenceSuccess),
    lastError: v(SYNC_STATE.lastError) ? { message: v(SYNC_STATE.lastError)!, at: v(SYNC_STATE.lastErrorAt) ?? states[SYNC_STATE.lastError].updatedAt } : null,
    paused: pausedUntil && pausedUntil > at ? { until: pausedUntil, reason: v(SYNC_STATE.pauseReason) ?? '' } : null,
    apiUsage,
    emulatorUrl: v(SYNC_STATE.emulatorUrl)
  }
}
