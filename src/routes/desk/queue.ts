import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { listTickets } from '../../db/ticket-search.js'
import { getStaff } from '../../db/people.js'
import { personWho } from '../../commands/kernel.js'
import { setAvailability } from '../../commands/assignment.js'
import { DESK_DEFAULTS, SCOPES } from '../../domain/search.js'
import { Choice, Form, formFailure } from '../forms.js'
import { lifecycleActor, quickActions, staffOf } from './shared.js'
import { getSettings } from '../../db/settings.js'
import { bulkChoices } from './bulk.js'
import { notFound } from '../../plugins/app.js'
import { readSearchPage, searchChoices, SearchQuerySchema } from '../search-page.js'
import { slaView } from '../sla-view.js'

export { SCOPES }

/** The toggle posts what the staff member becomes. */
const AvailabilityForm = Form({ availability: Choice(['available', 'unavailable'] as const) })

export default async function queue(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  /** The staff queue: the advanced search over the tickets of the staff member's desks. */
  fastify.get('/', { schema: { querystring: SearchQuerySchema } }, async (request, reply) => {
    const actor = staffOf(request)
    const search = await readSearchPage(fastify.db, request, '/desk', DESK_DEFAULTS, ['scope'])
    const now = fastify.clock()
    const [result, choices, me, policy, bulk] = await Promise.all([
      listTickets(fastify.db, actor, { ...search.f, perPage: 25, now }),
      searchChoices(fastify.db, actor),
      getStaff(fastify.db, actor.id),
      getSettings(fastify.db),
      bulkChoices(fastify.db, actor, request.locale)
    ])
    const who = lifecycleActor(actor)
    return reply.page('desk/queue', {
      title: request.t('desk.queue.title'),
      search, choices, f: search.f, available: me?.available === 1,
      result: { ...result, items: result.items.map((r) => ({ ...r, sla: slaView(r, now, request.t), quick: quickActions(r, who, policy) })) },
      here: request.url,
      bulkOptions: bulk.options,
      lists: bulk.lists,
      scopes: SCOPES,
      urlFor: search.urlFor,
      linkFor: search.linkFor
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
