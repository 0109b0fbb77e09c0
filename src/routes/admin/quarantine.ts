import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { guard } from '../web.js'
import { ButtonForm } from '../forms.js'
import { notFound } from '../../plugins/app.js'
import { countQuarantine, getQuarantine, listQuarantine, type QuarantineView } from '../../db/mailbox.js'
import { personWho } from '../../commands/kernel.js'
import { releaseQuarantinedMessage } from '../../commands/admin.js'

const ListQuery = Type.Object({
  view: Type.Optional(Type.String({ maxLength: 20 })),
  page: Type.Optional(Type.String({ maxLength: 10 }))
})
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })

const VIEWS: readonly QuarantineView[] = ['open', 'released', 'all']
const PER_PAGE = 50

function isView(value: unknown): value is QuarantineView {
  return typeof value === 'string' && (VIEWS as readonly string[]).includes(value)
}

/**
 * Incoming mail in quarantine (mounted at /admin/quarantine): why each message was refused,
 * its original for download, and "released" once someone dealt with it.
 */
export default async function adminQuarantine(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', guard((r) => r.actor?.kind === 'staff' && r.actor.role === 'admin'))
  const base = (fastify.prefix || '/admin/quarantine').replace(/\/+$/, '')

  fastify.get('/', { schema: { querystring: ListQuery } }, async (request, reply) => {
    const query = request.query
    const view = isView(query.view) ? query.view : 'open'
    const page = /^\d{1,6}$/.test(query.page ?? '') ? Math.max(Number(query.page), 1) : 1
    const result = await listQuarantine(fastify.db, { view, page, perPage: PER_PAGE })
    const linkFor = (p: number, v: QuarantineView = view) => {
      const q = new URLSearchParams()
      if (v !== 'open') q.set('view', v)
      if (p > 1) q.set('page', String(p))
      const qs = q.toString()
      return qs ? `${base}?${qs}` : base
    }
    return reply.page('admin/quarantine', {
      title: request.t('admin.quarantine.title'),
      base, view, views: VIEWS, counts: await countQuarantine(fastify.db), result,
      linkFor: (p: number) => linkFor(p),
      viewLink: (v: QuarantineView) => linkFor(1, v)
    })
  })

  fastify.get('/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const row = await getQuarantine(fastify.db, request.params.id)
    if (!row) throw notFound()
    return reply.page('admin/quarantine-detail', { title: request.t('admin.quarantine.detail', { id: row.id }), base, row })
  })

  fastify.get('/:id/raw', { schema: { params: IdParams } }, async (request, reply) => {
    const row = await getQuarantine(fastify.db, request.params.id)
    if (!row || !row.raw_sha256) throw notFound()
    // Always a download: the message is untrusted input and must never render as a page.
    return reply
      .header('content-type', 'message/rfc822')
      .header('content-disposition', `attachment; filename="quarantine-${row.id}.eml"`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-store')
      .send(await fastify.store.open('attachment', row.raw_sha256))
  })

  fastify.post('/:id/release', { schema: { params: IdParams, body: ButtonForm } }, async (request, reply) => {
    const row = await getQuarantine(fastify.db, request.params.id)
    if (!row) throw notFound()
    const t = request.t
    const outcome = await releaseQuarantinedMessage({ db: fastify.db, clock: fastify.clock, random: fastify.random }, personWho(request.actor!), { quarantineId: row.id })
    if (outcome.ok && outcome.value) {
      request.log.info({ quarantineId: row.id, by: request.actor!.id }, 'quarantined mail released')
      reply.flash('success', t('admin.quarantine.releasedOk'))
    } else {
      reply.flash('info', t('admin.quarantine.alreadyReleased'))
    }
    return reply.redirect(`${base}/${row.id}`)
  })
}
