// The shared mechanics of every lifecycle transition: the lifecycle's decision, the row update
// under the version, the SLA clock, the history rows, the notifications and the Case.
import type { TicketChanges } from '../../db/ticket-write.js'
import { updateTicket } from '../../db/ticket-write.js'
import type { TicketForChange } from '../../db/ticket.js'
import type { Action, Allowed, LifecycleInput, State, Status } from '../../domain/lifecycle.js'
import { pause, resume } from '../../domain/sla.js'
import { FieldCheck, Refused, type HistoryEntry, type UnitOfWork } from '../kernel.js'
import { LIMITS } from '../../domain/ticket.js'
import { beginChange } from '../ticket-access.js'
import { addNoteRows } from '../add-note.js'
import { ticketRouting } from '../../db/routing.js'

export interface Plan {
  /** Columns set besides state and status. */
  set?: TicketChanges
  /** History rows written before the state/status rows (an escalation's desk change, say). */
  events?: HistoryEntry[]
  /** Words that join the conversation as a public note (a resolution, a rejection's reason). */
  note?: { kind: 'message' | 'reply'; body: string }
  /** What the state and status history rows carry as their note. */
  historyNote?: string | null
  /** Values the notification mail shows. */
  mail?: Record<string, unknown>
  /** The command tells the (new) assignee itself, with a notification whose mail they may have switched off. */
  tellsAssignee?: boolean
}

/**
 * What a transition that takes a reason writes besides its own columns: the reason checked
 * (required, not too long), trimmed, on its history rows and in its notification.
 */
export function withReason(reason: string, more: (reason: string) => Plan = () => ({})): Plan {
  const check = new FieldCheck()
  check.text('reason', reason, LIMITS.reason)
  check.refuse()
  const trimmed = reason.trim()
  return { historyNote: trimmed, mail: { reason: trimmed }, ...more(trimmed) }
}

export interface Moved {
  ticketId: number
  number: number
  state: State
  status: Status
}

export interface TransitionOptions {
  version?: number
  /** What the lifecycle checks is present (reason, resolution, closure category, target desk). */
  input?: LifecycleInput
}

/**
 * Performs `action` on a ticket: `plan` sees the locked ticket and the lifecycle's decision and
 * says what else to write; the rest is the same for every transition.
 */
export async function transitionTicket(uow: UnitOfWork, ticketId: number, action: Action, opts: TransitionOptions,
  plan: (ticket: TicketForChange, decision: Allowed) => Plan | Promise<Plan>): Promise<Moved> {
  const { ticket, decision } = await beginChange(uow, ticketId, action, opts)
  const p = await plan(ticket, decision)
  const { to, effects } = decision
  const set: TicketChanges = { state: to.state, status: to.status }
  if (effects.slaPause) Object.assign(set, pause(ticket, uow.now))
  if (effects.slaResume) Object.assign(set, resume(ticket, uow.now, (await ticketRouting(uow.trx)).calendar(ticket.desk_id)))
  if (effects.reopen) Object.assign(set, { reopen_count: ticket.reopen_count + 1, resolved_at: null, resolution: null })
  Object.assign(set, p.set ?? {})
  if (!(await updateTicket(uow.trx, ticket.id, ticket.version, set, uow.at))) throw new Refused('conflict')

  if (p.note && uow.who.ref.type !== 'system' && p.note.body.trim()) {
    await addNoteRows(uow, ticket, { kind: p.note.kind, visibility: 'public', body: p.note.body.trim(), source: 'portal', files: [] })
  }
  const events: HistoryEntry[] = [...(p.events ?? [])]
  const note = p.historyNote ?? null
  if (to.state !== ticket.state) events.push({ action, field: 'state', from: ticket.state, to: to.state, note })
  const via = effects.via
  if (via) {
    // The status passed through is its own row, so history and reports see it (Resolved/Rejected).
    events.push({ action, field: 'status', from: ticket.status, to: via, note: to.state !== ticket.state ? null : note })
    events.push({ action, field: 'status', from: via, to: to.status, note: null })
  } else if (to.status !== ticket.status) {
    events.push({ action, field: 'status', from: ticket.status, to: to.status, note: to.state !== ticket.state ? null : note })
  }
  if (events.length === 0) events.push({ action, note })
  for (const e of events) await uow.history(ticket.id, e)

  const notify = p.tellsAssignee ? effects.notify?.filter((r) => r !== 'assignee') : effects.notify
  if (notify?.length) {
    await uow.notify(ticket.id, notify, `ticket.${action}`, {
      number: ticket.number, title: ticket.title, reason: null, resolution: null, actorName: uow.who.ref.name,
      state: to.state, status: to.status, ...p.mail
    })
  }
  await uow.syncCase(ticket.id)
  return { ticketId: ticket.id, number: ticket.number, state: to.state, status: to.status }
}
