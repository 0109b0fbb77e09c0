// The requester or staff cancel an open ticket: a reason chosen from the managed list, what they
// wrote, or both.
import { listItems } from '../../db/managed-lists.js'
import { chosenCode, storedLabel, storedLabels } from '../../domain/managed-lists.js'
import { FieldCheck, run, type Deps, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, withReason, type Moved } from './step.js'

export interface CancelInput {
  ticketId: number
  version?: number
  /** What they wrote; may be left empty when a reason is chosen. */
  reason: string
  /** A cancellation reason's code (or label); null or '' for none. */
  reasonCode?: string | null
}

export async function cancelTicket(deps: Deps, who: Who, input: CancelInput): Promise<Outcome<Moved>> {
  return run(deps, who, async (uow) => {
    const items = await listItems(uow.trx)
    const code = chosenCode(items, 'cancellation_reason', input.reasonCode)
    const written = input.reason.trim()
    // The lifecycle asks for a reason: a chosen one counts (an unknown one is refused below, once
    // the ticket and the actor have been checked).
    const given = written || input.reasonCode?.trim() || ''
    return transitionTicket(uow, input.ticketId, 'cancel', { version: input.version, input: { reason: given } }, () => {
      if (code === undefined) {
        const check = new FieldCheck()
        check.add('reasonCode', 'invalid_choice')
        check.refuse()
      }
      // The history reads in the language of whoever cancelled; the mail in each recipient's.
      const label = storedLabel(items, 'cancellation_reason', code ?? null, uow.who.person?.locale ?? 'en')
      const reasonLabel = storedLabels(items, 'cancellation_reason', code ?? null)
      const set = { cancel_reason: written || null, cancel_reason_code: code ?? null, closed_at: uow.at }
      if (!written) return { set, historyNote: label, mail: { reasonLabel } }
      return withReason(input.reason, (reason) => ({ set, historyNote: label ? `${label}: ${reason}` : reason, mail: { reason, reasonLabel } }))
    })
  })
}
