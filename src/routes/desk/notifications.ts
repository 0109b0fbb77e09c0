// A staff member's notifications (mounted at /desk/notifications): newest first, paged, each
// linking to its ticket; mark one or all read; and the kinds they also want by e-mail.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { listNotifications, type NotificationRow } from '../../db/notifications.js'
import { NOTIFICATION_KINDS } from '../../domain/notifications.js'
import type { Translate } from '../../i18n/index.js'
import { personWho } from '../../commands/kernel.js'
import { emailChoices, markAllRead, markRead, saveEmailChoices } from '../../commands/notifications.js'
import { ButtonForm, Choice, Form, formFailure, OptionalId } from '../forms.js'
import { notFound } from '../../plugins/app.js'
import { pathId } from '../admin/shared.js'
import { staffOf } from './shared.js'

const PER_PAGE = 25
const IdParams = Type.Object({ id: Type.String({ maxLength: 12 }) })
const PageQuery = Type.Object({ page: Type.Integer({ minimum: 1, maximum: 10_000, default: 1 }) }, { additionalProperties: false })
const ReadAllForm = Form({ up_to: OptionalId })
const ChoicesForm = Form({ email: Type.Array(Choice(NOTIFICATION_KINDS), { default: [], maxItems: NOTIFICATION_KINDS.length }) })

/** What one notification says, in the reader's language. */
export function notificationText(t: Translate, n: Pick<NotificationRow, 'kind' | 'actor_name' | 'detail' | 'number'>): string {
  const params = { actor: n.actor_name ?? t('mail.someone'), number: n.number }
  switch (n.kind) {
    case 'assigned': return t(n.actor_name === null ? 'notifications.kind.assigned.routed' : 'notifications.kind.assigned', params)
    case 'sla_at_risk': return t(n.detail === 'breached' ? 'notifications.kind.sla_at_risk.breached' : 'notifications.kind.sla_at_risk.at_risk', params)
    case 'approval_decided': return t(n.detail === 'rejected' ? 'notifications.kind.approval_decided.rejected' : 'notifications.kind.approval_decided.approved', params)
    default: return t(`notifications.kind.${n.kind}`, params)
  }
}

export default async function notifications(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  fastify.get('/notifications', { schema: { querystring: PageQuery } }, async (request, reply) => {
    const actor = staffOf(request)
    const page = request.query.page
    const [{ rows, more }, email] = await Promise.all([listNotifications(fastify.db, actor.id, page, PER_PAGE), emailChoices(deps, actor.id)])
    const t = request.t
    return reply.page('desk/notifications', {
      title: t('notifications.title'),
      rows: rows.map((r) => ({ ...r, text: notificationText(t, r) })),
      upTo: page === 1 && rows.length > 0 ? rows[0].id : null,
      page, newer: page > 1 ? page - 1 : null, older: more ? page + 1 : null,
      kinds: NOTIFICATION_KINDS, email, handle: `@${actor.email.split('@')[0]}`
    })
  })

  fastify.post('/notifications/:id/read', { schema: { params: IdParams, body: ButtonForm } }, async (request, reply) => {
    const outcome = await markRead(deps, personWho(staffOf(request)), pathId(request))
    if (!outcome.ok) throw notFound()
    reply.flash('success', request.t('notifications.markedRead'))
    return reply.redirect('/desk/notifications')
  })

  fastify.post('/notifications/read-all', { schema: { body: ReadAllForm } }, async (request, reply) => {
    const outcome = await markAllRead(deps, personWho(staffOf(request)), request.body.up_to)
    if (!outcome.ok) throw notFound()
    reply.flash('success', request.t('notifications.markedAllRead', { count: outcome.value }))
    return reply.redirect('/desk/notifications')
  })

  fastify.post('/notifications/email', { schema: { body: ChoicesForm }, attachValidation: true }, async (request, reply) => {
    formFailure(request, {})
    const outcome = await saveEmailChoices(deps, personWho(staffOf(request)), request.body.email)
    if (!outcome.ok) throw notFound()
    reply.flash('success', request.t('notifications.prefs.saved'))
    return reply.redirect('/desk/notifications#email')
  })
}
