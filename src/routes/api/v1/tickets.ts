import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { getTicketForActor, getTicketReceipt, listNotes } from '../../../db/ticket.js'
import { listTickets, type Sort } from '../../../db/ticket-search.js'
import { personWho } from '../../../commands/kernel.js'
import { openTicket } from '../../../commands/open-ticket.js'
import { addNote } from '../../../commands/add-note.js'
import { transferTicket } from '../../../commands/transfer.js'
import type { Actor } from '../../../domain/permissions.js'
import { API_PARAMS, readSearch } from '../../../domain/search.js'
import { apiRefusal, forbidden, invalidFields, ticketNotFound } from './errors.js'
import { noteJson, ticketJson, ticketSummary } from './serialize.js'
import { once } from './idempotency.js'
import {
  ErrorResponses, ListQuery, NewNoteBody, NewTicketBody, NoteOrOpenedTicket, SORT_PARAMS, TicketJson, TicketList, TicketParams,
  TicketWithNotes, TransferBody
} from './schemas.js'

const SORT_COLUMN: Record<(typeof SORT_PARAMS)[number], Sort> = {
  createdAt: 'created_at', updatedAt: 'updated_at', number: 'number', priority: 'priority', title: 'title', closedAt: 'closed_at'
}

function actorOf(request: FastifyRequest): Actor {
  // The plugin's onRequest hook refuses every request without an actor.
  return request.actor!
}

