// Security events (what happened to accounts), login throttles shared by every web process,
// single-use account links (password reset, invitation) and staff recovery codes.
import { sql } from 'kysely'
import type { Executor } from './index.js'
import { getSettings } from './settings.js'
import type { AccountLinkPurpose, SecurityEventKind } from './schema.js'
import type { PersonRef } from './sessions.js'

const owner = (person: PersonRef | null | undefined) => ({
  staff_id: person?.kind === 'staff' ? person.id : null,
  contact_id: person?.kind === 'contact' ? person.id : null
})

export interface SecurityEventInput {
  kind: SecurityEventKind
  person?: PersonRef | null
  email?: string | null
  ip?: string | null
  userAgent?: string | null
  detail?: string | null
}

export async function insertSecurityEvent(db: Executor, event: SecurityEventInput, now: string): Promise<void> {
  await db.insertInto('security_event').values({
    kind: event.kind, ...owner(event.person), email: event.email ?? null, ip: event.ip ?? null,
    user_agent: event.userAgent ?? null, detail: event.detail ?? null, created_at: now
  }).execute()
}

export interface SecurityEventRow {
  id: number
  kind: SecurityEventKind
  staffId: number | null
  contactId: number | null
  personName: string | null
  email: string | null
  ip: string | null
  userAgent: string | null
  detail: string | null
  createdAt: string
}

/** Events, newest first: one person's (their account page) or everyone's (admins), a page at a time. */
export async function listSecurityEvents(db: Executor, opts: { person?: PersonRef; before?: number; limit: number; kinds?: SecurityEventKind[] }): Promise<SecurityEventRow[]> {
  let q = db.selectFrom('security_event')
    .leftJoin('staff', 'staff.id', 'security_event.staff_id')
    .leftJoin('contact', 'contact.id', 'security_event.contact_id')
    .select(['security_event.id', 'security_event.kind', 'security_event.staff_id', 'security_event.contact_id', 'security_event.email',
      'security_event.ip', 'security_event.user_agent', 'security_event.detail', 'security_event.created_at',
      (eb) => eb.fn.coalesce('staff.name', 'contact.name').as('person_name')])
  if (opts.person) q = opts.person.kind === 'staff' ? q.where('security_event.staff_id', '=', opts.person.id) : q.where('security_event.contact_id', '=', opts.person.id)
  if (opts.before !== undefined) q = q.where('security_event.id', '<', opts.before)
  if (opts.kinds && opts.kinds.length > 0) q = q.where('security_event.kind', 'in', opts.kinds)
  const rows = await q.orderBy('security_event.id', 'desc').limit(opts.limit).execute()
  return rows.map((r) => ({
    id: r.id, kind: r.kind, staffId: r.staff_id, contactId: r.contact_id, personName: r.person_name ?? null, email: r.email,
    ip: r.ip, userAgent: r.user_agent, detail: r.detail, createdAt: r.created_at
  }))
}

/**
 * Counts one hit against `key` in a window that starts with the first hit and lasts `windowMs`;
 * returns the hits in the current window. One statement (an upsert), so concurrent hits from
 * several processes each count.
 */
export async function hitThrottle(db: Executor, key: string, now: Date, windowMs: number): Promise<{ hits: number; resetsAt: string }> {
  const at = now.toISOString()
  const resets = new Date(now.getTime() + windowMs).toISOString()
  const row = await db.insertInto('throttle').values({ key, hits: 1, resets_at: resets })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      hits: sql<number>`CASE WHEN throttle.resets_at <= ${at} THEN 1 ELSE throttle.hits + 1 END`,
      resets_at: sql<string>`CASE WHEN throttle.resets_at <= ${at} THEN ${resets} ELSE throttle.resets_at END`
    }))
    .returning(['hits', 'resets_at']).executeTakeFirstOrThrow()
  return { hits: Number(row.hits), resetsAt: row.resets_at }
}

