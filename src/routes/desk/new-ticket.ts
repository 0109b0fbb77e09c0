import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { accountsOfContacts, getContact, openableAccounts, searchContacts } from '../../db/people.js'
import { listCatalogItems, listDesks, listProducts } from '../../db/catalog.js'
import { getTicketForActor } from '../../db/ticket.js'
import { personWho } from '../../commands/kernel.js'
import { openTicket } from '../../commands/open-ticket.js'
import { PRIORITIES } from '../../domain/lifecycle.js'
import { STAFF_SOURCES } from '../../domain/ticket.js'
import { choices, echo, Files, files, Form, formFailure, OptionalId, Text, type FormErrors } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import { staffOf, whole } from './shared.js'

const NewQuery = Type.Object({
  contact: Type.Optional(Type.String({ maxLength: 12 })),
  q: Type.Optional(Type.String({ maxLength: 200 }))
})

/** The contact comes first: Ajv stops at the first field that fails, so it is read whenever another field fails. */
const NewTicketForm = Form({
  contact_id: OptionalId,
  account_id: OptionalId, product_id: OptionalId, category_id: OptionalId, desk_id: OptionalId,
  priority: Text, title: Text, description: Text, url: Text, attachments: Files,
  /** Staff say how the client reached them (phone, e-mail, portal). */
  source: Text
})

interface PickerState {
  q?: string
  status?: number
  formError?: string
}

async function renderPicker(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, state: PickerState = {}) {
  const q = (state.q ?? '').trim()
  const contacts = q.length >= 2 ? await searchContacts(fastify.db, q) : []
  const accounts = await accountsOfContacts(fastify.db, contacts.map((c) => c.id))
  return reply.page('desk/pick-contact', {
    title: request.t('desk.new.title'), q,
    contacts: contacts.map((c) => ({ ...c, accounts: accounts.get(c.id) ?? [] })),
    searched: q.length >= 2,
    formError: state.formError ?? null
  }, state.status ?? 200)
}

interface FormState {
  status?: number
  errors?: FormErrors
  values?: Record<string, string>
  formError?: string
}

async function renderForm(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, contact: { id: number; name: string; email: string }, state: FormState = {}) {
  const [accounts, items, products, desks] = await Promise.all([
    openableAccounts(fastify.db, contact.id), listCatalogItems(fastify.db), listProducts(fastify.db), listDesks(fastify.db)
  ])
  const defaults: Record<string, string> = { source: 'phone', priority: '', account_id: accounts.length === 1 ? String(accounts[0].id) : '' }
  return reply.page('desk/new-ticket', {
    title: request.t('desk.new.title'),
    contact, accounts, items, products, desks, priorities: PRIORITIES, sources: STAFF_SOURCES,
    errors: state.errors ?? {},
    values: { ...defaults, ...(state.values ?? {}) },
    formError: state.formError ?? null
  }, state.status ?? 200)
}

export default async function newTicket(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.get('/tickets/new', { schema: { querystring: NewQuery } }, async (request, reply) => {
    const query = request.query
    if (query.contact === undefined || query.contact === '') return renderPicker(fastify, request, reply, { q: query.q })
    const contactId = whole(query.contact)
    const contact = contactId === null ? undefined : await getContact(fastify.db, contactId)
    if (!contact || contact.active !== 1) {
      return renderPicker(fastify, request, reply, { q: query.q, status: 404, formError: request.t('desk.new.contactNotFound') })
    }
    return renderForm(fastify, request, reply, contact)
  })

  fastify.post('/tickets', { schema: { body: NewTicketForm }, attachValidation: true }, async (request, reply) => {
    const actor = staffOf(request)
    const t = request.t
    const body = request.body
    const failure = formFailure(request, choices('contact_id', 'account_id', 'product_id', 'category_id', 'desk_id'))
    // A number unless the contact is what failed (the body is as the schema left it when it stopped).
    const contactId = typeof body.contact_id === 'number' ? body.contact_id : null
    const contact = contactId === null ? undefined : await getContact(fastify.db, contactId)
    if (!contact || contact.active !== 1) {
      return renderPicker(fastify, request, reply, { status: 422, formError: t('desk.new.contactNotFound') })
    }
    if (failure) {
      const errors = { [failure.field]: failure.message }
      return renderForm(fastify, request, reply, contact, { status: 422, errors, values: echo(request), formError: t('common.formErrors') })
    }
    const outcome = await openTicket({ db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }, personWho(actor), {
      contactId: contact.id, accountId: body.account_id, productId: body.product_id, categoryId: body.category_id, deskId: body.desk_id,
      priority: body.priority, title: body.title, description: body.description, url: body.url,
      files: files(request, body.attachments), source: body.source
    })
    if (!outcome.ok) {
      const errors = fieldMessages(t, outcome.refusal, { params: { max: fastify.config.MAX_ATTACHMENT_MB } })
      return renderForm(fastify, request, reply, contact, { status: 422, errors, values: echo(request), formError: t('common.formErrors') })
    }
    const created = outcome.value
    request.log.info({ ticketId: created.id, contactId: contact.id, staffId: actor.id }, 'ticket opened on behalf of a contact')
    const visible = await getTicketForActor(fastify.db, actor, created.id)
    if (!visible) {
      reply.flash('success', t('desk.new.createdElsewhere', { number: created.number, contact: contact.name }))
      return reply.redirect('/desk')
    }
    reply.flash('success', t('desk.new.created', { number: created.number, contact: contact.name }))
    return reply.redirect(`/desk/tickets/${created.number}`)
  })
}
