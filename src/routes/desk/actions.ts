import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { getTicketReceipt, type TicketDetail } from '../../db/ticket.js'
import { personWho, type Outcome } from '../../commands/kernel.js'
import { performTransition, type TransitionAction } from '../../commands/lifecycle/index.js'
import { editTicketFields } from '../../commands/edit-fields.js'
import { deleteTicket } from '../../commands/delete-ticket.js'
import { notFound } from '../../plugins/app.js'
import { choices, echo, Form, formFailure, oneOf, OptionalId, Text, Version, type FormErrors } from '../forms.js'
import { fieldMessages, refusalMessage, refusalStatus } from '../refusals.js'
import { deskLifecycle, deskPath, staffOf, ticketByNumber } from './shared.js'
import { listItems } from '../../db/managed-lists.js'
import { listView } from '../list-view.js'
import { DESK_ACTIONS, redirectAfterChange, renderTicket } from './ticket-page.js'

const ActionParams = Type.Object({
  number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  action: Type.String({ maxLength: 40 })
})

/** The actions offered as buttons beside a ticket (queue rows, the ticket's head), each confirmed on a page of its own. */
export const QUICK_ACTIONS = ['close', 'delete'] as const
type QuickAction = (typeof QUICK_ACTIONS)[number]
const ConfirmQuery = Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) })

/** The forms of the side panel and the categorize card: each posts the version and its own fields. */
const ActionForm = Form({
  version: Version,
  reason: Text, reason_code: Text, resolution: Text, closure_category: Text, closure_note: Text, target_desk_id: OptionalId,
  category_id: OptionalId, product_id: OptionalId, desk_id: OptionalId, impact: Text, urgency: Text, priority: Text, source: Text,
  /** 'confirm' when posted from a quick action's confirmation page: a failure shows that page again. */
  from: Text,
  /** Where to go once done (the queue page the button was pressed on). */
  next: Text
})
const FORM_MESSAGES = {
  version: 'error.badRequest', target_desk_id: 'desk.escalate.chooseDesk', ...choices('category_id', 'product_id', 'desk_id')
}

/** Form names of the command fields that differ from their snake_case. */
const WORDS = {
  keys: {
    'targetDeskId.invalid_choice': 'desk.escalate.chooseDesk', 'targetDeskId.required': 'desk.escalate.chooseDesk', 'targetDeskId.same_desk': 'desk.escalate.chooseDesk',
    'closureCategory.invalid_choice': 'lifecycle.refused.missing_closure_category', 'closureCategory.required': 'lifecycle.refused.missing_closure_category',
    'reason.required': 'validation.required', 'resolution.required': 'validation.required', 'reasonCode.invalid_choice': 'validation.invalidChoice'
  }
}

/** Where a quick action returns to: a desk page (never the page of a ticket just deleted), else the ticket or the queue. */
function returnTo(next: unknown, ticket: { number: number }, deleted: boolean): string | null {
  const path = deskPath(next)
  if (path === null) return null
  if (deleted && new RegExp(`^/desk/tickets/${ticket.number}(?:[/?#]|$)`).test(path)) return null
  return path
}

/**
 * A quick action's confirmation page: what will happen, the inputs it needs, and the way back; a
 * refusal (the ticket moved on, or the staff member may not) is said instead of the form.
 */
async function renderConfirm(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, action: QuickAction,
  state: { next: string; status?: number; errors?: FormErrors; values?: Record<string, string>; formError?: string }) {
  const t = request.t
  const lifecycle = await deskLifecycle(fastify, staffOf(request), ticket)
  const refused = lifecycle.refusal(action)
  const effects = action === 'close'
    ? [t('desk.confirm.close.state'), t('desk.confirm.close.requester', { name: ticket.contact_name, email: ticket.contact_email }), t('desk.confirm.close.crm'), t('desk.confirm.close.followUp')]
    : [t('desk.confirm.delete.hidden'), t('desk.confirm.delete.kept'), t('desk.confirm.delete.crm'), t('desk.confirm.delete.silent')]
  return reply.page('desk/confirm', {
    title: t(`desk.confirm.${action}.title`, { number: ticket.number }),
    ticket, action, effects,
    lists: listView(await listItems(fastify.db), request.locale),
    refusal: refused ? t(refused.messageKey, refused.params) : null,
    next: state.next,
    back: returnTo(state.next, ticket, false) ?? `/desk/tickets/${ticket.number}`,
    errors: state.errors ?? {}, values: state.values ?? {}, formError: state.formError ?? null
  }, state.status ?? (refused ? 409 : 200))
}

