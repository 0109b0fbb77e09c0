import type { FastifyInstance } from 'fastify'
import { personWho } from '../../commands/kernel.js'
import { resendApproval } from '../../commands/approval.js'
import { notFound } from '../../plugins/app.js'
import { id, text } from '../forms.js'
import { refusalStatus } from '../refusals.js'
import { deskTicketForm, FormSchema, NumberParams, ticketByNumber } from './shared.js'
import { renderTicket } from './ticket-page.js'

/** "Resend approval request" on the desk ticket page: a new link, the earlier ones refused from now on. */
export default async function deskApproval(fastify: FastifyInstance) {
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  fastify.post('/tickets/:number/approval/resend', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { number, actor, t, ticket, body } = await deskTicketForm(fastify, request)
    // '' sends to the approver the rules find; anything else must be one of the offered contacts.
    const raw = text(body, 'approver_id')
    const outcome = await resendApproval(deps, personWho(actor), { ticketId: ticket.id, approverId: raw === '' ? null : id(body, 'approver_id') ?? -1 })
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
