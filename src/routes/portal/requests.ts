import type { FastifyInstance } from 'fastify'
import { listTickets } from '../../db/ticket-search.js'
import { contactAccounts } from '../../db/people.js'
import type { ContactActor } from '../../domain/permissions.js'
import { PORTAL_DEFAULTS } from '../../domain/search.js'
import { readSearchPage, searchChoices, SearchQuerySchema } from '../search-page.js'
import { slaView } from '../sla-view.js'

export const PER_PAGE = 20

/** My requests: the client's tickets (a manager's: the account's) with the advanced search. */
export default async function requests(fastify: FastifyInstance) {
  fastify.get('/', { schema: { querystring: SearchQuerySchema } }, async (request, reply) => {
    const actor = request.actor as ContactActor
    const search = await readSearchPage(fastify.db, request, '/portal', PORTAL_DEFAULTS)
    const now = fastify.clock()
    const [result, choices, accounts] = await Promise.all([
      listTickets(fastify.db, actor, { ...search.f, perPage: PER_PAGE, now }),
      searchChoices(fastify.db, actor),
      actor.managerAccountIds.length > 0 ? contactAccounts(fastify.db, actor.id) : Promise.resolve([])
    ])
    const managed = accounts.filter((a) => a.is_manager === 1).map((a) => a.name)
    return reply.page('portal/requests', {
      title: request.t('portal.requests.title'),
      search, choices, result, managed,
      filtered: search.narrowed,
      linkFor: search.linkFor,
      slaFor: (row: (typeof result.items)[number]) => slaView(row, now, request.t)
    })
  })
}
