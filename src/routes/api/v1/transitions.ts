import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { getTicketForActor, getTicketReceipt, listNotes } from '../../../db/ticket.js'
import { personWho } from '../../../commands/kernel.js'
import { performTransition } from '../../../commands/lifecycle/index.js'
import { apiRefusal, ticketNotFound } from './errors.js'
import { ticketJson } from './serialize.js'
import { once } from './idempotency.js'
import { ErrorResponses, TicketJson, TicketParams, TransitionBody } from './schemas.js'

/** POST /tickets/:id/transitions: lifecycle actions; a refused one answers 409 with the reason. */
export default async function transitionRoutes(fastify: FastifyInstance) {
  const api = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = fastify.db
  const deps = { db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  api.post('/tickets/:id/transitions', {
    schema: {
      summary: 'Move a ticket through its lifecycle (pick up, hold, resolve, accept, reject, cancel, ...)',
      params: TicketParams,
      body: TransitionBody,
      response: { 200: TicketJson, ...ErrorResponses }
    }
  }, async (request) => {
    const actor = request.actor!
    const b = request.body
    const outcome = await once(request, deps, (d) => performTransition(d, personWho(actor), b.action, {
      ticketId: request.params.id, version: b.version, reason: b.reason, reasonCode: b.reasonCode, resolution: b.resolution, closureCategory: b.closureCategory,
      closureNote: b.closureNote, targetDeskId: b.targetDeskId
    }))
    if (!outcome.ok) throw apiRefusal(request.t, outcome.refusal)
    request.log.info({ ticketId: request.params.id, action: b.action }, 'ticket transition through the API')
    const row = (await getTicketForActor(db, actor, request.params.id)) ?? (await getTicketReceipt(db, request.params.id))
    if (!row) throw ticketNotFound(request.t)
    const { descriptionAttachments } = await listNotes(db, actor, request.params.id)
    return ticketJson(row, descriptionAttachments)
  })
}
