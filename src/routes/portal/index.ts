import type { FastifyInstance } from 'fastify'
import { guard } from '../web.js'
import requests from './requests.js'
import newTicket from './new-ticket.js'
import ticketPage from './ticket.js'
import ticketActions from './actions.js'
import live from './live.js'

/** The client portal: only contacts get in; everyone else is answered 404 (guard). */
export default async function portal(fastify: FastifyInstance) {
  fastify.addHook('preHandler', guard((r) => r.actor?.kind === 'contact'))
  await fastify.register(requests)
  await fastify.register(newTicket)
  await fastify.register(ticketPage)
  await fastify.register(ticketActions)
  await fastify.register(live)
}
