// The auto-closure job: a resolved ticket left longer than the setting is closed by the system,
// with the closure category that says why: Solved when the requester accepted the resolution,
// No response when they never answered (when the organisation's list still has that code).
import { listItems } from '../../db/managed-lists.js'
import { listOf } from '../../domain/managed-lists.js'
import { run, SYSTEM, type Deps, type Outcome } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

/** The closure category the job records, by the status the ticket waited in. */
export const AUTO_CLOSURE_CATEGORY = { accepted: 'solved', waiting_for_closure: 'no_response' } as const

export async function autoCloseTicket(deps: Pick<Deps, 'db' | 'clock' | 'random'>, ticketId: number): Promise<Outcome<Moved>> {
  return run(deps, SYSTEM, async (uow) => {
    const items = listOf(await listItems(uow.trx), 'closure_category')
    return transitionTicket(uow, ticketId, 'auto_close', {}, (ticket) => {
      const code = AUTO_CLOSURE_CATEGORY[ticket.status as keyof typeof AUTO_CLOSURE_CATEGORY]
      const category = items.some((i) => i.code === code) ? code : null
      return { set: { closed_at: uow.at, ...(category ? { closure_category: category } : {}) } }
    })
  })
}
