import type { Db, Executor, Trx } from '../db/index.js'
import { decide, isState, isStatus, OPEN_STATES, type Action, type LifecycleInput, type Role } from '../domain/lifecycle.js'
import { canSeeTicket, type Actor } from '../domain/permissions.js'
import { pickLeastLoaded } from '../domain/assignment.js'
import { pause, resume } from '../domain/sla.js'
import { recordEvent, type ActorRef } from '../db/event.js'
import { addNoteIn, eligibleStaffLoads, ConflictError, lockTicket } from '../db/ticket.js'
import { getSettings } from '../db/settings.js'
import { notifyParties } from '../db/mail-outbox.js'

/** A lifecycle refusal: a person-caused error with a catalog message and the machine code. */
export class TransitionRefused extends Error {
  readonly statusCode = 409
  constructor(readonly code: string, readonly messageKey: string, readonly params: Record<string, string> = {}) {
    super(code)
  }
}

export class TicketNotFound extends Error {
  readonly statusCode = 404
}

/** The lifecycle role an actor plays on a ticket: the requester side or the staff side. */
export function roleOf(actor: Actor): Role {
  if (actor.kind === 'contact') return 'requester'
  return actor.role === 'admin' ? 'admin' : 'staff'
}

export interface TransitionRequest extends LifecycleInput {
  action: Action
  closureNote?: string | null
  expectedVersion?: number
}

export interface Performer {
  ref: ActorRef
  role: Role
  canDelete?: boolean
}

export function performerOf(actor: Actor): Performer {
  return { ref: { type: actor.kind, id: actor.id, name: actor.name }, role: roleOf(actor), canDelete: actor.kind === 'staff' && actor.canDelete }
}

export const SYSTEM_PERFORMER: Performer = { ref: { type: 'system', id: null, name: null }, role: 'system' }

async function loadForDecision(db: Executor, ticketId: number) {
  const ticket = await db.selectFrom('ticket').selectAll().where('id', '=', ticketId).where('deleted_at', 'is', null).executeTakeFirst()
  if (!ticket || !isState(ticket.state) || !isStatus(ticket.status)) return undefined
  const rated = await db.selectFrom('survey').select('ticket_id').where('ticket_id', '=', ticketId).executeTakeFirst()
  return { ticket, lifecycle: { state: ticket.state, status: ticket.status, rated: rated !== undefined, parentId: ticket.parent_id } }
}

/** Loads a ticket the actor may see, or throws TicketNotFound (foreign tickets look missing). */
export async function visibleTicketId(db: Executor, actor: Actor, ticketId: number): Promise<number> {
  const row = await db.selectFrom('ticket').select(['id', 'account_id', 'contact_id', 'desk_id', 'assignee_id', 'deleted_at'])
    .where('id', '=', ticketId).executeTakeFirst()
  if (!row || !canSeeTicket(actor, row)) throw new TicketNotFound('ticket not found')
  return row.id
}

/** Asks the lifecycle whether an action is allowed now; throws TransitionRefused when not. */
export async function assertAllowed(db: Executor, performer: Performer, ticketId: number, action: Action, input: LifecycleInput = {}) {
  const loaded = await loadForDecision(db, ticketId)
  if (!loaded) throw new TicketNotFound('ticket not found')
  const decision = decide(loaded.lifecycle, { role: performer.role, canDelete: performer.canDelete }, action, input, await getSettings(db))
  if (!decision.ok) throw new TransitionRefused(decision.code, decision.messageKey, decision.params)
  return { ...loaded, decision }
}

/**
 * Performs a state-changing action: lifecycle decision, ticket update (optimistic lock), SLA
 * pause/resume, history rows, notifications owed, and the parent → children cascade, all in
 * one transaction.
 */
export async function transition(db: Db, performer: Performer, ticketId: number, req: TransitionRequest, now: Date, random: () => number = Math.random) {
  return db.transaction().execute((trx) => transitionIn(trx, performer, ticketId, req, now, random))
}