export default async function ticketRoutes(fastify: FastifyInstance) {
  const api = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const db = fastify.db
  const deps = { db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  /** The ticket as the actor may see it, else 404: a client never learns that another's ticket exists. */
  async function visibleTicket(request: FastifyRequest, id: number) {
    const ticket = await getTicketForActor(db, actorOf(request), id)
    if (!ticket) throw ticketNotFound(request.t)
    return ticket
  }

  /**
   * The ticket JSON after a change; the receipt when the change took it out of the actor's sight.
   * A ticket opened through the API has no attachments yet (`withFiles: false`): nothing to read.
   */
  async function ticketAfterChange(request: FastifyRequest, id: number, opts: { withFiles: boolean } = { withFiles: true }) {
    const row = (await getTicketForActor(db, actorOf(request), id)) ?? (await getTicketReceipt(db, id))
    if (!row) throw ticketNotFound(request.t)
    const { descriptionAttachments } = opts.withFiles ? await listNotes(db, actorOf(request), id) : { descriptionAttachments: [] }
    return ticketJson(row, descriptionAttachments)
  }

  api.post('/tickets', {
    schema: {
      summary: 'Open a ticket (assigned by least load)',
      body: NewTicketBody,
      response: { 201: TicketJson, ...ErrorResponses }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const body = request.body
    if (actor.kind === 'contact' && body.contactId !== undefined && body.contactId !== actor.id) {
      throw forbidden(request.t('api.error.onBehalfStaffOnly'))
    }
    const outcome = await once(request, deps, (d) => openTicket(d, personWho(actor), {
      accountId: body.accountId ?? null,
      contactId: actor.kind === 'staff' ? body.contactId ?? null : null,
      productId: body.productId ?? null,
      categoryId: body.categoryId ?? null,
      deskId: body.deskId ?? null,
      priority: body.priority ?? null,
      title: body.title.trim(),
      description: body.description.trim(),
      url: body.url?.trim() ?? '',
      source: 'api'
    }))
    if (!outcome.ok) throw apiRefusal(request.t, outcome.refusal)
    const created = outcome.value
    request.log.info({ ticketId: created.id, number: created.number, assigneeId: created.assigneeId }, 'ticket opened through the API')
    return reply.code(201).header('location', `/api/v1/tickets/${created.id}`).send(await ticketAfterChange(request, created.id, { withFiles: false }))
  })

  api.get('/tickets', {
    schema: {
      summary: 'Tickets the caller may see',
      querystring: ListQuery,
      response: { 200: TicketList, ...ErrorResponses }
    }
  }, async (request) => {
    const q = request.query
    const actor = actorOf(request)
    // The schema checked each value's shape; readSearch checks what needs more (real days, ranges).
    const query = q as Record<string, unknown>
    const { filters, errors } = readSearch((name) => (query[name] === undefined ? undefined : String(query[name])), API_PARAMS, { kind: actor.kind })
    const wrong = Object.entries(errors).map(([field, e]) => [API_PARAMS[field] ?? field, request.t(e!.key, e!.params)])
    if (wrong.length > 0) throw invalidFields(request.t, Object.fromEntries(wrong))
    const result = await listTickets(db, actor, {
      ...filters, sort: q.sort ? SORT_COLUMN[q.sort] : undefined, order: q.order, page: q.page, perPage: q.perPage, now: fastify.clock()
    })
    return {
      items: result.items.map((item) => ticketSummary(item, fastify.clock())), total: result.total, totalCapped: result.totalCapped,
      page: result.page, perPage: result.perPage
    }
  })

  api.get('/tickets/:id', {
    schema: {
      summary: 'One ticket with the notes the caller may see',
      params: TicketParams,
      response: { 200: TicketWithNotes, ...ErrorResponses }
    }
  }, async (request) => {
    const ticket = await visibleTicket(request, request.params.id)
    const { notes, descriptionAttachments } = await listNotes(db, actorOf(request), ticket.id)
    return { ...ticketJson(ticket, descriptionAttachments), notes: notes.map((n) => noteJson(n, n.attachments)) }
  })

  api.post('/tickets/:id/notes', {
    schema: {
      summary: 'Add a reply (public) or, for staff, an internal note; a reply to a closed ticket opens a linked new ticket',
      params: TicketParams,
      body: NewNoteBody,
      response: { 201: NoteOrOpenedTicket, ...ErrorResponses }
    }
  }, async (request, reply) => {
    const actor = actorOf(request)
    const ticket = await visibleTicket(request, request.params.id)
    const visibility = request.body.visibility ?? 'public'
    if (visibility === 'internal' && actor.kind !== 'staff') throw forbidden(request.t('api.error.internalStaffOnly'))
    const outcome = await once(request, deps, (d) => addNote(d, personWho(actor), {
      ticketId: ticket.id, mode: visibility === 'internal' ? 'internal' : 'reply', body: request.body.body.trim(), source: 'api'
    }))
    if (!outcome.ok) throw apiRefusal(request.t, outcome.refusal, { keys: { 'body.required': 'api.validation.blank' }, params: { field: 'body' } })
    const result = outcome.value
    if (result.childTicket) {
      const opened = result.childTicket.id
      return reply.code(201).header('location', `/api/v1/tickets/${opened}`).send({ openedTicket: await ticketAfterChange(request, opened) })
    }
    const { notes } = await listNotes(db, actor, ticket.id)
    const note = notes.find((n) => n.id === result.noteId)
    if (!note) throw new Error(`note ${result.noteId} vanished after insert`)
    return reply.code(201).send(noteJson(note, note.attachments))
  })

  api.post('/tickets/:id/transfer', {
    schema: {
      summary: 'Staff: move a ticket to another assignee, account or product, with an internal note',
      params: TicketParams,
      body: TransferBody,
      response: { 200: TicketJson, ...ErrorResponses }
    }
  }, async (request) => {
    const actor = actorOf(request)
    const t = request.t
    // Visibility first, so a client cannot tell a foreign ticket (404) from its own (403).
    const ticket = await visibleTicket(request, request.params.id)
    const { assigneeId, accountId, productId, version } = request.body
    const outcome = await once(request, deps, (d) => transferTicket(d, personWho(actor), {
      ticketId: ticket.id, assigneeId, accountId, productId, note: request.body.note?.trim() || undefined, version, source: 'api'
    }))
    if (!outcome.ok) {
      throw apiRefusal(t, outcome.refusal, {
        keys: {
          'assigneeId.not_on_desk': 'api.transfer.assigneeNotOnDesk', 'accountId.not_requesters_account': 'api.transfer.accountNotRequesters',
          'productId.invalid_choice': 'api.transfer.unknownProduct'
        },
        forbidden: 'api.error.transferStaffOnly'
      })
    }
    const result = outcome.value
    request.log.info({ ticketId: ticket.id, changed: result.changed }, 'ticket transferred through the API')
    return ticketAfterChange(request, ticket.id)
  })
}
