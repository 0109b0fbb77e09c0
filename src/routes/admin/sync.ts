import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { guard } from '../web.js'
import { ButtonForm } from '../forms.js'
import { syncOverview } from '../../db/sync-overview.js'
import { personWho } from '../../commands/kernel.js'
import { retryAllCrmChanges, retryCrmChange } from '../../commands/admin.js'

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })

/**
 * The CRM sync (mounted at /admin/sync): which CRM, how the outbox stands, the last success and
 * error, a pause in force, API usage, and the changes that failed, each retryable.
 */
export default async function adminSync(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
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

  fastify.post('/outbox/:id/retry', { schema: { params: IdParams, body: ButtonForm } }, async (request, reply) => {
    const { id } = request.params
    const t = request.t
    const outcome = await retryCrmChange({ db: fastify.db, clock: fastify.clock, random: fastify.random }, personWho(request.actor!), { rowId: id })
    if (outcome.ok && outcome.value) {
      request.log.info({ outboxId: id, by: request.actor!.id }, 'failed CRM change queued again')
      reply.flash('success', t('admin.sync.retried'))
    } else {
      reply.flash('error', t('admin.sync.notRetryable'))
    }
    return reply.redirect(base)
  })

  fastify.post('/retry-all', { schema: { body: ButtonForm } }, async (request, reply) => {
    const outcome = await retryAllCrmChanges({ db: fastify.db, clock: fastify.clock, random: fastify.random }, personWho(request.actor!))
    const n = outcome.ok ? outcome.value : 0
    request.log.info({ rows: n, by: request.actor!.id }, 'all failed CRM changes queued again')
    reply.flash('success', request.t('admin.sync.retriedAll', { n }))
    return reply.redirect(base)
  })
}