/** The hits counted against `key` in its current window (0 when none or the window has passed). */
export async function throttleHits(db: Executor, key: string, now: Date): Promise<{ hits: number; resetsAt: string | null }> {
  const row = await db.selectFrom('throttle').select(['hits', 'resets_at']).where('key', '=', key).executeTakeFirst()
  if (!row || row.resets_at <= now.toISOString()) return { hits: 0, resetsAt: null }
  return { hits: Number(row.hits), resetsAt: row.resets_at }
}

export async function clearThrottle(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('throttle').where('key', '=', key).execute()
}

/** Windows that have passed (the job that tidies up). */
/**
 * Deletes up to `limit` rows of an append-only log (the audit log, the security events) written
 * before `before`. Rows arrive in time order, so the oldest come first by id: when the first row
 * is recent there is nothing to do (one look-up), otherwise the old rows are at the front.
 */
export async function deleteLogRowsBefore(db: Executor, table: 'admin_audit' | 'security_event', before: string, limit = 1000): Promise<number> {
  const oldest = await db.selectFrom(table).select('created_at').orderBy('id').limit(1).executeTakeFirst()
  if (!oldest || oldest.created_at >= before) return 0
  const ids = await db.selectFrom(table).select('id').where('created_at', '<', before).orderBy('id').limit(limit).execute()
  if (ids.length === 0) return 0
  const result = await db.deleteFrom(table).where('id', 'in', ids.map((r) => r.id)).executeTakeFirst()
  return Number(result.numDeletedRows)
}

export async function deleteExpiredThrottles(db: Executor, now: string): Promise<number> {
  const result = await db.deleteFrom('throttle').where('resets_at', '<=', now).executeTakeFirst()
  return Number(result.numDeletedRows)
}

export async function insertAccountLink(db: Executor, link: { purpose: AccountLinkPurpose; tokenHash: string; person: PersonRef; now: string; expiresAt: string }): Promise<void> {
  await db.insertInto('account_link').values({
    purpose: link.purpose, token_hash: link.tokenHash, ...owner(link.person), created_at: link.now, expires_at: link.expiresAt, used_at: null
  }).execute()
}

export interface AccountLinkRow {
  id: number
  purpose: AccountLinkPurpose
  person: PersonRef
  expiresAt: string
  usedAt: string | null
}

export async function findAccountLink(db: Executor, tokenHash: string): Promise<AccountLinkRow | undefined> {
  const row = await db.selectFrom('account_link').select(['id', 'purpose', 'staff_id', 'contact_id', 'expires_at', 'used_at'])
    .where('token_hash', '=', tokenHash).executeTakeFirst()
  if (!row) return undefined
  const person: PersonRef | null = row.staff_id !== null ? { kind: 'staff', id: row.staff_id } : row.contact_id !== null ? { kind: 'contact', id: row.contact_id } : null
  if (!person) return undefined
  return { id: row.id, purpose: row.purpose, person, expiresAt: row.expires_at, usedAt: row.used_at }
}

