import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { approvalKey } from '../security/approval-token.js'
import { ApprovalRefused, decideApproval, openApprovalLink, type ApprovalRefusal } from '../commands/approval.js'
import type { ApprovalLink } from '../db/approval.js'
import { Choice, Form, formFailure, Text, type FormErrors } from './forms.js'
import { formatDateTime } from '../i18n/index.js'

/** Longer than any token we sign: anything else is simply not one of ours (404 page). */
const Params = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) })
/** Two forms post here: approve (a button) and reject (with a reason). */
const DecisionForm = Form({ decision: Choice(['approve', 'reject'] as const), reason: Text })
const REASON_MAX = 2_000

/** The status each refusal's page answers with. */
const STATUS: Record<ApprovalRefusal, number> = { invalid: 404, wrong_person: 403, used: 409, superseded: 410, expired: 410, closed: 409 }

/**
 * Approval links (/approvals/<token>), outside the portal and desk guards: the signed link is
 * the approver's credential, so no login is needed. GET only shows the request (mail scanners
 * open links); the POST, CSRF-protected like every form, decides. Refusals are pages that say
 * exactly why, with their own status, and change nothing.
 */
export default async function approvals(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const key = approvalKey(fastify.config)
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  function refused(request: FastifyRequest, reply: FastifyReply, err: ApprovalRefused) {
    const link = err.link
    return reply.page('approvals/refused', {
      title: request.t(`approval.refused.${err.code}.title`),
      code: err.code,
      message: request.t(`approval.refused.${err.code}.body`, {
        number: link?.number ?? null,
        when: link?.decided_at ? request.t('approval.at', { date: formatted(request, link.decided_at) }) : null,
        expired: link ? formatted(request, link.expires_at) : null
      }),
      link: link && err.code === 'used' ? { decision: link.decision, reason: link.reason, decidedAt: link.decided_at } : null
    }, STATUS[err.code])
  }

  const formatted = (request: FastifyRequest, iso: string) => formatDateTime(iso, request.locale)

  function decidePage(request: FastifyRequest, reply: FastifyReply, link: ApprovalLink, token: string, state: { errors?: FormErrors; values?: Record<string, string>; status?: number } = {}) {
    return reply.page('approvals/decide', {
      title: request.t('approval.page.title', { number: link.number }),
      link, token,
      item: link.item_name ? (link.area_name ? `${link.area_name} › ${link.item_name}` : link.item_name) : null,
      reasonMax: REASON_MAX,
      errors: state.errors ?? {},
      values: state.values ?? {},
      formError: state.errors && Object.keys(state.errors).length > 0 ? request.t('common.formErrors') : null
    }, state.status ?? 200)
  }

  fastify.get('/approvals/:token', { schema: { params: Params } }, async (request, reply) => {
    const { token } = request.params
    try {
      const link = await openApprovalLink(deps, key, token, request.actor, fastify.clock())
      return decidePage(request, reply, link, token)
    } catch (err) {
      if (err instanceof ApprovalRefused) return refused(request, reply, err)
      throw err
    }
  })

  fastify.post('/approvals/:token', { schema: { params: Params, body: DecisionForm }, attachValidation: true }, async (request, reply) => {
    const { token } = request.params
    const t = request.t
    try {
      const failure = formFailure(request, { decision: 'validation.invalidChoice' })
      if (failure) {
        // A form we did not make: show the page again, with nothing decided.
        const link = await openApprovalLink(deps, key, token, request.actor, fastify.clock())
        return decidePage(request, reply, link, token, { status: 422, errors: { [failure.field]: failure.message } })
      }
      const { decision, reason } = request.body
      if (decision === 'reject' && (reason === '' || reason.length > REASON_MAX)) {
        const link = await openApprovalLink(deps, key, token, request.actor, fastify.clock())
        const errors = { reason: reason === '' ? t('approval.reject.reasonRequired') : t('validation.tooLong', { max: REASON_MAX }) }
        return decidePage(request, reply, link, token, { status: 422, errors, values: { reason } })
      }
      const link = await decideApproval(deps, key, token, request.actor, decision === 'approve' ? { approve: true } : { approve: false, reason })
      request.log.info({ ticketId: link.ticket_id, approvalId: link.id, decision }, 'approval decided')
      return reply.page('approvals/done', {
        title: t(decision === 'approve' ? 'approval.done.approved.title' : 'approval.done.rejected.title'),
        decision, link, reason: decision === 'reject' ? reason : null
      })
    } catch (err) {
      if (err instanceof ApprovalRefused) return refused(request, reply, err)
      throw err
    }
  })
}
