import { randomBytes } from 'node:crypto'
import type { Executor } from './index.js'
import type { MailStatus } from './schema.js'
import { base32Encode } from '../domain/thread-token.js'

export interface MailToSend {
  ticketId: number | null
  recipient: string
  locale: string | null
  template: string
  data: Record<string, unknown>
}

/** Records a notification owed; written in the same transaction as the change it tells about. */
export async function insertMail(db: Executor, mail: MailToSend, now: string): Promise<void> {
  await db.insertInto('mail_outbox').values({
    // No language of their own: '' lets delivery use DEFAULT_LOCALE.
    ticket_id: mail.ticketId, recipient: mail.recipient, locale: mail.locale ?? '', template: mail.template,
    data: JSON.stringify(mail.data), next_attempt_at: now, created_at: now,
    // The Message-ID's unique part, fixed now: every attempt sends the same message.
    message_key: base32Encode(randomBytes(10))
  }).execute()
}

export async function listMailForTicket(db: Executor, ticketId: number) {
  return db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute()
}

/** Who a ticket's notices may go to: its requester, its assignee and its desk's manager. */
export type Parties = Awaited<ReturnType<typeof ticketParties>>

/** E-mail address and language of each party of a ticket. */
export async function ticketParties(db: Executor, ticketId: number) {
  const row = await db.selectFrom('ticket')
    .innerJoin('contact', 'contact.id', 'ticket.contact_id')
    .innerJoin('desk', 'desk.id', 'ticket.desk_id')
    .leftJoin('staff as assignee', 'assignee.id', 'ticket.assignee_id')
    .leftJoin('staff as manager', 'manager.id', 'desk.manager_id')
    .select([
      'contact.email as requester_email', 'contact.locale as requester_locale', 'contact.id as requester_id',
      'assignee.email as assignee_email', 'assignee.locale as assignee_locale', 'assignee.id as assignee_id',
      'manager.email as manager_email', 'manager.locale as manager_locale', 'manager.id as manager_id'
    ])
    .where('ticket.id', '=', ticketId).executeTakeFirstOrThrow()
  const party = (email: string | null, locale: string | null, id: number | null, kind: 'contact' | 'staff') =>
    email ? { email, locale, id: id as number, kind } : null
  return {
    requester: party(row.requester_email, row.requester_locale, row.requester_id, 'contact'),
    assignee: party(row.assignee_email, row.assignee_locale, row.assignee_id, 'staff'),
    desk_manager: party(row.manager_email, row.manager_locale, row.manager_id, 'staff')
  }
}

// ------------------------------------------------------------------ the drainer and the admin pages

export const MAIL_STATUSES: readonly MailStatus[] = ['pending', 'sent', 'dead']

export function isMailStatus(value: unknown): value is MailStatus {
  return typeof value === 'string' && (MAIL_STATUSES as readonly string[]).includes(value)
}

export async function getMail(db: Executor, id: number) {
  return db.selectFrom('mail_outbox')
    .leftJoin('ticket', 'ticket.id', 'mail_outbox.ticket_id')
    .selectAll('mail_outbox').select('ticket.number as ticket_number')
    .where('mail_outbox.id', '=', id).executeTakeFirst()
}

export type MailRow = NonNullable<Awaited<ReturnType<typeof getMail>>>

export interface MailPage {
  items: MailRow[]
  total: number
  totalCapped: boolean
  page: number
  perPage: number
}

/** One page of the outbox, newest first, optionally of one status. */
export async function listMail(db: Executor, opts: { status?: MailStatus | null; page?: number; perPage?: number }): Promise<MailPage> {
  const perPage = Math.min(Math.max(opts.perPage ?? 50, 1), 200)
  const page = Math.max(opts.page ?? 1, 1)
  let query = db.selectFrom('mail_outbox')
  if (opts.status) query = query.where('mail_outbox.status', '=', opts.status)
  const items = await query
    .leftJoin('ticket', 'ticket.id', 'mail_outbox.ticket_id')
    .selectAll('mail_outbox').select('ticket.number as ticket_number')
    .orderBy('mail_outbox.id', 'desc').limit(perPage).offset((page - 1) * perPage).execute()
  const counted = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return { items, total: Number(counted.n), totalCapped: false, page, perPage }
}

/** How many rows each status holds (for the filter tabs). */
export async function countMailByStatus(db: Executor): Promise<Record<MailStatus, number>> {
  const rows = await db.selectFrom('mail_outbox').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute()
  const out: Record<MailStatus, number> = { pending: 0, sent: 0, dead: 0 }
  for (const r of rows) if (isMailStatus(r.status)) out[r.status] = Number(r.n)
  return out
}
