import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { ConflictError, getTicketReceipt, updateTicketFields, type FieldUpdateInput, type TicketDetail } from '../../db/ticket.js'
import { deskExists, getCatalogItem, productExists } from '../../db/catalog.js'
import { actorRef } from '../../db/event.js'
import { LIMITS } from '../../commands/tickets.js'
import { performerOf, TicketNotFound, transition, TransitionRefused, type TransitionRequest } from '../../commands/transitions.js'
import { deleteTicket } from '../../commands/service.js'
import { LEVELS, PRIORITIES, priorityFor, type Level, type Priority } from '../../domain/lifecycle.js'
import type { TicketSource } from '../../db/schema.js'
import type { Translate } from '../../i18n/index.js'
import { notFound } from '../../plugins/app.js'
import { checkLength, echo, id, oneOf, text, type FormBody, type FormErrors } from '../forms.js'
import { DESK_SOURCES } from './new-ticket.js'
import { deskLifecycle, FormSchema, staffOf, ticketByNumber, whole } from './shared.js'
import { CLOSURE_CATEGORIES, DESK_ACTIONS, redirectAfterChange, renderTicket, type DeskAction } from './ticket-page.js'
import { optionalId } from './ticket.js'

const ActionParams = Type.Object({
  number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  action: Type.String({ maxLength: 40 })
})

/** A level select: '' is "not set". */
function level(body: FormBody, name: string, errors: FormErrors, t: Translate): Level | null {
  const raw = text(body, name)
  if (raw === '') return null
  const value = oneOf(raw, LEVELS)
  if (!value) errors[name] = t('validation.invalidChoice')
  return value
}

interface Categorized extends FieldUpdateInput {
  priority: Priority
  /** The priority came from the impact × urgency matrix. */
  fromMatrix: boolean
}

async function readCategorize(fastify: FastifyInstance, ticket: TicketDetail, body: FormBody, errors: FormErrors, t: Translate): Promise<Categorized> {
  const invalid = t('validation.invalidChoice')
  const categoryId = optionalId(body, 'category_id')
  if (categoryId === undefined) errors.category_id = invalid
  else if (categoryId !== null && categoryId !== ticket.category_id) {
    const item = await getCatalogItem(fastify.db, categoryId)
    if (!item || item.active !== 1) errors.category_id = invalid
  }
  const productId = optionalId(body, 'product_id')
  // An unchanged value stays valid even if it has since been retired from the catalog.
  if (productId === undefined || (productId !== null && productId !== ticket.product_id && !(await productExists(fastify.db, productId)))) errors.product_id = invalid
  if (categoryId === null && productId === null) errors.product_id = t('ticket.catalogOrProduct')
  const deskId = id(body, 'desk_id')
  if (deskId === null || !(await deskExists(fastify.db, deskId))) errors.desk_id = invalid
  const impact = level(body, 'impact', errors, t)
  const urgency = level(body, 'urgency', errors, t)
  const rawPriority = text(body, 'priority')
  const chosen = rawPriority === '' ? null : oneOf(rawPriority, PRIORITIES)
  if (rawPriority !== '' && !chosen) errors.priority = invalid
  const rawSource = text(body, 'source')
  // Staff correct how the client reached them; api/crm stay as their channels set them.
  const source = rawSource === '' || rawSource === ticket.source ? ticket.source as TicketSource : oneOf(rawSource, DESK_SOURCES)
  if (!source) errors.source = invalid
  const fromMatrix = chosen === null && impact !== null && urgency !== null
  return {
    categoryId: categoryId ?? null, productId: productId ?? null, deskId: deskId ?? ticket.desk_id, impact, urgency,
    source: source ?? (ticket.source as TicketSource),
    priority: chosen ?? (fromMatrix ? priorityFor(impact!, urgency!) : ticket.priority as Priority),
    fromMatrix
  }
}

/** The inputs a state-changing action needs; each missing one is a field message. */
async function readTransition(fastify: FastifyInstance, ticket: TicketDetail, action: DeskAction, body: FormBody, errors: FormErrors, t: Translate): Promise<TransitionRequest> {
  const req: TransitionRequest = { action: action as TransitionRequest['action'] }
  const reason = () => {
    const value = text(body, 'reason')
    checkLength(errors, t, 'reason', value, LIMITS.note)
    return value
  }
  switch (action) {
    case 'escalate': {
      const deskId = id(body, 'target_desk_id')
      if (deskId === null || deskId === ticket.desk_id || !(await deskExists(fastify.db, deskId))) errors.target_desk_id = t('desk.escalate.chooseDesk')
      req.targetDeskId = deskId
      req.reason = reason()
      break
    }
    case 'hold':
    case 'cancel':
      req.reason = reason()
      break
    case 'resolve':
      req.resolution = text(body, 'resolution')
      checkLength(errors, t, 'resolution', req.resolution, LIMITS.note)
      break
    case 'close': {
      const category = oneOf(text(body, 'closure_category'), CLOSURE_CATEGORIES)
      if (!category) errors.closure_category = t('lifecycle.refused.missing_closure_category')
      req.closureCategory = category
      req.closureNote = text(body, 'closure_note')
      checkLength(errors, t, 'closure_note', req.closureNote, LIMITS.note, false)
      break
    }
  }
  return req
}

