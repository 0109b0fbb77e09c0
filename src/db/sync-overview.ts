// What the pages show of the CRM sync: a ticket's Case badge and the admin overview.
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
  const ticket = await db.selectFrom('ticket').select(['crm_case_id', 'crm_case_number']).where('id', '=', ticketId).executeTakeFirst()
  if (!ticket) return null
  const rows = await db.selectFrom('crm_outbox').select(['status', 'last_error', 'done_at'])
    .where('ticket_id', '=', ticketId).where('status', 'in', ['pending', 'dead']).execute()
  const synced = await db.selectFrom('crm_outbox').select((eb) => eb.fn.max('done_at').as('at'))
    .where('ticket_id', '=', ticketId).where('status', '=', 'done').executeTakeFirst()
  const syncedAt = (synced?.at as string | null | undefined) ?? null
  const dead = rows.find((r) => r.status === 'dead')
  const failing = rows.find((r) => r.status === 'pending' && r.last_error !== null)
  const state: CrmSyncState = dead ? 'dead' : failing ? 'error' : rows.length > 0 || !ticket.crm_case_id ? 'pending' : 'synced'
  return {
    caseNumber: ticket.crm_case_number,
    caseId: ticket.crm_case_id,
    state,
    syncedAt,
    minutesAgo: syncedAt ? Math.max(0, Math.floor((now.getTime() - Date.parse(syncedAt)) / 60_000)) : null,
    error: dead?.last_error ?? failing?.last_error ?? null
  }
}

export interface SyncOverview {
  outbox: OutboxStats
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
