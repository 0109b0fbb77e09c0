// Accounts, contacts, products and staff as the CRM's reference data links or creates them.
import { sql } from 'kysely'
import type { Executor } from './index.js'
import { peopleSyncPending } from './crm-people.js'

const lower = (s: string) => s.trim().toLowerCase()

/**
 * What importing one record did. `relinked`: an existing local record is now linked to the CRM,
 * so the Cases of its tickets can name it and are owed an upsert (the command queues them).
 */
export interface ReferenceOutcome<T extends string> {
  outcome: T
  relinked?: { column: 'account_id' | 'contact_id' | 'product_id' | 'assignee_id'; id: number }
  /** A contact created from the CRM, with an account of the portal: one who could be invited. */
  invitable?: number
}

/** Linked tickets whose Case mentions this record (re-sent when the record is linked). */
export async function ticketsWithCaseOf(db: Executor, column: 'account_id' | 'contact_id' | 'product_id' | 'assignee_id', id: number): Promise<number[]> {
  const rows = await db.selectFrom('ticket').select('id')
    .where(column, '=', id).where('crm_case_id', 'is not', null).where('deleted_at', 'is', null).execute()
  return rows.map((r) => r.id)
}

/** Links or creates the account for a CRM Account: by CRM id, else by name (an unlinked one). */
export async function upsertCrmAccount(db: Executor, rec: { Id: string; Name: string }, now: string): Promise<ReferenceOutcome<'linked' | 'updated' | 'created' | 'unchanged'>> {
  const name = rec.Name.trim() || rec.Id
  const byId = await db.selectFrom('account').select(['id', 'name']).where('crm_id', '=', rec.Id).executeTakeFirst()
  if (byId) {
    if (byId.name === name) return { outcome: 'unchanged' }
    // A portal change still on its way to the CRM wins: the CRM will have it in a moment.
    if (await peopleSyncPending(db, 'account', byId.id)) return { outcome: 'unchanged' }
    await db.updateTable('account').set({ name }).where('id', '=', byId.id).execute()
    return { outcome: 'updated' }
  }
  const byName = await db.selectFrom('account').select('id').where(sql`lower(name)`, '=', lower(name)).where('crm_id', 'is', null).executeTakeFirst()
  if (byName) {
    const keep = await peopleSyncPending(db, 'account', byName.id)
    await db.updateTable('account').set(keep ? { crm_id: rec.Id } : { crm_id: rec.Id, name }).where('id', '=', byName.id).execute()
    return { outcome: 'linked', relinked: { column: 'account_id', id: byName.id } }
  }
  await db.insertInto('account').values({ name, crm_id: rec.Id, created_at: now }).execute()
  return { outcome: 'created' }
}

/**
 * Links or creates the contact for a CRM Contact: by CRM id, else by e-mail. A new contact has no
 * password (they set one through the portal's reset); its CRM account becomes one of its accounts.
 */
export async function upsertCrmContact(db: Executor, rec: { Id: string; Name: string; Email: string | null; Phone: string | null; AccountId: string | null }, now: string): Promise<ReferenceOutcome<'linked' | 'updated' | 'created' | 'unchanged' | 'skipped'>> {
  const accountId = rec.AccountId ? (await db.selectFrom('account').select('id').where('crm_id', '=', rec.AccountId).executeTakeFirst())?.id : undefined
  const name = rec.Name.trim()
  let contactId: number
  let result: 'linked' | 'updated' | 'created' | 'unchanged'
  const byId = await db.selectFrom('contact').select(['id', 'name', 'phone']).where('crm_id', '=', rec.Id).executeTakeFirst()
  if (byId) {
    contactId = byId.id
    // A portal change still on its way to the CRM wins: the CRM will have it in a moment.
    const changed = ((name && byId.name !== name) || (rec.Phone !== null && byId.phone !== rec.Phone)) && !(await peopleSyncPending(db, 'contact', byId.id))
    if (changed) await db.updateTable('contact').set({ name: name || byId.name, phone: rec.Phone ?? byId.phone }).where('id', '=', byId.id).execute()
    result = changed ? 'updated' : 'unchanged'
  } else {
    if (!rec.Email) return { outcome: 'skipped' }
    const email = lower(rec.Email)
    const byEmail = await db.selectFrom('contact').select(['id', 'crm_id']).where('email', '=', email).executeTakeFirst()
    if (byEmail) {
      if (byEmail.crm_id !== null) return { outcome: 'skipped' }
      const keep = await peopleSyncPending(db, 'contact', byEmail.id)
      await db.updateTable('contact').set({ crm_id: rec.Id, ...(name && !keep ? { name } : {}), ...(rec.Phone && !keep ? { phone: rec.Phone } : {}) }).where('id', '=', byEmail.id).execute()
      contactId = byEmail.id
      result = 'linked'
    } else {
      const row = await db.insertInto('contact').values({ name: name || email, email, password_hash: null, phone: rec.Phone, crm_id: rec.Id, created_at: now })
        .returning('id').executeTakeFirstOrThrow()
      contactId = row.id
      result = 'created'
    }
  }
  if (accountId !== undefined) {
    await db.insertInto('contact_account').values({ contact_id: contactId, account_id: accountId, is_manager: 0 })
      .onConflict((oc) => oc.columns(['contact_id', 'account_id']).doNothing()).execute()
  }
  if (result === 'linked') return { outcome: result, relinked: { column: 'contact_id', id: contactId } }
  return result === 'created' && accountId !== undefined ? { outcome: result, invitable: contactId } : { outcome: result }
}

