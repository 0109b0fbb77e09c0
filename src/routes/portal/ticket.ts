import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { listHistory, listNotes } from '../../db/ticket.js'
import type { TicketEvent } from '../../db/schema.js'
import { personWho } from '../../commands/kernel.js'
import { addNote } from '../../commands/add-note.js'
import type { ContactActor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'
import { echo, Files, files, Form, Text } from '../forms.js'
import { fieldMessages, refusalMessage, refusalStatus } from '../refusals.js'
import { loadTicket, Params, renderTicket, replyGate } from './ticket-page.js'
import { listItems } from '../../db/managed-lists.js'
import { listView, withListLabels } from '../list-view.js'

export { replyGate, type ReplyGate } from './ticket-page.js'

// Staff-only bookkeeping: the hierarchical SLA escalation goes to the desk manager, not the client.
// An occurrence the requester may not see is staff-only too.
const STAFF_ONLY_ACTIONS = new Set(['internal', 'internal_occurrence', 'sla_escalation'])
// Their notes are written for colleagues (a transfer's note is an internal note's text).
const STAFF_NOTE_ACTIONS = new Set(['transfer', 'escalate'])

/** What a client may read of the history: internal notes and staff-to-staff reasons stay out. */
export function clientHistory(events: TicketEvent[]): TicketEvent[] {
  return events
    .filter((e) => !STAFF_ONLY_ACTIONS.has(e.action))
    .map((e) => (STAFF_NOTE_ACTIONS.has(e.action) ? { ...e, note: null } : e))
}

const ReplyForm = Form({ body: Text, attachments: Files })

export default async function ticketPage(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
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
      events: withListLabels(clientHistory(await listHistory(db, ticket.id)), listView(await listItems(db), request.locale))
    })
  })

  fastify.get('/tickets/:number/occurrences', { schema: { params: Params } }, async (request, reply) => {
    const ticket = await loadTicket(fastify, request)
    // listNotes already keeps a client to public notes.
    const [{ notes }, managed] = await Promise.all([listNotes(db, request.actor as ContactActor, ticket.id), listItems(db)])
    return reply.page('portal/occurrences', {
      title: `#${ticket.number} ${ticket.title}`,
      lists: listView(managed, request.locale),
      tab: 'occurrences',
      ticket,
      occurrences: notes.filter((n) => n.kind === 'occurrence'),
      conversation: notes.filter((n) => n.kind !== 'occurrence')
    })
  })

  fastify.post('/tickets/:number/replies', { schema: { params: Params, body: ReplyForm } }, async (request, reply) => {
    const ticket = await loadTicket(fastify, request)
    const body = request.body
    const t = request.t
    const uploads = files(request, body.attachments)
    const outcome = await addNote({ db, store: fastify.store, clock: fastify.clock, random: fastify.random }, personWho(request.actor as ContactActor), {
      ticketId: ticket.id, mode: 'reply', body: body.body, files: uploads, source: 'portal'
    })
    if (!outcome.ok) {
      const refusal = outcome.refusal
      if (refusal.code === 'not_found') throw notFound()
      const fresh = await loadTicket(fastify, request)
      const status = refusalStatus(refusal)
      if (status === 422) {
        const errors = fieldMessages(t, refusal, { params: { max: fastify.config.MAX_ATTACHMENT_MB }, keys: { 'body.required': 'portal.reply.empty' } })
        return renderTicket(fastify, request, reply, fresh, { failed: 'reply', values: echo(request), errors, formError: t('common.formErrors'), status })
      }
      // The ticket takes no replies (e.g. staff cancelled it meanwhile): say why, as the page does.
      const gate = replyGate(fresh)
      return renderTicket(fastify, request, reply, fresh, { alert: gate.open ? refusalMessage(t, refusal) : t(gate.messageKey), failed: 'reply', values: echo(request), status })
    }
    const result = outcome.value
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
