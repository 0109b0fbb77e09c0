import type { FastifyInstance } from 'fastify'
import { guard } from '../web.js'
import queue from './queue.js'
import ticketPage from './ticket.js'
import actions from './actions.js'
import extras from './extras.js'
import newTicket from './new-ticket.js'
import reports from './reports.js'
import approval from './approval.js'
import bulk, { bulkJobPage } from './bulk.js'
import canned from './canned.js'
import views from './views.js'
import live from './live.js'
import notifications from './notifications.js'
import kbPages from './kb.js'
import kbEditor from './kb-editor.js'
import kbVersions from './kb-versions.js'
import ticketKb from './ticket-kb.js'

/** The staff desk: every route below is for staff and admins only (others get 404). */
export default async function desk(fastify: FastifyInstance) {
  fastify.addHook('preHandler', guard((r) => r.actor?.kind === 'staff'))
  await fastify.register(queue)
  await fastify.register(newTicket)
  await fastify.register(ticketPage)
  await fastify.register(actions)
  await fastify.register(extras)
  await fastify.register(reports)
  await fastify.register(approval)
  await fastify.register(bulk)
  await fastify.register(bulkJobPage)
  await fastify.register(canned)
  await fastify.register(views)
  await fastify.register(live)
  await fastify.register(notifications)
  await fastify.register(kbEditor)
  await fastify.register(kbVersions)
  await fastify.register(kbPages)
  await fastify.register(ticketKb)
}
