// Staff close a ticket with a closure category (the managed list): from Resolved always, from an
// open status only where the setting allows staff to close without the requester.
import { listItems } from '../../db/managed-lists.js'
import { chosenCode, storedLabels } from '../../domain/managed-lists.js'
import { LIMITS } from '../../domain/ticket.js'
import { FieldCheck, run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface CloseInput {
  ticketId: number
  version?: number
  /** An active closure category's code (or label). */
  closureCategory: string
  closureNote?: string | null
}

export async function closeTicket(deps: Deps, who: Who, input: CloseInput): Promise<Outcome<Moved>> {
  return run(deps, who, async (uow) => {
    const items = await listItems(uow.trx)
    return transitionTicket(uow, input.ticketId, 'close', { version: input.version, input: { closureCategory: input.closureCategory } }, (ticket) => {
      const check = new FieldCheck()
      const category = chosenCode(items, 'closure_category', input.closureCategory)
      if (!category) check.add('closureCategory', category === null ? 'required' : 'invalid_choice')
      check.text('closureNote', input.closureNote ?? '', LIMITS.note, false)
      check.refuse()
      const note = input.closureNote?.trim() || null
      return {
        set: { closed_at: uow.at, closure_category: category!, closure_note: note, ...(ticket.resolved_at ? {} : { resolved_at: uow.at }) },
        historyNote: note,
        mail: { closureCategory: storedLabels(items, 'closure_category', category!) }
      }
    })
  })
}
