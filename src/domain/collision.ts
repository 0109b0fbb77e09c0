// A reply written while the ticket moved on: the desk's reply form carries what its page showed
// (`seen`), and a reply sent after someone else added to the conversation, or the ticket's state
// or assignee changed, is held back once so its writer can read what happened first.

export interface Seen {
  version: number
  /** The newest note the page showed. */
  note: number
  state: string
  status: string
  assignee: number | null
}

interface TicketNow {
  version: number
  state: string
  status: string
  assignee_id: number | null
}

/** What a page showed, as its reply form carries it. */
export function seenOf(ticket: TicketNow, notes: readonly { id: number }[]): string {
  const newest = notes.reduce((max, n) => Math.max(max, n.id), 0)
  return [ticket.version, newest, ticket.state, ticket.status, ticket.assignee_id ?? ''].join(':')
}

/** The form's `seen`, or null when it is missing or not one (then nothing is held back). */
export function parseSeen(raw: string): Seen | null {
  const m = /^(\d{1,10}):(\d{1,10}):([a-z_]{1,40}):([a-z_]{1,40}):(\d{0,10})$/.exec(raw)
  if (!m) return null
  return { version: Number(m[1]), note: Number(m[2]), state: m[3], status: m[4], assignee: m[5] === '' ? null : Number(m[5]) }
}

export interface Collision {
  /** Who added to the conversation since (names, each once). */
  authors: string[]
  /** The state and status now, when they changed. */
  state: { state: string; status: string } | null
  /** The assignee now, when they changed (null name: nobody). */
  assignee: { id: number | null } | null
}

/**
 * What changed since the page was loaded that its writer did not do themself; null when nothing
 * worth holding a reply for (the version also moves for the writer's own changes, and for
 * bookkeeping such as a checklist tick).
 */
export function collisionSince(
  seen: Seen, now: TicketNow, notes: readonly { id: number; author_staff_id: number | null; author_name: string | null }[], me: number, someone: string
): Collision | null {
  if (now.version <= seen.version) return null
  const authors: string[] = []
  for (const n of notes) {
    if (n.id <= seen.note || n.author_staff_id === me) continue
    const name = n.author_name ?? someone
    if (!authors.includes(name)) authors.push(name)
  }
  const state = now.state !== seen.state || now.status !== seen.status ? { state: now.state, status: now.status } : null
  const assignee = now.assignee_id !== seen.assignee ? { id: now.assignee_id } : null
  if (authors.length === 0 && !state && !assignee) return null
  return { authors, state, assignee }
}
