import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { getTicketReceipt, type TicketDetail } from '../../db/ticket.js'
import { personWho, type Outcome } from '../../commands/kernel.js'
import { performTransition, type TransitionAction } from '../../commands/lifecycle/index.js'
import { editTicketFields } from '../../commands/edit-fields.js'
import { deleteTicket } from '../../commands/delete-ticket.js'
import { LEVELS, PRIORITIES, type Level } from '../../domain/lifecycle.js'
import type { TicketSource } from '../../db/schema.js'
import { notFound } from '../../plugins/app.js'
import { echo, oneOf, text, type FormBody, type FormErrors } from '../forms.js'
import { fieldMessages, refusalMessage, refusalStatus } from '../refusals.js'
import { FormSchema, staffOf, ticketByNumber, whole } from './shared.js'
import { DESK_ACTIONS, redirectAfterChange, renderTicket } from './ticket-page.js'
import { optionalId } from './ticket.js'

const ActionParams = Type.Object({
  number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  action: Type.String({ maxLength: 40 })
})

/** Form names of the command fields that differ from their snake_case. */
const WORDS = {
  keys: {
    'targetDeskId.invalid_choice': 'desk.escalate.chooseDesk', 'targetDeskId.required': 'desk.escalate.chooseDesk', 'targetDeskId.same_desk': 'desk.escalate.chooseDesk',
    'closureCategory.invalid_choice': 'lifecycle.refused.missing_closure_category', 'closureCategory.required': 'lifecycle.refused.missing_closure_category',
    'reason.required': 'validation.required', 'resolution.required': 'validation.required'
  }
}

export default async function actions(fastify: FastifyInstance) {
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  fastify.post('/tickets/:number/actions/:action', { schema: { params: ActionParams, body: FormSchema } }, async (request, reply) => {
    const params = request.params as { number: number; action: string }
    const action = oneOf(params.action, DESK_ACTIONS)
    if (!action) throw notFound()
    const actor = staffOf(request)
    const who = personWho(actor)
    const t = request.t
    const ticket = await ticketByNumber(fastify, request, params.number)
    const body = request.body as FormBody
    const fail = async (current: TicketDetail, status: number, formError: string, errors: FormErrors = {}) =>
      renderTicket(fastify, request, reply, current, { status, failed: action, errors, values: echo(body), formError })
    const refused = async (outcome: Extract<Outcome<unknown>, { ok: false }>) => {
      const r = outcome.refusal
      if (r.code === 'not_found') throw notFound()
      const errors = fieldMessages(t, r, WORDS)
      const status = refusalStatus(r)
      const message = status === 422 ? t('common.formErrors') : refusalMessage(t, r, { conflict: 'desk.conflict' })
      // A refusal for the ticket's state or a stale page shows the ticket as it is now.
      return fail(status === 409 ? await ticketByNumber(fastify, request, params.number) : ticket, status, message, errors)
    }

    const version = whole(text(body, 'version'))
    if (version === null) return fail(ticket, 422, t('error.badRequest'))

    if (action === 'categorize') {
      // '' is "none" for the selects that may be empty; a value that is not an id is no choice at all (-1).
      const picked = (name: string) => {
        const value = optionalId(body, name)
        return value === undefined ? -1 : value
      }
      const impact = text(body, 'impact')
      const urgency = text(body, 'urgency')
      const outcome = await editTicketFields(deps, who, {
        ticketId: ticket.id, version, categoryId: picked('category_id'), productId: picked('product_id'), deskId: picked('desk_id') ?? -1,
        impact: impact === '' ? null : impact, urgency: urgency === '' ? null : urgency, priority: text(body, 'priority') || null,
        source: text(body, 'source') || ticket.source
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
      const outcome = await deleteTicket(deps, who, { ticketId: ticket.id, version, reason: text(body, 'reason') })
      if (!outcome.ok) return refused(outcome)
      request.log.info({ ticketId: ticket.id, staffId: actor.id }, 'ticket deleted at the desk')
      reply.flash('success', t('desk.action.done.delete', { number: ticket.number }))
      return reply.redirect('/desk')
    }

    const targetDesk = optionalId(body, 'target_desk_id')
    const outcome = await performTransition(deps, who, action as TransitionAction, {
      ticketId: ticket.id, version,
      reason: text(body, 'reason'), resolution: text(body, 'resolution'),
      closureCategory: text(body, 'closure_category'), closureNote: text(body, 'closure_note'),
      targetDeskId: targetDesk === undefined ? -1 : targetDesk
    })
    if (!outcome.ok) return refused(outcome)
    request.log.info({ ticketId: ticket.id, action, staffId: actor.id }, 'ticket transition at the desk')
    const after = action === 'escalate' ? await getTicketReceipt(fastify.db, ticket.id) : undefined
    reply.flash('success', t('desk.action.done.' + action, {
      number: ticket.number, desk: after?.desk_name, assignee: after?.assignee_name ?? t('ticket.unassigned')
    }))
    return redirectAfterChange(fastify, request, reply, ticket)
  })
}
