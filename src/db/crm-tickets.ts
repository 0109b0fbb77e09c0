// Tickets and notes as the CRM sync reads them: what a Case and its comments carry, which
// ticket a Case or comment belongs to, and the local ids of CRM records.
import type { Executor } from './index.js'
import { chunk } from './chunk.js'

export async function ticketsForCase(db: Executor, ids: number[]) {
  const out = []
  for (const part of chunk(ids, 500)) {
    const rows = await db.selectFrom('ticket')
      .leftJoin('account', 'account.id', 'ticket.account_id')
      .leftJoin('contact', 'contact.id', 'ticket.contact_id')
      .leftJoin('product', 'product.id', 'ticket.product_id')
      .leftJoin('staff', 'staff.id', 'ticket.assignee_id')
      .select([
        'ticket.id', 'ticket.number', 'ticket.title', 'ticket.description', 'ticket.url', 'ticket.state', 'ticket.status',
        'ticket.priority', 'ticket.source', 'ticket.crm_case_id', 'ticket.crm_case_number', 'ticket.deleted_at',
        'account.crm_id as account_crm_id', 'contact.crm_id as contact_crm_id', 'product.crm_id as product_crm_id',
        'staff.crm_user_id as owner_crm_id'
      ])
      .where('ticket.id', 'in', part).execute()
    const files = await db.selectFrom('attachment').select(['id', 'ticket_id', 'filename'])
      .where('ticket_id', 'in', part).where('note_id', 'is', null).orderBy('id').execute()
    for (const r of rows) out.push({ ...r, attachments: files.filter((f) => f.ticket_id === r.id).map((f) => ({ id: f.id, filename: f.filename })) })
  }
  return out
}

export type TicketForSync = Awaited<ReturnType<typeof ticketsForCase>>[number]

/** Notes owed as comments, with their ticket's Case and their attachments. */
export async function notesForComment(db: Executor, noteIds: number[]) {
  const out = []
  for (const part of chunk(noteIds, 500)) {
    const rows = await db.selectFrom('note').innerJoin('ticket', 'ticket.id', 'note.ticket_id')
      .select(['note.id', 'note.ticket_id', 'note.kind', 'note.visibility', 'note.body', 'note.author_name', 'note.source', 'note.crm_comment_id', 'ticket.crm_case_id', 'ticket.deleted_at'])
      .where('note.id', 'in', part).execute()
    const files = await db.selectFrom('attachment').select(['id', 'note_id', 'filename']).where('note_id', 'in', part).orderBy('id').execute()
    for (const r of rows) out.push({ ...r, attachments: files.filter((f) => f.note_id === r.id).map((f) => ({ id: f.id, filename: f.filename })) })
  }
  return out
}

/** Links a ticket to its Case; metadata only, so the ticket's version is left alone. */
export async function linkedCommentIds(db: Executor, commentIds: string[]): Promise<Set<string>> {
  const out = new Set<string>()
  for (const part of chunk(commentIds, 500)) {
    const rows = await db.selectFrom('note').select('crm_comment_id').where('crm_comment_id', 'in', part).execute()
    for (const r of rows) if (r.crm_comment_id) out.add(r.crm_comment_id)
  }
  return out
}

/** Tickets (not deleted or deleted) by their Case id. */
export async function ticketIdsByCase(db: Executor, caseIds: string[]): Promise<Map<string, { id: number; deleted: boolean }>> {
  const out = new Map<string, { id: number; deleted: boolean }>()
  for (const part of chunk(caseIds, 500)) {
    const rows = await db.selectFrom('ticket').select(['id', 'crm_case_id', 'deleted_at']).where('crm_case_id', 'in', part).execute()
    for (const r of rows) out.set(r.crm_case_id!, { id: r.id, deleted: r.deleted_at !== null })
  }
  return out
}

export async function ticketForInbound(db: Executor, ticketId: number) {
  return db.selectFrom('ticket')
    .leftJoin('account', 'account.id', 'ticket.account_id')
    .leftJoin('product', 'product.id', 'ticket.product_id')
    .leftJoin('staff', 'staff.id', 'ticket.assignee_id')
    .select([
      'ticket.id', 'ticket.number', 'ticket.title', 'ticket.priority', 'ticket.assignee_id', 'ticket.account_id', 'ticket.product_id',
      'ticket.crm_case_id', 'ticket.crm_case_number', 'ticket.deleted_at', 'ticket.created_at', 'ticket.version',
      'account.crm_id as account_crm_id', 'product.crm_id as product_crm_id', 'staff.crm_user_id as owner_crm_id'
    ])
    .where('ticket.id', '=', ticketId).executeTakeFirst()
}

export type TicketForInbound = NonNullable<Awaited<ReturnType<typeof ticketForInbound>>>

/** When the portal last changed a ticket field (history rows not written by the CRM), else when the ticket was created. */
export async function lastLocalChange(db: Executor, ticketId: number, field: string): Promise<string | null> {
  const row = await db.selectFrom('ticket_event').select((eb) => eb.fn.max('created_at').as('at'))
    .where('ticket_id', '=', ticketId).where('field', '=', field).where('actor_type', '!=', 'crm').executeTakeFirst()
  return (row?.at as string | null | undefined) ?? null
}

export async function staffIdByCrmUser(db: Executor, crmUserId: string): Promise<number | undefined> {
  const row = await db.selectFrom('staff').select('id').where('crm_user_id', '=', crmUserId).where('active', '=', 1).executeTakeFirst()
  return row?.id
}

export async function accountIdByCrmId(db: Executor, crmId: string): Promise<number | undefined> {
  return (await db.selectFrom('account').select('id').where('crm_id', '=', crmId).executeTakeFirst())?.id
}

export async function productIdByCrmId(db: Executor, crmId: string): Promise<number | undefined> {
  return (await db.selectFrom('product').select('id').where('crm_id', '=', crmId).executeTakeFirst())?.id
}
