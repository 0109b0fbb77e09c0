import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import {
  addNote, ConflictError, getTicketForActor, listHistory, listNotes, transferTicket, updateTicketFields, type TicketDetail
} from '../../db/ticket.js'
import { contactAccounts, getStaff, listDeskStaff } from '../../db/people.js'
import { deskExists, getCatalogItem, listCatalogItems, listDesks, listProducts, productExists } from '../../db/catalog.js'
import { actorRef } from '../../db/event.js'
import { decide, PRIORITIES, type Action, type State, type Status } from '../../domain/lifecycle.js'
import type { StaffActor } from '../../domain/permissions.js'
import { LIMITS } from '../../commands/tickets.js'
import { checkUploads, echo, files, id, oneOf, text, type FormBody, type FormErrors } from '../forms.js'
import { DESK_POLICY, FormSchema, staffOf, ticketByNumber, whole } from './shared.js'

const NumberParams = Type.Object({ number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })
const MAX_MINUTES = 10_000

type FormName = 'fields' | 'transfer' | 'note'

interface PageState {
  status?: number
  failed?: FormName
  errors?: FormErrors
  values?: Record<string, string>
  formError?: string
}

function allowed(ticket: TicketDetail, actor: StaffActor, action: Action) {
  return decide({ state: ticket.state as State, status: ticket.status as Status, parentId: ticket.parent_id }, { role: actor.role }, action, {}, DESK_POLICY)
}

/** What the desk may do on this ticket right now (a reply to a closed ticket is not handled here). */
function abilities(ticket: TicketDetail, actor: StaffActor) {
  const reply = allowed(ticket, actor, 'reply')
  return {
    reply: reply.ok && !reply.effects.spawnChild,
    note: allowed(ticket, actor, 'add_note').ok,
    fields: allowed(ticket, actor, 'categorize').ok,
    transfer: allowed(ticket, actor, 'transfer').ok
  }
}

async function openedBy(fastify: FastifyInstance, ticket: TicketDetail): Promise<string | null> {
  if (ticket.created_by_staff_id === null) return null
  return (await getStaff(fastify.db, ticket.created_by_staff_id))?.name ?? null
}

async function renderTicket(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, state: PageState = {}) {
  const actor = staffOf(request)
  const [conversation, items, products, desks, deskStaff, accounts, createdBy] = await Promise.all([
    listNotes(fastify.db, actor, ticket.id),
    listCatalogItems(fastify.db),
    listProducts(fastify.db),
    listDesks(fastify.db),
    listDeskStaff(fastify.db, [ticket.desk_id]),
    contactAccounts(fastify.db, ticket.contact_id),
    openedBy(fastify, ticket)
  ])
  return reply.page('desk/ticket', {
    title: `#${ticket.number} ${ticket.title}`,
    tab: 'conversation',
    ticket, createdBy,
    notes: conversation.notes,
    descriptionAttachments: conversation.descriptionAttachments,
    options: { priorities: PRIORITIES, items, products, desks, deskStaff, accounts },
    can: abilities(ticket, actor),
    maxMinutes: MAX_MINUTES,
    failed: state.failed ?? null,
    errors: state.errors ?? {},
    values: state.values ?? {},
    formError: state.formError ?? null
  }, state.status ?? 200)
}

/** After a change the ticket may have left the actor's desks: then the queue is where to go. */
async function redirectAfterChange(fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, anchor = '') {
  const still = await getTicketForActor(fastify.db, staffOf(request), ticket.id)
  if (!still) {
    reply.flash('info', request.t('desk.movedAway', { number: ticket.number }))
    return reply.redirect('/desk')
  }
  return reply.redirect(`/desk/tickets/${ticket.number}${anchor}`)
}

/** An optional id field: '' is "none" (null), anything else must be a valid id (undefined = invalid). */
function optionalId(body: FormBody, name: string): number | null | undefined {
  if (text(body, name) === '') return null
  return id(body, name) ?? undefined
}

