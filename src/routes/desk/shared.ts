import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { getTicketForActor, getTicketIdByNumber, type TicketDetail } from '../../db/ticket.js'
import type { LifecyclePolicy } from '../../domain/lifecycle.js'
import type { StaffActor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'

export const FormSchema = Type.Record(Type.String(), Type.Unknown())

/** The desk's own actions (reply, note, categorize, transfer) do not depend on policy settings. */
export const DESK_POLICY: LifecyclePolicy = { staffMayCloseWithoutRequester: false, occurrenceViaPortal: true }

/** The guard on the desk plugin has already refused everyone but staff. */
export function staffOf(request: FastifyRequest): StaffActor {
  const actor = request.actor
  if (!actor || actor.kind !== 'staff') throw notFound()
  return actor
}

/** A ticket by its human number, or 404 when missing or outside the actor's desks. */
export async function ticketByNumber(fastify: FastifyInstance, request: FastifyRequest, number: number): Promise<TicketDetail> {
  const id = await getTicketIdByNumber(fastify.db, number)
  const ticket = id === undefined ? undefined : await getTicketForActor(fastify.db, staffOf(request), id)
  if (!ticket) throw notFound()
  return ticket
}

/** A positive whole number from a form field, or null. */
export function whole(raw: string): number | null {
  return /^\d{1,9}$/.test(raw) ? Number(raw) : null
}
