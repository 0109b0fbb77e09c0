import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { personWho, type Refused } from '../../commands/kernel.js'
import { addChecklistItem, addCost, setChecklistItemDone } from '../../commands/ticket-extras.js'
import { notFound } from '../../plugins/app.js'
import { Choice, echo, Form, formFailure, Text } from '../forms.js'
import { fieldMessages, refusalStatus } from '../refusals.js'
import { deskTicketForm, NumberParams } from './shared.js'
import { renderTicket, type DeskForm } from './ticket-page.js'
import type { TicketDetail } from '../../db/ticket.js'

const ItemParams = Type.Object({
  number: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  item: Type.Integer({ minimum: 1, maximum: 2_147_483_647 })
})

const ChecklistForm = Form({ label: Text })
/** The item's tick box posts what it becomes: 1 done, 0 not done. */
const TickForm = Form({ done: Choice(['0', '1'] as const) })
/** The amount is text: people write 45,90 as well as 45.90. */
const CostForm = Form({ description: Text, amount: Text })

/** "45", "45.9", "45,99": an amount in cents, or null. Thousands separators are not accepted. */
export function parseAmount(raw: string): number | null {
  const m = /^(\d{1,8})(?:[.,](\d{1,2}))?$/.exec(raw.replace(/\s/g, ''))
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'))
}

/** Checklists and costs: staff work on them while the ticket still takes notes. */
export default async function extras(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  /** A refusal: the ticket no longer takes work (409), or a field to fix (422). */
  function refused(request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, form: DeskForm, refusal: Refused) {
    if (refusal.code === 'not_found') throw notFound()
    const t = request.t
    const status = refusalStatus(refusal)
    if (status !== 422) {
      return renderTicket(fastify, request, reply, ticket, { status, failed: form, values: echo(request), formError: t('desk.extras.closed', { status: t('status.' + ticket.status) }) })
    }
    const errors = fieldMessages(t, refusal, { names: { amountCents: 'amount' }, keys: { 'amountCents.out_of_range': 'desk.costs.amountInvalid' } })
    return renderTicket(fastify, request, reply, ticket, { status, failed: form, errors, values: echo(request), formError: t('common.formErrors') })
  }

  fastify.post('/tickets/:number/checklist', { schema: { params: NumberParams, body: ChecklistForm } }, async (request, reply) => {
    const { actor, ticket, t } = await deskTicketForm(fastify, request)
    const outcome = await addChecklistItem(deps, personWho(actor), { ticketId: ticket.id, label: request.body.label })
    if (!outcome.ok) return refused(request, reply, ticket, 'checklist', outcome.refusal)
    reply.flash('success', t('desk.checklist.added'))
    return reply.redirect(`/desk/tickets/${ticket.number}#checklist`)
  })

  fastify.post('/tickets/:number/checklist/:item', { schema: { params: ItemParams, body: TickForm }, attachValidation: true }, async (request, reply) => {
    const { item } = request.params
    const { actor, ticket, t } = await deskTicketForm(fastify, request)
    const failure = formFailure(request, { done: 'error.badRequest' })
    if (failure) return renderTicket(fastify, request, reply, ticket, { status: 422, failed: 'checklist', formError: failure.message })
    const { done } = request.body
    const outcome = await setChecklistItemDone(deps, personWho(actor), { ticketId: ticket.id, itemId: item, done: done === '1' })
    if (!outcome.ok) return refused(request, reply, ticket, 'checklist', outcome.refusal)
    reply.flash('success', t(done === '1' ? 'desk.checklist.ticked' : 'desk.checklist.unticked'))
    return reply.redirect(`/desk/tickets/${ticket.number}#checklist`)
  })

  fastify.post('/tickets/:number/costs', { schema: { params: NumberParams, body: CostForm } }, async (request, reply) => {
    const { actor, ticket, t } = await deskTicketForm(fastify, request)
    const { description, amount: raw } = request.body
    const amount = raw === '' ? 0 : parseAmount(raw) ?? -1
    const outcome = await addCost(deps, personWho(actor), { ticketId: ticket.id, description, amountCents: amount })
    if (!outcome.ok) {
      // An empty amount is a missing field, not a wrong one.
      if (raw === '' && outcome.refusal.fields.amountCents) outcome.refusal.fields.amountCents = { problem: 'required' }
      return refused(request, reply, ticket, 'cost', outcome.refusal)
    }
    reply.flash('success', t('desk.costs.added'))
    return reply.redirect(`/desk/tickets/${ticket.number}#costs`)
  })
}
