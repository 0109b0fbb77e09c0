import { basename } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { guard } from './web.js'
import { Form, Text } from './forms.js'
import { notFound } from '../plugins/app.js'
import type { Actor } from '../domain/permissions.js'
import type { Translate } from '../i18n/index.js'
import {
  DESK_DEFAULTS, PORTAL_DEFAULTS, readSearchQuery, searchQuery, searchUrl, type SearchFilters
} from '../domain/search.js'
import {
  exportFileName, getExportForOwner, listExports, XLSX_CONTENT_TYPE, type ExportListItem, type ExportOwner
} from '../db/exports.js'

import { personWho } from '../commands/kernel.js'
import { MAX_ACTIVE_EXPORTS, requestExport } from '../commands/exports.js'
const MAX_SEARCH_LENGTH = 4000
const REFRESH_SECONDS = 5

/** The export button of a search page: the page's search as a query string. Its area is the actor's, whatever the form says. */
const ExportForm = Form({ area: Text, search: Text })

function ownerOf(actor: Actor): ExportOwner {
  return { kind: actor.kind, id: actor.id }
}

function areaOf(actor: Actor) {
  return actor.kind === 'staff' ? { area: 'desk' as const, defaults: DESK_DEFAULTS } : { area: 'portal' as const, defaults: PORTAL_DEFAULTS }
}

/** A query string as the object readSearchQuery reads (the first of repeated names counts). */
function queryObject(raw: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(raw.replace(/^\?/, ''))) if (!(k in out)) out[k] = v
  return out
}

function formatSize(bytes: number, locale: string): string {
  const kib = bytes / 1024
  const number = (n: number, digits: number) => n.toLocaleString(locale, { maximumFractionDigits: digits })
  return kib < 1024 ? `${number(Math.max(1, Math.round(kib)), 0)} KB` : `${number(kib / 1024, 1)} MB`
}

/** A short, readable account of what a search narrows (the full search is one link away). */
export function describeSearch(f: SearchFilters, defaults: Partial<SearchFilters>, t: Translate): string {
  const parts: string[] = []
  const changed = (k: keyof SearchFilters) => f[k] !== undefined && String(f[k]) !== String(defaults[k])
  if (f.q) parts.push(`${t('exports.search.words')}: “${f.q}”`)
  if (f.title) parts.push(`${t('search.title')}: “${f.title}”`)
  if (f.number !== undefined) parts.push(`#${f.number}`)
  if (f.numbers !== undefined) parts.push(t('exports.search.numbers', { count: f.numbers.length }))
  if (changed('scope')) parts.push(t(`exports.search.scope.${f.scope}`))
  if (changed('situation')) parts.push(`${t('search.group')}: ${t(`situation.${f.situation}`)}`)
  if (f.state) parts.push(`${t('ticket.state')}: ${t(`state.${f.state}`)}`)
  if (f.status) parts.push(`${t('ticket.status')}: ${t(`status.${f.status}`)}`)
  if (f.priority) parts.push(`${t('search.priority')}: ${t(`priority.${f.priority}`)}`)
  if (f.ticketType) parts.push(`${t('ticket.type')}: ${t(`type.${f.ticketType}`)}`)
  if (f.sla) parts.push(`${t('search.sla')}: ${t(`sla.${f.sla}`)}`)
  if (f.openedFrom || f.openedTo) parts.push(`${t('search.openedBetween')}: ${f.openedFrom ?? '…'} – ${f.openedTo ?? '…'}`)
  if (f.closedFrom || f.closedTo) parts.push(`${t('search.closedBetween')}: ${f.closedFrom ?? '…'} – ${f.closedTo ?? '…'}`)
  const others = (['deskId', 'areaId', 'categoryId', 'productId', 'assigneeId', 'requesterId', 'accountId'] as const).filter((k) => f[k] !== undefined)
  if (others.length > 0) parts.push(t('exports.more', { count: others.length }))
  return parts.length > 0 ? parts.join(' · ') : t('exports.everything')
}

function isExpired(job: Pick<ExportListItem, 'status' | 'expires_at'>, now: Date): boolean {
  return job.status === 'expired' || (job.status === 'done' && job.expires_at !== null && Date.parse(job.expires_at) <= now.getTime())
}

function errorText(error: string | null, t: Translate): string {
  const code = (error ?? 'failed').split(':')[0]
  const key = `exports.error.${code}`
  const text = t(key)
  return text === key ? t('exports.error.failed') : text
}

