import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ConflictError, listHistory, listNotes, transferTicket, type TicketDetail } from '../../db/ticket.js'
import { contactAccounts, listDeskStaff } from '../../db/people.js'
import { productExists } from '../../db/catalog.js'
import { actorRef } from '../../db/event.js'
import { LIMITS } from '../../commands/tickets.js'
import { addTicketNote, registerOccurrence } from '../../commands/notes.js'
import { performerOf, TicketNotFound, TransitionRefused } from '../../commands/transitions.js'
import type { Translate } from '../../i18n/index.js'
import { notFound } from '../../plugins/app.js'
import { checkLength, checkUploads, echo, files, flag, id, oneOf, text, type FormBody, type FormErrors } from '../forms.js'
import { deskTicketForm, FormSchema, NumberParams, staffOf, ticketByNumber, whole } from './shared.js'
import { MAX_MINUTES, NOTE_MODES, openedBy, redirectAfterChange, renderTicket, type DeskForm } from './ticket-page.js'

/** Occurrence category and origin are short free-text labels (the form suggests common ones). */
const OCCURRENCE_LIMIT = 100

/** An optional id field: '' is "none" (null), anything else must be a valid id (undefined = invalid). */
export function optionalId(body: FormBody, name: string): number | null | undefined {
  if (text(body, name) === '') return null
  return id(body, name) ?? undefined
}

/** Minutes spent: empty is none, otherwise whole minutes up to MAX_MINUTES. */
function minutesField(body: FormBody, errors: FormErrors, t: Translate): number | null {
  const raw = text(body, 'minutes_spent')
  if (raw === '') return null
  const minutes = whole(raw)
  if (minutes === null || minutes > MAX_MINUTES) {
    errors.minutes_spent = t('desk.reply.minutesRange', { max: MAX_MINUTES })
    return null
  }
  return minutes
}

/**
 * When the occurrence happened, from a datetime-local field read as UTC (the times the app
 * shows are UTC); never in the future.
 */
function occurredAtField(body: FormBody, errors: FormErrors, t: Translate, now: Date): string | null {
  const raw = text(body, 'occurred_at')
  if (raw === '') return null
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(raw)
  const date = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0)) : null
  // Date.UTC rolls 2026-02-31 over into March: a date that does not round-trip is not a date.
  if (!date || date.getUTCDate() !== +m![3] || date.getUTCMonth() !== +m![2] - 1) {
    errors.occurred_at = t('desk.occurredAt.invalid')
    return null
  }
  if (date.getTime() > now.getTime() + 60_000) {
    errors.occurred_at = t('desk.occurredAt.future')
    return null
  }
  return date.toISOString()
}

