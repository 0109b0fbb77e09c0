// Add to a ticket's conversation: a requester's reply, a staff reply or message, an internal
// note, a staff note whose visibility is chosen, a CRM user's published comment, a reply by mail.
import type { NoteKind, TicketSource, Visibility } from '../db/schema.js'
import type { TicketForChange } from '../db/ticket.js'
import { insertAttachments, insertNote, markFirstResponse, touchTicket } from '../db/ticket-write.js'
import type { Action, Recipient } from '../domain/lifecycle.js'
import { LIMITS, MAX_MINUTES, type NoteMode } from '../domain/ticket.js'
import { excerptOf, mentionedStaff, mentionHandles } from '../domain/notifications.js'
import { mentionCandidates, ticketAssignee } from '../db/notifications.js'
import type { StoredFile, UploadedFile } from '../storage/attachments.js'
import { FieldCheck, Refused, run, type Deps, type HistoryEntry, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { beginChange } from './ticket-access.js'
import { keepFiles, openFollowUp, type OpenedTicket } from './open-ticket.js'

export interface AddNoteInput {
  ticketId: number
  /** Requesters and the CRM always reply; staff choose (see NOTE_MODES). */
  mode: NoteMode
  body: string
  visibleToRequester?: boolean
  sendEmail?: boolean
  minutesSpent?: number | null
  occurredAt?: string | null
  files?: (UploadedFile | StoredFile)[]
  source: TicketSource
  /** The version the author read; a note is refused as `conflict` when the ticket changed since. */
  version?: number
  /** A reply by mail: the message's whole text when it differs from `body` (the quoted history). */
  originalText?: string | null
}

export interface NoteAdded {
  noteId: number | null
  /** Set when the reply went to a new follow-up ticket because the original was closed. */
  childTicket?: OpenedTicket
}

interface Shape {
  kind: NoteKind
  visibility: Visibility
  action: Action
  notify: Recipient[]
}

function shapeOf(who: Who, input: AddNoteInput): Shape {
  if (who.role === 'requester') return { kind: 'reply', visibility: 'public', action: 'reply', notify: ['assignee'] }
  if (who.role === 'crm') return { kind: 'reply', visibility: 'public', action: 'reply', notify: ['requester'] }
  switch (input.mode) {
    case 'internal':
      return { kind: 'internal', visibility: 'internal', action: 'add_note', notify: [] }
    case 'message':
      return { kind: 'message', visibility: 'public', action: 'reply', notify: ['requester'] }
    case 'note': {
      const visible = Boolean(input.visibleToRequester)
      // A staff note shown to the requester reads as a note, not as a reply to them.
      return { kind: visible ? 'note' : 'internal', visibility: visible ? 'public' : 'internal', action: 'add_note', notify: visible && input.sendEmail ? ['requester'] : [] }
    }
    default:
      return { kind: 'reply', visibility: 'public', action: 'reply', notify: ['requester'] }
  }
}

/** Checks what only the note's own fields can say (the ticket's state is the lifecycle's). */
export function checkNoteFields(check: FieldCheck, input: { body: string; minutesSpent?: number | null; occurredAt?: string | null; files?: (UploadedFile | StoredFile)[] }, now: Date, bodyField = 'body'): void {
  check.text(bodyField, input.body, LIMITS.note)
  const minutes = input.minutesSpent
  if (minutes !== undefined && minutes !== null && (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_MINUTES)) check.add('minutesSpent', 'out_of_range', { max: MAX_MINUTES })
  if (input.occurredAt) {
    const at = Date.parse(input.occurredAt)
    // Date.parse rolls 2026-02-31 over into March: a day that does not round-trip is no day.
    if (!Number.isFinite(at) || new Date(at).toISOString().slice(0, 10) !== input.occurredAt.slice(0, 10)) check.add('occurredAt', 'invalid_choice')
    else if (at > now.getTime() + 60_000) check.add('occurredAt', 'in_future')
  }
  const tooBig = (input.files ?? []).find((f) => 'truncated' in f && f.truncated)
  if (tooBig) check.add('attachments', 'file_too_large', { filename: tooBig.filename })
}

/**
 * Adds a note through the lifecycle: a reply to a closed ticket opens a linked follow-up ticket
 * instead; the parties owed a notification get one; public and internal notes go to the Case
 * as comments (published or not), except those that came from the CRM.
 */
export async function addNote(deps: Deps, who: Who, input: AddNoteInput): Promise<Outcome<NoteAdded>> {
  return run(deps, who, (uow) => addNoteIn(uow, deps, input))
}

/** The same inside another command's transaction (a reply by mail is recorded with its message). */
export async function addNoteIn(uow: UnitOfWork, deps: Pick<Deps, 'store'>, input: AddNoteInput): Promise<NoteAdded> {
  const shape = shapeOf(uow.who, input)
  if (uow.who.person?.kind === 'contact' && input.mode !== 'reply') throw new Refused('forbidden', { field: 'mode' })
  const { ticket, decision } = await beginChange(uow, input.ticketId, shape.action, { version: input.version })
  const check = new FieldCheck()
  checkNoteFields(check, input, uow.now)
  if (input.mode === 'note' && input.sendEmail && !input.visibleToRequester) check.add('sendEmail', 'needs_visible')
  check.refuse()
  const files = await keepFiles(deps, input.files ?? [], uow.trx)

  if (decision.effects.spawnChild) {
    const child = await openFollowUp(uow, ticket, input.body, files, input.source)
    await uow.history(ticket.id, { action: 'child_opened', field: 'child', to: `#${child.number}` })
    return { noteId: null, childTicket: child }
  }
  const noteId = await addNoteRows(uow, ticket, {
    kind: shape.kind, visibility: shape.visibility, body: input.body, source: input.source, files, originalText: input.originalText ?? null,
    sendEmail: shape.notify.includes('requester') || Boolean(input.sendEmail), minutesSpent: input.minutesSpent ?? null, occurredAt: input.occurredAt ?? null
  })
  const data = { number: ticket.number, title: ticket.title, body: input.body, authorName: uow.who.ref.name, noteId }
  // A note shown to the requester is mailed as a reply is (the same words: something new on the ticket).
  const template = `note.${shape.kind === 'note' ? 'reply' : shape.kind}`
  // A client's reply is the assignee's notification (in the app, and by mail if they want it).
  const clientReply = uow.who.role === 'requester' && shape.notify.includes('assignee')
  const others = clientReply ? shape.notify.filter((r) => r !== 'assignee') : shape.notify
  if (others.length > 0) await uow.notify(ticket.id, others, template, data)
  if (clientReply && ticket.assignee_id !== null) {
    await uow.alert(ticket.assignee_id, 'client_replied', ticket.id, { excerpt: excerptOf(input.body), mail: { template, data } })
  }
  return { noteId }
}

export interface NoteRows {
  kind: NoteKind
  visibility: Visibility
  body: string
  source: TicketSource
  files: StoredFile[]
  sendEmail?: boolean
  minutesSpent?: number | null
  occurredAt?: string | null
  category?: string | null
  origin?: string | null
  originalText?: string | null
}

/**
 * A note's history rows. An occurrence names its category and origin (managed-list codes, shown
 * in the reader's language), and one the requester may not see is staff-only bookkeeping
 * (`internal_occurrence`); a staff note shown to the requester is a note, not a reply.
 */
export function noteHistory(n: Pick<NoteRows, 'kind' | 'visibility' | 'category' | 'origin'>): HistoryEntry[] {
  if (n.kind === 'occurrence') {
    const action = n.visibility === 'internal' ? 'internal_occurrence' : 'occurrence'
    const rows = ([['occurrence_category', n.category], ['occurrence_origin', n.origin]] as const)
      .filter(([, code]) => code).map(([field, code]) => ({ action, field, to: code }))
    return rows.length > 0 ? rows : [{ action }]
  }
  if (n.kind === 'message') return [{ action: 'message' }]
  if (n.visibility === 'internal') return [{ action: 'internal' }]
  return [{ action: n.kind === 'note' ? 'note' : 'reply' }]
}

/**
 * The rows one note writes: the note, its attachments, the ticket's new version, the first
 * response time (a public staff note), its history row and its CaseComment (not for notes that
 * came from the CRM). Notes are never edited afterwards.
 */
export async function addNoteRows(uow: UnitOfWork, ticket: Pick<TicketForChange, 'id'>, n: NoteRows): Promise<number> {
  const actor = uow.who.ref
  const noteId = await insertNote(uow.trx, {
    ticket_id: ticket.id, kind: n.kind, visibility: n.visibility, body: n.body,
    author_staff_id: actor.type === 'staff' ? actor.id : null, author_contact_id: actor.type === 'contact' ? actor.id : null,
    author_name: actor.name, source: n.source, send_email: n.sendEmail ? 1 : 0,
    occurred_at: n.occurredAt ?? null, minutes_spent: n.minutesSpent ?? null,
    category: n.category ?? null, origin: n.origin ?? null, original_text: n.originalText ?? null, created_at: uow.at
  })
  await insertAttachments(uow.trx, ticket.id, noteId, n.files, uow.at)
  await touchTicket(uow.trx, ticket.id, uow.at)
  if (actor.type === 'staff' && n.visibility === 'public') await markFirstResponse(uow.trx, ticket.id, uow.at)
  for (const row of noteHistory(n)) await uow.history(ticket.id, row)
  if (n.source !== 'crm') await uow.syncComment(ticket.id, noteId)
  if (n.visibility === 'internal') await alertMentions(uow, ticket.id, n.body, noteId)
  return noteId
}

/**
 * The staff an internal note by a staff member mentions (`@ana`: src/domain/notifications.ts),
 * among those who can see the ticket now, its author aside: each told once, by mail if they want it.
 */
async function alertMentions(uow: UnitOfWork, ticketId: number, body: string, noteId: number): Promise<void> {
  const author = uow.who.ref
  if (author.type !== 'staff' || mentionHandles(body).length === 0) return
  const ticket = await ticketAssignee(uow.trx, ticketId)
  if (!ticket) return
  const data = { number: ticket.number, title: ticket.title, body, authorName: author.name, noteId, recipientRole: 'staff' }
  for (const staffId of mentionedStaff(body, await mentionCandidates(uow.trx, ticket), author.id)) {
    await uow.alert(staffId, 'mentioned', ticketId, { excerpt: excerptOf(body), mail: { template: 'note.mention', data } })
  }
}
