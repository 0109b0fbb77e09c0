import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { csatFigures, dashboardFigures, requestSummary, type CsatFigures, type DashboardFigures, type RepeatedIssue } from '../../db/reports.js'
import { XLSX_CONTENT_TYPE } from '../../db/exports.js'
import { dayStart, DESK_DEFAULTS, searchUrl, type SearchFilters } from '../../domain/search.js'
import type { State } from '../../domain/lifecycle.js'
import { windowPeriods } from '../../domain/csat.js'
import { dashboardCharts, reportWords } from './report-charts.js'
import { csatWorkbook } from './csat-workbook.js'
import { downloadDisposition } from '../exports.js'
import { staffOf, whole } from './shared.js'
import { kbDashboardFigures } from '../../db/kb-reader.js'
import { helpfulShare } from '../../domain/kb-help.js'

const DashboardQuery = Type.Object({ days: Type.Optional(Type.String({ maxLength: 100 })) })
const SummaryQuery = DashboardQuery

export const DEFAULT_DAYS = 30
export const MAX_DAYS = 365

/** A staff search link: the queue's defaults, changed only by what the figure is about. */
export function queueLink(over: Partial<SearchFilters>): string {
  const url = searchUrl('/desk', DESK_DEFAULTS, DESK_DEFAULTS, over)
  // A bare /desk brings back the person's last search: the figure means the defaults.
  return url === '/desk' ? '/desk?reset=1' : url
}

/** Reads `days` (1..365); null when it is given but not such a number. */
export function readDays(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '') return DEFAULT_DAYS
  const n = whole(raw.trim())
  return n !== null && n >= 1 && n <= MAX_DAYS ? n : null
}

/** The first day of a window of `days` days ending at `now` (UTC), so it is also a search's opened_from. */
export function windowStart(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10)
}

/**
 * The `days` window of a report and what its page shows of it: the days (the default when the
 * value is not 1..MAX_DAYS, which the form marks, answering 422), and its first day.
 */
function readWindow(request: FastifyRequest, now: Date) {
  const raw = (request.query as { days?: string }).days
  const asked = readDays(raw)
  const days = asked ?? DEFAULT_DAYS
  return {
    days,
    // Whole days, so the window is exactly what the search's opened_from selects.
    fromDay: windowStart(now, days),
    maxDays: MAX_DAYS,
    values: { days: raw ?? String(days) },
    errors: asked === null ? { days: request.t('reports.summary.badDays', { max: MAX_DAYS }) } : {},
    status: asked === null ? 422 : 200
  }
}

/** Staff dashboard and request summary: read-only figures over the tickets the actor may see. */
export default async function reports(fastify: FastifyInstance) {
  fastify.get('/dashboard', { schema: { querystring: DashboardQuery } }, async (request, reply) => {
    const actor = staffOf(request)
    const now = fastify.clock()
    const { status, ...window } = readWindow(request, now)
    const { fromDay } = window
    const figures = await dashboardFigures(fastify.db, actor, now, dayStart(fromDay))
    const csat = await csatFigures(fastify.db, actor, windowPeriods(dayStart(fromDay), now, window.days))
    const kb = await kbDashboardFigures(fastify.db, actor, dayStart(fromDay))
    const words = reportWords(request.t, request.locale, now)
    // Every figure leads to the staff search that lists exactly the tickets it counts: the
    // queue's scope is everything the actor may see, as here, and its default is the open tickets.
    return reply.page('desk/dashboard', {
      title: request.t('reports.dashboard.title'),
      figures, csat, ...window, kb, helpfulShare,
      words, charts: dashboardCharts(figures, csat, words),
      csatDownload: `/desk/dashboard/satisfaction.xlsx?days=${window.days}`,
      stateLink: (state: State) => queueLink({ state }),
      openLink: queueLink({}),
      slaLink: (figure: keyof DashboardFigures['sla']) =>
        figure === 'overdue' ? queueLink({ sla: 'breached' })
          : figure === 'at_risk' ? queueLink({ sla: 'at_risk' })
            // achieved and breached: the window's tickets in every state
            : queueLink({ sla: figure, situation: 'all', openedFrom: fromDay }),
      deskLink: (deskId: number) => queueLink({ deskId }),
      assigneeLink: (assigneeId: number | null) => queueLink({ assigneeId: assigneeId ?? 'none' })
    }, status)
  })

  // The dashboard's satisfaction tables as a spreadsheet: the same window and scope as the page.
  fastify.get('/dashboard/satisfaction.xlsx', { schema: { querystring: DashboardQuery } }, async (request, reply) => {
    const actor = staffOf(request)
    const now = fastify.clock()
    const { status, days, fromDay, errors } = readWindow(request, now)
    if (status !== 200) return reply.code(status).type('text/plain; charset=utf-8').send(errors.days)
    const csat: CsatFigures = await csatFigures(fastify.db, actor, windowPeriods(dayStart(fromDay), now, days))
    const words = reportWords(request.t, request.locale, now)
    const file = await csatWorkbook(csat, words, now)
    const filename = `${request.t('csat.fileName')}-${now.toISOString().slice(0, 10)}-${days}d.xlsx`
    return reply
      .header('content-type', XLSX_CONTENT_TYPE)
      .header('content-disposition', downloadDisposition(filename))
      .header('cache-control', 'private, no-store')
      .send(file)
  })

  fastify.get('/summary', { schema: { querystring: SummaryQuery } }, async (request, reply) => {
    const actor = staffOf(request)
    const { status, ...window } = readWindow(request, fastify.clock())
    const { fromDay } = window
    const summary = await requestSummary(fastify.db, actor, dayStart(fromDay))
    const opened = (over: Partial<SearchFilters>) => queueLink({ situation: 'all', openedFrom: fromDay, ...over })
    return reply.page('desk/summary', {
      title: request.t('reports.summary.title'),
      summary, ...window,
      ticketLink: (n: number) => `/desk/tickets/${n}`,
      /** A requester's tickets of the window, all or one status group (or on hold, a part of open). */
      requesterLink: (requesterId: number, group?: 'open' | 'on_hold' | 'waiting' | 'closed' | 'cancelled') =>
        opened(group === undefined ? { requesterId } : group === 'on_hold' ? { requesterId, state: 'on_hold' } : { requesterId, situation: group }),
      repeatedLink: (g: RepeatedIssue) =>
        opened(g.kind === 'product' ? { requesterId: g.contactId, productId: g.subjectId } : { requesterId: g.contactId, categoryId: g.subjectId })
    }, status)
  })
}