/** Marks the link used; false when it already was (another request got there first). */
export async function useAccountLink(db: Executor, id: number, now: string): Promise<boolean> {
  const result = await db.updateTable('account_link').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Closes the person's links still open (a newer one replaces them, or the password was set). */
export async function closeAccountLinks(db: Executor, person: PersonRef, now: string): Promise<void> {
  let q = db.updateTable('account_link').set({ used_at: now }).where('used_at', 'is', null)
  q = person.kind === 'staff' ? q.where('staff_id', '=', person.id) : q.where('contact_id', '=', person.id)
  await q.execute()
}

export async function replaceRecoveryCodes(db: Executor, staffId: number, hashes: string[], now: string): Promise<void> {
  await db.deleteFrom('recovery_code').where('staff_id', '=', staffId).execute()
  if (hashes.length > 0) await db.insertInto('recovery_code').values(hashes.map((h) => ({ staff_id: staffId, code_hash: h, used_at: null, created_at: now }))).execute()
}

export async function unusedRecoveryCodes(db: Executor, staffId: number): Promise<{ id: number; codeHash: string }[]> {
  const rows = await db.selectFrom('recovery_code').select(['id', 'code_hash']).where('staff_id', '=', staffId).where('used_at', 'is', null).execute()
  return rows.map((r) => ({ id: r.id, codeHash: r.code_hash }))
}

export async function useRecoveryCode(db: Executor, id: number, now: string): Promise<boolean> {
  const result = await db.updateTable('recovery_code').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** A staff member's two-factor state: the secret (set while enrolling), and since when it is on. */
export async function twoFactorOf(db: Executor, staffId: number): Promise<{ secret: string | null; enabledAt: string | null } | undefined> {
  const row = await db.selectFrom('staff').select(['totp_secret', 'totp_enabled_at']).where('id', '=', staffId).executeTakeFirst()
  return row ? { secret: row.totp_secret, enabledAt: row.totp_enabled_at } : undefined
}

export async function setTwoFactor(db: Executor, staffId: number, state: { secret: string | null; enabledAt: string | null }): Promise<void> {
  await db.updateTable('staff').set({ totp_secret: state.secret, totp_enabled_at: state.enabledAt }).where('id', '=', staffId).execute()
}

/** Turns a person's account on or off; returns the person, or undefined when there is none with that address. */
export async function setPersonActive(db: Executor, email: string, active: boolean): Promise<PersonRef | undefined> {
  const normalized = email.trim().toLowerCase()
  for (const kind of ['staff', 'contact'] as const) {
    const row = await db.updateTable(kind).set({ active: active ? 1 : 0 }).where('email', '=', normalized).returning('id').executeTakeFirst()
    if (row) return { kind, id: row.id }
  }
  return undefined
}

/** A person's address, name and language (for the mail an account link goes out in), active or not. */
export async function personAddress(db: Executor, person: PersonRef): Promise<{ email: string; name: string; locale: string | null; active: boolean } | undefined> {
  const row = await db.selectFrom(person.kind).select(['email', 'name', 'locale', 'active']).where('id', '=', person.id).executeTakeFirst()
  return row ? { email: row.email, name: row.name, locale: row.locale, active: row.active === 1 } : undefined
}

/** The person with this address, whether their account is on or not. */
export async function personByEmail(db: Executor, email: string): Promise<PersonRef | undefined> {
  const normalized = email.trim().toLowerCase()
  const staff = await db.selectFrom('staff').select('id').where('email', '=', normalized).executeTakeFirst()
  if (staff) return { kind: 'staff', id: staff.id }
  const contact = await db.selectFrom('contact').select('id').where('email', '=', normalized).executeTakeFirst()
  return contact ? { kind: 'contact', id: contact.id } : undefined
}

/** Records the time step a code was accepted for, only if it is later than the last one (no replay). */
export async function advanceTotpStep(db: Executor, staffId: number, step: number): Promise<boolean> {
  const result = await db.updateTable('staff').set({ totp_last_step: step })
    .where('id', '=', staffId).where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)])).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function clearTwoFactor(db: Executor, staffId: number): Promise<void> {
  await db.updateTable('staff').set({ totp_secret: null, totp_enabled_at: null, totp_last_step: null }).where('id', '=', staffId).execute()
  await db.deleteFrom('recovery_code').where('staff_id', '=', staffId).execute()
}

/** Whether this staff member must still set up two-factor authentication (the admins require it, they have none). */
export async function twoFactorSetupDue(db: Executor, staffId: number): Promise<boolean> {
  if (!(await getSettings(db)).staffTwoFactorRequired) return false
  const staff = await db.selectFrom('staff').select('totp_enabled_at').where('id', '=', staffId).executeTakeFirst()
  return !staff?.totp_enabled_at
}
