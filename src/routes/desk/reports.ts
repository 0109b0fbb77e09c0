import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { dashboardFigures, requestSummary } from '../../db/reports.js'
import { DESK_DEFAULTS, searchUrl, type SearchFilters } from '../../domain/search.js'
import type { State } from '../../domain/lifecycle.js'
import { staffOf, whole } from './shared.js'

const DashboardQuery = Type.Object({})
const SummaryQuery = Type.Object({ days: Type.Optional(Type.String({ maxLength: 100 })) })

export const DEFAULT_DAYS = 30
export const MAX_DAYS = 365

/** A staff search link: the queue's defaults, changed only by what the figure is about. */
export function queueLink(over: Partial<SearchFilters>): string {
  return searchUrl('/desk', DESK_DEFAULTS, DESK_DEFAULTS, over)
}

/** Reads `days` (1..365); null when it is given but not such a number. */
export function readDays(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '') return DEFAULT_DAYS
  const n = whole(raw.trim())
  return n !== null && n >= 1 && n <= MAX_DAYS ? n : null
}

/** Staff dashboard and request summary: read-only figures over the tickets the actor may see. */
export default async function reports(fastify: FastifyInstance) {
  fastify.get('/dashboard', { schema: { querystring: DashboardQuery } }, async (request, reply) => {
    const actor = staffOf(request)
    const figures = await dashboardFigures(fastify.db, actor, fastify.clock())
    return reply.page('desk/dashboard', {
      title: request.t('reports.dashboard.title'),
      figures,
      // The queue filters by state and by "mine"/"unassigned"; desks, other assignees and SLA have no filter there.
      stateLink: (state: State) => queueLink({ state }),
      openLink: queueLink({}),
      assigneeLink: (assigneeId: number | null) =>
        assigneeId === null ? queueLink({ scope: 'unassigned' }) : assigneeId === actor.id ? queueLink({ scope: 'mine' }) : null
    })
  })

  fastify.get('/summary', { schema: { querystring: SummaryQuery } }, async (request, reply) => {
    const actor = staffOf(request)
    const raw = (request.query as { days?: string }).days
    const asked = readDays(raw)
    const days = asked ?? DEFAULT_DAYS
    const since = new Date(fastify.clock().getTime() - days * 86_400_000).toISOString()
    const summary = await requestSummary(fastify.db, actor, since)
    return reply.page('desk/summary', {
      title: request.t('reports.summary.title'),
      days, maxDays: MAX_DAYS, summary,
      values: { days: raw ?? String(days) },
      errors: asked === null ? { days: request.t('reports.summary.badDays', { max: MAX_DAYS }) } : {},
      // The queue has no requester filter, but `q` finds a ticket by its number.
      ticketLink: (n: number) => `/desk/tickets/${n}`
    }, asked === null ? 422 : 200)
  })
}