export default async function ticketPage(fastify: FastifyInstance) {
  const now = () => fastify.clock().toISOString()

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

  fastify.post('/tickets/:number/fields', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { number } = request.params as { number: number }
    const actor = staffOf(request)
    const t = request.t
    const ticket = await ticketByNumber(fastify, request, number)
    const body = request.body as FormBody
    const errors: FormErrors = {}

    const version = whole(text(body, 'version'))
    const priority = oneOf(text(body, 'priority'), PRIORITIES)
    if (!priority) errors.priority = t('validation.invalidChoice')
    const categoryId = optionalId(body, 'category_id')
    if (categoryId === undefined) errors.category_id = t('validation.invalidChoice')
    else if (categoryId !== null && categoryId !== ticket.category_id) {
      const item = await getCatalogItem(fastify.db, categoryId)
      if (!item || item.active !== 1) errors.category_id = t('validation.invalidChoice')
    }
    const productId = optionalId(body, 'product_id')
    // An unchanged value stays valid even if it has since been retired from the catalog.
    if (productId === undefined || (productId !== null && productId !== ticket.product_id && !(await productExists(fastify.db, productId)))) errors.product_id = t('validation.invalidChoice')
    if (categoryId === null && productId === null) errors.product_id = t('ticket.catalogOrProduct')
    const deskId = id(body, 'desk_id')
    if (deskId === null || !(await deskExists(fastify.db, deskId))) errors.desk_id = t('validation.invalidChoice')

    const decision = allowed(ticket, actor, 'categorize')
    let formError = Object.keys(errors).length > 0 ? t('common.formErrors') : undefined
    if (!decision.ok) formError = t(decision.messageKey, decision.params)
    else if (version === null) formError = t('error.badRequest')
    if (formError) {
      return renderTicket(fastify, request, reply, ticket, { status: 422, failed: 'fields', errors, values: echo(body), formError })
    }

    try {
      const result = await updateTicketFields(fastify.db, ticket.id, {
        priority: priority!, categoryId: categoryId!, productId: productId!, deskId: deskId!, expectedVersion: version!
      }, { actor: actorRef(actor), now: now(), random: fastify.random })
      reply.flash(result.changed.length > 0 ? 'success' : 'info', t(result.changed.length > 0 ? 'desk.fields.saved' : 'desk.fields.nothing'))
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err
      return renderTicket(fastify, request, reply, await ticketByNumber(fastify, request, number), { status: 409, formError: t('desk.conflict') })
    }
    return redirectAfterChange(fastify, request, reply, ticket)
  })

  fastify.post('/tickets/:number/transfer', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { number } = request.params as { number: number }
    const actor = staffOf(request)
    const t = request.t
    const ticket = await ticketByNumber(fastify, request, number)
    const body = request.body as FormBody
    const errors: FormErrors = {}

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
    if (!note) errors.note = t('validation.required')
    else if (note.length > LIMITS.note) errors.note = t('validation.tooLong', { max: LIMITS.note })

    const changes = assigneeId !== ticket.assignee_id || accountId !== ticket.account_id || (productId !== undefined && productId !== ticket.product_id)
    const decision = allowed(ticket, actor, 'transfer')
    let formError = Object.keys(errors).length > 0 ? t('common.formErrors') : undefined
    if (!decision.ok) formError = t(decision.messageKey, decision.params)
    else if (version === null) formError = t('error.badRequest')
    else if (!formError && !changes) formError = t('desk.transfer.nothing')
    if (formError) {
      return renderTicket(fastify, request, reply, ticket, { status: 422, failed: 'transfer', errors, values: echo(body), formError })
    }

    try {
      await transferTicket(fastify.db, ticket.id, {
        assigneeId, accountId, productId: productId!, note, expectedVersion: version!
      }, { actor: actorRef(actor), now: now() })
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err
      return renderTicket(fastify, request, reply, await ticketByNumber(fastify, request, number), { status: 409, formError: t('desk.conflict') })
    }
    reply.flash('success', t('desk.transfer.done'))
    return redirectAfterChange(fastify, request, reply, ticket)
  })

  fastify.post('/tickets/:number/notes', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { number } = request.params as { number: number }
    const actor = staffOf(request)
    const t = request.t
    const ticket = await ticketByNumber(fastify, request, number)
    const body = request.body as FormBody
    const errors: FormErrors = {}

    const kind = oneOf(text(body, 'kind'), ['reply', 'internal'] as const)
    if (!kind) errors.kind = t('validation.invalidChoice')
    const message = text(body, 'body')
    if (!message) errors.body = t('validation.required')
    else if (message.length > LIMITS.note) errors.body = t('validation.tooLong', { max: LIMITS.note })
    const minutesRaw = text(body, 'minutes_spent')
    const minutes = minutesRaw === '' ? null : whole(minutesRaw)
    if (minutesRaw !== '' && (minutes === null || minutes > MAX_MINUTES)) errors.minutes_spent = t('desk.reply.minutesRange', { max: MAX_MINUTES })
    const uploads = files(body, 'attachments')
    checkUploads(errors, t, 'attachments', uploads, fastify.config.MAX_ATTACHMENT_MB)

    const can = abilities(ticket, actor)
    let formError = Object.keys(errors).length > 0 ? t('common.formErrors') : undefined
    if ((kind === 'reply' && !can.reply) || (kind === 'internal' && !can.note)) {
      formError = t('desk.reply.closed', { status: t('status.' + ticket.status) })
    }
    if (formError) {
      return renderTicket(fastify, request, reply, ticket, { status: 422, failed: 'note', errors, values: echo(body), formError })
    }

    const stored = []
    for (const f of uploads) stored.push(await fastify.store.keep(f))
    const note = await addNote(fastify.db, {
      ticketId: ticket.id, kind: kind!, visibility: kind === 'internal' ? 'internal' : 'public', body: message,
      source: 'portal', files: stored, minutesSpent: minutes, sendEmail: kind === 'reply'
    }, { actor: actorRef(actor), now: now() })
    request.log.info({ ticketId: ticket.id, noteId: note.id, kind }, 'desk note added')
    reply.flash('success', t(kind === 'internal' ? 'desk.reply.noted' : 'desk.reply.sent'))
    return reply.redirect(`/desk/tickets/${ticket.number}#note-${note.id}`)
  })
}
