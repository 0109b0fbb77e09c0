// Functional escalation: staff send a ticket to another desk with a reason; it is assigned there
// by least load, and the new assignee and the desk's manager are told.
import { deskName, eligibleStaffLoads, staffNames } from '../../db/ticket.js'
import { pickLeastLoaded } from '../../domain/assignment.js'
import { LIMITS } from '../../domain/ticket.js'
import { excerptOf } from '../../domain/notifications.js'
import { ticketParties } from '../../db/mail-outbox.js'
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
  let handedTo: number | null = null
  let title = ''
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
      handedTo = next !== ticket.assignee_id ? next : null
      title = ticket.title
      return { set: { desk_id: deskId, assignee_id: next }, events, historyNote: reason, mail: { reason }, tellsAssignee: handedTo !== null }
    })
    // A new assignee is told in the app, and mailed the escalation if they want assignments by
    // mail (the target desk's manager is mailed it as such anyway: not twice).
    if (handedTo !== null) {
      const reason = input.reason.trim()
      const mailedAsManager = (await ticketParties(uow.trx, m.ticketId)).desk_manager?.id === handedTo
      const data = { number: m.number, title, reason, resolution: null, actorName: uow.who.ref.name, state: m.state, status: m.status }
      await uow.alert(handedTo, 'assigned', m.ticketId, { excerpt: excerptOf(reason), mail: mailedAsManager ? undefined : { template: 'ticket.escalate', data } })
    }
    return m
  })
  return moved.ok ? { ok: true, value: { ...moved.value, ...outcome } } : moved
}
