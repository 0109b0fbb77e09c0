import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { ConflictError } from '../../db/ticket.js'
import { getSurvey } from '../../db/ticket-extras.js'
import { LIMITS } from '../../commands/tickets.js'
import { performerOf, transition, TransitionRefused, TicketNotFound } from '../../commands/transitions.js'
import { registerOccurrence } from '../../commands/notes.js'
import { rateTicket } from '../../commands/service.js'
import type { Action, Decision } from '../../domain/lifecycle.js'
import type { ContactActor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'
import { checkLength, checkUploads, echo, files, flag, oneOf, text, type FormBody, type FormErrors } from '../forms.js'
import { FormSchema, lifecycleContext, loadTicket, Params, renderTicket, type PortalForm } from './ticket-page.js'

/** The lifecycle actions a requester starts from the ticket page. */
export const REQUESTER_ACTIONS = ['accept', 'reject', 'reopen', 'cancel'] as const
type RequesterAction = (typeof REQUESTER_ACTIONS)[number]

const ActionParams = Type.Object({ number: Type.String({ maxLength: 20 }), action: Type.String({ maxLength: 40 }) })

const LIMIT_SHORT = 100
const LIMIT_REASON = 2_000
const LIMIT_COMMENT = 2_000

/** The reason field of the forms that need one (the names differ so each form keeps its own message). */
const REASON_FIELD: Partial<Record<RequesterAction, string>> = { reject: 'reject_reason', cancel: 'cancel_reason' }

const DONE: Record<RequesterAction, string> = {
  accept: 'portal.action.accepted',
  reject: 'portal.action.rejected',
  reopen: 'portal.action.reopened',
  cancel: 'portal.action.cancelled'
}

function version(body: FormBody): number | undefined {
  const raw = text(body, 'version')
  return /^\d{1,9}$/.test(raw) ? Number(raw) : undefined
}

export default async function ticketActions(fastify: FastifyInstance) {
  const db = fastify.db
  const deps = { db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  /** A refusal or a conflict: the page again, as it is now, with the reason on top; nothing changed. */
  async function refused(request: FastifyRequest, reply: FastifyReply, message: string, form: PortalForm, values: Record<string, string>) {
    const fresh = await loadTicket(fastify, request)
    return renderTicket(fastify, request, reply, fresh, { alert: message, failed: form, values, status: 409 })
  }

  function refusal(request: FastifyRequest, decision: Decision): string | null {
    return decision.ok ? null : request.t(decision.messageKey, decision.params)
  }

  /** What a ticket form reads first, and the lifecycle's answer to `action` (a message when refused, else null). */
  async function begin(request: FastifyRequest, action: Action) {
    const ticket = await loadTicket(fastify, request)
    const body = request.body as FormBody
    const decision = (await lifecycleContext(fastify, ticket)).decide(action)
    return { ticket, actor: request.actor as ContactActor, body, t: request.t, values: echo(body), refusedWith: refusal(request, decision) }
  }

  /** Lifecycle errors thrown by a command after our own check passed (a race): answered like a refusal. */
  async function answerCommandError(request: FastifyRequest, reply: FastifyReply, err: unknown, form: PortalForm, values: Record<string, string>) {
    if (err instanceof TransitionRefused) return refused(request, reply, request.t(err.messageKey, err.params), form, values)
    if (err instanceof ConflictError) return refused(request, reply, request.t('error.conflict'), form, values)
    if (err instanceof TicketNotFound) throw notFound()
    throw err
  }

  fastify.post('/tickets/:number/actions/:action', { schema: { params: ActionParams, body: FormSchema } }, async (request, reply) => {
    const action = oneOf((request.params as { action: string }).action, REQUESTER_ACTIONS)
    const ticket = await loadTicket(fastify, request)
    if (!action) throw notFound()
    const actor = request.actor as ContactActor
    const body = request.body as FormBody
    const t = request.t
    const values = echo(body)
    const reasonField = REASON_FIELD[action]
    const reason = reasonField ? text(body, reasonField) : ''

    const context = await lifecycleContext(fastify, ticket)
    const decision = context.decide(action, { reason })
    // A missing reason is the person's to fix (422); any other refusal is the ticket's state (409).
    if (!decision.ok && !decision.code.startsWith('missing_')) return refused(request, reply, refusal(request, decision)!, action, values)

    const errors: FormErrors = {}
    if (reasonField) checkLength(errors, t, reasonField, reason, LIMIT_REASON)
    if (Object.keys(errors).length > 0) {
      return renderTicket(fastify, request, reply, ticket, { failed: action, values, errors, formError: t('common.formErrors'), status: 422 })
    }

    try {
      await transition(db, performerOf(actor), ticket.id, {
        action, reason: reason || null, expectedVersion: version(body)
      }, fastify.clock(), fastify.random)
    } catch (err) {
      return answerCommandError(request, reply, err, action, values)
    }
    request.log.info({ ticketId: ticket.id, action }, 'requester acted on a ticket in the portal')
    reply.flash('success', t(DONE[action], { number: ticket.number }))
    return reply.redirect(`/portal/tickets/${ticket.number}`)
  })

  fastify.post('/tickets/:number/occurrences', { schema: { params: Params, body: FormSchema } }, async (request, reply) => {
    const { ticket, actor, body, t, values, refusedWith } = await begin(request, 'register_occurrence')
    if (refusedWith) return refused(request, reply, refusedWith, 'occurrence', values)

    const category = text(body, 'occ_category')
    const origin = text(body, 'occ_origin')
    const description = text(body, 'occ_description')
    const uploads = files(body, 'occ_attachments')
    const errors: FormErrors = {}
    checkLength(errors, t, 'occ_category', category, LIMIT_SHORT, false)
    checkLength(errors, t, 'occ_origin', origin, LIMIT_SHORT, false)
    if (!description) errors.occ_description = t('portal.occurrence.empty')
    else checkLength(errors, t, 'occ_description', description, LIMITS.note)
    checkUploads(errors, t, 'occ_attachments', uploads, fastify.config.MAX_ATTACHMENT_MB)
    if (Object.keys(errors).length > 0) {
      return renderTicket(fastify, request, reply, ticket, { failed: 'occurrence', values, errors, formError: t('common.formErrors'), status: 422 })
    }

    let result
    try {
      result = await registerOccurrence(deps, performerOf(actor), ticket.id, {
        category, origin, description, notifyResponsible: flag(body, 'occ_notify'), files: uploads, source: 'portal'
      })
    } catch (err) {
      return answerCommandError(request, reply, err, 'occurrence', values)
    }
    request.log.info({ ticketId: ticket.id, noteId: result.noteId, files: uploads.length }, 'client registered an occurrence in the portal')
    reply.flash('success', t('portal.occurrence.registered'))
    return reply.redirect(`/portal/tickets/${ticket.number}/occurrences#note-${result.noteId}`)
  })

  fastify.post('/tickets/:number/survey', { schema: { params: Params, body: FormSchema } }, async (request, reply) => {
    const { ticket, actor, body, t, values, refusedWith } = await begin(request, 'rate')
    if (refusedWith) return refused(request, reply, refusedWith, 'survey', values)

    const raw = text(body, 'rating')
    const rating = /^[1-5]$/.test(raw) ? Number(raw) : null
    const comment = text(body, 'comment')
    const errors: FormErrors = {}
    if (rating === null) errors.rating = t('survey.invalidRating')
    checkLength(errors, t, 'comment', comment, LIMIT_COMMENT, false)
    if (Object.keys(errors).length > 0) {
      return renderTicket(fastify, request, reply, ticket, { failed: 'survey', values, errors, formError: t('common.formErrors'), status: 422 })
    }

    try {
      await rateTicket(db, performerOf(actor), ticket.id, rating!, comment || null, fastify.clock())
    } catch (err) {
      // Two submissions at once: the survey's primary key lets only one through.
      if (!(err instanceof TransitionRefused) && (await getSurvey(db, ticket.id))) {
        return refused(request, reply, t('lifecycle.refused.already_rated'), 'survey', values)
      }
      return answerCommandError(request, reply, err, 'survey', values)
    }
    request.log.info({ ticketId: ticket.id, rating }, 'client rated a ticket')
    reply.flash('success', t('portal.survey.thanks'))
    return reply.redirect(`/portal/tickets/${ticket.number}#survey`)
  })
}