export default async function ticketPage(fastify: FastifyInstance) {
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  /** Re-renders the page with one form failed; a refusal or conflict shows the current ticket. */
  function failed(request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, form: DeskForm, status: number, formError: string, errors: FormErrors = {}) {
    return renderTicket(fastify, request, reply, ticket, { status, failed: form, errors, values: echo(request.body as FormBody), formError })
  }

  fastify.get('/tickets/:number', { schema: { params: NumberParams } }, async (request, reply) => {
    const { number } = request.params as { number: number }
    return renderTicket(fastify, request, reply, await ticketByNumber(fastify, request, number))
  })

  fastify.get('/tickets/:number/history', { schema: { params: NumberParams } }, async (request, reply) => {
    const { number } = request.params as { number: number }
    const ticket = await ticketByNumber(fastify, request, number)
    const createdBy = await openedBy(fastify, ticket)
    const events = (await listHistory(fastify.db, ticket.id)).map((e) =>
      e.action === 'created' && createdBy
        ? { ...e, note: e.note ?? request.t('ticket.onBehalfBy', { staff: createdBy, contact: ticket.contact_name }) }
        : e)
    return reply.page('desk/history', { title: `#${ticket.number} ${ticket.title}`, tab: 'history', ticket, createdBy, events })
  })

  fastify.get('/tickets/:number/occurrences', { schema: { params: NumberParams } }, async (request, reply) => {
    const { number } = request.params as { number: number }
    const ticket = await ticketByNumber(fastify, request, number)
    const [{ notes }, createdBy] = await Promise.all([listNotes(fastify.db, staffOf(request), ticket.id), openedBy(fastify, ticket)])
    return reply.page('desk/occurrences', {
      title: `#${ticket.number} ${ticket.title}`, tab: 'occurrences', ticket, createdBy,
      occurrences: notes.filter((n) => n.kind === 'occurrence'),
      conversation: notes.filter((n) => n.kind !== 'occurrence')
    })
  })

  fastify.post('/tickets/:number/transfer', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { number, actor, t, ticket, body, lifecycle } = await deskTicketForm(fastify, request)
    const errors: FormErrors = {}
    const refusal = (await lifecycle()).refusal('transfer')
    if (refusal) return failed(request, reply, ticket, 'transfer', 409, t(refusal.messageKey, refusal.params))

    const version = whole(text(body, 'version'))
    // '' keeps the ticket as it is: a transfer hands the ticket on, it does not leave it without anyone.
    const assigneeId = text(body, 'assignee_id') === '' ? ticket.assignee_id : id(body, 'assignee_id')
    if (assigneeId !== ticket.assignee_id) {
      const members = await listDeskStaff(fastify.db, [ticket.desk_id])
      if (assigneeId === null || !members.some((m) => m.id === assigneeId)) errors.assignee_id = t('validation.invalidChoice')
    }
    const accountId = id(body, 'account_id') ?? ticket.account_id
    if (accountId !== ticket.account_id) {
      const accounts = await contactAccounts(fastify.db, ticket.contact_id)
      if (!accounts.some((a) => a.id === accountId)) errors.account_id = t('validation.invalidChoice')
    }
    const productId = optionalId(body, 'product_id')
    if (productId === undefined || (productId !== null && productId !== ticket.product_id && !(await productExists(fastify.db, productId)))) {
      errors.product_id = t('validation.invalidChoice')
    } else if (productId === null && ticket.category_id === null) errors.product_id = t('ticket.catalogOrProduct')
    const note = text(body, 'note')
    checkLength(errors, t, 'note', note, LIMITS.note)

    const changes = assigneeId !== ticket.assignee_id || accountId !== ticket.account_id || (productId !== undefined && productId !== ticket.product_id)
    let formError = Object.keys(errors).length > 0 ? t('common.formErrors') : undefined
    if (version === null) formError = t('error.badRequest')
    else if (!formError && !changes) formError = t('desk.transfer.nothing')
    if (formError) return failed(request, reply, ticket, 'transfer', 422, formError, errors)

    try {
      await transferTicket(fastify.db, ticket.id, {
        assigneeId, accountId, productId: productId!, note, expectedVersion: version!
      }, { actor: actorRef(actor), now: fastify.clock().toISOString() })
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err
      return renderTicket(fastify, request, reply, await ticketByNumber(fastify, request, number), { status: 409, formError: t('desk.conflict') })
    }
    reply.flash('success', t('desk.transfer.done'))
    return redirectAfterChange(fastify, request, reply, ticket)
  })

  fastify.post('/tickets/:number/notes', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { number, actor, t, ticket, body, lifecycle } = await deskTicketForm(fastify, request)
    const errors: FormErrors = {}
    const mode = oneOf(text(body, 'mode'), NOTE_MODES)
    if (!mode) return failed(request, reply, ticket, 'note', 422, t('common.formErrors'), { mode: t('validation.invalidChoice') })
    const refusal = (await lifecycle()).refusal(mode === 'reply' || mode === 'message' ? 'reply' : 'add_note')
    if (refusal) return failed(request, reply, ticket, 'note', 409, t('desk.reply.refused', { status: t('status.' + ticket.status), reason: t(refusal.messageKey, refusal.params) }))

    const message = text(body, 'body')
    checkLength(errors, t, 'body', message, LIMITS.note)
    const minutes = minutesField(body, errors, t)
    const occurredAt = occurredAtField(body, errors, t, fastify.clock())
    const visible = mode === 'note' && flag(body, 'visible_to_requester')
    const sendEmail = mode === 'note' && flag(body, 'send_email')
    if (sendEmail && !visible) errors.send_email = t('desk.reply.emailNeedsVisible')
    const uploads = files(body, 'attachments')
    checkUploads(errors, t, 'attachments', uploads, fastify.config.MAX_ATTACHMENT_MB)
    if (Object.keys(errors).length > 0) return failed(request, reply, ticket, 'note', 422, t('common.formErrors'), errors)

    let result
    try {
      result = await addTicketNote(deps, performerOf(actor), ticket.id, {
        mode, body: message, visibleToRequester: visible, sendEmail, minutesSpent: minutes, occurredAt, files: uploads, source: 'portal'
      })
    } catch (err) {
      if (err instanceof TicketNotFound) throw notFound()
      if (!(err instanceof TransitionRefused)) throw err
      const current = await ticketByNumber(fastify, request, number)
      return failed(request, reply, current, 'note', 409, t('desk.reply.refused', { status: t('status.' + current.status), reason: t(err.messageKey, err.params) }))
    }
    if (result.childTicket) {
      request.log.info({ ticketId: ticket.id, childId: result.childTicket.id }, 'desk reply to a closed ticket opened a follow-up')
      reply.flash('success', t('desk.reply.childOpened', { number: ticket.number, child: result.childTicket.number }))
      return redirectAfterChange(fastify, request, reply, result.childTicket)
    }
    request.log.info({ ticketId: ticket.id, noteId: result.noteId, mode }, 'desk note added')
    const done = mode === 'reply' ? 'desk.reply.sent' : mode === 'message' ? 'desk.reply.messageSent' : mode === 'internal' || !visible ? 'desk.reply.noted' : 'desk.reply.notedPublic'
    reply.flash('success', t(done))
    return reply.redirect(`/desk/tickets/${ticket.number}#note-${result.noteId}`)
  })

  fastify.post('/tickets/:number/occurrences', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { number, actor, t, ticket, body, lifecycle } = await deskTicketForm(fastify, request)
    const errors: FormErrors = {}
    const refusal = (await lifecycle()).refusal('register_occurrence')
    if (refusal) return failed(request, reply, ticket, 'occurrence', 409, t(refusal.messageKey, refusal.params))

    const category = text(body, 'category')
    checkLength(errors, t, 'category', category, OCCURRENCE_LIMIT)
    const origin = text(body, 'origin')
    checkLength(errors, t, 'origin', origin, OCCURRENCE_LIMIT)
    const description = text(body, 'description')
    checkLength(errors, t, 'description', description, LIMITS.note)
    const minutes = minutesField(body, errors, t)
    const occurredAt = occurredAtField(body, errors, t, fastify.clock())
    const uploads = files(body, 'attachments')
    checkUploads(errors, t, 'attachments', uploads, fastify.config.MAX_ATTACHMENT_MB)
    if (Object.keys(errors).length > 0) return failed(request, reply, ticket, 'occurrence', 422, t('common.formErrors'), errors)

    let result
    try {
      result = await registerOccurrence(deps, performerOf(actor), ticket.id, {
        category, origin, description, occurredAt, minutesSpent: minutes, files: uploads, source: 'portal',
        visibleToRequester: flag(body, 'visible_to_requester'), notifyResponsible: flag(body, 'notify_responsible')
      })
    } catch (err) {
      if (err instanceof TicketNotFound) throw notFound()
      if (!(err instanceof TransitionRefused)) throw err
      return failed(request, reply, await ticketByNumber(fastify, request, number), 'occurrence', 409, t(err.messageKey, err.params))
    }
    request.log.info({ ticketId: ticket.id, noteId: result.noteId }, 'occurrence registered at the desk')
    reply.flash('success', t('desk.occurrence.done'))
    return reply.redirect(`/desk/tickets/${ticket.number}#note-${result.noteId}`)
  })
}
