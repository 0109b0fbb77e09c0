// The notifications commands queue, by template name (src/mail renders each in both languages).

/** The mail that asks a manager to approve a request. */
export const APPROVAL_TEMPLATE = 'ticket.approval_request'

/** The pointer to the portal an unknown sender may get (once per address and day). */
export const UNKNOWN_SENDER_TEMPLATE = 'inbound.unknown_sender'

/** The mail that tells its owner an export is ready (with the file when it is small enough). */
export const EXPORT_READY_TEMPLATE = 'export.ready'

// ------------------------------------------------------------------ in-app notifications (staff)

/** What staff are told about in the app: the bell in the header and /desk/notifications. */
export const NOTIFICATION_KINDS = ['assigned', 'client_replied', 'mentioned', 'sla_at_risk', 'approval_decided'] as const
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number]

export function isNotificationKind(value: unknown): value is NotificationKind {
  return typeof value === 'string' && (NOTIFICATION_KINDS as readonly string[]).includes(value)
}

/**
 * Whether a kind also goes out by e-mail when the person has not chosen: as before notifications
 * existed. The assignee was already mailed a ticket routed or transferred to them and a client's
 * reply; the other kinds are new, so their mail is asked for.
 */
export const EMAIL_BY_DEFAULT: Readonly<Record<NotificationKind, boolean>> = {
  assigned: true, client_replied: true, mentioned: false, sla_at_risk: false, approval_decided: false
}

/** Whether a notification of this kind is also mailed, given the person's stored choice (null: none stored). */
export function wantsEmail(kind: NotificationKind, stored: number | null | undefined): boolean {
  return stored === null || stored === undefined ? EMAIL_BY_DEFAULT[kind] : stored === 1
}

/** The bell counts unread notifications up to this many and shows "99+" beyond. */
export const UNREAD_CAP = 100

/** What the bell shows for a count read with UNREAD_CAP. */
export function unreadLabel(count: number): string {
  return count >= UNREAD_CAP ? `${UNREAD_CAP - 1}+` : String(count)
}

/** Notifications are kept this many days, and read ones this many. */
export const KEEP_DAYS = 90
export const KEEP_READ_DAYS = 30

/** The start of a note as a notification shows it: one line, at most `max` characters. */
export function excerptOf(body: string, max = 140): string {
  const line = body.replace(/\s+/g, ' ').trim()
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`
}

/** A staff member an internal note may mention: only those who can see the ticket are offered. */
export interface MentionCandidate {
  id: number
  name: string
  email: string
}

const fold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()

/**
 * The handles written in a note: `@` followed by letters, digits, dots, hyphens and underscores,
 * not preceded by a letter, digit or one of those (so an e-mail address is no mention); a
 * trailing dot (the end of a sentence) is not part of it. Lower-cased, accents folded, each once.
 */
export function mentionHandles(body: string): string[] {
  const found = new Set<string>()
  for (const m of body.matchAll(/(?<![\p{L}\p{N}._@-])@([\p{L}\p{N}._-]+)/gu)) {
    const handle = fold(m[1].replace(/[.\-_]+$/, ''))
    if (handle) found.add(handle)
  }
  return [...found]
}

/**
 * Who a note mentions, among the staff who can see its ticket (the candidates), never its author.
 * The rule: `@` + the part of a person's e-mail address before the `@` (`@ana` for
 * ana@casebridge.test, `@ana.souza` for ana.souza@...), or `@` + their first name when exactly one
 * candidate has that first name and the handle is no candidate's address part. Case and accents
 * do not matter (`@Joao` finds João). A handle two candidates share by address names nobody.
 * Each person at most once per note, in the order of the candidates.
 */
export function mentionedStaff(body: string, candidates: readonly MentionCandidate[], authorId: number | null): number[] {
  const handles = mentionHandles(body)
  if (handles.length === 0) return []
  const byLocal = new Map<string, number[]>()
  const byFirst = new Map<string, number[]>()
  for (const c of candidates) {
    const local = fold(c.email.split('@')[0] ?? '')
    const first = fold(c.name.trim().split(/\s+/)[0] ?? '')
    if (local) byLocal.set(local, [...(byLocal.get(local) ?? []), c.id])
    if (first) byFirst.set(first, [...(byFirst.get(first) ?? []), c.id])
  }
  const chosen = new Set<number>()
  for (const h of handles) {
    const local = byLocal.get(h)
    const ids = local ?? byFirst.get(h) ?? []
    if (ids.length === 1) chosen.add(ids[0])
  }
  if (authorId !== null) chosen.delete(authorId)
  return candidates.map((c) => c.id).filter((id) => chosen.has(id))
}
