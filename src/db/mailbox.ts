// IMAP poller state: sync state per mailbox, the messages decided on, and the quarantine.
import type { Executor } from './index.js'
import type { InboundResult } from './schema.js'

export interface MailboxState {
  mailbox: string
  uidValidity: string
  nextUid: number
  highestModseq: string | null
}

export async function getMailboxState(db: Executor, mailbox: string): Promise<MailboxState | undefined> {
  const row = await db.selectFrom('mailbox_state').selectAll().where('mailbox', '=', mailbox).executeTakeFirst()
  return row && { mailbox: row.mailbox, uidValidity: row.uid_validity, nextUid: row.next_uid, highestModseq: row.highest_modseq }
}

export async function saveMailboxState(db: Executor, state: MailboxState, now: string): Promise<void> {
  const values = { uid_validity: state.uidValidity, next_uid: state.nextUid, highest_modseq: state.highestModseq, last_run_at: now, updated_at: now }
  await db.insertInto('mailbox_state').values({ mailbox: state.mailbox, ...values })
    .onConflict((oc) => oc.column('mailbox').doUpdateSet(values)).execute()
}

export interface InboundKey {
  mailbox: string
  uidValidity: string
  uid: number
}

export interface InboundRecord extends InboundKey {
  messageId: string
  result: InboundResult
  ticketId?: number | null
  noteId?: number | null
  quarantineId?: number | null
  sender?: string | null
}

/** Records the decision on a message; called in the transaction that wrote its note or quarantine row. */
export async function recordInbound(db: Executor, r: InboundRecord, now: string): Promise<number> {
  const row = await db.insertInto('inbound_message').values({
    mailbox: r.mailbox, uid_validity: r.uidValidity, uid: r.uid, message_id: r.messageId, result: r.result,
    ticket_id: r.ticketId ?? null, note_id: r.noteId ?? null, quarantine_id: r.quarantineId ?? null,
    sender: r.sender ?? null, created_at: now
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

/** Messages of these UIDs already decided on (a crash may have left them in the mailbox). */
export async function inboundByUids(db: Executor, mailbox: string, uidValidity: string, uids: number[]) {
  if (uids.length === 0) return []
  return db.selectFrom('inbound_message').select(['id', 'uid', 'result', 'moved_at', 'message_id'])
    .where('mailbox', '=', mailbox).where('uid_validity', '=', uidValidity).where('uid', 'in', uids).execute()
}

/** Which of these Message-IDs were already processed (from any mailbox or UID). */
export async function knownMessageIds(db: Executor, messageIds: string[]): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set()
  const rows = await db.selectFrom('inbound_message').select('message_id').where('message_id', 'in', messageIds).execute()
  return new Set(rows.map((r) => r.message_id))
}

/** Decided messages still waiting to be moved out of the mailbox (the move is retried). */
export async function unmovedInbound(db: Executor, mailbox: string, uidValidity: string, limit = 500) {
  return db.selectFrom('inbound_message').select(['id', 'uid', 'result'])
    .where('mailbox', '=', mailbox).where('uid_validity', '=', uidValidity).where('moved_at', 'is', null)
    .orderBy('uid').limit(limit).execute()
}

export async function markMoved(db: Executor, ids: number[], now: string): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await db.updateTable('inbound_message').set({ moved_at: now }).where('id', 'in', ids.slice(i, i + 500)).execute()
  }
}

/** Rows of another UIDVALIDITY can never be moved by UID again: they are closed. */
export async function closeStaleInbound(db: Executor, mailbox: string, currentUidValidity: string, now: string): Promise<void> {
  await db.updateTable('inbound_message').set({ moved_at: now })
    .where('mailbox', '=', mailbox).where('uid_validity', '!=', currentUidValidity).where('moved_at', 'is', null).execute()
}

export interface QuarantineInput extends InboundKey {
  messageId: string | null
  reasonCode: string
  reasonText: string | null
  from: string | null
  subject: string | null
  ticketId?: number | null
  rawSha256: string | null
  rawSize: number
}

