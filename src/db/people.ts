import type { Executor } from './index.js'
import { prepared } from './prepared.js'
import { listDesks } from './catalog.js'
import type { ContactActor, Locale, StaffActor } from '../domain/permissions.js'
import { isLocale } from '../i18n/index.js'

export type PersonKind = 'contact' | 'staff'

export interface LoginRecord {
  kind: PersonKind
  id: number
  passwordHash: string | null
}

/** Finds who owns an e-mail address, staff first (emails are unique across both tables). */
export async function findLogin(db: Executor, email: string): Promise<LoginRecord | undefined> {
  const normalized = email.trim().toLowerCase()
  const staff = await db.selectFrom('staff').select(['id', 'password_hash'])
    .where('email', '=', normalized).where('active', '=', 1).executeTakeFirst()
  if (staff) return { kind: 'staff', id: staff.id, passwordHash: staff.password_hash }
  const contact = await db.selectFrom('contact').select(['id', 'password_hash'])
    .where('email', '=', normalized).where('active', '=', 1).executeTakeFirst()
  if (contact) return { kind: 'contact', id: contact.id, passwordHash: contact.password_hash }
  // The address of a contact merged into another is that person's second address.
  const kept = await db.selectFrom('contact as merged').innerJoin('contact as kept', 'kept.id', 'merged.merged_into_id')
    .select(['kept.id', 'kept.password_hash']).where('merged.email', '=', normalized).where('kept.active', '=', 1).executeTakeFirst()
  if (kept) return { kind: 'contact', id: kept.id, passwordHash: kept.password_hash }
  return undefined
}

export async function emailTaken(db: Executor, email: string): Promise<boolean> {
  const normalized = email.trim().toLowerCase()
  const hit = await db.selectFrom('staff').select('id').where('email', '=', normalized)
    .unionAll(db.selectFrom('contact').select('id').where('email', '=', normalized))
    .executeTakeFirst()
  return hit !== undefined
}

function localeOrNull(value: string | null): Locale | null {
  return isLocale(value) ? value : null
}

// Read on every request a staff member or a client makes: compiled once (src/db/prepared.ts).
const staffActorRows = prepared(1, (db, id: number) => db.selectFrom('staff').leftJoin('desk_member', 'desk_member.staff_id', 'staff.id')
  .select(['staff.id', 'staff.name', 'staff.email', 'staff.locale', 'staff.role', 'staff.can_delete', 'staff.all_desks', 'desk_member.desk_id'])
  .where('staff.id', '=', id).where('staff.active', '=', 1).orderBy('desk_member.desk_id'))
const contactActorRows = prepared(1, (db, id: number) => db.selectFrom('contact').leftJoin('contact_account', 'contact_account.contact_id', 'contact.id')
  .select(['contact.id', 'contact.name', 'contact.email', 'contact.locale', 'contact_account.account_id', 'contact_account.is_manager'])
  .where('contact.id', '=', id).where('contact.active', '=', 1).orderBy('contact_account.account_id'))

/** A staff member who may act, with their desks: one statement (a row per desk). */
export async function loadStaffActor(db: Executor, id: number): Promise<StaffActor | undefined> {
  const rows = await staffActorRows(db, id)
  const row = rows[0]
  if (!row) return undefined
  // Working every desk (a supervisor) is having every desk's tickets in reach, whatever they are members of.
  const deskIds = row.all_desks === 1 ? (await listDesks(db)).map((d) => d.id) : rows.flatMap((r) => (r.desk_id === null ? [] : [r.desk_id]))
  return {
    kind: 'staff', id: row.id, name: row.name, email: row.email, locale: localeOrNull(row.locale),
    role: row.role, deskIds, canDelete: row.can_delete === 1 || row.role === 'admin'
  }
}

/** A client who may act, with the accounts they belong to: one statement (a row per account). */
export async function loadContactActor(db: Executor, id: number): Promise<ContactActor | undefined> {
  const rows = await contactActorRows(db, id)
  const row = rows[0]
  if (!row) return undefined
  const links = rows.flatMap((r) => (r.account_id === null ? [] : [{ accountId: r.account_id, manager: r.is_manager === 1 }]))
  return {
    kind: 'contact', id: row.id, name: row.name, email: row.email, locale: localeOrNull(row.locale),
    accountIds: links.map((l) => l.accountId),
    managerAccountIds: links.filter((l) => l.manager).map((l) => l.accountId)
  }
}

export async function loadActor(db: Executor, kind: PersonKind, id: number) {
  return kind === 'staff' ? loadStaffActor(db, id) : loadContactActor(db, id)
}

export async function setPasswordHash(db: Executor, kind: PersonKind, id: number, hash: string): Promise<void> {
  await db.updateTable(kind).set({ password_hash: hash }).where('id', '=', id).execute()
}

export async function getPasswordHash(db: Executor, kind: PersonKind, id: number): Promise<string | null> {
  const row = await db.selectFrom(kind).select('password_hash').where('id', '=', id).executeTakeFirst()
  return row?.password_hash ?? null
}

