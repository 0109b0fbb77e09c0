import type { FastifyInstance } from 'fastify'
import { listHistory, listNotes } from '../../db/ticket.js'
import type { TicketEvent } from '../../db/schema.js'
import { LIMITS } from '../../commands/tickets.js'
import { addTicketNote } from '../../commands/notes.js'
import { performerOf, TransitionRefused } from '../../commands/transitions.js'
import type { ContactActor } from '../../domain/permissions.js'
import { checkLength, checkUploads, echo, files, text, type FormBody, type FormErrors } from '../forms.js'
import { FormSchema, loadTicket, Params, renderTicket, replyGate } from './ticket-page.js'

export { replyGate, type ReplyGate } from './ticket-page.js'

// Staff-only bookkeeping: the hierarchical SLA escalation goes to the desk manager, not the client.
const STAFF_ONLY_ACTIONS = new Set(['internal', 'sla_escalation'])
// Their notes are written for colleagues (a transfer's note is an internal note's text).
const STAFF_NOTE_ACTIONS = new Set(['transfer', 'escalate'])

/** What a client may read of the history: internal notes and staff-to-staff reasons stay out. */
export function clientHistory(events: TicketEvent[]): TicketEvent[] {
  return events
    .filter((e) => !STAFF_ONLY_ACTIONS.has(e.action))
    .map((e) => (STAFF_NOTE_ACTIONS.has(e.action) ? { ...e, note: null } : e))
}

export default async function ticketPage(fastify: FastifyInstance) {
  const db = fastify.db

  fastify.get('/tickets/:number', { schema: { params: Params } }, async (request, reply) => {
    return renderTicket(fastify, request, reply, await loadTicket(fastify, request))
  })

  fastify.get('/tickets/:number/history', { schema: { params: Params } }, async (request, reply) => {
    const ticket = await loadTicket(fastify, request)
    return reply.page('portal/history', {
      title: `#${ticket.number} ${ticket.title}`,
      tab: 'history',
      ticket,
      events: clientHistory(await listHistory(db, ticket.id))
    })
  })

  fastify.get('/tickets/:number/occurrences', { schema: { params: Params } }, async (request, reply) => {
    const ticket = await loadTicket(fastify, request)
    // listNotes already keeps a client to public notes.
    const { notes } = await listNotes(db, request.actor as ContactActor, ticket.id)
    return reply.page('portal/occurrences', {
      title: `#${ticket.number} ${ticket.title}`,
      tab: 'occurrences',
      ticket,
      occurrences: notes.filter((n) => n.kind === 'occurrence'),
      conversation: notes.filter((n) => n.kind !== 'occurrence')
    })
  })

  fastify.post('/tickets/:number/replies', { schema: { params: Params, body: FormSchema } }, async (request, reply) => {
    const actor = request.actor as ContactActor
    const ticket = await loadTicket(fastify, request)
    const body = request.body as FormBody
    const t = request.t
    const values = echo(body)

    const gate = replyGate(ticket)
    if (!gate.open) return renderTicket(fastify, request, reply, ticket, { alert: t(gate.messageKey), status: 409 })

    const message = text(body, 'body')
    const uploads = files(body, 'attachments')
    const errors: FormErrors = {}
    if (!message) errors.body = t('portal.reply.empty')
    else checkLength(errors, t, 'body', message, LIMITS.note)
    checkUploads(errors, t, 'attachments', uploads, fastify.config.MAX_ATTACHMENT_MB)
    if (Object.keys(errors).length > 0) {
      return renderTicket(fastify, request, reply, ticket, { failed: 'reply', values, errors, formError: t('common.formErrors'), status: 422 })
    }

    let result
    try {
      result = await addTicketNote({ db, store: fastify.store, clock: fastify.clock, random: fastify.random }, performerOf(actor), ticket.id, {
        mode: 'reply', body: message, files: uploads, source: 'portal'
      })
    } catch (err) {
      // The ticket changed between the page and the reply (e.g. staff cancelled it meanwhile).
      if (!(err instanceof TransitionRefused)) throw err
      const fresh = await loadTicket(fastify, request)
      const now = replyGate(fresh)
      return renderTicket(fastify, request, reply, fresh, { alert: now.open ? t(err.messageKey) : t(now.messageKey), failed: 'reply', values, status: 409 })
    }
    if (result.childTicket) {
      request.log.info({ ticketId: ticket.id, childTicketId: result.childTicket.id }, 'client reply to a closed ticket opened a follow-up ticket')
      reply.flash('success', t('portal.reply.childOpened', { number: result.childTicket.number, origin: ticket.number }))
      return reply.redirect(`/portal/tickets/${result.childTicket.number}`)
    }
    request.log.info({ ticketId: ticket.id, noteId: result.noteId, files: uploads.length }, 'client replied in the portal')
    reply.flash('success', t('ticket.replied'))
    return reply.redirect(`/portal/tickets/${ticket.number}#note-${result.noteId}`)
  })
}