export async function insertQuarantine(db: Executor, q: QuarantineInput, now: string): Promise<number> {
  const row = await db.insertInto('mail_quarantine').values({
    mailbox: q.mailbox, uid_validity: q.uidValidity, uid: q.uid, message_id: q.messageId, reason_code: q.reasonCode,
    reason_text: q.reasonText?.slice(0, 2000) ?? null, from_address: q.from?.slice(0, 320) ?? null,
    subject: q.subject?.slice(0, 500) ?? null, ticket_id: q.ticketId ?? null, raw_sha256: q.rawSha256, raw_size: q.rawSize,
    created_at: now
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

export type QuarantineView = 'open' | 'released' | 'all'

export async function listQuarantine(db: Executor, opts: { view: QuarantineView; page: number; perPage: number }) {
  let q = db.selectFrom('mail_quarantine')
  if (opts.view === 'open') q = q.where('released_at', 'is', null)
  if (opts.view === 'released') q = q.where('released_at', 'is not', null)
  const items = await q.leftJoin('ticket', 'ticket.id', 'mail_quarantine.ticket_id')
    .selectAll('mail_quarantine').select('ticket.number as ticket_number')
    .orderBy('mail_quarantine.id', 'desc').limit(opts.perPage).offset((opts.page - 1) * opts.perPage).execute()
  const counted = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return { items, total: Number(counted.n), totalCapped: false, page: opts.page, perPage: opts.perPage }
}

export async function countQuarantine(db: Executor): Promise<Record<QuarantineView, number>> {
  const rows = await db.selectFrom('mail_quarantine')
    .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.count<number>('released_at').as('released')])
    .executeTakeFirstOrThrow()
  const all = Number(rows.n)
  const released = Number(rows.released)
  return { open: all - released, released, all }
}

export async function getQuarantine(db: Executor, id: number) {
  return db.selectFrom('mail_quarantine')
    .leftJoin('ticket', 'ticket.id', 'mail_quarantine.ticket_id')
    .leftJoin('staff', 'staff.id', 'mail_quarantine.released_by_staff_id')
    .selectAll('mail_quarantine').select(['ticket.number as ticket_number', 'staff.name as released_by_name'])
    .where('mail_quarantine.id', '=', id).executeTakeFirst()
}

/** Marks a quarantined message as dealt with; false when it already was. */
export async function releaseQuarantine(db: Executor, id: number, staffId: number, now: string): Promise<boolean> {
  const res = await db.updateTable('mail_quarantine').set({ released_at: now, released_by_staff_id: staffId })
    .where('id', '=', id).where('released_at', 'is', null).executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

/** When the portal pointer was last queued for an address (unknown-sender answers are rate-limited). */
export async function lastUnknownSenderReply(db: Executor, address: string, template: string): Promise<string | null> {
  const row = await db.selectFrom('mail_outbox').select('created_at')
    .where('recipient', '=', address).where('template', '=', template)
    .orderBy('id', 'desc').limit(1).executeTakeFirst()
  return row?.created_at ?? null
}

/** Who took part in a ticket: requester, assignee and note authors (for `[#n]` subject threading). */
export async function ticketParticipation(db: Executor, ticketId: number) {
  const ticket = await db.selectFrom('ticket').select(['contact_id', 'assignee_id']).where('id', '=', ticketId).executeTakeFirst()
  if (!ticket) return undefined
  const authors = await db.selectFrom('note').select(['author_contact_id', 'author_staff_id']).distinct()
    .where('ticket_id', '=', ticketId).execute()
  return {
    requesterContactId: ticket.contact_id,
    assigneeStaffId: ticket.assignee_id,
    noteAuthors: authors.map((a) => ({ contactId: a.author_contact_id, staffId: a.author_staff_id }))
  }
}

/**
 * The texts our notifications about a ticket carried (notes, reasons, resolutions: the data of
 * its mail) or may have carried (its notes), newest first: what a reply may quote without `>`,
 * told apart from answers typed between its lines.
 */
export async function notificationTexts(db: Executor, ticketId: number, limit = 200): Promise<string[]> {
  const rows = await db.selectFrom('mail_outbox').select('data').where('ticket_id', '=', ticketId).orderBy('id', 'desc').limit(limit).execute()
  const notes = await db.selectFrom('note').select('body').where('ticket_id', '=', ticketId).orderBy('id', 'desc').limit(limit).execute()
  const texts = new Set<string>(notes.map((n) => n.body))
  for (const row of rows) {
    let data: unknown
    try {
      data = JSON.parse(row.data)
    } catch {
      continue
    }
    if (!data || typeof data !== 'object') continue
    for (const value of Object.values(data)) if (typeof value === 'string' && value.trim() !== '') texts.add(value)
  }
  return [...texts]
}

/** The ticket a mail may land on, with what visibility checks need. */
export async function inboundTicket(db: Executor, ticketId: number) {
  return db.selectFrom('ticket').select(['id', 'number', 'account_id', 'contact_id', 'desk_id', 'assignee_id', 'deleted_at', 'state'])
    .where('id', '=', ticketId).executeTakeFirst()
}

export async function ticketIdByNumber(db: Executor, number: number): Promise<number | undefined> {
  const row = await db.selectFrom('ticket').select('id').where('number', '=', number).where('deleted_at', 'is', null).executeTakeFirst()
  return row?.id
}

/**
 * The desk a new ticket from e-mail goes to: the desk whose address the mail was sent to (the first
 * such recipient), else the desk marked for mail that names none, else the one INBOUND_DESK names,
 * else the first desk.
 */
export async function inboundDesk(db: Executor, recipients: string[], name: string | null): Promise<number | undefined> {
  const addressed = [...new Set(recipients.map((r) => r.trim().toLowerCase()).filter((r) => r !== ''))]
  if (addressed.length > 0) {
    const aliases = await db.selectFrom('desk').select(['id', 'email_alias']).where('email_alias', 'in', addressed).execute()
    for (const r of addressed) {
      const desk = aliases.find((d) => d.email_alias === r)
      if (desk) return desk.id
    }
  }
  const marked = await db.selectFrom('desk').select('id').where('inbound_default', '=', 1).orderBy('id').limit(1).executeTakeFirst()
  if (marked) return marked.id
  if (name) {
    const named = await db.selectFrom('desk').select('id').where('name', '=', name).executeTakeFirst()
    if (named) return named.id
  }
  const first = await db.selectFrom('desk').select('id').orderBy('id').limit(1).executeTakeFirst()
  return first?.id
}