/** Maps a CRM User to the staff member with the same e-mail (staff are never created from the CRM). */
export async function linkCrmUser(db: Executor, rec: { Id: string; Email: string | null; IsActive: boolean }): Promise<ReferenceOutcome<'linked' | 'unlinked' | 'unchanged' | 'skipped'>> {
  const current = await db.selectFrom('staff').select(['id']).where('crm_user_id', '=', rec.Id).executeTakeFirst()
  if (!rec.IsActive) {
    // an inactive user cannot own Cases: leave OwnerId alone rather than have every upsert refused
    if (!current) return { outcome: 'skipped' }
    await db.updateTable('staff').set({ crm_user_id: null }).where('id', '=', current.id).execute()
    return { outcome: 'unlinked' }
  }
  if (!rec.Email) return { outcome: 'skipped' }
  const staff = await db.selectFrom('staff').select(['id', 'crm_user_id']).where('email', '=', lower(rec.Email)).executeTakeFirst()
  if (!staff) return { outcome: 'skipped' }
  if (staff.crm_user_id === rec.Id) return { outcome: 'unchanged' }
  // An admin linked them to another user (the staff page): that stays.
  if (staff.crm_user_id !== null) return { outcome: 'skipped' }
  if (current && current.id !== staff.id) await db.updateTable('staff').set({ crm_user_id: null }).where('id', '=', current.id).execute()
  await db.updateTable('staff').set({ crm_user_id: rec.Id }).where('id', '=', staff.id).execute()
  return { outcome: 'linked', relinked: { column: 'assignee_id', id: staff.id } }
}

/** Links or creates the product for a CRM Product2: by CRM id, else by product code, else by name. */
export async function upsertCrmProduct(db: Executor, rec: { Id: string; Name: string; ProductCode: string | null; IsActive: boolean }, now: string): Promise<ReferenceOutcome<'linked' | 'updated' | 'created' | 'unchanged'>> {
  const name = rec.Name.trim() || rec.Id
  const active = rec.IsActive ? 1 : 0
  const byId = await db.selectFrom('product').select(['id', 'name', 'code', 'active']).where('crm_id', '=', rec.Id).executeTakeFirst()
  if (byId) {
    if (byId.name === name && byId.code === rec.ProductCode && byId.active === active) return { outcome: 'unchanged' }
    await db.updateTable('product').set({ name, code: rec.ProductCode, active }).where('id', '=', byId.id).execute()
    return { outcome: 'updated' }
  }
  const byCode = rec.ProductCode
    ? await db.selectFrom('product').select('id').where('code', '=', rec.ProductCode).where('crm_id', 'is', null).executeTakeFirst()
    : undefined
  const match = byCode ?? await db.selectFrom('product').select('id').where(sql`lower(name)`, '=', lower(name)).where('crm_id', 'is', null).executeTakeFirst()
  if (match) {
    await db.updateTable('product').set({ crm_id: rec.Id, name, active, ...(rec.ProductCode ? { code: rec.ProductCode } : {}) }).where('id', '=', match.id).execute()
    return { outcome: 'linked', relinked: { column: 'product_id', id: match.id } }
  }
  await db.insertInto('product').values({ name, code: rec.ProductCode, crm_id: rec.Id, active, created_at: now }).execute()
  return { outcome: 'created' }
}

/** What the portal has that the CRM does not know yet (the emulator is filled with it on its first start). */
export async function unlinkedPortalRecords(db: Executor) {
  return {
    accounts: await db.selectFrom('account').select(['id', 'name']).where('crm_id', 'is', null).orderBy('id').execute(),
    products: await db.selectFrom('product').select(['name', 'code', 'active']).where('crm_id', 'is', null).orderBy('id').execute(),
    staff: await db.selectFrom('staff').select(['name', 'email']).where('active', '=', 1).orderBy('id').execute(),
    contacts: await db.selectFrom('contact')
      .leftJoin('contact_account', 'contact_account.contact_id', 'contact.id')
      .leftJoin('account', 'account.id', 'contact_account.account_id')
      .select(['contact.id', 'contact.name', 'contact.email', 'contact.phone', 'account.name as account_name'])
      .where('contact.crm_id', 'is', null).orderBy('contact.id').orderBy('account.id').execute()
  }
}
