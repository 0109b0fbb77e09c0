/**
 * Ticket <-> Case mapping: pure functions, no I/O. What a ticket looks like as a Case, which
 * Case fields flow back, and the configurable status and priority maps.
 */
import type { Priority, TicketSource } from '../../src/db/schema.js'
import { PRIORITIES, STATUS_STATE, isStatus } from '../../src/domain/lifecycle.js'
import type { Translate } from '../../src/i18n/index.js'

/** Case fields Casebridge writes (besides the external id). */
export const CASE_FIELDS = ['Subject', 'Description', 'Status', 'Priority', 'Origin', 'AccountId', 'ContactId', 'OwnerId', 'ProductId'] as const
export type CaseField = (typeof CASE_FIELDS)[number]
export type CaseValues = Partial<Record<CaseField, string | null>>

/** The external-id field on Case that holds the ticket id. */
export const EXTERNAL_ID_FIELD = 'Portal_Ticket_Id__c'

/** Case fields a CRM user may change that flow back to the ticket, and the ticket field each one is. */
export const INBOUND_FIELDS = { OwnerId: 'assignee', AccountId: 'account', ProductId: 'product', Priority: 'priority' } as const
export type InboundField = keyof typeof INBOUND_FIELDS

// Salesforce's standard Case picklists: Status New/Working/Escalated/Closed (+ On Hold in many orgs), Priority High/Medium/Low.
export const DEFAULT_STATUS_MAP: Readonly<Record<string, string>> = {
  open: 'New',
  in_progress: 'Working',
  escalated: 'Escalated',
  on_hold: 'On Hold',
  resolved: 'On Hold',
  closed: 'Closed',
  cancelled: 'Closed'
}

export const DEFAULT_PRIORITY_MAP: Readonly<Record<Priority, string>> = { low: 'Low', medium: 'Medium', high: 'High', critical: 'High' }

const ORIGIN: Record<TicketSource, string> = { portal: 'Web', api: 'Web', email: 'Email', phone: 'Phone', crm: 'Web' }

/** Limits of the standard fields: longer values would fail the whole record (STRING_TOO_LONG). */
const SUBJECT_MAX = 255
const DESCRIPTION_MAX = 32_000
export const COMMENT_MAX = 4_000

export interface CrmMaps {
  /** Keys are statuses (most specific) or states. */
  status: Record<string, string>
  priority: Record<Priority, string>
}

/** The default maps with the configured entries (CRM_STATUS_MAP / CRM_PRIORITY_MAP) laid over them. */
export function buildMaps(overrides: { statusMap?: Record<string, string>; priorityMap?: Record<string, string> } = {}): CrmMaps {
  return {
    status: { ...DEFAULT_STATUS_MAP, ...(overrides.statusMap ?? {}) },
    priority: { ...DEFAULT_PRIORITY_MAP, ...(overrides.priorityMap ?? {}) } as Record<Priority, string>
  }
}

/** Case Status for a ticket: the status's own entry, else its state's, else the state's default. */
export function caseStatus(maps: CrmMaps, state: string, status: string): string {
  const st = isStatus(status) ? STATUS_STATE[status] : state
  return maps.status[status] ?? maps.status[st] ?? maps.status[state] ?? DEFAULT_STATUS_MAP[state] ?? 'New'
}

export function casePriority(maps: CrmMaps, priority: Priority): string {
  return maps.priority[priority] ?? DEFAULT_PRIORITY_MAP[priority]
}

/**
 * The ticket priority a Case Priority stands for. Several priorities may share one value (High
 * is both high and critical by default): the current one is kept when it maps there.
 */
export function ticketPriority(maps: CrmMaps, value: string | null, current: Priority): Priority | null {
  if (value === null) return null
  const wanted = value.trim().toLowerCase()
  if (casePriority(maps, current).toLowerCase() === wanted) return current
  return PRIORITIES.find((p) => casePriority(maps, p).toLowerCase() === wanted) ?? null
}

export function caseOrigin(source: TicketSource): string {
  return ORIGIN[source] ?? 'Web'
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…'
}

export interface AttachmentLink {
  id: number
  filename: string
}

