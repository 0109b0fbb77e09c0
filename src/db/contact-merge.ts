// Merging two contacts that are the same person: what the one merged away owns moves to the one
// kept (src/commands/contact-merge.ts decides and records it).
import type { Executor } from './index.js'

export interface MergeScope {
  /** Live tickets and deleted ones alike: each is re-pointed, deleted ones too. */
  ticketIds: number[]
  notes: number
  surveys: number
  approvals: number
  exports: number
  /** Accounts the merged contact belonged to that the kept one did not. */
  newAccounts: { accountId: number; manager: boolean }[]
  /** Accounts both belonged to where only the merged contact was a manager. */
  newManagerOf: number[]
}

const count = async (q: { executeTakeFirst(): Promise<{ n: unknown } | undefined> }) => Number((await q.executeTakeFirst())?.n ?? 0)

/** What would move from `fromId` to `intoId`. */
export async function mergeScope(db: Executor, fromId: number, intoId: number): Promise<MergeScope> {
  const [tickets, notes, surveys, approvals, exports, from, into] = await Promise.all([
    db.selectFrom('ticket').select('id').where('contact_id', '=', fromId).orderBy('id').execute(),
    count(db.selectFrom('note').select((eb) => eb.fn.countAll().as('n')).where('author_contact_id', '=', fromId)),
    count(db.selectFrom('survey').select((eb) => eb.fn.countAll().as('n')).where('contact_id', '=', fromId)),
    count(db.selectFrom('approval').select((eb) => eb.fn.countAll().as('n')).where('approver_contact_id', '=', fromId)),
    count(db.selectFrom('export_job').select((eb) => eb.fn.countAll().as('n')).where('contact_id', '=', fromId)),
    db.selectFrom('contact_account').select(['account_id', 'is_manager']).where('contact_id', '=', fromId).execute(),
    db.selectFrom('contact_account').select(['account_id', 'is_manager']).where('contact_id', '=', intoId).execute()
  ])
  const kept = new Map(into.map((m) => [m.account_id, m.is_manager === 1]))
  return {
    ticketIds: tickets.map((t) => t.id), notes, surveys, approvals, exports,
    newAccounts: from.filter((m) => !kept.has(m.account_id)).map((m) => ({ accountId: m.account_id, manager: m.is_manager === 1 })),
    newManagerOf: from.filter((m) => m.is_manager === 1 && kept.get(m.account_id) === false).map((m) => m.account_id)
  }
}

/**
 * Moves everything `fromId` owns to `intoId` (tickets, notes they wrote, surveys, approvals asked
 * of them, exports, account memberships, contacts merged into them before), hands over its CRM
 * link when the kept contact has none, and leaves the merged row turned off, without a password,
 * pointing at the kept one.
 */
export async function moveContact(db: Executor, fromId: number, intoId: number, scope: MergeScope, now: string): Promise<void> {
  await db.updateTable('ticket').set({ contact_id: intoId, updated_at: now }).where('contact_id', '=', fromId).execute()
  await db.updateTable('note').set({ author_contact_id: intoId }).where('author_contact_id', '=', fromId).execute()
  await db.updateTable('survey').set({ contact_id: intoId }).where('contact_id', '=', fromId).execute()
  await db.updateTable('approval').set({ approver_contact_id: intoId }).where('approver_contact_id', '=', fromId).execute()
  await db.updateTable('export_job').set({ contact_id: intoId }).where('contact_id', '=', fromId).execute()
  await db.updateTable('contact').set({ manager_contact_id: intoId }).where('manager_contact_id', '=', fromId).execute()
  await db.updateTable('contact').set({ merged_into_id: intoId }).where('merged_into_id', '=', fromId).execute()
  for (const m of scope.newAccounts) await db.insertInto('contact_account').values({ contact_id: intoId, account_id: m.accountId, is_manager: m.manager ? 1 : 0 }).execute()
  if (scope.newManagerOf.length > 0) {
    await db.updateTable('contact_account').set({ is_manager: 1 }).where('contact_id', '=', intoId).where('account_id', 'in', scope.newManagerOf).execute()
  }
  await db.deleteFrom('contact_account').where('contact_id', '=', fromId).execute()
  const [from, into] = await Promise.all([
    db.selectFrom('contact').select('crm_id').where('id', '=', fromId).executeTakeFirstOrThrow(),
    db.selectFrom('contact').select('crm_id').where('id', '=', intoId).executeTakeFirstOrThrow()
  ])
  await db.updateTable('contact').set({ active: 0, password_hash: null, merged_into_id: intoId, ...(into.crm_id === null ? { crm_id: null } : {}) }).where('id', '=', fromId).execute()
  if (into.crm_id === null && from.crm_id !== null) await db.updateTable('contact').set({ crm_id: from.crm_id }).where('id', '=', intoId).execute()
  await db.updateTable('api_token').set({ revoked_at: now }).where('contact_id', '=', fromId).where('revoked_at', 'is', null).execute()
}

