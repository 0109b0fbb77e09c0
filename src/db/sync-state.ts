// The worker's progress and health, by key: CRM cursors and pauses, last successes, API usage.
import type { Executor } from './index.js'

export const SYNC_STATE = {
  pausedUntil: 'crm.paused_until',
  pauseReason: 'crm.pause_reason',
  failures: 'crm.consecutive_failures',
  lastError: 'crm.last_error',
  lastErrorAt: 'crm.last_error_at',
  apiUsage: 'crm.api_usage',
  emulatorUrl: 'crm.emulator_url',
  outboundSuccess: 'outbound.last_success',
  inboundSuccess: 'inbound.last_success',
  referenceSuccess: 'reference.last_success'
} as const

export async function getSyncState(db: Executor, key: string): Promise<string | null> {
  const row = await db.selectFrom('sync_state').select('value').where('key', '=', key).executeTakeFirst()
  return row?.value ?? null
}

export async function getSyncStates(db: Executor, prefix: string): Promise<Record<string, { value: string; updatedAt: string }>> {
  const rows = await db.selectFrom('sync_state').select(['key', 'value', 'updated_at']).where('key', 'like', `${prefix}%`).execute()
  return Object.fromEntries(rows.map((r) => [r.key, { value: r.value, updatedAt: r.updated_at }]))
}

export async function setSyncState(db: Executor, key: string, value: string, now: string): Promise<void> {
  await db.insertInto('sync_state').values({ key, value, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now })).execute()
}