export default async function actions(fastify: FastifyInstance) {
  fastify.post('/tickets/:number/actions/:action', { schema: { params: ActionParams, body: FormSchema } }, async (request, reply) => {
    const params = request.params as { number: number; action: string }
    const action = oneOf(params.action, DESK_ACTIONS)
    if (!action) throw notFound()
    const actor = staffOf(request)
    const t = request.t
    const ticket = await ticketByNumber(fastify, request, params.number)
    const body = request.body as FormBody
    const fail = async (current: TicketDetail, status: number, formError: string, errors: FormErrors = {}) =>
      renderTicket(fastify, request, reply, current, { status, failed: action, errors, values: echo(body), formError })

    // Refused first (409), then a stale page (409), then missing inputs (422): nothing is changed by any of them.
    const refusal = (await deskLifecycle(fastify, actor, ticket)).refusal(action)
    if (refusal) return fail(ticket, 409, t(refusal.messageKey, refusal.params))
    const version = whole(text(body, 'version'))
    if (version === null) return fail(ticket, 422, t('error.badRequest'))
    if (version !== ticket.version) return fail(ticket, 409, t('desk.conflict'))

    const errors: FormErrors = {}
    const now = fastify.clock()
    const performer = performerOf(actor)
    try {
      if (action === 'categorize') {
        const input = await readCategorize(fastify, ticket, body, errors, t)
        if (Object.keys(errors).length > 0) return fail(ticket, 422, t('common.formErrors'), errors)
        const { fromMatrix, ...fields } = input
        const result = await updateTicketFields(fastify.db, ticket.id, { ...fields, expectedVersion: version },
          { actor: actorRef(actor), now: now.toISOString(), random: fastify.random })
        const priority = t('priority.' + input.priority)
        if (result.changed.length === 0) reply.flash('info', t('desk.fields.nothing'))
        else if (fromMatrix) reply.flash('success', t('desk.categorize.savedMatrix', { priority, impact: t('level.' + input.impact), urgency: t('level.' + input.urgency) }))
        else reply.flash('success', t('desk.categorize.saved', { priority }))
        return await redirectAfterChange(fastify, request, reply, ticket)
      }

      if (action === 'delete') {
        const reason = text(body, 'reason')
        checkLength(errors, t, 'reason', reason, LIMITS.note, false)
        if (Object.keys(errors).length > 0) return fail(ticket, 422, t('common.formErrors'), errors)
        await deleteTicket(fastify.db, performer, ticket.id, reason, now)
        request.log.info({ ticketId: ticket.id, staffId: actor.id }, 'ticket deleted at the desk')
        reply.flash('success', t('desk.action.done.delete', { number: ticket.number }))
        return reply.redirect('/desk')
      }

      const req = await readTransition(fastify, ticket, action, body, errors, t)
      if (Object.keys(errors).length > 0) return fail(ticket, 422, t('common.formErrors'), errors)
      await transition(fastify.db, performer, ticket.id, { ...req, expectedVersion: version }, now, fastify.random)
      request.log.info({ ticketId: ticket.id, action, staffId: actor.id }, 'ticket transition at the desk')
      const after = action === 'escalate' ? await getTicketReceipt(fastify.db, ticket.id) : undefined
      reply.flash('success', t('desk.action.done.' + action, {
        number: ticket.number, desk: after?.desk_name, assignee: after?.assignee_name ?? t('ticket.unassigned')
      }))
      return await redirectAfterChange(fastify, request, reply, ticket)
    } catch (err) {
      if (err instanceof TicketNotFound) throw notFound()
      if (err instanceof TransitionRefused) return fail(await ticketByNumber(fastify, request, params.number), 409, t(err.messageKey, err.params))
      if (err instanceof ConflictError) return fail(await ticketByNumber(fastify, request, params.number), 409, t('desk.conflict'))
      throw err
    }
  })
}
