// What the mail intake (the IMAP poller) changes: a reply by mail becomes a note, a new mail
// from a known contact opens a ticket, a refused message is quarantined, each recorded with its
// message in the same transaction; and the poller's own position in the mailbox.
import type { InboundResult } from '../db/schema.js'
import {
  closeStaleInbound, insertQuarantine, markMoved, recordInbound, saveMailboxState, type InboundKey, type MailboxState
} from '../db/mailbox.js'
import { LIMITS } from '../domain/ticket.js'
import { clipText } from '../domain/text.js'
import type { StoredFile } from '../storage/attachments.js'
import { run, SYSTEM, type Deps, type Outcome, type Who } from './kernel.js'
import { addNoteIn } from './add-note.js'
import { openTicketIn } from './open-ticket.js'

export interface InboundMessage extends InboundKey {
  messageId: string
  sender: string
}

export interface Applied {
  result: Exclude<InboundResult, 'quarantined' | 'ignored'>
  inboundId: number
  ticketId: number
  noteId: number | null
}

/**
 * A reply by mail from someone allowed on the ticket: a note (or, on a closed ticket, a follow-up).
 * `originalText` is the message's whole text, kept on the note when it differs from `body`.
 */
export async function replyByEmail(deps: Deps, who: Who, input: { ticketId: number; internal: boolean; body: string; originalText?: string | null; files: StoredFile[]; message: InboundMessage }): Promise<Outcome<Applied>> {
  return run(deps, who, async (uow) => {
    const body = input.body.slice(0, LIMITS.note)
    const original = input.originalText === undefined || input.originalText === null ? null : clipText(input.originalText, LIMITS.noteOriginal)
    const result = await addNoteIn(uow, deps, {
      ticketId: input.ticketId, mode: input.internal ? 'internal' : 'reply', body, files: input.files, source: 'email',
      originalText: original && original.trim() !== '' && original !== body ? original : null
    })
    const landed = result.childTicket?.id ?? input.ticketId
    const kind = result.childTicket ? 'ticket' as const : 'note' as const
    const inboundId = await recordInbound(uow.trx, { ...input.message, result: kind, ticketId: landed, noteId: result.noteId }, uow.at)
    return { result: kind, inboundId, ticketId: landed, noteId: result.noteId }
  })
}

/** A mail from a known contact with no thread: a new ticket on the inbound desk (staff categorize it later). */
export async function openTicketByEmail(deps: Deps, who: Who, input: { accountId: number; deskId: number; title: string; description: string; files: StoredFile[]; message: InboundMessage }): Promise<Outcome<Applied>> {
  return run(deps, who, async (uow) => {
    const created = await openTicketIn(uow, deps, {
      title: input.title.slice(0, LIMITS.title), description: input.description.slice(0, LIMITS.description), accountId: input.accountId,
      deskId: input.deskId, files: input.files, source: 'email'
    })
    const inboundId = await recordInbound(uow.trx, { ...input.message, result: 'ticket', ticketId: created.id, noteId: null }, uow.at)
    return { result: 'ticket' as const, inboundId, ticketId: created.id, noteId: null }
  })
}

export interface QuarantineFacts extends InboundKey {
  messageId: string
  reason: string
  detail: string
  from: string | null
  subject: string | null
  ticketId: number | null
  rawSha256: string | null
  rawSize: number
  /** A pointer to the portal for an unknown sender (rate-limited by the caller). */
  answer?: { recipient: string; locale: string; title: string; body: string; template: string }
}

/** A message that cannot become a note: kept in quarantine with the reason, recorded as decided. */
export async function quarantineEmail(deps: Pick<Deps, 'db' | 'clock' | 'random'>, q: QuarantineFacts): Promise<{ inboundId: number; quarantineId: number }> {
  const outcome = await run(deps, SYSTEM, async (uow) => {
    const quarantineId = await insertQuarantine(uow.trx, {
      mailbox: q.mailbox, uidValidity: q.uidValidity, uid: q.uid, messageId: q.messageId, reasonCode: q.reason, reasonText: q.detail,
      from: q.from, subject: q.subject, ticketId: q.ticketId, rawSha256: q.rawSha256, rawSize: q.rawSize
    }, uow.at)
    const inboundId = await recordInbound(uow.trx, { mailbox: q.mailbox, uidValidity: q.uidValidity, uid: q.uid, messageId: q.messageId, result: 'quarantined', quarantineId, sender: q.from }, uow.at)
    if (q.answer) {
      await uow.mail({ ticketId: null, recipient: q.answer.recipient, locale: q.answer.locale, template: q.answer.template, data: { title: q.answer.title, body: q.answer.body } })
    }
    return { inboundId, quarantineId }
  })
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}

/** Messages moved out of the mailbox after their decision was committed. */
export async function recordMessagesMoved(deps: Pick<Deps, 'db' | 'clock'>, ids: number[]): Promise<void> {
  await markMoved(deps.db, ids, deps.clock().toISOString())
}

/** Where the poller is in a mailbox (UIDVALIDITY, the next UID, the highest MODSEQ). */
export async function saveMailboxPosition(deps: Pick<Deps, 'db' | 'clock'>, state: MailboxState): Promise<void> {
  await saveMailboxState(deps.db, state, deps.clock().toISOString())
}

/** The server renumbered the mailbox: messages decided under the old numbering can never be moved by UID again. */
export async function startMailboxOver(deps: Pick<Deps, 'db' | 'clock'>, mailbox: string, uidValidity: string): Promise<void> {
  await closeStaleInbound(deps.db, mailbox, uidValidity, deps.clock().toISOString())
}