export async function setLocale(db: Executor, kind: PersonKind, id: number, locale: Locale | null): Promise<void> {
  await db.updateTable(kind).set({ locale }).where('id', '=', id).execute()
}

export interface NewContactInput {
  name: string
  email: string
  passwordHash: string | null
  accounts: { accountId: number; isManager: boolean }[]
  locale?: Locale | null
  phone?: string | null
  crmId?: string | null
  now: string
}

export async function insertContact(db: Executor, input: NewContactInput): Promise<number> {
  const row = await db.insertInto('contact').values({
    name: input.name, email: input.email.trim().toLowerCase(), password_hash: input.passwordHash,
    locale: input.locale ?? null, phone: input.phone ?? null, crm_id: input.crmId ?? null, created_at: input.now
  }).returning('id').executeTakeFirstOrThrow()
  for (const link of input.accounts) {
    await db.insertInto('contact_account')
      .values({ contact_id: row.id, account_id: link.accountId, is_manager: link.isManager ? 1 : 0 }).execute()
  }
  return row.id
}

export interface NewStaffInput {
  name: string
  email: string
  passwordHash: string | null
  role: 'staff' | 'admin'
  available?: boolean
  canDelete?: boolean
  hourlyRateCents?: number
  deskIds: number[]
  productIds?: number[]
  crmUserId?: string | null
  locale?: string | null
  managerId?: number | null
  allDesks?: boolean
  areaIds?: number[]
  now: string
}

export async function insertStaff(db: Executor, input: NewStaffInput): Promise<number> {
  const row = await db.insertInto('staff').values({
    name: input.name, email: input.email.trim().toLowerCase(), password_hash: input.passwordHash, role: input.role,
    available: input.available === false ? 0 : 1, can_delete: input.canDelete ? 1 : 0,
    hourly_rate_cents: input.hourlyRateCents ?? 0, crm_user_id: input.crmUserId ?? null, locale: input.locale ?? null,
    manager_id: input.managerId ?? null, all_desks: input.allDesks ? 1 : 0, created_at: input.now
  }).returning('id').executeTakeFirstOrThrow()
  for (const deskId of input.deskIds) {
    await db.insertInto('desk_member').values({ desk_id: deskId, staff_id: row.id }).execute()
  }
  for (const productId of input.productIds ?? []) {
    await db.insertInto('staff_product').values({ staff_id: row.id, product_id: productId }).execute()
  }
  for (const areaId of input.areaIds ?? []) {
    await db.insertInto('staff_category').values({ staff_id: row.id, category_id: areaId }).execute()
  }
  return row.id
}

export async function setStaffAvailability(db: Executor, staffId: number, available: boolean): Promise<void> {
  await db.updateTable('staff').set({ available: available ? 1 : 0 }).where('id', '=', staffId).execute()
}

export async function getStaff(db: Executor, id: number) {
  return db.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Staff who may be assigned tickets of a desk (for transfer pickers). */
export async function listDeskStaff(db: Executor, deskIds: number[]) {
  if (deskIds.length === 0) return []
  return db.selectFrom('staff').innerJoin('desk_member', 'desk_member.staff_id', 'staff.id')
    .select(['staff.id', 'staff.name', 'staff.email', 'staff.available', 'desk_member.desk_id'])
    .where('desk_member.desk_id', 'in', deskIds).where('staff.active', '=', 1)
    .orderBy('staff.name').execute()
}

/** Contacts matching a search, for "open on behalf of a client". */
export async function searchContacts(db: Executor, q: string, limit = 20) {
  // Wildcards typed by the user are dropped rather than escaped: LIKE ESCAPE differs by dialect.
  const like = `%${q.trim().toLowerCase().replace(/[%_\\]/g, '')}%`
  return db.selectFrom('contact').select(['id', 'name', 'email'])
    .where('active', '=', 1)
    .where((eb) => eb.or([
      eb(eb.fn('lower', ['name']), 'like', like),
      eb('email', 'like', like)
    ]))
    .orderBy('name').limit(limit).execute()
}

export async function getContact(db: Executor, id: number) {
  return db.selectFrom('contact').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function contactAccounts(db: Executor, contactId: number) {
  return db.selectFrom('contact_account').innerJoin('account', 'account.id', 'contact_account.account_id')
    .select(['account.id', 'account.name', 'account.active', 'contact_account.is_manager'])
    .where('contact_account.contact_id', '=', contactId).orderBy('account.name').execute()
}

/** The accounts a contact may open new tickets for: theirs that are not turned off. */
export async function openableAccounts(db: Executor, contactId: number) {
  return (await contactAccounts(db, contactId)).filter((a) => a.active === 1)
}

/** Account names per contact for a list of contacts (one query, for pickers). */
export async function accountsOfContacts(db: Executor, contactIds: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>()
  if (contactIds.length === 0) return out
  const rows = await db.selectFrom('contact_account').innerJoin('account', 'account.id', 'contact_account.account_id')
    .select(['contact_account.contact_id', 'account.name'])
    .where('contact_account.contact_id', 'in', contactIds).orderBy('account.name').execute()
  for (const r of rows) out.set(r.contact_id, [...(out.get(r.contact_id) ?? []), r.name])
  return out
}