export async function transitionIn(trx: Trx, performer: Performer, ticketId: number, req: TransitionRequest, now: Date, random: () => number = Math.random): Promise<{ state: string; status: string }> {
  const at = now.toISOString()
  await lockTicket(trx, ticketId)
  const { ticket, decision } = await assertAllowed(trx, performer, ticketId, req.action, req)
  if (!decision.ok) throw new Error('unreachable')
  if (req.expectedVersion !== undefined && req.expectedVersion !== ticket.version) throw new ConflictError('version mismatch')
  const { to, effects } = decision
  const set: Record<string, unknown> = { state: to.state, status: to.status, updated_at: at }
  const events: { action: string; field?: string; from?: string | null; to?: string | null; note?: string | null }[] = []
  const reason = req.reason?.trim() || null

  if (effects.slaPause) Object.assign(set, pause(ticket, now))
  if (effects.slaResume) Object.assign(set, resume(ticket, now))
  if (effects.reopen) {
    set.reopen_count = ticket.reopen_count + 1
    set.resolved_at = null
    set.resolution = null
  }
  switch (req.action) {
    case 'resolve':
    case 'resolve_by_origin':
      set.resolution = req.resolution?.trim() ?? null
      set.resolved_at = at
      break
    case 'close':
    case 'accept':
    case 'auto_close':
      set.closed_at = at
      if (req.action === 'close') {
        set.closure_category = req.closureCategory?.trim() ?? null
        set.closure_note = req.closureNote?.trim() || null
        if (!ticket.resolved_at) set.resolved_at = at
      }
      break
    case 'cancel':
    case 'reject_approval':
      set.cancel_reason = reason
      set.closed_at = at
      break
    case 'escalate': {
      const deskId = Number(req.targetDeskId)
      const desk = await trx.selectFrom('desk').select(['id', 'name']).where('id', '=', deskId).executeTakeFirst()
      if (!desk) throw new TransitionRefused('missing_target_desk', 'lifecycle.refused.missing_target_desk', { field: 'targetDeskId' })
      const fromDesk = await trx.selectFrom('desk').select('name').where('id', '=', ticket.desk_id).executeTakeFirst()
      set.desk_id = desk.id
      const next = pickLeastLoaded(await eligibleStaffLoads(trx, desk.id, ticket.product_id), random)
      set.assignee_id = next
      events.push({ action: 'escalate', field: 'desk', from: fromDesk?.name ?? null, to: desk.name, note: reason })
      if (next !== ticket.assignee_id) {
        const names = await trx.selectFrom('staff').select(['id', 'name']).where('id', 'in', [ticket.assignee_id ?? -1, next ?? -1]).execute()
        events.push({ action: 'assigned', field: 'assignee', from: names.find((n) => n.id === ticket.assignee_id)?.name ?? null, to: names.find((n) => n.id === next)?.name ?? null })
      }
      break
    }
  }

  const updated = await trx.updateTable('ticket')
    .set((eb) => ({ ...set, version: eb('version', '+', 1) }))
    .where('id', '=', ticketId).where('version', '=', ticket.version).executeTakeFirst()
  if (Number(updated.numUpdatedRows) !== 1) throw new ConflictError('version mismatch')

  // The resolution and a rejection's reason belong to the conversation too: both sides read
  // them there, they reach the CRM as comments, and a resolution counts as a first response.
  if (performer.ref.type !== 'system') {
    if (req.action === 'resolve' && req.resolution?.trim()) {
      await addNoteIn(trx, { ticketId, kind: 'message', visibility: 'public', body: req.resolution.trim(), source: 'portal', files: [] }, { actor: performer.ref, now: at })
    } else if (req.action === 'reject' && reason) {
      await addNoteIn(trx, { ticketId, kind: 'reply', visibility: 'public', body: reason, source: 'portal', files: [] }, { actor: performer.ref, now: at })
    }
  }

  const note = reason ?? req.resolution?.trim() ?? req.closureNote?.trim() ?? null
  if (to.state !== ticket.state) events.push({ action: req.action, field: 'state', from: ticket.state, to: to.state, note })
  if (to.status !== ticket.status) events.push({ action: req.action, field: 'status', from: ticket.status, to: to.status, note: to.state !== ticket.state ? null : note })
  if (events.length === 0) events.push({ action: req.action, note })
  for (const e of events) await recordEvent(trx, { ticketId, actor: performer.ref, action: e.action, field: e.field, from: e.from, to: e.to, note: e.note, at })

  if (effects.notify?.length) {
    await notifyParties(trx, ticketId, effects.notify, `ticket.${req.action}`, {
      number: ticket.number, title: ticket.title, reason, resolution: req.resolution?.trim() ?? null,
      actorName: performer.ref.name, state: to.state, status: to.status
    }, { now: at, actor: performer.ref })
  }

  if (req.action === 'resolve' || req.action === 'resolve_by_origin') {
    const children = await trx.selectFrom('ticket').select('id')
      .where('parent_id', '=', ticketId).where('state', 'in', OPEN_STATES).where('deleted_at', 'is', null).execute()
    for (const child of children) {
      await transitionIn(trx, SYSTEM_PERFORMER, child.id, {
        action: 'resolve_by_origin', resolution: `#${ticket.number}: ${req.resolution?.trim() ?? ''}`.trim()
      }, now, random)
    }
  }
  return to
}
