// Functional escalation: staff send a ticket to another desk with a reason; it is assigned there
// by least load, and the new assignee and the desk's manager are told.
import { deskName, eligibleStaffLoads, staffNames } from '../../db/ticket.js'
import { pickLeastLoaded } from '../../domain/assignment.js'
import { LIMITS } from '../../domain/ticket.js'
import { FieldCheck, run, type Deps, type HistoryEntry, type Outcome, type Who } from '../kernel.js'
import { transitionTicket, type Moved } from './step.js'

export interface EscalateInput {
  ticketId: number
  version?: number
  targetDeskId: number | null
  reason: string
}

export async function escalateTicket(deps: Deps, who: Who, input: EscalateInput): Promise<Outcome<Moved & { deskName: string; assigneeName: string | null }>> {
  let outcome: { deskName: string; assigneeName: string | null } = { deskName: '', assigneeName: null }
  const moved = await run(deps, who, async (uow) => {
    const m = await transitionTicket(uow, input.ticketId, 'escalate', { version: input.version, input: { targetDeskId: input.targetDeskId } }, async (ticket) => {
      const check = new FieldCheck()
      const target = input.targetDeskId === null ? null : await deskName(uow.trx, input.targetDeskId)
      if (target === null) check.add('targetDeskId', 'invalid_choice')
      else if (input.targetDeskId === ticket.desk_id) check.add('targetDeskId', 'same_desk')
      check.text('reason', input.reason, LIMITS.reason)
      check.refuse()
      const deskId = input.targetDeskId!
      const next = pickLeastLoaded(await eligibleStaffLoads(uow.trx, deskId, { productId: ticket.product_id, categoryId: ticket.category_id }), uow.random)
      const reason = input.reason.trim()
      const events: HistoryEntry[] = [{ action: 'escalate', field: 'desk', from: await deskName(uow.trx, ticket.desk_id), to: target, note: reason }]
      const names = await staffNames(uow.trx, [ticket.assignee_id, next])
      if (next !== ticket.assignee_id) {
        events.push({ action: 'assigned', field: 'assignee', from: ticket.assignee_id === null ? null : names.get(ticket.assignee_id) ?? null, to: next === null ? null : names.get(next) ?? null })
      }
      outcome = { deskName: target!, assigneeName: next === null ? null : names.get(next) ?? null }
      return { set: { desk_id: deskId, assignee_id: next }, events, historyNote: reason, mail: { reason } }
    })
    return m
  })
  return moved.ok ? { ok: true, value: { ...moved.value, ...outcome } } : moved
}
