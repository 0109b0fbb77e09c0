// Register an occurrence on a ticket: something that happened (category, origin, when, time
// spent), by staff or, where the portal setting allows, by the requester.
import type { TicketSource } from '../db/schema.js'
import { listItems } from '../db/managed-lists.js'
import { chosenCode, storedLabels } from '../domain/managed-lists.js'
import { excerptOf } from '../domain/notifications.js'
import type { StoredFile, UploadedFile } from '../storage/attachments.js'
import { FieldCheck, run, type Deps, type Outcome, type Who } from './kernel.js'
import { beginChange } from './ticket-access.js'
import { addNoteRows, checkNoteFields } from './add-note.js'
import { keepFiles } from './open-ticket.js'

export interface OccurrenceInput {
  ticketId: number
  /** An active occurrence category's code (or label); staff must choose one, a client may. */
  category: string
  /** An active occurrence origin's code (or label), likewise. */
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
    const items = await listItems(uow.trx)
    const category = chosenCode(items, 'occurrence_category', input.category)
    const origin = chosenCode(items, 'occurrence_origin', input.origin)
    if (category === undefined) check.add('category', 'invalid_choice')
    else if (category === null && staff) check.add('category', 'required')
    if (origin === undefined) check.add('origin', 'invalid_choice')
    else if (origin === null && staff) check.add('origin', 'required')
    checkNoteFields(check, { ...input, body: input.description }, uow.now, 'description')
    check.refuse()
    const files = await keepFiles(deps, input.files ?? [], uow.trx)
    const requester = uow.who.role === 'requester'
    const noteId = await addNoteRows(uow, ticket, {
      kind: 'occurrence', visibility: requester || input.visibleToRequester ? 'public' : 'internal', body: input.description,
      source: input.source, files, category: category ?? null, origin: origin ?? null,
      occurredAt: input.occurredAt ?? null, minutesSpent: input.minutesSpent ?? null
    })
    const data = {
      number: ticket.number, title: ticket.title, body: input.description, authorName: uow.who.ref.name, noteId,
      category: storedLabels(items, 'occurrence_category', category ?? null), origin: storedLabels(items, 'occurrence_origin', origin ?? null)
    }
    // A client's occurrence is the assignee's notification; the mail only when the client asked for it and the assignee wants it.
    if (requester && ticket.assignee_id !== null) {
      await uow.alert(ticket.assignee_id, 'client_replied', ticket.id, { excerpt: excerptOf(input.description), mail: input.notifyResponsible ? { template: 'note.occurrence', data } : undefined })
    } else if (input.notifyResponsible) {
      await uow.notify(ticket.id, ['assignee'], 'note.occurrence', data)
    }
    return { noteId }
  })
}
