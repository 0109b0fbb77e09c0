// Staff close a ticket with a closure category: from Resolved always, from an open status only
// where the setting allows staff to close without the requester.
import { CLOSURE_CATEGORIES, LIMITS } from '../../domain/ticket.js'
import { FieldCheck, run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface CloseInput {
  ticketId: number
  version?: number
  closureCategory: string
  closureNote?: string | null
}

export async function closeTicket(deps: Deps, who: Who, input: CloseInput): Promise<Outcome<Moved>> {
  return run(deps, who, (uow) => transitionTicket(uow, input.ticketId, 'close', { version: input.version, input: { closureCategory: input.closureCategory } }, (ticket) => {
    const check = new FieldCheck()
    if (!(CLOSURE_CATEGORIES as readonly string[]).includes(input.closureCategory.trim())) check.add('closureCategory', 'invalid_choice')
    check.text('closureNote', input.closureNote ?? '', LIMITS.note, false)
    check.refuse()
    const note = input.closureNote?.trim() || null
    return {
      set: { closed_at: uow.at, closure_category: input.closureCategory.trim(), closure_note: note, ...(ticket.resolved_at ? {} : { resolved_at: uow.at }) },
      historyNote: note
    }
  }))
}
