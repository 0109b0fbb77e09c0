// Register an occurrence on a ticket: something that happened (category, origin, when, time
// spent), by staff or, where the portal setting allows, by the requester.
import type { TicketSource } from '../db/schema.js'
import { LIMITS } from '../domain/ticket.js'
import type { StoredFile, UploadedFile } from '../storage/attachments.js'
import { FieldCheck, run, type Deps, type Outcome, type Who } from './kernel.js'
import { beginChange } from './ticket-access.js'
import { addNoteRows, checkNoteFields } from './add-note.js'
import { keepFiles } from './open-ticket.js'

export interface OccurrenceInput {
  ticketId: number
  category: string
  origin: string
  description: string
  occurredAt?: string | null
  minutesSpent?: number | null
  /** Staff only: whether the requester sees it; a requester's occurrences are always public. */
  visibleToRequester?: boolean
  /** Tell the ticket's assignee by e-mail. */
  notifyResponsible?: boolean
  files?: (UploadedFile | StoredFile)[]
  source: TicketSource
  version?: number
}

export async function registerOccurrence(deps: Deps, who: Who, input: OccurrenceInput): Promise<Outcome<{ noteId: number }>> {
  return run(deps, who, async (uow) => {
    const { ticket } = await beginChange(uow, input.ticketId, 'register_occurrence', { version: input.version })
    const check = new FieldCheck()
    // Staff classify what happened; a client may only describe it.
    const staff = uow.who.role !== 'requester'
    check.text('category', input.category, LIMITS.label, staff)
    check.text('origin', input.origin, LIMITS.label, staff)
    checkNoteFields(check, { ...input, body: input.description }, uow.now, 'description')
    check.refuse()
    const files = await keepFiles(deps, input.files ?? [], uow.trx)
    const requester = uow.who.role === 'requester'
    const noteId = await addNoteRows(uow, ticket, {
      kind: 'occurrence', visibility: requester || input.visibleToRequester ? 'public' : 'internal', body: input.description,
      source: input.source, files, category: input.category.trim() || null, origin: input.origin.trim() || null,
      occurredAt: input.occurredAt ?? null, minutesSpent: input.minutesSpent ?? null
    })
    if (input.notifyResponsible) {
      await uow.notify(ticket.id, ['assignee'], 'note.occurrence', { number: ticket.number, title: ticket.title, body: input.description, authorName: uow.who.ref.name, noteId })
    }
    return { noteId }
  })
}
