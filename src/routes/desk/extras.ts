import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { addChecklistItem, addCostItem, setChecklistItemDone } from '../../db/ticket-extras.js'
import { actorRef } from '../../db/event.js'
import { notFound } from '../../plugins/app.js'
import { checkLength, echo, text, type FormErrors } from '../forms.js'
import { deskTicketForm, FormSchema, NumberParams } from './shared.js'
import { renderTicket } from './ticket-page.js'

const ItemParams = Type.Object({
  number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  item: Type.Integer({ minimum: 1, maximum: 2_147_483_647 })
})

const LABEL_LIMIT = 200
/** Ten million in any currency is far beyond one ticket's costs: a typo, not an expense. */
const MAX_AMOUNT_CENTS = 1_000_000_000

/** "45", "45.9", "45,99": an amount in cents, or null. Thousands separators are not accepted. */
export function parseAmount(raw: string): number | null {
  const m = /^(\d{1,8})(?:[.,](\d{1,2}))?$/.exec(raw.replace(/\s/g, ''))
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'))
}

/** Checklists and costs: staff work on them while the ticket still takes notes. */
export default async function extras(fastify: FastifyInstance) {
  const now = () => fastify.clock().toISOString()

  /** The ticket's form, and the message when the ticket no longer takes work. */
  async function gate(request: FastifyRequest) {
    const form = await deskTicketForm(fastify, request)
    const refusal = (await form.lifecycle()).refusal('add_note')
    const formError = refusal ? form.t('desk.extras.closed', { status: form.t('status.' + form.ticket.status) }) : null
    return { ...form, formError }
  }

  fastify.post('/tickets/:number/checklist', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { actor, ticket, t, body, formError } = await gate(request)
    if (formError) return renderTicket(fastify, request, reply, ticket, { status: 409, failed: 'checklist', values: echo(body), formError })
    const label = text(body, 'label')
    const errors: FormErrors = {}
    checkLength(errors, t, 'label', label, LABEL_LIMIT)
    if (Object.keys(errors).length > 0) {
      return renderTicket(fastify, request, reply, ticket, { status: 422, failed: 'checklist', errors, values: echo(body), formError: t('common.formErrors') })
    }
    await addChecklistItem(fastify.db, ticket.id, label, { actor: actorRef(actor), now: now() })
    reply.flash('success', t('desk.checklist.added'))
    return reply.redirect(`/desk/tickets/${ticket.number}#checklist`)
  })

  fastify.post('/tickets/:number/checklist/:item', { schema: { params: ItemParams, body: FormSchema } }, async (request, reply) => {
    const { item } = request.params as { item: number }
    const { actor, ticket, t, body, formError } = await gate(request)
    if (formError) return renderTicket(fastify, request, reply, ticket, { status: 409, failed: 'checklist', formError })
    const done = text(body, 'done')
    if (done !== '1' && done !== '0') {
      return renderTicket(fastify, request, reply, ticket, { status: 422, failed: 'checklist', formError: t('error.badRequest') })
    }
    const found = await setChecklistItemDone(fastify.db, ticket.id, item, done === '1', { actor: actorRef(actor), now: now() })
    if (!found) throw notFound()
    reply.flash('success', t(done === '1' ? 'desk.checklist.ticked' : 'desk.checklist.unticked'))
    return reply.redirect(`/desk/tickets/${ticket.number}#checklist`)
  })

  fastify.post('/tickets/:number/costs', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { actor, ticket, t, body, formError } = await gate(request)
    if (formError) return renderTicket(fastify, request, reply, ticket, { status: 409, failed: 'cost', values: echo(body), formError })
    const errors: FormErrors = {}
    const description = text(body, 'description')
    checkLength(errors, t, 'description', description, LABEL_LIMIT)
    const raw = text(body, 'amount')
    const amount = parseAmount(raw)
    if (!raw) errors.amount = t('validation.required')
    else if (amount === null || amount <= 0 || amount > MAX_AMOUNT_CENTS) errors.amount = t('desk.costs.amountInvalid')
    if (Object.keys(errors).length > 0) {
      return renderTicket(fastify, request, reply, ticket, { status: 422, failed: 'cost', errors, values: echo(body), formError: t('common.formErrors') })
    }
    await addCostItem(fastify.db, ticket.id, description, amount!, { actor: actorRef(actor), now: now() })
    reply.flash('success', t('desk.costs.added'))
    return reply.redirect(`/desk/tickets/${ticket.number}#costs`)
  })
}
