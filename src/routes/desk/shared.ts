import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { getTicketForActorByNumber, type TicketDetail } from '../../db/ticket.js'
import { getSettings } from '../../db/settings.js'
import {
  allowedActions, decide, type Action, type Decision, type LifecycleActor, type LifecycleInput, type LifecyclePolicy,
  type LifecycleTicket, type State, type Status
} from '../../domain/lifecycle.js'
import type { StaffActor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'
import { safeNext } from '../safe-next.js'

export const NumberParams = Type.Object({ number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })

/** The guard on the desk plugin has already refused everyone but staff. */
export function staffOf(request: FastifyRequest): StaffActor {
  const actor = request.actor
  if (!actor || actor.kind !== 'staff') throw notFound()
  return actor
}

/** A ticket by its human number, or 404 when missing or outside the actor's desks. */
export async function ticketByNumber(fastify: FastifyInstance, request: FastifyRequest, number: number): Promise<TicketDetail> {
  const ticket = await getTicketForActorByNumber(fastify.db, staffOf(request), number)
  if (!ticket) throw notFound()
  return ticket
}

/**
 * What a form posted to a desk ticket (`/tickets/:number/...`) reads first: the staff member, the
 * ticket (404 when missing or not theirs), and the lifecycle on that ticket (asked for only by
 * the forms that need it).
 */
export async function deskTicketForm(fastify: FastifyInstance, request: FastifyRequest) {
  const { number } = request.params as { number: number }
  const actor = staffOf(request)
  const ticket = await ticketByNumber(fastify, request, number)
  return { number, actor, ticket, t: request.t, lifecycle: () => deskLifecycle(fastify, actor, ticket) }
}

/** A positive whole number from a form field, or null. */
export function whole(raw: string): number | null {
  return /^\d{1,9}$/.test(raw) ? Number(raw) : null
}

export function lifecycleActor(actor: StaffActor): LifecycleActor {
  return { role: actor.role, canDelete: actor.canDelete }
}

/** `next` when it is a safe path to a page of the desk (a form's way back), else null. */
export function deskPath(next: unknown): string | null {
  const path = safeNext(next)
  return path !== null && (path === '/desk' || path.startsWith('/desk/') || path.startsWith('/desk?')) ? path : null
}

/** Which of the quick actions (the check-mark closes, the trash deletes) this staff member may start on a ticket now. */
export function quickActions(ticket: { state: string; status: string }, who: LifecycleActor, policy: LifecyclePolicy): { close: boolean; delete: boolean } {
  // Inputs (the closure category, a reason) are asked for by the confirmation page.
  const allowed = allowedActions({ state: ticket.state as State, status: ticket.status as Status, parentId: null }, who, policy)
  return { close: allowed.includes('close'), delete: allowed.includes('delete') }
}

function lifecycleTicket(ticket: TicketDetail): LifecycleTicket {
  return { state: ticket.state as State, status: ticket.status as Status, parentId: ticket.parent_id }
}

export interface DeskLifecycle {
  policy: LifecyclePolicy
  /** Actions the lifecycle lets this staff member start now (inputs are asked for by each form). */
  allowed: Action[]
  /** Null when allowed; otherwise the refusal, whose message is shown as is. */
  refusal(action: Action): Extract<Decision, { ok: false }> | null
  decide(action: Action, input?: LifecycleInput): Decision
}

/** The lifecycle as it applies to this staff member on this ticket, under the current settings. */
export async function deskLifecycle(fastify: FastifyInstance, actor: StaffActor, ticket: TicketDetail): Promise<DeskLifecycle> {
  const policy = await getSettings(fastify.db)
  const who = lifecycleActor(actor)
  const lt = lifecycleTicket(ticket)
  const allowed = allowedActions(lt, who, policy)
  return {
    policy,
    allowed,
    refusal(action) {
      if (allowed.includes(action)) return null
      // Without inputs, decide() reports the first reason that is not about a missing input.
      const decision = decide(lt, who, action, {}, policy)
      return decision.ok ? null : decision
    },
    decide: (action, input = {}) => decide(lt, who, action, input, policy)
  }
}