export interface TicketForCase {
  id: number
  number: number
  title: string
  description: string
  url: string | null
  state: string
  status: string
  priority: Priority
  source: TicketSource
  accountCrmId: string | null
  contactCrmId: string | null
  productCrmId: string | null
  /** The assignee's CRM user; null when unassigned or not mapped (the Case keeps its owner). */
  ownerCrmId: string | null
  attachments: AttachmentLink[]
}

export interface MappingContext {
  publicUrl: string
  /** Labels in the instance's default language (the CRM has no per-reader language). */
  t: Translate
}

/** The Description: the ticket's text, then its URL field, attachment links and the link back to the ticket. */
export function caseDescription(ticket: TicketForCase, ctx: MappingContext): string {
  const lines: string[] = []
  if (ticket.url) lines.push(`${ctx.t('sync.case.url')}: ${ticket.url}`)
  if (ticket.attachments.length > 0) {
    lines.push(`${ctx.t('sync.case.attachments')}:`)
    for (const a of ticket.attachments) lines.push(`- ${a.filename}: ${ctx.publicUrl}/attachments/${a.id}`)
  }
  lines.push(`${ctx.t('sync.case.portalLink', { number: ticket.number })}: ${ctx.publicUrl}/desk/tickets/${ticket.number}`)
  const footer = '\n\n' + lines.join('\n')
  return clip(ticket.description, DESCRIPTION_MAX - footer.length) + footer
}

/** Every Case field for a ticket as it is now. OwnerId is left out when there is no CRM user to name. */
export function caseValues(ticket: TicketForCase, maps: CrmMaps, ctx: MappingContext): CaseValues {
  const values: CaseValues = {
    Subject: clip(ticket.title, SUBJECT_MAX),
    Description: caseDescription(ticket, ctx),
    Status: caseStatus(maps, ticket.state, ticket.status),
    Priority: casePriority(maps, ticket.priority),
    Origin: caseOrigin(ticket.source),
    AccountId: ticket.accountCrmId,
    ContactId: ticket.contactCrmId,
    ProductId: ticket.productCrmId
  }
  if (ticket.ownerCrmId) values.OwnerId = ticket.ownerCrmId
  return values
}

/**
 * The fields to send: all of them for a Case not created yet, otherwise only those that differ
 * from what was last synced, so a change made in the CRM meanwhile is not overwritten by a
 * stale value (field-level last writer wins).
 */
export function changedValues(values: CaseValues, shadow: ReadonlyMap<string, string | null>, full: boolean): CaseValues {
  if (full) return { ...values }
  const out: CaseValues = {}
  for (const f of CASE_FIELDS) {
    const v = values[f]
    if (v === undefined) continue
    if (!shadow.has(f) || shadow.get(f) !== v) out[f] = v
  }
  return out
}

export interface NoteForComment {
  id: number
  kind: string
  visibility: string
  body: string
  authorName: string | null
  source: TicketSource
  attachments: AttachmentLink[]
}

/** A note as a CaseComment: who wrote what, the text, and its attachment links (public notes publish). */
export function commentValues(note: NoteForComment, ctx: MappingContext): { CommentBody: string; IsPublished: boolean } {
  const head = ctx.t('sync.comment.header', {
    author: note.authorName ?? ctx.t('sync.comment.someone'),
    kind: ctx.t(`sync.comment.kind.${note.kind}`),
    source: ctx.t(`source.${note.source}`)
  })
  const links = note.attachments.map((a) => `- ${a.filename}: ${ctx.publicUrl}/attachments/${a.id}`)
  const tail = links.length > 0 ? `\n\n${ctx.t('sync.case.attachments')}:\n${links.join('\n')}` : ''
  const body = clip(note.body, COMMENT_MAX - head.length - tail.length - 2)
  return { CommentBody: `${head}\n\n${body}${tail}`, IsPublished: note.visibility === 'public' }
}

/** What a comment body we wrote looks like from its note, for matching after an unknown outcome. */
export function sameComment(a: { CommentBody: string | null; IsPublished: boolean }, b: { CommentBody: string; IsPublished: boolean }): boolean {
  return (a.CommentBody ?? '').replace(/\r\n/g, '\n') === b.CommentBody && Boolean(a.IsPublished) === b.IsPublished
}

/** A Case field value as the shadow stores it. */
export function shadowValue(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null
  return String(v)
}

/** Salesforce ids compare on their 15-character case-sensitive form. */
export function sameId(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return !a && !b
  return a.slice(0, 15) === b.slice(0, 15)
}
