// Canned responses: reply templates with placeholders filled from the ticket they answer. Pure
// rules: which placeholders exist, how a text is filled, which language's text a requester gets.

/** The placeholders a canned response may use, written `{{name}}`. */
export const PLACEHOLDERS = ['requester.name', 'requester.first_name', 'ticket.number', 'ticket.title', 'ticket.link', 'assignee.name', 'me.name'] as const
export type Placeholder = (typeof PLACEHOLDERS)[number]

const PATTERN = /\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}/g

/** The text with each known placeholder replaced; an unknown one is left as written, for the author to see. */
export function fillPlaceholders(text: string, values: Readonly<Record<Placeholder, string>>): string {
  return text.replace(PATTERN, (whole, name: string) => ((PLACEHOLDERS as readonly string[]).includes(name) ? values[name as Placeholder] : whole))
}

/** The placeholders a text names that do not exist (a typo the author should hear about). */
export function unknownPlaceholders(text: string): string[] {
  const unknown = new Set<string>()
  for (const m of text.matchAll(PATTERN)) if (!(PLACEHOLDERS as readonly string[]).includes(m[1])) unknown.add(m[1])
  return [...unknown]
}

/** The text in the requester's language when there is one, else the other language's. */
export function bodyFor(response: { body_en: string; body_pt: string }, locale: string | null): string {
  const pt = response.body_pt.trim() !== ''
  const en = response.body_en.trim() !== ''
  if (locale?.toLowerCase().startsWith('pt')) return pt ? response.body_pt : response.body_en
  return en ? response.body_en : response.body_pt
}

/** A name's first word ("Bob" for "Bob Stone"). */
export function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? ''
}

interface CannedActor {
  id: number
  role: 'staff' | 'admin'
  deskIds: readonly number[]
}

interface CannedOwnership {
  owner_staff_id: number
  desk_id: number | null
  desk_manager_id: number | null
}

/** Whether a staff member may use (and see) a response: their own personal one, or one shared with a desk they are on (an admin: any). */
export function mayUseCanned(actor: CannedActor, r: CannedOwnership): boolean {
  if (r.desk_id === null) return r.owner_staff_id === actor.id
  return actor.role === 'admin' || actor.deskIds.includes(r.desk_id)
}

/** Whether they may change or delete it: a personal one its owner; a shared one its owner, its desk's manager or an admin. */
export function mayEditCanned(actor: CannedActor, r: CannedOwnership): boolean {
  if (!mayUseCanned(actor, r)) return false
  if (r.desk_id === null) return true
  return actor.role === 'admin' || r.owner_staff_id === actor.id || r.desk_manager_id === actor.id
}
