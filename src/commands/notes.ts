import type { Db, Trx } from '../db/index.js'
import type { NoteKind, TicketSource, Visibility } from '../db/schema.js'
import { addNoteIn, createTicketIn, lockTicket } from '../db/ticket.js'
import { notifyParties, type Recipient } from '../db/mail-outbox.js'
import { recordEvent } from '../db/event.js'
import type { Action } from '../domain/lifecycle.js'
import type { AttachmentStore, StoredFile, UploadedFile } from '../storage/attachments.js'
import { assertAllowed, type Performer } from './transitions.js'

export interface NoteDeps {
  db: Db
  store?: AttachmentStore
  clock: () => Date
  random?: () => number
}

export type NoteMode = 'reply' | 'message' | 'internal' | 'note'

export interface NoteRequest {
  /** reply: public conversation; message: staff → requester; internal: staff only; note: staff note whose visibility is chosen */
  mode: NoteMode
  body: string
  visibleToRequester?: boolean
  sendEmail?: boolean
  minutesSpent?: number | null
  occurredAt?: string | null
  files?: (UploadedFile | StoredFile)[]
  source?: TicketSource
}

export interface NoteResult {
  noteId: number | null
  /** Set when the reply went to a new child ticket because the original was closed. */
  childTicket?: { id: number; number: number }
}

async function keepAll(store: AttachmentStore | undefined, files: (UploadedFile | StoredFile)[]): Promise<StoredFile[]> {
  const kept: StoredFile[] = []
  for (const f of files) kept.push('tmpPath' in f ? await store!.keep(f) : f)
  return kept
}

function shape(performer: Performer, req: NoteRequest): { kind: NoteKind; visibility: Visibility; action: Action; notify: Recipient[] } {
  if (performer.role === 'requester') return { kind: 'reply', visibility: 'public', action: 'reply', notify: ['assignee'] }
  switch (req.mode) {
    case 'internal':
      return { kind: 'internal', visibility: 'internal', action: 'add_note', notify: [] }
    case 'message':
      return { kind: 'message', visibility: 'public', action: 'reply', notify: ['requester'] }
    case 'note': {
      const visible = Boolean(req.visibleToRequester)
      return { kind: visible ? 'reply' : 'internal', visibility: visible ? 'public' : 'internal', action: 'add_note', notify: visible && req.sendEmail ? ['requester'] : [] }
    }
    default:
      return { kind: 'reply', visibility: 'public', action: 'reply', notify: ['requester'] }
  }
}

/**
 * Adds a note through the lifecycle rules: replies to a closed ticket open a linked child
 * ticket instead; the parties owed a notification get one in the mail outbox.
 */
export async function addTicketNote(deps: NoteDeps, performer: Performer, ticketId: number, req: NoteRequest): Promise<NoteResult> {
  const files = await keepAll(deps.store, req.files ?? [])
  return deps.db.transaction().execute((trx) => addTicketNoteIn(trx, deps, performer, ticketId, { ...req, files }))
}

/** The same inside a caller's transaction (e.g. the IMAP poller commits the note with its message record). */
export async function addTicketNoteIn(trx: Trx, deps: Pick<NoteDeps, 'clock' | 'random'>, performer: Performer, ticketId: number, req: NoteRequest & { files?: StoredFile[] }): Promise<NoteResult> {
  const { kind, visibility, action, notify } = shape(performer, req)
  const files = (req.files ?? []) as StoredFile[]
  const now = deps.clock()
  const at = now.toISOString()
  await lockTicket(trx, ticketId)
  const { ticket, decision } = await assertAllowed(trx, performer, ticketId, action)
  if (decision.ok && decision.effects.spawnChild) {
    const child = await createTicketIn(trx, {
      title: ticket.title.startsWith('Re: ') ? ticket.title : `Re: ${ticket.title}`.slice(0, 200),
      description: req.body, url: null, accountId: ticket.account_id, contactId: ticket.contact_id,
      createdByStaffId: performer.ref.type === 'staff' ? performer.ref.id : null, productId: ticket.product_id,
      categoryId: ticket.category_id, deskId: ticket.desk_id, priority: ticket.priority, ticketType: ticket.ticket_type,
      source: req.source ?? 'portal', files, parentId: ticket.id
    }, { actor: performer.ref, now: at, random: deps.random })
    await recordEvent(trx, { ticketId, actor: performer.ref, action: 'child_opened', field: 'child', to: `#${child.number}`, at })
    return { noteId: null, childTicket: { id: child.id, number: child.number } }
  }
  const note = await addNoteIn(trx, {
    ticketId, kind, visibility, body: req.body, source: req.source ?? 'portal', files,
    sendEmail: notify.includes('requester') || Boolean(req.sendEmail), minutesSpent: req.minutesSpent ?? null, occurredAt: req.occurredAt ?? null
  }, { actor: performer.ref, now: at })
  if (notify.length > 0) {
    await notifyParties(trx, ticketId, notify, `note.${kind}`, {
      number: ticket.number, title: ticket.title, body: req.body, authorName: performer.ref.name, noteId: note.id
    }, { now: at, actor: performer.ref })
  }
  return { noteId: note.id }
}

export interface OccurrenceRequest {
  category: string
  origin: string
  description: string
  occurredAt?: string | null
  minutesSpent?: number | null
  /** staff only: whether the requester sees it; requester occurrences are always public */
  visibleToRequester?: boolean
  notifyResponsible?: boolean
  files?: (UploadedFile | StoredFile)[]
  source?: TicketSource
}

/** Registers an occurrence (requester: only In Progress and when the portal setting allows it). */
export async function registerOccurrence(deps: NoteDeps, performer: Performer, ticketId: number, req: OccurrenceRequest): Promise<NoteResult> {
  const files = await keepAll(deps.store, req.files ?? [])
  const at = deps.clock().toISOString()
  const visibility: Visibility = performer.role === 'requester' || req.visibleToRequester ? 'public' : 'internal'
  return deps.db.transaction().execute(async (trx) => {
    await lockTicket(trx, ticketId)
    const { ticket } = await assertAllowed(trx, performer, ticketId, 'register_occurrence')
    const note = await addNoteIn(trx, {
      ticketId, kind: 'occurrence', visibility, body: req.description, source: req.source ?? 'portal', files,
      category: req.category || null, origin: req.origin || null, occurredAt: req.occurredAt ?? null, minutesSpent: req.minutesSpent ?? null
    }, { actor: performer.ref, now: at })
    if (req.notifyResponsible) {
      await notifyParties(trx, ticketId, ['assignee'], 'note.occurrence', { number: ticket.number, title: ticket.title, body: req.description, authorName: performer.ref.name, noteId: note.id }, { now: at, actor: performer.ref })
    }
    return { noteId: note.id }
  })
}
