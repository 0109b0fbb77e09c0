import type { FastifyInstance } from 'fastify'
import { ApprovalResendRefused, resendApproval } from '../../commands/approval.js'
import { id, text } from '../forms.js'
import { deskTicketForm, FormSchema, NumberParams, ticketByNumber } from './shared.js'
import { renderTicket } from './ticket-page.js'

const STATUS: Record<ApprovalResendRefused['code'], number> = { not_waiting: 409, no_approver: 422, invalid_approver: 422 }

/** "Resend approval request" on the desk ticket page: a new link, the earlier ones refused from now on. */
export default async function deskApproval(fastify: FastifyInstance) {
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  fastify.post('/tickets/:number/approval/resend', { schema: { params: NumberParams, body: FormSchema } }, async (request, reply) => {
    const { number, actor, t, ticket, body } = await deskTicketForm(fastify, request)
    // '' sends to the approver the rules find; anything else must be one of the offered contacts.
    const chosen = text(body, 'approver_id') === '' ? null : id(body, 'approver_id')
    try {
      if (chosen === null && text(body, 'approver_id') !== '') throw new ApprovalResendRefused('invalid_approver')
      const sent = await resendApproval(deps, actor, ticket.id, chosen)
      request.log.info({ ticketId: ticket.id, approvalId: sent.approvalId, approverId: sent.approver.id }, 'approval request sent again')
      reply.flash('success', t('approval.desk.resent', { approver: sent.approver.name }))
      return reply.redirect(`/desk/tickets/${ticket.number}#approval`)
    } catch (err) {
      if (!(err instanceof ApprovalResendRefused)) throw err
      const current = await ticketByNumber(fastify, request, number)
      return renderTicket(fastify, request, reply, current, { status: STATUS[err.code], formError: t(`approval.desk.refused.${err.code}`) })
    }
  })
}
