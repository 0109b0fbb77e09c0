// Accounts and contacts the CRM is owed: the queue rows (crm_people_outbox) and what the push
// reads and writes back (the CRM's ids).
import type { Executor } from './index.js'

export type CrmPeopleEntity = 'account' | 'contact'

/**
 * Owes the CRM this account or contact as it now is. Pending rows coalesce: one not yet tried is
 * enough, because the push sends the record as it is when it runs.
 */
export async function insertPeopleSync(db: Executor, entity: CrmPeopleEntity, entityId: number, now: string): Promise<void> {
  const waiting = await db.selectFrom('crm_people_outbox').select('id')
    .where('entity', '=', entity).where('entity_id', '=', entityId).where('status', '=', 'pending').where('attempts', '=', 0)
    .executeTakeFirst()
  if (waiting) return
  await db.insertInto('crm_people_outbox').values({ entity, entity_id: entityId, next_attempt_at: now, created_at: now }).execute()
}

/** Whether a portal change to this record is still on its way to the CRM (the import leaves the record alone meanwhile). */
export async function peopleSyncPending(db: Executor, entity: CrmPeopleEntity, entityId: number): Promise<boolean> {
  const row = await db.selectFrom('crm_people_outbox').select('id')
    .where('entity', '=', entity).where('entity_id', '=', entityId).where('status', '=', 'pending').executeTakeFirst()
  return row !== undefined
}

export interface AccountForCrm {
  id: number
  name: string
  crmId: string | null
}

export interface ContactForCrm {
  id: number
  name: string
  email: string
  phone: string | null
  crmId: string | null
  /** Its first account (the CRM holds one per Contact): the portal id and, once linked, the CRM's. */
  accountId: number | null
  accountCrmId: string | null
}

export async function accountsForCrm(db: Executor, ids: number[]): Promise<Map<number, AccountForCrm>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom('account').select(['id', 'name', 'crm_id']).where('id', 'in', ids).execute()
  return new Map(rows.map((r) => [r.id, { id: r.id, name: r.name, crmId: r.crm_id }]))
}

export async function contactsForCrm(db: Executor, ids: number[]): Promise<Map<number, ContactForCrm>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom('contact').select(['id', 'name', 'email', 'phone', 'crm_id']).where('id', 'in', ids).execute()
  // The lowest account id: the one it was first added to, in practice.
  const links = await db.selectFrom('contact_account').innerJoin('account', 'account.id', 'contact_account.account_id')
    .select(['contact_account.contact_id', 'account.id', 'account.crm_id']).where('contact_account.contact_id', 'in', ids)
    .orderBy('account.id').execute()
  return new Map(rows.map((r) => {
    const link = links.find((l) => l.contact_id === r.id)
    return [r.id, { id: r.id, name: r.name, email: r.email, phone: r.phone, crmId: r.crm_id, accountId: link?.id ?? null, accountCrmId: link?.crm_id ?? null }]
  }))
}

/** The record's CRM id (null: not linked), or undefined when there is no such record. */
export async function crmIdOf(db: Executor, entity: CrmPeopleEntity, id: number): Promise<string | null | undefined> {
  return (await db.selectFrom(entity).select('crm_id').where('id', '=', id).executeTakeFirst())?.crm_id
}

/** Links a record to its CRM twin; false when another record already has that CRM id (left as is). */
export async function setCrmId(db: Executor, entity: CrmPeopleEntity, id: number, crmId: string): Promise<boolean> {
  const other = await db.selectFrom(entity).select('id').where('crm_id', '=', crmId).where('id', '!=', id).executeTakeFirst()
  if (other) return false
  await db.updateTable(entity).set({ crm_id: crmId }).where('id', '=', id).execute()
  return true
}

/** The accounts and contacts owed to the CRM, for the sync page: how many wait, and the parked ones with why. */
export async function peopleOutboxOverview(db: Executor, limit = 100) {
  const counts = await db.selectFrom('crm_people_outbox').select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['pending', 'dead']).groupBy('status').execute()
  const dead = await db.selectFrom('crm_people_outbox')
    .leftJoin('account', (j) => j.onRef('account.id', '=', 'crm_people_outbox.entity_id').on('crm_people_outbox.entity', '=', 'account'))
    .leftJoin('contact', (j) => j.onRef('contact.id', '=', 'crm_people_outbox.entity_id').on('crm_people_outbox.entity', '=', 'contact'))
    .select(['crm_people_outbox.id', 'crm_people_outbox.entity', 'crm_people_outbox.entity_id', 'crm_people_outbox.attempts', 'crm_people_outbox.last_error',
      'crm_people_outbox.done_at', 'account.name as account_name', 'contact.email as contact_email'])
    .where('crm_people_outbox.status', '=', 'dead').orderBy('crm_people_outbox.id', 'desc').limit(limit).execute()
  return {
    pending: Number(counts.find((c) => c.status === 'pending')?.n ?? 0),
    dead: dead.map((r) => ({ id: r.id, entity: r.entity, entityId: r.entity_id, label: r.account_name ?? r.contact_email ?? '', attempts: r.attempts, error: r.last_error, at: r.done_at }))
  }
}
