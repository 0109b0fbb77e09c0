// Staff notifications as rows: the one insert (a live count can hook in there), the bell's count,
// the page, marking read, e-mail choices, who a note may mention, and retention.
import type { Executor } from './index.js'
import type { MentionCandidate, NotificationKind } from '../domain/notifications.js'

export interface NewNotification {
  staffId: number
  kind: NotificationKind
  ticketId: number
  actorName: string | null
  detail: string | null
  excerpt: string | null
}

/** Every notification is written here, in the transaction of the command that caused it. */
export async function insertNotification(db: Executor, n: NewNotification, at: string): Promise<number> {
  const row = await db.insertInto('notification').values({
    staff_id: n.staffId, kind: n.kind, ticket_id: n.ticketId, actor_name: n.actorName, detail: n.detail, excerpt: n.excerpt, created_at: at, read_at: null
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

/** Where and whether to tell a staff member about one kind: their address, language, whether active, and their stored e-mail choice (null: none). */
export async function notificationRecipient(db: Executor, staffId: number, kind: NotificationKind) {
  return db.selectFrom('staff')
    .leftJoin('notification_pref', (j) => j.onRef('notification_pref.staff_id', '=', 'staff.id').on('notification_pref.kind', '=', kind))
    .select(['staff.id', 'staff.email', 'staff.locale', 'staff.active', 'notification_pref.email as email_pref'])
    .where('staff.id', '=', staffId)
    .executeTakeFirst()
}

/** A person's unread notifications, counted up to `cap` (one index range, however many there are). */
export async function countUnread(db: Executor, staffId: number, cap: number): Promise<number> {
  const row = await db.selectFrom(
    db.selectFrom('notification').select('id').where('staff_id', '=', staffId).where('read_at', 'is', null).limit(cap).as('unread')
  ).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

/** One page of a person's notifications, newest first, with their ticket's number and title; `more`: another page follows. */
export async function listNotifications(db: Executor, staffId: number, page: number, perPage: number) {
  const rows = await db.selectFrom('notification')
    .innerJoin('ticket', 'ticket.id', 'notification.ticket_id')
    .select(['notification.id', 'notification.kind', 'notification.actor_name', 'notification.detail', 'notification.excerpt',
      'notification.created_at', 'notification.read_at', 'ticket.number', 'ticket.title'])
    .where('notification.staff_id', '=', staffId)
    .orderBy('notification.id', 'desc')
    .limit(perPage + 1).offset((page - 1) * perPage)
    .execute()
  return { rows: rows.slice(0, perPage), more: rows.length > perPage }
}

export type NotificationRow = Awaited<ReturnType<typeof listNotifications>>['rows'][number]

/** One notification of this person's, or undefined (someone else's is not theirs to see). */
export async function getOwnNotification(db: Executor, staffId: number, id: number) {
  return db.selectFrom('notification').select(['id', 'read_at']).where('id', '=', id).where('staff_id', '=', staffId).executeTakeFirst()
}

export async function markNotificationRead(db: Executor, staffId: number, id: number, at: string): Promise<void> {
  await db.updateTable('notification').set({ read_at: at }).where('id', '=', id).where('staff_id', '=', staffId).where('read_at', 'is', null).execute()
}

/** Whether the person has an unread notification about this ticket (one look-up before a write). */
export async function hasUnreadAbout(db: Executor, staffId: number, ticketId: number): Promise<boolean> {
  const row = await db.selectFrom('notification').select('id').where('staff_id', '=', staffId).where('read_at', 'is', null)
    .where('ticket_id', '=', ticketId).limit(1).executeTakeFirst()
  return row !== undefined
}

export async function markReadAbout(db: Executor, staffId: number, ticketId: number, at: string): Promise<number> {
  const result = await db.updateTable('notification').set({ read_at: at }).where('staff_id', '=', staffId).where('read_at', 'is', null)
    .where('ticket_id', '=', ticketId).executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** Marks a person's unread notifications read, up to the newest they were shown (null: all). How many. */
export async function markAllNotificationsRead(db: Executor, staffId: number, upTo: number | null, at: string): Promise<number> {
  let query = db.updateTable('notification').set({ read_at: at }).where('staff_id', '=', staffId).where('read_at', 'is', null)
  if (upTo !== null) query = query.where('id', '<=', upTo)
  const result = await query.executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** A person's stored e-mail choices, by kind. */
export async function notificationPrefs(db: Executor, staffId: number): Promise<Map<NotificationKind, number>> {
  const rows = await db.selectFrom('notification_pref').select(['kind', 'email']).where('staff_id', '=', staffId).execute()
  return new Map(rows.map((r) => [r.kind, r.email]))
}

export async function setNotificationPref(db: Executor, staffId: number, kind: NotificationKind, email: boolean): Promise<void> {
  await db.insertInto('notification_pref').values({ staff_id: staffId, kind, email: email ? 1 : 0 })
    .onConflict((oc) => oc.columns(['staff_id', 'kind']).doUpdateSet({ email: email ? 1 : 0 }))
    .execute()
}

/**
 * The active staff who can see a ticket (the SQL of canSeeTicket for staff): admins, those who
 * work every desk, the desk's members and its assignee.
 */
export async function mentionCandidates(db: Executor, ticket: { desk_id: number; assignee_id: number | null }): Promise<MentionCandidate[]> {
  return db.selectFrom('staff')
    .select(['staff.id', 'staff.name', 'staff.email'])
    .where('staff.active', '=', 1)
    .where((eb) => eb.or([
      eb('staff.role', '=', 'admin'),
      eb('staff.all_desks', '=', 1),
      eb('staff.id', 'in', eb.selectFrom('desk_member').select('desk_member.staff_id').where('desk_member.desk_id', '=', ticket.desk_id)),
      ...(ticket.assignee_id === null ? [] : [eb('staff.id', '=', ticket.assignee_id)])
    ]))
    .orderBy('staff.id')
    .execute()
}

/** A ticket's number, title and assignee (who is told about its approval). */
export async function ticketAssignee(db: Executor, ticketId: number) {
  return db.selectFrom('ticket').select(['id', 'number', 'title', 'assignee_id', 'desk_id']).where('id', '=', ticketId).executeTakeFirst()
}

/** Deletes notifications created before `before`, and read ones read before `readBefore`. How many. */
export async function pruneNotifications(db: Executor, before: string, readBefore: string): Promise<number> {
  const result = await db.deleteFrom('notification')
    .where((eb) => eb.or([eb('created_at', '<', before), eb.and([eb('read_at', 'is not', null), eb('read_at', '<', readBefore)])]))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
