import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { getTicketForActor, getTicketReceipt, listNotes } from '../../../db/ticket.js'
import { performerOf, transition } from '../../../commands/transitions.js'
import { ticketNotFound } from './errors.js'
import { ticketJson } from './serialize.js'
import { ErrorResponses, TicketJson, TicketParams, TransitionBody } from './schemas.js'

/** POST /tickets/:id/transitions: lifecycle actions; a refused one answers 409 with the reason. */
export default async function transitionRoutes(fastify: FastifyInstance) {
  const api = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = fastify.db

  api.post('/tickets/:id/transitions', {
    schema: {
      summary: 'Move a ticket through its lifecycle (pick up, hold, resolve, accept, reject, cancel, ...)',
      params: TicketParams,
      body: TransitionBody,
      response: { 200: TicketJson, ...ErrorResponses }
    }
  }, async (request) => {
    const actor = request.actor!
    const ticket = await getTicketForActor(db, actor, request.params.id)
    if (!ticket) throw ticketNotFound(request.t)
    const b = request.body
    await transition(db, performerOf(actor), ticket.id, {
      action: b.action, reason: b.reason, resolution: b.resolution, closureCategory: b.closureCategory,
      closureNote: b.closureNote, targetDeskId: b.targetDeskId, expectedVersion: b.version
    }, fastify.clock(), fastify.random)
    request.log.info({ ticketId: ticket.id, action: b.action }, 'ticket transition through the API')
    const row = (await getTicketForActor(db, actor, ticket.id)) ?? (await getTicketReceipt(db, ticket.id))
    if (!row) throw ticketNotFound(request.t)
    const { descriptionAttachments } = await listNotes(db, actor, ticket.id)
    return ticketJson(row, descriptionAttachments)
  })
}
