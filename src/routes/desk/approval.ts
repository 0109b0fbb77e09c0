import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { personWho } from '../../commands/kernel.js'
import { resendApproval } from '../../commands/approval.js'
import { notFound } from '../../plugins/app.js'
import { Form, formFailure, OptionalId } from '../forms.js'
import { refusalStatus } from '../refusals.js'
import { deskTicketForm, NumberParams, ticketByNumber } from './shared.js'
import { renderTicket } from './ticket-page.js'

/** None sends to the approver the rules find; anything else must be one of the offered contacts. */
const ResendForm = Form({ approver_id: OptionalId })

/** "Resend approval request" on the desk ticket page: a new link, the earlier ones refused from now on. */
export default async function deskApproval(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  fastify.post('/tickets/:number/approval/resend', { schema: { params: NumberParams, body: ResendForm }, attachValidation: true }, async (request, reply) => {
    const { number, actor, t, ticket } = await deskTicketForm(fastify, request)
    // Not an id at all: no contact of the offered ones, as the command says of one that is not offered.
    const failure = formFailure(request, { approver_id: 'approval.desk.refused.invalid_approver' })
    if (failure) return renderTicket(fastify, request, reply, ticket, { status: 422, formError: failure.message })
    const outcome = await resendApproval(deps, personWho(actor), { ticketId: ticket.id, approverId: request.body.approver_id })
    if (!outcome.ok) {
      const r = outcome.refusal
      if (r.code === 'not_found') throw notFound()
      const code = r.code === 'invalid' ? (r.fields.approverId?.problem === 'required' ? 'no_approver' : 'invalid_approver') : 'not_waiting'
      const current = await ticketByNumber(fastify, request, number)
      return renderTicket(fastify, request, reply, current, { status: refusalStatus(r), formError: t(`approval.desk.refused.${code}`) })
    }
    const sent = outcome.value
    request.log.info({ ticketId: ticket.id, approvalId: sent.approvalId, approverId: sent.approver.id }, 'approval request sent again')
    reply.flash('success', t('approval.desk.resent', { approver: sent.approver.name }))
    return reply.redirect(`/desk/tickets/${ticket.number}#approval`)
  })
}
