import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { listTickets, SITUATIONS, SORTS, type Situation, type Sort } from '../../db/ticket.js'
import { contactAccounts } from '../../db/people.js'
import type { ContactActor } from '../../domain/permissions.js'
import { oneOf } from '../forms.js'
import { slaView } from '../sla-view.js'

export const PER_PAGE = 20

// Lenient on purpose: an odd value in a bookmarked URL falls back to the default instead of a 400.
const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 500 })),
  situation: Type.Optional(Type.String({ maxLength: 20 })),
  sort: Type.Optional(Type.String({ maxLength: 20 })),
  order: Type.Optional(Type.String({ maxLength: 10 })),
  page: Type.Optional(Type.String({ maxLength: 12 }))
})

export interface RequestFilters {
  q: string
  situation: Situation
  sort: Sort
  order: 'asc' | 'desc'
  page: number
}

export function parseFilters(query: Record<string, string | undefined>): RequestFilters {
  const page = /^\d{1,6}$/.test(query.page ?? '') ? Math.max(1, Number(query.page)) : 1
  return {
    q: (query.q ?? '').trim().slice(0, 200),
    situation: oneOf(query.situation ?? '', SITUATIONS) ?? 'all',
    sort: oneOf(query.sort ?? '', SORTS) ?? 'created_at',
    order: oneOf(query.order ?? '', ['asc', 'desc'] as const) ?? 'desc',
    page
  }
}

/** The list's URL for a page: the whole search lives in the query string, defaults left out. */
export function requestsUrl(f: RequestFilters, page: number): string {
  const params = new URLSearchParams()
  if (f.q) params.set('q', f.q)
  if (f.situation !== 'all') params.set('situation', f.situation)
  if (f.sort !== 'created_at') params.set('sort', f.sort)
  if (f.order !== 'desc') params.set('order', f.order)
  if (page > 1) params.set('page', String(page))
  const qs = params.toString()
  return qs ? `/portal?${qs}` : '/portal'
}

export default async function requests(fastify: FastifyInstance) {
  fastify.get('/', { schema: { querystring: ListQuery } }, async (request, reply) => {
    const actor = request.actor as ContactActor
    const filters = parseFilters(request.query as Record<string, string | undefined>)
    const result = await listTickets(fastify.db, actor, { ...filters, perPage: PER_PAGE })
    const managed = actor.managerAccountIds.length > 0
      ? (await contactAccounts(fastify.db, actor.id)).filter((a) => a.is_manager === 1).map((a) => a.name)
      : []
    const filtered = filters.q !== '' || filters.situation !== 'all'
    const now = fastify.clock()
    return reply.page('portal/requests', {
      title: request.t('portal.requests.title'),
      filters, result, managed, filtered,
      situations: SITUATIONS, sorts: SORTS,
      linkFor: (page: number) => requestsUrl(filters, page),
      slaFor: (row: (typeof result.items)[number]) => slaView(row, now, request.t)
    })
  })
}
