import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { personWho, type Refused } from '../../commands/kernel.js'
import { performTransition } from '../../commands/lifecycle/index.js'
import { registerOccurrence } from '../../commands/register-occurrence.js'
import { rateTicket } from '../../commands/rate-ticket.js'
import type { ContactActor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'
import { Checkbox, echo, Files, files, Form, formFailure, oneOf, OptionalInteger, Text, Version } from '../forms.js'
import { fieldMessages, refusalMessage, refusalStatus, type FieldWords } from '../refusals.js'
import { loadTicket, Params, renderTicket, type PortalForm } from './ticket-page.js'

/** The lifecycle actions a requester starts from the ticket page. */
export const REQUESTER_ACTIONS = ['accept', 'reject', 'reopen', 'cancel'] as const
type RequesterAction = (typeof REQUESTER_ACTIONS)[number]

const ActionParams = Type.Object({ number: Type.String({ maxLength: 20 }), action: Type.String({ maxLength: 40 }) })

/** Every action's form: a version (checked when given) and, for some, a reason. */
const ActionForm = Form({ version: Type.Optional(Version), reject_reason: Text, cancel_reason: Text, cancel_reason_code: Text })
const OccurrenceForm = Form({ occ_category: Text, occ_origin: Text, occ_description: Text, occ_notify: Checkbox, occ_attachments: Files })
const SurveyForm = Form({ rating: OptionalInteger, comment: Text })

/** The reason field of the forms that need one (the names differ so each form keeps its own message). */
const REASON_FIELD: Partial<Record<RequesterAction, 'reject_reason' | 'cancel_reason'>> = { reject: 'reject_reason', cancel: 'cancel_reason' }

const DONE: Record<RequesterAction, string> = {
  accept: 'portal.action.accepted',
  reject: 'portal.action.rejected',
  reopen: 'portal.action.reopened',
  cancel: 'portal.action.cancelled'
}

const OCCURRENCE_WORDS: FieldWords = {
  names: { category: 'occ_category', origin: 'occ_origin', description: 'occ_description', attachments: 'occ_attachments' },
  keys: { 'description.required': 'portal.occurrence.empty' }
}
const SURVEY_WORDS: FieldWords = { keys: { 'rating.out_of_range': 'survey.invalidRating', 'rating.required': 'survey.invalidRating' } }

export default async function ticketActions(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  /**
   * A command's refusal on a form of the ticket page: the person's input (422) comes back on the
   * form; the ticket's state or a stale page (409) shows the page as it is now with the reason on
   * top; nothing changed either way.
   */
  async function refused(request: FastifyRequest, reply: FastifyReply, refusal: Refused, form: PortalForm, words: FieldWords = {}) {
    if (refusal.code === 'not_found') throw notFound()
    const t = request.t
    const values = echo(request)
    const status = refusalStatus(refusal)
    const fresh = await loadTicket(fastify, request)
    if (status === 422) {
      const errors = fieldMessages(t, refusal, { params: { max: fastify.config.MAX_ATTACHMENT_MB }, ...words })
      return renderTicket(fastify, request, reply, fresh, { failed: form, values, errors, formError: t('common.formErrors'), status: 422 })
    }
    return renderTicket(fastify, request, reply, fresh, { alert: refusalMessage(t, refusal), failed: form, values, status })
  }

  fastify.post('/tickets/:number/actions/:action', { schema: { params: ActionParams, body: ActionForm } }, async (request, reply) => {
    const action = oneOf(request.params.action, REQUESTER_ACTIONS)
    const ticket = await loadTicket(fastify, request)
    if (!action) throw notFound()
    const body = request.body
    const reasonField = REASON_FIELD[action]
    const outcome = await performTransition(deps, personWho(request.actor as ContactActor), action, {
      ticketId: ticket.id, version: body.version, reason: reasonField ? body[reasonField] : null,
      reasonCode: action === 'cancel' ? body.cancel_reason_code : null
    })
    if (!outcome.ok) return refused(request, reply, outcome.refusal, action, reasonField ? { names: { reason: reasonField, reasonCode: 'cancel_reason_code' }, keys: { 'reason.required': 'validation.required', 'reasonCode.invalid_choice': 'validation.invalidChoice' } } : {})
    request.log.info({ ticketId: ticket.id, action }, 'requester acted on a ticket in the portal')
    reply.flash('success', request.t(DONE[action], { number: ticket.number }))
    return reply.redirect(`/portal/tickets/${ticket.number}`)
  })

  fastify.post('/tickets/:number/occurrences', { schema: { params: Params, body: OccurrenceForm } }, async (request, reply) => {
    const ticket = await loadTicket(fastify, request)
    const body = request.body
    const uploads = files(request, body.occ_attachments)
    const outcome = await registerOccurrence(deps, personWho(request.actor as ContactActor), {
      ticketId: ticket.id, category: body.occ_category, origin: body.occ_origin, description: body.occ_description,
      notifyResponsible: body.occ_notify !== undefined, files: uploads, source: 'portal'
    })
    if (!outcome.ok) return refused(request, reply, outcome.refusal, 'occurrence', OCCURRENCE_WORDS)
    request.log.info({ ticketId: ticket.id, noteId: outcome.value.noteId, files: uploads.length }, 'client registered an occurrence in the portal')
    reply.flash('success', request.t('portal.occurrence.registered'))
    return reply.redirect(`/portal/tickets/${ticket.number}/occurrences#note-${outcome.value.noteId}`)
  })

  fastify.post('/tickets/:number/survey', { schema: { params: Params, body: SurveyForm }, attachValidation: true }, async (request, reply) => {
    const ticket = await loadTicket(fastify, request)
    const failure = formFailure(request, { rating: 'survey.invalidRating' })
    if (failure) {
      const t = request.t
      return renderTicket(fastify, request, reply, ticket, {
        failed: 'survey', values: echo(request), errors: { [failure.field]: failure.message }, formError: t('common.formErrors'), status: 422
      })
    }
    const body = request.body
    // No rating chosen is 0: out of range, as the command says.
    const rating = body.rating ?? 0
    const outcome = await rateTicket(deps, personWho(request.actor as ContactActor), { ticketId: ticket.id, rating, comment: body.comment })
    if (!outcome.ok) return refused(request, reply, outcome.refusal, 'survey', SURVEY_WORDS)
    request.log.info({ ticketId: ticket.id, rating }, 'client rated a ticket')
    reply.flash('success', request.t('portal.survey.thanks'))
    return reply.redirect(`/portal/tickets/${ticket.number}#survey`)
  })
}
