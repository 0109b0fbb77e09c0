import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { getTicketForActor, listNotes, type TicketDetail } from '../../db/ticket.js'
import { contactAccounts, getStaff, listDeskStaff } from '../../db/people.js'
import { listCatalogItems, listDesks, listProducts, takesFollowUps } from '../../db/catalog.js'
import { ticketExtras } from '../../db/ticket-extras.js'
import { crmSyncBadge } from '../../db/sync-overview.js'
import { LEVELS, PRIORITIES, priorityFor, type Action, type Level } from '../../domain/lifecycle.js'
import type { Locale } from '../../domain/permissions.js'
import type { FormErrors } from '../forms.js'
import { MAX_MINUTES, STAFF_SOURCES } from '../../domain/ticket.js'
import { listItems } from '../../db/managed-lists.js'
import { listView } from '../list-view.js'
import { deskLifecycle, staffOf } from './shared.js'
import { slaView } from '../sla-view.js'
import { approverCandidates, findApprover, ticketApprovalState } from '../../db/approval.js'
import { listCannedFor } from '../../db/canned.js'
import { cannedForTicket } from './canned.js'
import { formatMoney } from '../../i18n/index.js'
import { seenOf } from '../../domain/collision.js'
import { ticketKb } from './ticket-kb.js'

/** Lifecycle actions offered in the side panel, in the order a ticket usually meets them. */
export const PANEL_ACTIONS = ['pick_up', 'resume', 'escalate', 'hold', 'resolve', 'close', 'cancel', 'delete'] as const
/** Every action the desk posts to /actions/:action (categorize has its own card). */
export const DESK_ACTIONS = ['categorize', ...PANEL_ACTIONS] as const
export type DeskAction = (typeof DESK_ACTIONS)[number]


/** The forms of the page: a failed one comes back with what was typed and its messages. */
export type DeskForm = DeskAction | 'transfer' | 'note' | 'occurrence' | 'checklist' | 'cost'

export interface PageState {
  status?: number
  failed?: DeskForm
  errors?: FormErrors
  values?: Record<string, string>
  formError?: string
  /** The reply box filled in with a knowledge-base article (its "Insert" link, without JavaScript). */
  prefill?: { body: string; mode?: string; articleIds: string; title: string }
}

export { formatMoney }

export async function openedBy(fastify: FastifyInstance, ticket: TicketDetail): Promise<string | null> {
  if (ticket.created_by_staff_id === null) return null
  return (await getStaff(fastify.db, ticket.created_by_staff_id))?.name ?? null
}

/** The priority select shows "from impact × urgency" while the priority is still what the matrix gives. */
export function priorityChoice(ticket: { impact: Level | null; urgency: Level | null; priority: string }): string {
  return ticket.impact && ticket.urgency && priorityFor(ticket.impact, ticket.urgency) === ticket.priority ? '' : ticket.priority
}

export async function renderTicket(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, state: PageState = {}) {
  const db = fastify.db
  const actor = staffOf(request)
  const now = fastify.clock()
  const [conversation, items, products, desks, deskStaff, accounts, createdBy, lifecycle, extras, crm, managed, accountActive, responses, kb] = await Promise.all([
    listNotes(db, actor, ticket.id),
    listCatalogItems(db),
    listProducts(db),
    listDesks(db),
    listDeskStaff(db, [ticket.desk_id]),
    contactAccounts(db, ticket.contact_id),
    openedBy(fastify, ticket),
    deskLifecycle(fastify, actor, ticket),
    ticketExtras(db, actor, ticket, now),
    crmSyncBadge(db, ticket.id, now),
    listItems(db),
    takesFollowUps(db, ticket),
    listCannedFor(db, actor),
    ticketKb(fastify, ticket)
  ])
  const { checklist, costs, links, survey } = extras
  const allowed = (action: Action) => lifecycle.allowed.includes(action)
  const decided = lifecycle.decide('reply')
  const replyTakesNoChild = decided.ok && Boolean(decided.effects.spawnChild) && !accountActive
  const replying = replyTakesNoChild ? { ok: false as const } : decided
  const money = (cents: number) => formatMoney(cents, request.locale)
  return reply.page('desk/ticket', {
    title: `#${ticket.number} ${ticket.title}`,
    tab: 'conversation',
    ticket, createdBy, links,
    lists: listView(managed, request.locale),
    notes: conversation.notes,
    descriptionAttachments: conversation.descriptionAttachments,
    options: {
      priorities: PRIORITIES, levels: LEVELS, items, products, desks, deskStaff, accounts,
      sources: STAFF_SOURCES,
      escalationDesks: desks.filter((d) => d.id !== ticket.desk_id),
      matrix: LEVELS.map((impact) => ({ impact, cells: LEVELS.map((urgency) => priorityFor(impact, urgency)) }))
    },
    priorityChoice: priorityChoice(ticket),
    can: {
      reply: replying.ok,
      replyOpensChild: replying.ok && Boolean(replying.effects.spawnChild),
      /** Notes only: a reply would open a follow-up for an account that is turned off. */
      replyAccountInactive: replyTakesNoChild,
      note: allowed('add_note'),
      occurrence: allowed('register_occurrence'),
      categorize: allowed('categorize'),
      transfer: allowed('transfer'),
      // Checklists and costs are worked on while the ticket still takes notes.
      extras: allowed('add_note')
    },
    actions: PANEL_ACTIONS.filter((a) => allowed(a)),
    quick: { close: allowed('close'), delete: allowed('delete') },
    canned: cannedForTicket(responses, ticket, actor, fastify.config.publicUrl),
    kb,
    prefill: state.prefill ?? null,
    seen: seenOf(ticket, conversation.notes),
    sla: slaView(ticket, now, request.t),
    checklist,
    checklistDone: checklist.filter((i) => i.done === 1).length,
    survey: survey ?? null,
    crm,
    approval: await deskApprovalView(db, ticket, extras.approval),
    costs, money,
    maxMinutes: MAX_MINUTES,
    failed: state.failed ?? null,
    errors: state.errors ?? {},
    values: state.values ?? {},
    formError: state.formError ?? null
  }, state.status ?? 200)
}

/** The approval card: where the request stands and, while it waits, whom a new link could go to. */
async function deskApprovalView(db: FastifyInstance['db'], ticket: TicketDetail, state: Awaited<ReturnType<typeof ticketApprovalState>>) {
  if (!state) return null
  if (!state.waiting) return { ...state, candidates: [], found: null }
  const [candidates, found] = await Promise.all([
    approverCandidates(db, ticket.account_id, ticket.contact_id),
    findApprover(db, ticket.contact_id, ticket.account_id)
  ])
  return { ...state, candidates, found: found ?? null }
}

/** After a change the ticket may have left the actor's desks: then the queue is where to go. */
export async function redirectAfterChange(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, ticket: { id: number; number: number }, anchor = '') {
  const still = await getTicketForActor(fastify.db, staffOf(request), ticket.id)
  if (!still) {
    reply.flash('info', request.t('desk.movedAway', { number: ticket.number }))
    return reply.redirect('/desk')
  }
  return reply.redirect(`/desk/tickets/${ticket.number}${anchor}`)
}
