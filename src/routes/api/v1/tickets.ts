import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { getTicketForActor, getTicketReceipt, listNotes, listTickets, transferTicket, type Sort } from '../../../db/ticket.js'
import { contactAccounts, listDeskStaff } from '../../../db/people.js'
import { productExists } from '../../../db/catalog.js'
import { actorRef } from '../../../db/event.js'
import { checkNewTicket, openTicket } from '../../../commands/tickets.js'
import { addTicketNote } from '../../../commands/notes.js'
import { assertAllowed, performerOf } from '../../../commands/transitions.js'
import type { Actor } from '../../../domain/permissions.js'
import { API_PARAMS, readSearch } from '../../../domain/search.js'
import { forbidden, invalidFields, ticketNotFound } from './errors.js'
import { noteJson, ticketJson, ticketSummary } from './serialize.js'
import {
  ErrorResponses, ListQuery, NewNoteBody, NewTicketBody, NoteOrOpenedTicket, SORT_PARAMS, TicketJson, TicketList, TicketParams,
  TicketWithNotes, TransferBody
} from './schemas.js'

const SORT_COLUMN: Record<(typeof SORT_PARAMS)[number], Sort> = {
  createdAt: 'created_at', updatedAt: 'updated_at', number: 'number', priority: 'priority', title: 'title', closedAt: 'closed_at'
}

/** checkNewTicket speaks form field names; the API speaks camelCase. */
const FIELD_NAMES: Record<string, string> = {
  account_id: 'accountId', contact_id: 'contactId', product_id: 'productId', category_id: 'categoryId', desk_id: 'deskId'
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

  /** The ticket JSON after a change; the receipt when the change took it out of the actor's sight. */
  async function ticketAfterChange(request: FastifyRequest, id: number) {
    const row = (await getTicketForActor(db, actorOf(request), id)) ?? (await getTicketReceipt(db, id))
    if (!row) throw ticketNotFound(request.t)
    const { descriptionAttachments } = await listNotes(db, actorOf(request), id)
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
    const { errors, ticket } = await checkNewTicket(db, actor, {
      accountId: body.accountId ?? null,
      contactId: actor.kind === 'staff' ? body.contactId ?? null : null,
      productId: body.productId ?? null,
      categoryId: body.categoryId ?? null,
      deskId: body.deskId ?? null,
      priority: body.priority ?? '',
      title: body.title.trim(),
      description: body.description.trim(),
      url: body.url?.trim() ?? '',
      files: [],
      source: 'api'
    }, request.t, fastify.config.MAX_ATTACHMENT_MB)
    if (!ticket) {
      throw invalidFields(request.t, Object.fromEntries(Object.entries(errors).map(([k, v]) => [FIELD_NAMES[k] ?? k, v])))
    }
    const created = await openTicket(deps, actor, ticket, [])
    request.log.info({ ticketId: created.id, number: created.number, assigneeId: created.assignee_id }, 'ticket opened through the API')
    return reply.code(201).header('location', `/api/v1/tickets/${created.id}`).send(await ticketAfterChange(request, created.id))
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
    const body = request.body.body.trim()
    if (!body) throw invalidFields(request.t, { body: request.t('api.validation.blank', { field: 'body' }) })
    const result = await addTicketNote(deps, performerOf(actor), ticket.id, { mode: visibility === 'internal' ? 'internal' : 'reply', body, source: 'api' })
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
    if (actor.kind !== 'staff') throw forbidden(t('api.error.transferStaffOnly'))
    await assertAllowed(db, performerOf(actor), ticket.id, 'transfer')

    const { assigneeId, accountId, productId, version } = request.body
    const note = request.body.note?.trim() || undefined
    const fields: Record<string, string> = {}
    if (assigneeId !== undefined && assigneeId !== null && assigneeId !== ticket.assignee_id) {
      const members = await listDeskStaff(db, [ticket.desk_id])
      if (!members.some((m) => m.id === assigneeId)) fields.assigneeId = t('api.transfer.assigneeNotOnDesk', { desk: ticket.desk_name ?? '' })
    }
    if (accountId !== undefined && accountId !== ticket.account_id) {
      const accounts = await contactAccounts(db, ticket.contact_id)
      if (!accounts.some((a) => a.id === accountId)) fields.accountId = t('api.transfer.accountNotRequesters')
    }
    if (productId !== undefined && productId !== ticket.product_id) {
      if (productId === null && ticket.category_id === null) fields.productId = t('ticket.catalogOrProduct')
      else if (productId !== null && !(await productExists(db, productId))) fields.productId = t('api.transfer.unknownProduct')
    }
    if (Object.keys(fields).length > 0) throw invalidFields(t, fields)

    const result = await transferTicket(db, ticket.id, { assigneeId, accountId, productId, note, expectedVersion: version, source: 'api' }, {
      actor: actorRef(actor), now: fastify.clock().toISOString()
    })
    request.log.info({ ticketId: ticket.id, changed: result.changed }, 'ticket transferred through the API')
    return ticketAfterChange(request, ticket.id)
  })
}
