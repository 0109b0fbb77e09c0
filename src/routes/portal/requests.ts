import type { FastifyInstance } from 'fastify'
import { listTickets } from '../../db/ticket-search.js'
import { contactAccounts } from '../../db/people.js'
import type { ContactActor } from '../../domain/permissions.js'
import { PORTAL_DEFAULTS } from '../../domain/search.js'
import { readSearchPage, searchChoices, SearchQuerySchema } from '../search-page.js'
import { slaView } from '../sla-view.js'
import { clientRowFacts, type ClientRowFacts } from '../../db/ticket.js'
import { getSettings } from '../../db/settings.js'
import type { Action, LifecyclePolicy } from '../../domain/lifecycle.js'
import { replyGate, requesterActions } from './ticket-page.js'

/** One entry of a row's action menu: what it says and where on the ticket's pages it leads. */
export interface RowAction {
  key: string
  href: string
  params?: Record<string, string | number>
}

export const PER_PAGE = 20

/** What the lifecycle lets the requester do with a ticket in this state, and where on its page: the same for every row alike. */
function lifecycleEntries(state: string, status: string, rated: boolean, accountActive: boolean, policy: LifecyclePolicy) {
  const allowed = requesterActions(policy, { state, status, parent_id: null }, rated)
  const can = (action: Action) => allowed.includes(action)
  const gate = replyGate({ state, status }, accountActive)
  return {
    before: [
      ...(can('accept') || can('reject') ? [{ key: 'portal.row.opinion', anchor: '#solution' }] : []),
      ...(can('reopen') ? [{ key: 'portal.row.reopen', anchor: '#solution' }] : []),
      ...(can('rate') ? [{ key: 'portal.row.survey', anchor: '#survey' }] : [])
    ],
    after: [
      ...(can('register_occurrence') ? [{ key: 'portal.row.registerOccurrence', anchor: '#occurrence' }] : []),
      ...(can('cancel') ? [{ key: 'portal.row.cancel', anchor: '#cancel' }] : []),
      ...(gate.open ? [{ key: gate.opensChild ? 'portal.row.followUp' : 'portal.row.message', anchor: '#reply' }] : [])
    ]
  }
}

/**
 * The menus of a page of the client's list: for each row, what the client may do with that
 * ticket, each leading to the place on the ticket's pages where it is done, judged by the same
 * rules as the ticket page (the lifecycle for the requester, the reply gate). Rows in the same
 * state share their lifecycle entries, worked out once per page.
 */
export function rowMenus(policy: LifecyclePolicy, facts: ReadonlyMap<number, ClientRowFacts>) {
  const byState = new Map<string, ReturnType<typeof lifecycleEntries>>()
  return (row: { id: number; number: number; state: string; status: string }): RowAction[] => {
    const f = facts.get(row.id)
    const rated = f?.rated ?? false
    const active = f?.accountActive ?? true
    const key = `${row.state}|${row.status}|${rated}|${active}`
    let entries = byState.get(key)
    if (!entries) byState.set(key, entries = lifecycleEntries(row.state, row.status, rated, active, policy))
    const page = `/portal/tickets/${row.number}`
    const out: RowAction[] = entries.before.map((e) => ({ key: e.key, href: page + e.anchor }))
    out.push({ key: 'portal.row.description', href: `${page}#description` })
    if (f && f.attachments > 0) out.push({ key: 'portal.row.attachments', href: `${page}#attachments`, params: { count: f.attachments } })
    if (f && f.occurrences > 0) out.push({ key: 'portal.row.occurrences', href: `${page}/occurrences`, params: { count: f.occurrences } })
    for (const e of entries.after) out.push({ key: e.key, href: page + e.anchor })
    return out
  }
}

/** My requests: the client's tickets (a manager's: the account's) with the advanced search. */
export default async function requests(fastify: FastifyInstance) {
  fastify.get('/', { schema: { querystring: SearchQuerySchema } }, async (request, reply) => {
    const actor = request.actor as ContactActor
    const search = await readSearchPage(fastify.db, request, '/portal', PORTAL_DEFAULTS)
    const now = fastify.clock()
    const [result, choices, accounts, settings] = await Promise.all([
      listTickets(fastify.db, actor, { ...search.f, perPage: PER_PAGE, now }),
      searchChoices(fastify.db, actor),
      actor.managerAccountIds.length > 0 ? contactAccounts(fastify.db, actor.id) : Promise.resolve([]),
      getSettings(fastify.db)
    ])
    const managed = accounts.filter((a) => a.is_manager === 1).map((a) => a.name)
    const facts = await clientRowFacts(fastify.db, result.items.map((r) => r.id))
    return reply.page('portal/requests', {
      title: request.t('portal.requests.title'),
      search, choices, result, managed,
      filtered: search.narrowed,
      linkFor: search.linkFor,
      slaFor: (row: (typeof result.items)[number]) => slaView(row, now, request.t),
      rowActions: rowMenus(settings, facts)
    })
  })
}
