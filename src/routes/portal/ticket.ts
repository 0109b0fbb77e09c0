import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { addNote, getTicketForActor, getTicketIdByNumber, listHistory, listNotes, type TicketDetail } from '../../db/ticket.js'
import { getCatalogItemPath } from '../../db/catalog.js'
import { getStaff } from '../../db/people.js'
import { actorRef } from '../../db/event.js'
import type { TicketEvent } from '../../db/schema.js'
import { LIMITS } from '../../commands/tickets.js'
import { decide, type LifecyclePolicy } from '../../domain/lifecycle.js'
import type { ContactActor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'
import { checkLength, checkUploads, echo, files, text, type FormBody, type FormErrors } from '../forms.js'

// A string, so /portal/tickets/abc is a plain 404 like any ticket the client may not see.
const Params = Type.Object({ number: Type.String({ maxLength: 20 }) })
const FormSchema = Type.Record(Type.String(), Type.Unknown())

// Replies do not depend on either policy setting; decide() still wants the whole policy.
const POLICY: LifecyclePolicy = { staffMayCloseWithoutRequester: false, occurrenceViaPortal: true }

export type ReplyGate = { open: true } | { open: false; reason: 'closed' | 'cancelled' | 'refused'; messageKey: string }

/** May the requester reply here? A closed ticket will take replies as a new linked ticket (later issue). */
export function replyGate(ticket: { state: string; status: string }): ReplyGate {
  const decision = decide({ state: ticket.state as never, status: ticket.status as never }, { role: 'requester' }, 'reply', {}, POLICY)
  if (decision.ok && !decision.effects.spawnChild) return { open: true }
  if (decision.ok || ticket.state === 'closed') return { open: false, reason: 'closed', messageKey: 'portal.reply.closed' }
  if (ticket.state === 'cancelled') return { open: false, reason: 'cancelled', messageKey: 'portal.reply.cancelled' }
  return { open: false, reason: 'refused', messageKey: decision.messageKey }
}

/**
 * What a client may read of the history: internal notes are staff business, and a transfer's
 * note is the text of an internal note, so both stay out.
 */
export function clientHistory(events: TicketEvent[]): TicketEvent[] {
  return events
    .filter((e) => e.action !== 'internal')
    .map((e) => (e.action === 'transfer' ? { ...e, note: null } : e))
}

export default async function ticketPage(fastify: FastifyInstance) {
  const db = fastify.db

  async function loadTicket(request: FastifyRequest): Promise<TicketDetail> {
    const raw = (request.params as { number: string }).number
    if (!/^[1-9]\d{0,8}$/.test(raw)) throw notFound()
    const id = await getTicketIdByNumber(db, Number(raw))
    const ticket = id === undefined ? undefined : await getTicketForActor(db, request.actor!, id)
    if (!ticket) throw notFound()
    return ticket
  }

  async function renderTicket(request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail,
    opts: { values?: Record<string, string>; errors?: FormErrors; formError?: string; status?: number } = {}) {
    const actor = request.actor as ContactActor
    const [conversation, catalogItem, openedBy] = await Promise.all([
      listNotes(db, actor, ticket.id),
      ticket.category_id === null ? undefined : getCatalogItemPath(db, ticket.category_id),
      ticket.created_by_staff_id === null ? undefined : getStaff(db, ticket.created_by_staff_id)
    ])
    return reply.page('portal/ticket', {
      title: `#${ticket.number} ${ticket.title}`,
      tab: 'details',
      ticket,
      notes: conversation.notes,
      descriptionAttachments: conversation.descriptionAttachments,
      catalogItem: catalogItem ?? null,
      openedByStaff: openedBy?.name ?? null,
      gate: replyGate(ticket),
      limits: LIMITS,
      values: opts.values ?? {},
      errors: opts.errors ?? {},
      formError: opts.formError
    }, opts.status ?? 200)
  }

  fastify.get('/tickets/:number', { schema: { params: Params } }, async (request, reply) => {
    return renderTicket(request, reply, await loadTicket(request))
  })

  fastify.get('/tickets/:number/history', { schema: { params: Params } }, async (request, reply) => {
    const ticket = await loadTicket(request)
    return reply.page('portal/history', {
      title: `#${ticket.number} ${ticket.title}`,
      tab: 'history',
      ticket,
      events: clientHistory(await listHistory(db, ticket.id))
    })
  })

  fastify.post('/tickets/:number/replies', { schema: { params: Params, body: FormSchema } }, async (request, reply) => {
    const actor = request.actor as ContactActor
    const ticket = await loadTicket(request)
    const body = request.body as FormBody
    const t = request.t
    const values = echo(body)

    const gate = replyGate(ticket)
    if (!gate.open) {
      return renderTicket(request, reply, ticket, { values, formError: t(gate.messageKey), status: 409 })
    }

    const message = text(body, 'body')
    const uploads = files(body, 'attachments')
    const errors: FormErrors = {}
    if (!message) errors.body = t('portal.reply.empty')
    else checkLength(errors, t, 'body', message, LIMITS.note)
    checkUploads(errors, t, 'attachments', uploads, fastify.config.MAX_ATTACHMENT_MB)
    if (Object.keys(errors).length > 0) {
      return renderTicket(request, reply, ticket, { values, errors, formError: t('common.formErrors'), status: 422 })
    }

    const stored = []
    for (const f of uploads) stored.push(await fastify.store.keep(f))
    const note = await addNote(db, {
      ticketId: ticket.id, kind: 'reply', visibility: 'public', body: message, source: 'portal', files: stored
    }, { actor: actorRef(actor), now: fastify.clock().toISOString() })
    request.log.info({ ticketId: ticket.id, noteId: note.id, files: stored.length }, 'client replied in the portal')
    reply.flash('success', t('ticket.replied'))
    return reply.redirect(`/portal/tickets/${ticket.number}#note-${note.id}`)
  })
}
