import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listHistory, listNotes, type TicketDetail } from '../../db/ticket.js'
import { personWho, type Refused } from '../../commands/kernel.js'
import { addNote } from '../../commands/add-note.js'
import { registerOccurrence } from '../../commands/register-occurrence.js'
import { transferTicket } from '../../commands/transfer.js'
import { MAX_MINUTES, NOTE_MODES } from '../../domain/ticket.js'
import type { Translate } from '../../i18n/index.js'
import { notFound } from '../../plugins/app.js'
import { echo, files, flag, id, oneOf, text, type FormBody, type FormErrors } from '../forms.js'
import { fieldMessages, refusalMessage, refusalStatus, type FieldWords } from '../refusals.js'
import { deskTicketForm, FormSchema, NumberParams, staffOf, ticketByNumber, whole } from './shared.js'
import { openedBy, redirectAfterChange, renderTicket, type DeskForm } from './ticket-page.js'

/** How the note and occurrence forms name what the commands refuse. */
const NOTE_WORDS: FieldWords = {
  names: { minutesSpent: 'minutes_spent', occurredAt: 'occurred_at', sendEmail: 'send_email' },
  keys: { 'minutesSpent.out_of_range': 'desk.reply.minutesRange', 'occurredAt.invalid_choice': 'desk.occurredAt.invalid' }
}

/** An optional id field: '' is "none" (null), anything else must be a valid id (undefined = invalid). */
export function optionalId(body: FormBody, name: string): number | null | undefined {
  if (text(body, name) === '') return null
  return id(body, name) ?? undefined
}

/** Minutes spent: empty is none; anything but whole minutes is out of range (-1), as the command says. */
function minutesField(body: FormBody): number | null {
  const raw = text(body, 'minutes_spent')
  if (raw === '') return null
  return whole(raw) ?? -1
}

/**
 * When the occurrence happened, from a datetime-local field read as UTC (the times the app
 * shows are UTC); a date that does not exist is passed on as given, for the command to refuse.
 */
function occurredAtField(body: FormBody): string | null {
  const raw = text(body, 'occurred_at')
  if (raw === '') return null
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(raw)
  const date = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0)) : null
  // Date.UTC rolls 2026-02-31 over into March: a date that does not round-trip is not a date.
  if (!date || date.getUTCDate() !== +m![3] || date.getUTCMonth() !== +m![2] - 1) return raw
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

  /** A command's refusal on one of the page's forms: 404 for a ticket gone, else the page with the reason. */
  async function refusedForm(request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, form: DeskForm, refusal: Refused, words: FieldWords = {}) {
    if (refusal.code === 'not_found') throw notFound()
    const t = request.t
    const status = refusalStatus(refusal)
    const errors = fieldMessages(t, refusal, { params: { max: fastify.config.MAX_ATTACHMENT_MB }, ...words })
    if (status === 422) return failed(request, reply, ticket, form, 422, refusal.code === 'nothing_to_change' ? refusalMessage(t, refusal) : t('common.formErrors'), errors)
    const current = await ticketByNumber(fastify, request, ticket.number)
    const message = refusalMessage(t, refusal, { conflict: 'desk.conflict' })
    return failed(request, reply, current, form, status, form === 'note' && status === 409 && refusal.code !== 'conflict'
      ? t('desk.reply.refused', { status: t('status.' + current.status), reason: message })
      : message, errors)
  }

  fastify.post('/tickets/:number/transfer', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { actor, t, ticket, body } = await deskTicketForm(fastify, request)
    const version = whole(text(body, 'version'))
    // '' keeps the ticket as it is: a transfer hands the ticket on, it does not leave it without anyone.
    const assigneeId = text(body, 'assignee_id') === '' ? undefined : id(body, 'assignee_id') ?? -1
    const accountId = text(body, 'account_id') === '' ? undefined : id(body, 'account_id') ?? -1
    const productId = optionalId(body, 'product_id')
    if (version === null) return failed(request, reply, ticket, 'transfer', 422, t('error.badRequest'))

    const outcome = await transferTicket(deps, personWho(actor), { ticketId: ticket.id, version, assigneeId, accountId, productId: productId === undefined ? -1 : productId, note: text(body, 'note') })
    if (!outcome.ok) return refusedForm(request, reply, ticket, 'transfer', outcome.refusal)
    reply.flash('success', t('desk.transfer.done'))
    return redirectAfterChange(fastify, request, reply, ticket)
  })

  fastify.post('/tickets/:number/notes', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { actor, t, ticket, body } = await deskTicketForm(fastify, request)
    const mode = oneOf(text(body, 'mode'), NOTE_MODES)
    if (!mode) return failed(request, reply, ticket, 'note', 422, t('common.formErrors'), { mode: t('validation.invalidChoice') })
    const minutes = minutesField(body)
    const occurredAt = occurredAtField(body)
    const visible = mode === 'note' && flag(body, 'visible_to_requester')
    const outcome = await addNote(deps, personWho(actor), {
      ticketId: ticket.id, mode, body: text(body, 'body'), visibleToRequester: visible, sendEmail: mode === 'note' && flag(body, 'send_email'),
      minutesSpent: minutes, occurredAt, files: files(body, 'attachments'), source: 'portal'
    })
    if (!outcome.ok) return refusedForm(request, reply, ticket, 'note', outcome.refusal, NOTE_WORDS)
    const result = outcome.value
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
    const { actor, t, ticket, body } = await deskTicketForm(fastify, request)
    const minutes = minutesField(body)
    const occurredAt = occurredAtField(body)
    const outcome = await registerOccurrence(deps, personWho(actor), {
      ticketId: ticket.id, category: text(body, 'category'), origin: text(body, 'origin'), description: text(body, 'description'),
      occurredAt, minutesSpent: minutes, files: files(body, 'attachments'), source: 'portal',
      visibleToRequester: flag(body, 'visible_to_requester'), notifyResponsible: flag(body, 'notify_responsible')
    })
    if (!outcome.ok) return refusedForm(request, reply, ticket, 'occurrence', outcome.refusal, NOTE_WORDS)
    request.log.info({ ticketId: ticket.id, noteId: outcome.value.noteId }, 'occurrence registered at the desk')
    reply.flash('success', t('desk.occurrence.done'))
    return reply.redirect(`/desk/tickets/${ticket.number}#note-${outcome.value.noteId}`)
  })
}
