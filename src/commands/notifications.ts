// A staff member's own notifications (/desk/notifications): marking one or all read, and choosing
// per kind whether they also come by e-mail. Notifications themselves are written by the commands
// that cause them (UnitOfWork.alert); retention deletes old ones (the scheduled jobs' tidy-up).
import {
  getOwnNotification, hasUnreadAbout, markAllNotificationsRead, markReadAbout, markNotificationRead, notificationPrefs, pruneNotifications, setNotificationPref
} from '../db/notifications.js'
import { KEEP_DAYS, KEEP_READ_DAYS, NOTIFICATION_KINDS, wantsEmail, type NotificationKind } from '../domain/notifications.js'
import { Refused, run, SYSTEM, type Deps, type Outcome, type UnitOfWork } from './kernel.js'
import type { Who } from './kernel.js'

function staffId(uow: UnitOfWork): number {
  const person = uow.who.person
  if (person?.kind !== 'staff') throw new Refused('forbidden')
  return person.id
}

/** Marks one of the person's notifications read; another's (or none) is not_found. Already read: nothing changes. */
export async function markRead(deps: Pick<Deps, 'db' | 'clock' | 'random'>, who: Who, id: number): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    const me = staffId(uow)
    const own = await getOwnNotification(uow.trx, me, id)
    if (!own) throw new Refused('not_found')
    if (own.read_at === null) await markNotificationRead(uow.trx, me, id, uow.at)
  })
}

/**
 * The person opened the ticket: what they were told about it is read. Nothing is written (no
 * write lock) when nothing about it is unread, the usual case.
 */
export async function markReadAboutTicket(deps: Pick<Deps, 'db' | 'clock' | 'random'>, who: Who, ticketId: number): Promise<Outcome<number>> {
  const person = who.person
  if (person?.kind !== 'staff' || !(await hasUnreadAbout(deps.db, person.id, ticketId))) return { ok: true, value: 0 }
  return run(deps, who, async (uow) => markReadAbout(uow.trx, staffId(uow), ticketId, uow.at))
}

/** Marks the person's unread notifications read, up to the newest the page showed (null: all). How many. */
export async function markAllRead(deps: Pick<Deps, 'db' | 'clock' | 'random'>, who: Who, upTo: number | null): Promise<Outcome<number>> {
  return run(deps, who, async (uow) => markAllNotificationsRead(uow.trx, staffId(uow), upTo, uow.at))
}

/** The person's e-mail choice for every kind (their stored one, or the kind's default). */
export async function emailChoices(deps: Pick<Deps, 'db'>, staff: number): Promise<Record<NotificationKind, boolean>> {
  const stored = await notificationPrefs(deps.db, staff)
  return Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, wantsEmail(k, stored.get(k))])) as Record<NotificationKind, boolean>
}

/** Stores the person's e-mail choice for every kind (the kinds left out: no e-mail). */
export async function saveEmailChoices(deps: Pick<Deps, 'db' | 'clock' | 'random'>, who: Who, email: readonly NotificationKind[]): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    const me = staffId(uow)
    for (const kind of NOTIFICATION_KINDS) await setNotificationPref(uow.trx, me, kind, email.includes(kind))
  })
}

const DAY = 86_400_000

/** Deletes notifications older than KEEP_DAYS, and read ones read more than KEEP_READ_DAYS ago. How many. */
export async function pruneOldNotifications(deps: Pick<Deps, 'db' | 'clock' | 'random'>): Promise<number> {
  const outcome = await run(deps, SYSTEM, async (uow) => {
    const ago = (days: number) => new Date(uow.now.getTime() - days * DAY).toISOString()
    return pruneNotifications(uow.trx, ago(KEEP_DAYS), ago(KEEP_READ_DAYS))
  })
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}
