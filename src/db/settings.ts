import type { Executor } from './index.js'
import { cachedReference } from './reference-cache.js'
import type { LifecyclePolicy } from '../domain/lifecycle.js'

export interface Settings extends LifecyclePolicy {
  /** Days a resolved ticket waits for the requester before it closes by itself. */
  autoCloseDays: number
  /** Staff and admins must use two-factor authentication (they set it up at their next login). */
  staffTwoFactorRequired: boolean
  /** Contacts the CRM import creates (with an account) are mailed the portal's invitation. */
  inviteCrmContacts: boolean
}

export const DEFAULT_SETTINGS: Settings = {
  occurrenceViaPortal: true,
  staffMayCloseWithoutRequester: false,
  autoCloseDays: 7,
  staffTwoFactorRequired: false,
  inviteCrmContacts: false
}

const KEYS: Record<keyof Settings, string> = {
  occurrenceViaPortal: 'occurrence_via_portal',
  staffMayCloseWithoutRequester: 'staff_may_close_without_requester',
  autoCloseDays: 'auto_close_days',
  staffTwoFactorRequired: 'staff_two_factor_required',
  inviteCrmContacts: 'invite_crm_contacts'
}

/** The service settings (kept in memory until a setting changes). */
export async function getSettings(db: Executor): Promise<Settings> {
  return cachedReference(db, 'settings', readSettings)
}

async function readSettings(db: Executor): Promise<Settings> {
  const rows = await db.selectFrom('setting').selectAll().where('key', 'in', Object.values(KEYS)).execute()
  const raw = new Map(rows.map((r) => [r.key, r.value]))
  const flag = (k: keyof Settings, d: boolean) => (raw.has(KEYS[k]) ? raw.get(KEYS[k]) === '1' : d)
  const days = Number(raw.get(KEYS.autoCloseDays))
  return {
    occurrenceViaPortal: flag('occurrenceViaPortal', DEFAULT_SETTINGS.occurrenceViaPortal),
    staffMayCloseWithoutRequester: flag('staffMayCloseWithoutRequester', DEFAULT_SETTINGS.staffMayCloseWithoutRequester),
    autoCloseDays: Number.isInteger(days) && days > 0 ? days : DEFAULT_SETTINGS.autoCloseDays,
    staffTwoFactorRequired: flag('staffTwoFactorRequired', DEFAULT_SETTINGS.staffTwoFactorRequired),
    inviteCrmContacts: flag('inviteCrmContacts', DEFAULT_SETTINGS.inviteCrmContacts)
  }
}

export async function saveSettings(db: Executor, changes: Partial<Settings>): Promise<void> {
  for (const [k, v] of Object.entries(changes) as [keyof Settings, Settings[keyof Settings]][]) {
    const value = typeof v === 'boolean' ? (v ? '1' : '0') : String(v)
    await db.insertInto('setting').values({ key: KEYS[k], value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute()
  }
}
