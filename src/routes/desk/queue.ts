import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { assignBacklog, listTickets, SITUATIONS, SORTS, type TicketFilters } from '../../db/ticket.js'
import { getStaff, setStaffAvailability } from '../../db/people.js'
import { STATES, STATUSES } from '../../domain/lifecycle.js'
import { oneOf, text } from '../forms.js'
import { FormSchema, staffOf, whole } from './shared.js'
import { slaView } from '../sla-view.js'

export const SCOPES = ['mine', 'desks', 'unassigned'] as const

const QueueQuery = Type.Object({
  scope: Type.Optional(Type.String({ maxLength: 100 })),
  q: Type.Optional(Type.String({ maxLength: 500 })),
  situation: Type.Optional(Type.String({ maxLength: 100 })),
  state: Type.Optional(Type.String({ maxLength: 100 })),
  status: Type.Optional(Type.String({ maxLength: 100 })),
  sort: Type.Optional(Type.String({ maxLength: 100 })),
  order: Type.Optional(Type.String({ maxLength: 100 })),
  page: Type.Optional(Type.String({ maxLength: 100 }))
})

/** The filters as the page understands them; anything unknown falls back to the default. */
function readFilters(query: Record<string, string | undefined>) {
  return {
    scope: oneOf(query.scope ?? '', SCOPES) ?? 'desks',
    q: (query.q ?? '').trim(),
    situation: oneOf(query.situation ?? '', SITUATIONS) ?? 'open',
    state: oneOf(query.state ?? '', STATES) ?? '',
    status: oneOf(query.status ?? '', STATUSES) ?? '',
    sort: oneOf(query.sort ?? '', SORTS) ?? 'created_at',
    order: oneOf(query.order ?? '', ['asc', 'desc'] as const) ?? 'desc',
    page: Math.max(whole(query.page ?? '') ?? 1, 1)
  }
}

type Filters = ReturnType<typeof readFilters>

/** A queue URL with the current filters, changed by `over`, defaults left out. */
export function queueUrl(f: Filters, over: Partial<Filters> = {}): string {
  const merged = { ...f, ...over }
  const defaults: Record<string, string | number> = { scope: 'desks', situation: 'open', sort: 'created_at', order: 'desc', page: 1, q: '', state: '', status: '' }
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(merged)) if (String(v) !== String(defaults[k])) params.set(k, String(v))
  const qs = params.toString()
  return qs ? `/desk?${qs}` : '/desk'
}

export default async function queue(fastify: FastifyInstance) {
  fastify.get('/', { schema: { querystring: QueueQuery } }, async (request, reply) => {
    const actor = staffOf(request)
    const f = readFilters(request.query as Record<string, string | undefined>)
    const filters: TicketFilters = {
      scope: f.scope, q: f.q || undefined, situation: f.situation, state: f.state || undefined,
      status: f.status || undefined, sort: f.sort, order: f.order, page: f.page, perPage: 25
    }
    const result = await listTickets(fastify.db, actor, filters)
    const me = await getStaff(fastify.db, actor.id)
    const now = fastify.clock()
    return reply.page('desk/queue', {
      title: request.t('desk.queue.title'),
      f, available: me?.available === 1,
      result: { ...result, items: result.items.map((r) => ({ ...r, sla: slaView(r, now, request.t) })) },
      scopes: SCOPES, situations: SITUATIONS, states: STATES, statuses: STATUSES, sorts: SORTS,
      urlFor: (over: Partial<Filters>) => queueUrl(f, over),
      linkFor: (page: number) => queueUrl(f, { page })
    })
  })

  fastify.post('/availability', { schema: { body: FormSchema } }, async (request, reply) => {
    const actor = staffOf(request)
    const t = request.t
    const wanted = oneOf(text(request.body as Record<string, unknown>, 'availability'), ['available', 'unavailable'] as const)
    if (!wanted) {
      reply.flash('error', t('error.badRequest'))
      return reply.redirect('/desk')
    }
    const before = await getStaff(fastify.db, actor.id)
    await setStaffAvailability(fastify.db, actor.id, wanted === 'available')
    if (wanted === 'unavailable') {
      reply.flash('info', t('desk.availability.nowAway'))
      return reply.redirect('/desk')
    }
    // Becoming available is the moment tickets left without anyone are handed out.
    const handed = before?.available === 1 ? 0 : await assignBacklog(fastify.db, { now: fastify.clock().toISOString(), random: fastify.random })
    request.log.info({ staffId: actor.id, handed }, 'staff became available')
    reply.flash('success', handed > 0 ? t('desk.availability.handedOut', { count: handed }) : t('desk.availability.nowAvailable'))
    return reply.redirect('/desk')
  })
}
