import type { Executor } from './index.js'

export interface MailToSend {
  ticketId: number | null
  recipient: string
  locale: string | null
  template: string
  data: Record<string, unknown>
}

/** Records a notification owed; written in the same transaction as the change it tells about. */
export async function enqueueMail(db: Executor, mail: MailToSend, now: string): Promise<void> {
  await db.insertInto('mail_outbox').values({
    // No language of their own: '' lets delivery use DEFAULT_LOCALE.
    ticket_id: mail.ticketId, recipient: mail.recipient, locale: mail.locale ?? '', template: mail.template,
    data: JSON.stringify(mail.data), next_attempt_at: now, created_at: now
  }).execute()
}

export async function listMailForTicket(db: Executor, ticketId: number) {
  return db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute()
}

export type Recipient = 'requester' | 'assignee' | 'desk_manager'

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

/** Queues one mail per recipient named by a lifecycle decision, never to the person acting. */
export async function notifyParties(db: Executor, ticketId: number, recipients: readonly Recipient[], template: string, data: Record<string, unknown>, ctx: { now: string; actor?: { type: string; id: number | null } }) {
  if (recipients.length === 0) return
  const parties = await ticketParties(db, ticketId)
  const seen = new Set<string>()
  for (const r of recipients) {
    const p = parties[r]
    if (!p || seen.has(p.email)) continue
    if (ctx.actor && ctx.actor.id === p.id && ctx.actor.type === p.kind) continue
    seen.add(p.email)
    await enqueueMail(db, { ticketId, recipient: p.email, locale: p.locale, template, data: { ...data, recipientRole: r } }, ctx.now)
  }
}
