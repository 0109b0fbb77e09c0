import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { listTickets } from '../../db/ticket-search.js'
import { getStaff } from '../../db/people.js'
import { getQueuePref, listViewsFor, viewCount } from '../../db/queue-views.js'
import { personWho } from '../../commands/kernel.js'
import { setAvailability } from '../../commands/assignment.js'
import { rememberQueueSearch } from '../../commands/queue-views.js'
import { DESK_DEFAULTS, PER_PAGE_CHOICES, SCOPES } from '../../domain/search.js'
import { COUNTED_VIEWS, countLabel, mayEditView, VIEW_NAME_MAX } from '../../domain/queue-views.js'
import { Choice, Form, formFailure } from '../forms.js'
import { lifecycleActor, quickActions, staffOf } from './shared.js'
import { getSettings } from '../../db/settings.js'
import { bulkChoices } from './bulk.js'
import { notFound } from '../../plugins/app.js'
import { readSearchPage, searchChoices, SearchQuerySchema } from '../search-page.js'
import { slaView } from '../sla-view.js'
import { shareableDesks, viewUrl } from './views.js'

export { SCOPES }

/** The toggle posts what the staff member becomes. */
const AvailabilityForm = Form({ availability: Choice(['available', 'unavailable'] as const) })

/** The search parameters, and `reset`: the queue's defaults asked for by name (a bare /desk gives back the last search). */
const QueueQuerySchema = Type.Object({ ...SearchQuerySchema.properties, reset: Type.Optional(Type.String({ maxLength: 10 })) })

/** The request as the search reads it, with another query (the remembered search). */
function withQuery(request: FastifyRequest, query: string): FastifyRequest {
  return Object.assign(Object.create(request) as FastifyRequest, { query: Object.fromEntries(new URLSearchParams(query)) })
}

/** A queue link that says what it wants: the default search's own URL, /desk, would bring the remembered one back. */
function explicit(url: string): string {
  return url === '/desk' ? viewUrl('') : url
}

export default async function queue(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  /** The staff queue: the advanced search over the tickets of the staff member's desks. */
  fastify.get('/', { schema: { querystring: QueueQuerySchema } }, async (request, reply) => {
    const actor = staffOf(request)
    // With no query string the staff member gets their last search back; any query is a search they ran.
    const asked = Object.keys(request.query).length > 0
    const [remembered, views] = await Promise.all([getQueuePref(fastify.db, actor.id), listViewsFor(fastify.db, actor)])
    const search = await readSearchPage(fastify.db, asked ? request : withQuery(request, remembered ?? ''), '/desk', DESK_DEFAULTS, ['scope'])
    const now = fastify.clock()
    const perPage = search.f.perPage ?? 25
    // Each view's count is the list's own capped count (kept a minute: viewCount); the view being shown is the list itself.
    const counted = views.slice(0, COUNTED_VIEWS)
    const [result, choices, me, policy, bulk, counts] = await Promise.all([
      listTickets(fastify.db, actor, { ...search.f, perPage, now }),
      searchChoices(fastify.db, actor),
      getStaff(fastify.db, actor.id),
      getSettings(fastify.db),
      bulkChoices(fastify.db, actor, request.locale),
      Promise.all(counted.map((v) => (v.query === search.query ? null : viewCount(fastify.db, actor, v.query, now))))
    ])
    // Written only when it changed (a write waits for the database's write lock), and not when a
    // live page fetches itself again: two tabs on two searches would take turns being "the last".
    if (asked && (remembered ?? '') !== search.query && request.headers['x-live-refresh'] === undefined) {
      const saved = await rememberQueueSearch(deps, personWho(actor), search.query)
      if (!saved.ok) request.log.warn({ staffId: actor.id, code: saved.refusal.code }, 'queue search not remembered')
    }
    const who = lifecycleActor(actor)
    return reply.page('desk/queue', {
      title: request.t('desk.queue.title'),
      search: { ...search, clearUrl: explicit(search.clearUrl) }, choices, f: search.f, available: me?.available === 1,
      result: { ...result, items: result.items.map((r) => ({ ...r, sla: slaView(r, now, request.t), quick: quickActions(r, who, policy) })) },
      here: request.url,
      bulkOptions: bulk.options,
      lists: bulk.lists,
      scopes: SCOPES,
      urlFor: (over: Parameters<typeof search.urlFor>[0]) => explicit(search.urlFor(over)),
      linkFor: (page: number) => explicit(search.linkFor(page)),
      perPage,
      perPages: PER_PAGE_CHOICES.map((n) => ({ n, url: explicit(search.urlFor({ perPage: n })), current: n === perPage })),
      resetUrl: search.query === '' ? null : viewUrl(''),
      views: views.map((v, i) => {
        const count = v.query === search.query ? result : i < counted.length ? counts[i] : null
        return {
          id: v.id, name: v.name, desk: v.desk_name, url: viewUrl(v.query), current: v.query === search.query,
          count: count ? countLabel(request.locale, count) : null, editable: mayEditView(actor, v)
        }
      }),
      manageUrl: search.query ? `/desk/views?${new URLSearchParams({ query: search.query })}` : '/desk/views',
      maxViewName: VIEW_NAME_MAX,
      shareDesks: shareableDesks(actor, choices.desks as { id: number; name: string; manager_id: number | null }[])
    })
  })

  fastify.post('/availability', { schema: { body: AvailabilityForm }, attachValidation: true }, async (request, reply) => {
    const actor = staffOf(request)
    const t = request.t
    const failure = formFailure(request, { availability: 'error.badRequest' })
    if (failure) {
      reply.flash('error', failure.message)
      return reply.redirect('/desk')
    }
    const wanted = request.body.availability
    const outcome = await setAvailability({ db: fastify.db, clock: fastify.clock, random: fastify.random }, personWho(actor), { available: wanted === 'available' })
    if (!outcome.ok) throw notFound()
    if (wanted === 'unavailable') {
      reply.flash('info', t('desk.availability.nowAway'))
      return reply.redirect('/desk')
    }
    const handed = outcome.value.handedOut
    request.log.info({ staffId: actor.id, handed }, 'staff became available')
    reply.flash('success', handed > 0 ? t('desk.availability.handedOut', { count: handed }) : t('desk.availability.nowAvailable'))
    return reply.redirect('/desk')
  })
}
