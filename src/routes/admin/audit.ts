import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { listAudit } from '../../db/admin-audit.js'
import { adminOnly } from './shared.js'

/** What the log records changes to (one more with each administration page that writes it). */
export const AUDITED = ['staff', 'account', 'contact', 'desk', 'product', 'catalog_area', 'catalog_item', 'calendar', 'list_item', 'settings', 'sla_policy'] as const

/** Lenient like the list pages: a value that is not understood is left out, never a bare 400. */
const Query = Type.Object({
  entity: Type.Optional(Type.String({ maxLength: 40 })),
  id: Type.Optional(Type.String({ maxLength: 12 })),
  before: Type.Optional(Type.String({ maxLength: 12 }))
})

const whole = (raw: string | undefined) => (raw !== undefined && /^[1-9]\d{0,11}$/.test(raw) ? Number(raw) : undefined)

/** The administration audit log (mounted at /admin/audit): newest first, by what was changed, 50 a page. */
export default async function adminAudit(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', adminOnly)

  fastify.get('/', { schema: { querystring: Query } }, async (request, reply) => {
    const q = request.query
    const entity = (AUDITED as readonly string[]).includes(q.entity ?? '') ? q.entity : undefined
    const entityId = entity ? whole(q.id) : undefined
    const { rows, more } = await listAudit(fastify.db, { entity, entityId, before: whole(q.before), limit: 50 })
    const params = new URLSearchParams()
    if (entity) params.set('entity', entity)
    if (entityId !== undefined) params.set('id', String(entityId))
    if (more) params.set('before', String(rows[rows.length - 1].id))
    return reply.page('admin/audit', {
      title: request.t('admin.audit.title'), rows, entity: entity ?? '', entities: AUDITED,
      olderUrl: more ? `/admin/audit?${params.toString()}` : null
    })
  })
}
