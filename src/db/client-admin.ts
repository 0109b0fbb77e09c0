// Client accounts and their contacts as the administration pages see them.
import { sql } from 'kysely'
import type { Executor } from './index.js'

const likeText = (q: string) => `%${q.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** Accounts by name with how many active contacts each has; `q` narrows to names containing it. */
export async function listAccountsForAdmin(db: Executor, q = '') {
  let qb = db.selectFrom('account')
    .select((eb) => ['account.id', 'account.name', 'account.crm_id', 'account.active',
      eb.selectFrom('contact_account').innerJoin('contact', 'contact.id', 'contact_account.contact_id')
        .select((c) => c.fn.countAll<number>().as('n')).whereRef('contact_account.account_id', '=', 'account.id').where('contact.active', '=', 1).as('contacts')])
  if (q.trim()) qb = qb.where(sql<boolean>`lower(account.name) LIKE ${likeText(q)} ESCAPE '\\'`)
  return qb.orderBy('account.name').orderBy('account.id').limit(500).execute()
}

export async function getAccount(db: Executor, id: number) {
  return db.selectFrom('account').select(['id', 'name', 'crm_id', 'active']).where('id', '=', id).executeTakeFirst()
}

/** The contacts of an account (active or not), by name. */
export async function accountContacts(db: Executor, accountId: number) {
  const rows = await db.selectFrom('contact_account').innerJoin('contact', 'contact.id', 'contact_account.contact_id')
    .select(['contact.id', 'contact.name', 'contact.email', 'contact.active', 'contact.password_hash', 'contact_account.is_manager'])
    .where('contact_account.account_id', '=', accountId).orderBy('contact.name').orderBy('contact.id').execute()
  return rows.map(({ password_hash, ...r }) => ({ ...r, invited: password_hash === null }))
}

export async function insertAccount(db: Executor, name: string, now: string): Promise<number> {
  return (await db.insertInto('account').values({ name, created_at: now }).returning('id').executeTakeFirstOrThrow()).id
}

export async function setClientAccountFlag(db: Executor, id: number, active: boolean): Promise<void> {
  await db.updateTable('account').set({ active: active ? 1 : 0 }).where('id', '=', id).execute()
}

export async function renameAccount(db: Executor, id: number, name: string): Promise<void> {
  await db.updateTable('account').set({ name }).where('id', '=', id).execute()
}

export interface Membership {
  accountId: number
  manager: boolean
}

export interface ContactProfile {
  id: number
  name: string
  email: string
  locale: string | null
  phone: string | null
  active: boolean
  invited: boolean
  /** Set once merged into another contact (src/commands/contact-merge.ts). */
  mergedIntoId: number | null
  memberships: Membership[]
}

export async function contactProfile(db: Executor, id: number): Promise<ContactProfile | undefined> {
  const row = await db.selectFrom('contact').select(['id', 'name', 'email', 'locale', 'phone', 'active', 'password_hash', 'merged_into_id']).where('id', '=', id).executeTakeFirst()
  if (!row) return undefined
  const links = await db.selectFrom('contact_account').select(['account_id', 'is_manager']).where('contact_id', '=', id).orderBy('account_id').execute()
  return {
    id: row.id, name: row.name, email: row.email, locale: row.locale, phone: row.phone, active: row.active === 1, invited: row.password_hash === null, mergedIntoId: row.merged_into_id,
    memberships: links.map((l) => ({ accountId: l.account_id, manager: l.is_manager === 1 }))
  }
}

export async function updateContactProfile(db: Executor, id: number, p: { name: string; email: string; locale: string | null; phone: string | null; memberships: Membership[] }): Promise<void> {
  await db.updateTable('contact').set({ name: p.name, email: p.email, locale: p.locale, phone: p.phone }).where('id', '=', id).execute()
  await db.deleteFrom('contact_account').where('contact_id', '=', id).execute()
  for (const m of p.memberships) await db.insertInto('contact_account').values({ contact_id: id, account_id: m.accountId, is_manager: m.manager ? 1 : 0 }).execute()
}

/** The contact with this address (any case), merged or not. */
export async function contactIdByEmail(db: Executor, email: string): Promise<number | undefined> {
  return (await db.selectFrom('contact').select('id').where('email', '=', email.trim().toLowerCase()).executeTakeFirst())?.id
}

export async function setContactActive(db: Executor, id: number, active: boolean): Promise<void> {
  await db.updateTable('contact').set({ active: active ? 1 : 0 }).where('id', '=', id).execute()
}

/** Which of these ids are accounts. */
export async function knownAccounts(db: Executor, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set()
  return new Set((await db.selectFrom('account').select('id').where('id', 'in', ids).execute()).map((r) => r.id))
}

/** Accounts named so (compared without case), by lower-cased name. */
export async function accountsByName(db: Executor, names: string[]): Promise<Map<string, number>> {
  const wanted = [...new Set(names.map((n) => n.toLowerCase()).filter(Boolean))]
  const found = new Map<string, number>()
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await db.selectFrom('account').select(['id', 'name'])
      .where((eb) => eb(eb.fn('lower', ['name']), 'in', wanted.slice(i, i + 500))).execute()
    for (const r of rows) found.set(r.name.toLowerCase(), r.id)
  }
  return found
}

/** Which of these (lower-case) addresses a staff member or contact already has. */
export async function existingEmails(db: Executor, emails: string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (let i = 0; i < emails.length; i += 500) {
    const chunk = emails.slice(i, i + 500)
    const rows = await db.selectFrom('staff').select('email').where('email', 'in', chunk)
      .unionAll(db.selectFrom('contact').select('email').where('email', 'in', chunk)).execute()
    for (const r of rows) found.add(r.email)
  }
  return found
}

/**
 * The accounts a person may name on a ticket, by name, a page at a time: a contact's own (turned
 * off or not, with whether they manage it), for staff (`contactId` null) every active account;
 * `q` narrows to names containing it.
 */
export async function accountsToUse(db: Executor, opts: { contactId: number | null; q: string; page: number; perPage: number }) {
  const { contactId, q, page, perPage } = opts
  const base = () => {
    let qb = db.selectFrom('account')
      .leftJoin('contact_account', (j) => j.onRef('contact_account.account_id', '=', 'account.id').on('contact_account.contact_id', '=', contactId ?? 0))
    qb = contactId === null ? qb.where('account.active', '=', 1) : qb.where('contact_account.contact_id', 'is not', null)
    if (q.trim()) qb = qb.where(sql<boolean>`lower(account.name) LIKE ${likeText(q)} ESCAPE '\\'`)
    return qb
  }
  const total = Number((await base().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  const items = await base().select(['account.id', 'account.name', 'account.active', 'contact_account.is_manager'])
    .orderBy('account.name').orderBy('account.id').limit(perPage).offset((page - 1) * perPage).execute()
  return { items, total }
}
