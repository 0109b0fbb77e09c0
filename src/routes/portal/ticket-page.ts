import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { getTicketForActorByNumber, listNotes, type TicketDetail } from '../../db/ticket.js'
import { getCatalogItemPath, takesFollowUps } from '../../db/catalog.js'
import { getStaff } from '../../db/people.js'
import { getSettings } from '../../db/settings.js'
import { ticketExtras } from '../../db/ticket-extras.js'
import { LIMITS } from '../../domain/ticket.js'
import {
  allowedActions, decide, type Action, type LifecycleActor, type LifecyclePolicy,
  type LifecycleTicket, type State, type Status
} from '../../domain/lifecycle.js'
import type { ContactActor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'
import type { FormErrors } from '../forms.js'
import { formatDuration, slaView } from '../sla-view.js'
import { formatMoney } from '../../i18n/index.js'
import { listItems } from '../../db/managed-lists.js'
import { listView } from '../list-view.js'

// A string, so /portal/tickets/abc is a plain 404 like any ticket the client may not see.
export const Params = Type.Object({ number: Type.String({ maxLength: 20 }) })

export const REQUESTER: LifecycleActor = { role: 'requester' }

/** The forms of the client's ticket page; a failed one is re-rendered with its values and messages. */
export type PortalForm = 'reply' | 'accept' | 'reject' | 'reopen' | 'cancel' | 'occurrence' | 'survey'

export interface PageState {
  status?: number
  failed?: PortalForm
  errors?: FormErrors
  values?: Record<string, string>
  /** Shown above the failed form. */
  formError?: string
  /** Shown at the top of the page: a lifecycle refusal or a conflict, where no form is to blame. */
  alert?: string
}

export type ReplyGate = { open: true; opensChild: boolean } | { open: false; messageKey: string }

// Replies do not depend on either policy setting; decide() still wants the whole policy.
const REPLY_POLICY: LifecyclePolicy = { staffMayCloseWithoutRequester: false, occurrenceViaPortal: true }

/**
 * May the requester reply here? A reply to a closed ticket opens a linked follow-up ticket, which
 * an account that is turned off does not take (`accountActive`: the ticket's account, when closed).
 */
export function replyGate(ticket: { state: string; status: string }, accountActive = true): ReplyGate {
  const decision = decide({ state: ticket.state as State, status: ticket.status as Status }, REQUESTER, 'reply', {}, REPLY_POLICY)
  if (decision.ok && decision.effects.spawnChild && !accountActive) return { open: false, messageKey: 'validation.accountInactive' }
  if (decision.ok) return { open: true, opensChild: Boolean(decision.effects.spawnChild) }
  if (ticket.state === 'cancelled') return { open: false, messageKey: 'portal.reply.cancelled' }
  return { open: false, messageKey: decision.messageKey }
}

/** The ticket named by the URL, or 404 when missing, malformed or not the client's to see. */
export async function loadTicket(fastify: FastifyInstance, request: FastifyRequest): Promise<TicketDetail> {
  const raw = (request.params as { number: string }).number
  if (!/^[1-9]\d{0,8}$/.test(raw)) throw notFound()
  const ticket = await getTicketForActorByNumber(fastify.db, request.actor!, Number(raw))
  if (!ticket) throw notFound()
  return ticket
}

/** What the requester may do with a ticket, judged on its state, the settings and whether it was rated (a list row has no parent: null). */
export function requesterActions(settings: LifecyclePolicy, ticket: { state: string; status: string; parent_id: number | null }, rated: boolean): Action[] {
  const lifecycle: LifecycleTicket = { state: ticket.state as State, status: ticket.status as Status, rated, parentId: ticket.parent_id }
  return allowedActions(lifecycle, REQUESTER, settings)
}

export async function renderTicket(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, state: PageState = {}) {
  const db = fastify.db
  const actor = request.actor as ContactActor
  const t = request.t
  const money = (cents: number) => formatMoney(cents, request.locale, fastify.config.CURRENCY)
  const now = fastify.clock()
  const [conversation, catalogItem, openedBy, settings, extras, managed, accountActive] = await Promise.all([
    listNotes(db, actor, ticket.id),
    ticket.category_id === null ? undefined : getCatalogItemPath(db, ticket.category_id),
    ticket.created_by_staff_id === null ? undefined : getStaff(db, ticket.created_by_staff_id),
    getSettings(db),
    ticketExtras(db, actor, ticket, now),
    listItems(db),
    takesFollowUps(db, ticket)
  ])
  const { survey, checklist, costs, links } = extras
  const allowed = requesterActions(settings, ticket, survey !== undefined)
  const can = (action: Action) => allowed.includes(action)
  return reply.page('portal/ticket', {
    title: `#${ticket.number} ${ticket.title}`,
    tab: 'details',
    ticket,
    lists: listView(managed, request.locale),
    notes: conversation.notes,
    descriptionAttachments: conversation.descriptionAttachments,
    catalogItem: catalogItem ?? null,
    openedByStaff: openedBy?.name ?? null,
    gate: replyGate(ticket, accountActive),
    can: {
      accept: can('accept'), reject: can('reject'), reopen: can('reopen'), cancel: can('cancel'),
      occurrence: can('register_occurrence'), rate: can('rate')
    },
    survey: survey ?? null,
    checklist,
    // Clients see totals only: never the per-staff time entries and their hourly rates.
    // Read-only lines: the time spent as one (no rates, no names), then each cost item.
    costs: costs.timeMinutes > 0 || costs.items.length > 0
      ? {
          time: formatDuration(costs.timeMinutes * 60_000, t),
          lines: [
            ...(costs.timeMinutes > 0 ? [{ description: t('portal.costs.timeLine', { time: formatDuration(costs.timeMinutes * 60_000, t) }), amount: money(costs.timeCents) }] : []),
            ...costs.items.map((i) => ({ description: i.description, amount: money(i.amount_cents) }))
          ],
          amount: money(costs.totalCents)
        }
      : null,
    links,
    approval: extras.approval,
    sla: slaView(ticket, now, t),
    limits: LIMITS,
    failed: state.failed ?? null,
    values: state.values ?? {},
    errors: state.errors ?? {},
    formError: state.formError,
    alert: state.alert
  }, state.status ?? 200)
}
