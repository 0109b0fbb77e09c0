import type { Insertable } from 'kysely'
import type { Executor } from './index.js'
import { ticketRouting } from './routing.js'
import type { ApprovalDecision, ApprovalTable } from './schema.js'

export const APPROVAL_DAYS_KEY = 'approval_link_days'
export const DEFAULT_APPROVAL_DAYS = 7
export const MAX_APPROVAL_DAYS = 90

/** How long an approval link stays usable (setting `approval_link_days`, default 7). */
export async function approvalLinkDays(db: Executor): Promise<number> {
  const row = await db.selectFrom('setting').select('value').where('key', '=', APPROVAL_DAYS_KEY).executeTakeFirst()
  const days = Number(row?.value)
  return Number.isInteger(days) && days >= 1 && days <= MAX_APPROVAL_DAYS ? days : DEFAULT_APPROVAL_DAYS
}

export async function saveApprovalLinkDays(db: Executor, days: number): Promise<void> {
  const value = String(days)
  await db.insertInto('setting').values({ key: APPROVAL_DAYS_KEY, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute()
}

export interface Approver {
  id: number
  name: string
  email: string
  locale: string | null
  /** How the rules found them: the requester's manager, or a manager contact of the account. */
  via?: 'manager' | 'account'
}

/**
 * Who approves a requester's requests: their reporting manager (contact.manager_contact_id);
 * without one, another manager contact of the ticket's account. Never the requester.
 */
export async function findApprover(db: Executor, requesterId: number, accountId: number): Promise<Approver | undefined> {
  const columns = ['contact.id', 'contact.name', 'contact.email', 'contact.locale'] as const
  const manager = await db.selectFrom('contact as requester')
    .innerJoin('contact', 'contact.id', 'requester.manager_contact_id')
    .select(columns)
    .where('requester.id', '=', requesterId).where('contact.active', '=', 1).where('contact.id', '!=', requesterId)
    .executeTakeFirst()
  if (manager) return { ...manager, via: 'manager' }
  const accountManager = await db.selectFrom('contact_account')
    .innerJoin('contact', 'contact.id', 'contact_account.contact_id')
    .select(columns)
    .where('contact_account.account_id', '=', accountId).where('contact_account.is_manager', '=', 1)
    .where('contact.active', '=', 1).where('contact.id', '!=', requesterId)
    .orderBy('contact.id').limit(1).executeTakeFirst()
  return accountManager && { ...accountManager, via: 'account' }
}

/** Contacts staff may pick as approver of a ticket: active people of its account other than the requester. */
export async function approverCandidates(db: Executor, accountId: number, requesterId: number) {
  return db.selectFrom('contact_account')
    .innerJoin('contact', 'contact.id', 'contact_account.contact_id')
    .select(['contact.id', 'contact.name', 'contact.email', 'contact_account.is_manager'])
    .where('contact_account.account_id', '=', accountId).where('contact.active', '=', 1).where('contact.id', '!=', requesterId)
    .orderBy('contact.name').execute()
}

export async function getContactForApproval(db: Executor, id: number): Promise<Approver | undefined> {
  return db.selectFrom('contact').select(['id', 'name', 'email', 'locale']).where('id', '=', id).where('active', '=', 1).executeTakeFirst()
}

/** "Area › Item" of a catalog item, for the approval mail. */
export async function approvalItemName(db: Executor, categoryId: number | null): Promise<string | null> {
  if (categoryId === null) return null
  const row = await db.selectFrom('category as item').leftJoin('category as area', 'area.id', 'item.parent_id')
    .select(['item.name', 'area.name as area_name']).where('item.id', '=', categoryId).executeTakeFirst()
  if (!row) return null
  return row.area_name ? `${row.area_name} › ${row.name}` : row.name
}

/** Whether a catalog item's requests need approval: by the requester's manager, approved at once, or not at all. */
export async function requiresApproval(db: Executor, categoryId: number): Promise<ApprovalMode> {
  const item = (await ticketRouting(db)).item(categoryId)
  return item ? approvalMode(item) : 'none'
}

export async function insertApproval(trx: Executor, row: Insertable<ApprovalTable>): Promise<number> {
  return (await trx.insertInto('approval').values(row).returning('id').executeTakeFirstOrThrow()).id
}

/** One approval row with what the approval page shows of its ticket. */
export async function getApprovalLink(db: Executor, approvalId: number) {
  return db.selectFrom('approval')
    .innerJoin('ticket', 'ticket.id', 'approval.ticket_id')
    .innerJoin('contact as approver', 'approver.id', 'approval.approver_contact_id')
    .innerJoin('contact as requester', 'requester.id', 'ticket.contact_id')
    .innerJoin('account', 'account.id', 'ticket.account_id')
    .leftJoin('category as item', 'item.id', 'ticket.category_id')
    .leftJoin('category as area', 'area.id', 'item.parent_id')
    .select([
      'approval.id', 'approval.ticket_id', 'approval.approver_contact_id', 'approval.nonce_hash', 'approval.expires_at',
      'approval.decided_at', 'approval.decision', 'approval.reason', 'approval.created_at',
      'ticket.number', 'ticket.title', 'ticket.description', 'ticket.status', 'ticket.state', 'ticket.deleted_at', 'ticket.created_at as ticket_created_at',
      'approver.name as approver_name', 'requester.name as requester_name', 'requester.email as requester_email',
      'account.name as account_name', 'item.name as item_name', 'area.name as area_name'
    ])
    .where('approval.id', '=', approvalId).executeTakeFirst()
}

export type ApprovalLink = NonNullable<Awaited<ReturnType<typeof getApprovalLink>>>

/** Closes the link for good; false when someone else decided it first (the row, not the token, is single-use). */
export async function decideApprovalRow(trx: Executor, approvalId: number, decision: ApprovalDecision, reason: string | null, now: string): Promise<boolean> {
  const res = await trx.updateTable('approval').set({ decided_at: now, decision, reason })
    .where('id', '=', approvalId).where('decided_at', 'is', null).executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** Closes every open link of a ticket before a new one is sent: expired ones as expired, the rest superseded. */
export async function closeOpenApprovals(trx: Executor, ticketId: number, now: string): Promise<number> {
  const expired = await trx.updateTable('approval').set({ decided_at: now, decision: 'expired' })
    .where('ticket_id', '=', ticketId).where('decided_at', 'is', null).where('expires_at', '<=', now).executeTakeFirst()
  const superseded = await trx.updateTable('approval').set({ decided_at: now, decision: 'superseded' })
    .where('ticket_id', '=', ticketId).where('decided_at', 'is', null).executeTakeFirst()
  return Number(expired.numUpdatedRows) + Number(superseded.numUpdatedRows)
}

/** The latest approval of a ticket (link sent, decided or not) with the approver's name, for ticket pages. */
export async function latestApproval(db: Executor, ticketId: number) {
  return db.selectFrom('approval')
    .innerJoin('contact', 'contact.id', 'approval.approver_contact_id')
    .select([
      'approval.id', 'approval.approver_contact_id', 'approval.expires_at', 'approval.decided_at', 'approval.decision',
      'approval.reason', 'approval.created_at', 'contact.name as approver_name', 'contact.email as approver_email'
    ])
    .where('approval.ticket_id', '=', ticketId).orderBy('approval.id', 'desc').limit(1).executeTakeFirst()
}

/** Catalog items with their area and approval flags, active or not, for the admin page. */
export async function listCatalogApprovalRules(db: Executor) {
  return db.selectFrom('category as item')
    .innerJoin('category as area', 'area.id', 'item.parent_id')
    .select(['item.id', 'item.name', 'item.ticket_type', 'item.active', 'item.requires_approval', 'item.auto_approve', 'area.id as area_id', 'area.name as area_name'])
    .orderBy('area.name').orderBy('item.name').orderBy('item.id').execute()
}

export type ApprovalMode = 'none' | 'manager' | 'auto'
export const APPROVAL_MODES: readonly ApprovalMode[] = ['none', 'manager', 'auto']

export function approvalMode(item: { requires_approval: number; auto_approve: number }): ApprovalMode {
  if (item.requires_approval !== 1) return 'none'
  return item.auto_approve === 1 ? 'auto' : 'manager'
}

/** Sets an item's approval rule; true when it changed. */
export async function setCatalogApproval(db: Executor, itemId: number, mode: ApprovalMode): Promise<boolean> {
  const requires = mode === 'none' ? 0 : 1
  const auto = mode === 'auto' ? 1 : 0
  const res = await db.updateTable('category').set({ requires_approval: requires, auto_approve: auto })
    .where('id', '=', itemId).where('parent_id', 'is not', null)
    .where((eb) => eb.or([eb('requires_approval', '!=', requires), eb('auto_approve', '!=', auto)]))
    .executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** What a ticket page shows about approval: null when the ticket never needed one. */
export async function ticketApprovalState(db: Executor, ticket: { id: number; status: string }, now: Date) {
  const latest = await latestApproval(db, ticket.id)
  const waiting = ticket.status === 'awaiting_approval'
  if (!latest && !waiting) return null
  const pending = waiting && latest && latest.decided_at === null ? latest : null
  return {
    waiting,
    latest: latest ?? null,
    pending,
    expired: pending !== null && Date.parse(pending.expires_at) <= now.getTime()
  }
}