export default async function actions(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  fastify.get('/tickets/:number/confirm/:action', { schema: { params: ActionParams, querystring: ConfirmQuery } }, async (request, reply) => {
    const action = oneOf(request.params.action, QUICK_ACTIONS)
    if (!action) throw notFound()
    const ticket = await ticketByNumber(fastify, request, request.params.number)
    return renderConfirm(fastify, request, reply, ticket, action, { next: request.query.next ?? '' })
  })

  fastify.post('/tickets/:number/actions/:action', { schema: { params: ActionParams, body: ActionForm }, attachValidation: true }, async (request, reply) => {
    const params = request.params
    const action = oneOf(params.action, DESK_ACTIONS)
    if (!action) throw notFound()
    const actor = staffOf(request)
    const who = personWho(actor)
    const t = request.t
    const ticket = await ticketByNumber(fastify, request, params.number)
    const quick = request.body?.from === 'confirm' ? oneOf(action, QUICK_ACTIONS) : undefined
    const fail = async (current: TicketDetail, status: number, formError: string, errors: FormErrors = {}) => quick
      ? renderConfirm(fastify, request, reply, current, quick, { next: request.body.next, status, errors, values: echo(request), formError })
      : renderTicket(fastify, request, reply, current, { status, failed: action, errors, values: echo(request), formError })
    const refused = async (outcome: Extract<Outcome<unknown>, { ok: false }>) => {
      const r = outcome.refusal
      if (r.code === 'not_found') throw notFound()
      const errors = fieldMessages(t, r, WORDS)
      const status = refusalStatus(r)
      const message = status === 422 ? t('common.formErrors') : refusalMessage(t, r, { conflict: 'desk.conflict' })
      // A refusal for the ticket's state or a stale page shows the ticket as it is now.
      return fail(status === 409 ? await ticketByNumber(fastify, request, params.number) : ticket, status, message, errors)
    }

    const failure = formFailure(request, FORM_MESSAGES)
    if (failure?.field === 'version') return fail(ticket, 422, failure.message)
    if (failure) return fail(ticket, 422, t('common.formErrors'), { [failure.field]: failure.message })
    const body = request.body
    const version = body.version

    if (action === 'categorize') {
      // A desk is always needed: none (null) is no choice at all (-1), for the command to refuse.
      const { impact, urgency } = body
      const outcome = await editTicketFields(deps, who, {
        ticketId: ticket.id, version, categoryId: body.category_id, productId: body.product_id, deskId: body.desk_id ?? -1,
        impact: impact === '' ? null : impact, urgency: urgency === '' ? null : urgency, priority: body.priority || null,
        source: body.source || ticket.source
      })
      if (!outcome.ok) return refused(outcome)
      const result = outcome.value
      const shown = t('priority.' + result.priority)
      if (result.changed.length === 0) reply.flash('info', t('desk.fields.nothing'))
      else if (result.fromMatrix) reply.flash('success', t('desk.categorize.savedMatrix', { priority: shown, impact: t('level.' + impact), urgency: t('level.' + urgency) }))
      else reply.flash('success', t('desk.categorize.saved', { priority: shown }))
      return redirectAfterChange(fastify, request, reply, ticket)
    }

    if (action === 'delete') {
      const outcome = await deleteTicket(deps, who, { ticketId: ticket.id, version, reason: body.reason })
      if (!outcome.ok) return refused(outcome)
      request.log.info({ ticketId: ticket.id, staffId: actor.id }, 'ticket deleted at the desk')
      reply.flash('success', t('desk.action.done.delete', { number: ticket.number }))
      return reply.redirect(returnTo(body.next, ticket, true) ?? '/desk')
    }

    const outcome = await performTransition(deps, who, action as TransitionAction, {
      ticketId: ticket.id, version, reason: body.reason, reasonCode: body.reason_code, resolution: body.resolution,
      closureCategory: body.closure_category, closureNote: body.closure_note, targetDeskId: body.target_desk_id
    })
    if (!outcome.ok) return refused(outcome)
    request.log.info({ ticketId: ticket.id, action, staffId: actor.id }, 'ticket transition at the desk')
    const after = action === 'escalate' ? await getTicketReceipt(fastify.db, ticket.id) : undefined
    reply.flash('success', t('desk.action.done.' + action, {
      number: ticket.number, desk: after?.desk_name, assignee: after?.assignee_name ?? t('ticket.unassigned')
    }))
    const back = returnTo(body.next, ticket, false)
    if (back !== null) return reply.redirect(back)
    return redirectAfterChange(fastify, request, reply, ticket)
  })
}
