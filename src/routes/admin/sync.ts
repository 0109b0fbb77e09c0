import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { guard } from '../web.js'
import { retryAllDead, retryDeadRow, syncOverview } from '../../db/sync.js'

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })
const FormSchema = Type.Record(Type.String(), Type.Unknown())

/**
 * The CRM sync (mounted at /admin/sync): which CRM, how the outbox stands, the last success and
 * error, a pause in force, API usage, and the changes that failed, each retryable.
 */
export default async function adminSync(fastify: FastifyInstance) {
  fastify.addHook('preHandler', guard((r) => r.actor?.kind === 'staff' && r.actor.role === 'admin'))
  const base = (fastify.prefix || '/admin/sync').replace(/\/+$/, '')

  fastify.get('/', async (request, reply) => {
    const config = fastify.config
    const overview = await syncOverview(fastify.db, fastify.clock())
    const sf = config.crm.salesforce
    return reply.page('admin/sync', {
      title: request.t('admin.sync.title'),
      base,
      overview,
      target: sf
        ? { kind: 'salesforce', url: sf.instanceUrl ?? sf.loginUrl, auth: sf.auth }
        : { kind: 'emulator', url: overview.emulatorUrl ?? `http://127.0.0.1:${config.EMULATOR_PORT}` }
    })
  })

  fastify.post('/outbox/:id/retry', { schema: { params: IdParams, body: FormSchema } }, async (request, reply) => {
    const { id } = request.params as Static<typeof IdParams>
    const t = request.t
    if (await retryDeadRow(fastify.db, id, fastify.clock().toISOString())) {
      request.log.info({ outboxId: id, by: request.actor!.id }, 'failed CRM change queued again')
      reply.flash('success', t('admin.sync.retried'))
    } else {
      reply.flash('error', t('admin.sync.notRetryable'))
    }
    return reply.redirect(base)
  })

  fastify.post('/retry-all', { schema: { body: FormSchema } }, async (request, reply) => {
    const n = await retryAllDead(fastify.db, fastify.clock().toISOString())
    request.log.info({ rows: n, by: request.actor!.id }, 'all failed CRM changes queued again')
    reply.flash('success', request.t('admin.sync.retriedAll', { n }))
    return reply.redirect(base)
  })
}