function expiredPage(request: FastifyRequest, reply: FastifyReply) {
  return reply.page('error', { title: request.t('exports.expired.title'), message: request.t('exports.expired.body') }, 410)
}

/** Exports of searches: asked for from a search page, listed and downloaded by their owner only. */
/** A download's Content-Disposition: an ASCII name for old clients, the UTF-8 one for the rest. */
export function downloadDisposition(filename: string): string {
  return `attachment; filename="${filename.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}

export default async function exportRoutes(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.post('/exports', {
    preHandler: guard(() => true),
    schema: { body: ExportForm }
  }, async (request, reply) => {
    const actor = request.actor!
    const { area, defaults } = areaOf(actor)
    const raw = request.body.search.slice(0, MAX_SEARCH_LENGTH)
    // Values the page could not understand were left out of its list; they are left out here too.
    const { filters } = readSearchQuery(queryObject(raw), { kind: actor.kind, defaults })
    const back = searchUrl(`/${area}`, filters, defaults)
    const result = await requestExport({ db: fastify.db, clock: fastify.clock, random: fastify.random }, personWho(actor), {
      area, query: searchQuery({ ...filters, page: undefined }, defaults), locale: request.locale
    })
    if (!result.ok) reply.flash('error', request.t('exports.limit', { max: MAX_ACTIVE_EXPORTS }))
    else reply.flash('success', request.t('exports.queued'))
    return reply.redirect(back)
  })

  fastify.get('/exports', { preHandler: guard(() => true) }, async (request, reply) => {
    const actor = request.actor!
    const t = request.t
    const now = fastify.clock()
    const { defaults } = areaOf(actor)
    const jobs = await listExports(fastify.db, ownerOf(actor))
    const rows = jobs.map((job) => {
      const expired = isExpired(job, now)
      const status = expired ? 'expired' : job.status
      const { filters } = readSearchQuery(queryObject(job.query), { kind: actor.kind, defaults })
      const percent = job.rows_total ? Math.min(100, Math.floor((job.rows_done / job.rows_total) * 100)) : null
      const fmt = (n: number) => n.toLocaleString(request.locale)
      let progress: string
      if (status === 'queued') progress = t('exports.progress.waiting')
      else if (status === 'running') {
        progress = job.rows_total !== null
          ? t('exports.progress.known', { done: fmt(job.rows_done), total: fmt(job.rows_total), percent: percent ?? 0 })
          : t('exports.progress.unknown', { done: fmt(job.rows_done) })
      } else progress = status === 'failed' ? '' : t('exports.progress.done', { done: fmt(job.rows_done) })
      return {
        id: job.id, status, created_at: job.created_at,
        expires_at: status === 'done' ? job.expires_at : null,
        progress, percent: status === 'running' ? percent : null,
        search: describeSearch(filters, defaults, t),
        searchHref: `/${job.area}${job.query ? `?${job.query}` : ''}`,
        download: status === 'done' ? { href: `/exports/${job.id}/download`, size: job.file_size ? formatSize(job.file_size, request.locale) : '' } : null,
        error: status === 'failed' ? errorText(job.error, t) : null
      }
    })
    const busy = rows.some((r) => r.status === 'queued' || r.status === 'running')
    return reply.page('exports/index', { title: t('exports.title'), rows, busy, refreshSeconds: busy ? REFRESH_SECONDS : null })
  })

  fastify.get('/exports/:id/download', {
    preHandler: guard(() => true),
    schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) }
  }, async (request, reply) => {
    const { id } = request.params
    // Only the owner: anyone else, admins included, learns nothing (not even that it exists).
    const job = await getExportForOwner(fastify.db, ownerOf(request.actor!), id)
    if (!job) throw notFound()
    if (isExpired(job, fastify.clock())) return expiredPage(request, reply)
    if (job.status !== 'done' || !job.file_path) throw notFound()
    const key = basename(job.file_path)
    const size = await fastify.store.size('export', key)
    if (size === null) return expiredPage(request, reply)
    const filename = exportFileName(request.t('exports.fileName'), job.id, job.created_at)
    return reply
      .header('content-type', XLSX_CONTENT_TYPE)
      .header('content-length', String(size))
      .header('content-disposition', downloadDisposition(filename))
      .header('cache-control', 'private, no-store')
      .send(await fastify.store.open('export', key))
  })
}
