import type { FastifyInstance } from 'fastify'
import { listTickets } from '../../db/ticket-search.js'
import { contactAccounts } from '../../db/people.js'
import type { ContactActor } from '../../domain/permissions.js'
import { PORTAL_DEFAULTS } from '../../domain/search.js'
import { readSearchPage, searchChoices, SearchQuerySchema } from '../search-page.js'
import { slaView } from '../sla-view.js'
import { clientRowFacts, type ClientRowFacts } from '../../db/ticket.js'
import { getSettings } from '../../db/settings.js'
import { allowedActions, type LifecyclePolicy, type State, type Status } from '../../domain/lifecycle.js'
import { REQUESTER, replyGate } from './ticket-page.js'

/** One entry of a row's action menu: what it says and where on the ticket's pages it leads. */
export interface RowAction {
  key: string
  href: string
  params?: Record<string, string | number>
}

/**
 * What the client may do with one ticket of their list, each leading to the place on the ticket's
 * page where it is done: the same rules as the page itself (the lifecycle for the requester, the
 * reply gate), judged on the row.
 */
export function rowActions(row: { number: number; state: string; status: string }, facts: ClientRowFacts | undefined, policy: LifecyclePolicy): RowAction[] {
  const page = `/portal/tickets/${row.number}`
  const allowed = allowedActions({ state: row.state as State, status: row.status as Status, rated: facts?.rated ?? false, parentId: null }, REQUESTER, policy)
  const can = (action: Parameters<typeof allowed.includes>[0]) => allowed.includes(action)
  const out: RowAction[] = []
  if (can('accept') || can('reject')) out.push({ key: 'portal.row.opinion', href: `${page}#solution` })
  if (can('reopen')) out.push({ key: 'portal.row.reopen', href: `${page}#solution` })
  if (can('rate')) out.push({ key: 'portal.row.survey', href: `${page}#survey` })
  out.push({ key: 'portal.row.description', href: `${page}#description` })
  if (facts && facts.attachments > 0) out.push({ key: 'portal.row.attachments', href: `${page}#attachments`, params: { count: facts.attachments } })
  if (facts && facts.occurrences > 0) out.push({ key: 'portal.row.occurrences', href: `${page}/occurrences`, params: { count: facts.occurrences } })
  if (can('register_occurrence')) out.push({ key: 'portal.row.registerOccurrence', href: `${page}#occurrence` })
  if (can('cancel')) out.push({ key: 'portal.row.cancel', href: `${page}#cancel` })
  const gate = replyGate(row, facts?.accountActive ?? true)
  if (gate.open) out.push({ key: gate.opensChild ? 'portal.row.followUp' : 'portal.row.message', href: `${page}#reply` })
  return out
}

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
    const [facts, settings] = await Promise.all([clientRowFacts(fastify.db, result.items.map((r) => r.id)), getSettings(fastify.db)])
    return reply.page('portal/requests', {
      title: request.t('portal.requests.title'),
      search, choices, result, managed,
      filtered: search.narrowed,
      linkFor: search.linkFor,
      slaFor: (row: (typeof result.items)[number]) => slaView(row, now, request.t),
      rowActions: (row: (typeof result.items)[number]) => rowActions(row, facts.get(row.id), settings)
    })
  })
}
