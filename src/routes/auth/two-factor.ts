// Two-factor authentication pages: the second step of a login, and setting it up, renewing the
// recovery codes or turning it off from the account (staff and admins).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import QRCode from 'qrcode'
import { twoFactorOf, unusedRecoveryCodes } from '../../db/security.js'
import { getSettings } from '../../db/settings.js'
import { personWho } from '../../commands/kernel.js'
import {
  confirmTwoFactor, disableTwoFactor, pendingTwoFactor, renewRecoveryCodes, startTwoFactor, verifySecondFactor
} from '../../commands/two-factor.js'
import { fieldMessages } from '../refusals.js'
import { ButtonForm, Form, Text } from '../forms.js'
import { guard } from '../web.js'
import { safeNext } from '../safe-next.js'
import { forbidden } from '../../plugins/app.js'

const CodeForm = Form({ code: Text, next: Text })
const DisableForm = Form({ password: Text, code: Text })
const NextQuery = Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) })

export default async function twoFactor(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  const staffOnly = guard((r) => r.actor?.kind === 'staff')

  // ---------------------------------------------------------------- the second step of a login
  const pending = (request: FastifyRequest) => request.webSession?.secondFactorPending ? request.webSession : null

  fastify.get('/login/two-factor', { schema: { querystring: NextQuery } }, async (request, reply) => {
    if (!pending(request)) return reply.redirect('/login')
    return reply.page('auth/second-factor', { title: request.t('twoFactor.login.title'), next: safeNext(request.query.next) ?? '' })
  })

  fastify.post('/login/two-factor', { schema: { body: CodeForm } }, async (request, reply) => {
    const live = pending(request)
    if (!live) return reply.redirect('/login')
    const next = safeNext(request.body.next)
    const outcome = await verifySecondFactor(deps, { sessionId: live.id, person: live.person, code: request.body.code, client: request.client() })
    if (!outcome.ok) {
      if (outcome.refusal.code === 'too_many') {
        request.session.delete()
        reply.flash('error', request.t('twoFactor.login.tooMany'))
        return reply.redirect('/login')
      }
      return reply.page('auth/second-factor', { title: request.t('twoFactor.login.title'), next: next ?? '', formError: request.t('twoFactor.wrongCode') }, 401)
    }
    if (outcome.value.used === 'recovery') reply.flash('info', request.t('twoFactor.login.recoveryUsed'))
    return reply.redirect(next ?? '/desk')
  })

  // ---------------------------------------------------------------- the account's settings
  async function settingsPage(request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) {
    const actor = request.actor!
    const state = await twoFactorOf(fastify.db, actor.id)
    const enrolling = state?.enabledAt ? null : await pendingTwoFactor(deps, personWho(actor))
    const qr = enrolling ? await QRCode.toDataURL(enrolling.uri, { margin: 1, width: 220 }) : null
    return reply.page('auth/two-factor', {
      title: request.t('twoFactor.title'), enabled: Boolean(state?.enabledAt), enabledAt: state?.enabledAt ?? null,
      enrolling, qr, codesLeft: state?.enabledAt ? (await unusedRecoveryCodes(fastify.db, actor.id)).length : 0,
      required: (await getSettings(fastify.db)).staffTwoFactorRequired, ...data
    }, status)
  }

  fastify.get('/account/two-factor', { preHandler: staffOnly }, async (request, reply) => settingsPage(request, reply))

  fastify.post('/account/two-factor/start', { preHandler: staffOnly, schema: { body: ButtonForm } }, async (request, reply) => {
    await startTwoFactor(deps, personWho(request.actor!))
    return reply.redirect('/account/two-factor')
  })

  fastify.post('/account/two-factor/confirm', { preHandler: staffOnly, schema: { body: CodeForm } }, async (request, reply) => {
    const outcome = await confirmTwoFactor(deps, personWho(request.actor!), { code: request.body.code, client: request.client() })
    if (!outcome.ok) {
      if (outcome.refusal.code === 'conflict') return reply.redirect('/account/two-factor')
      return settingsPage(request, reply, { errors: fieldMessages(request.t, outcome.refusal), formError: request.t('common.formErrors') }, 422)
    }
    return settingsPage(request, reply, { recoveryCodes: outcome.value.recoveryCodes, justEnabled: true })
  })

  fastify.post('/account/two-factor/recovery-codes', { preHandler: staffOnly, schema: { body: CodeForm } }, async (request, reply) => {
    const outcome = await renewRecoveryCodes(deps, personWho(request.actor!), { code: request.body.code, client: request.client() })
    if (!outcome.ok) return settingsPage(request, reply, { renewErrors: fieldMessages(request.t, outcome.refusal) }, 422)
    return settingsPage(request, reply, { recoveryCodes: outcome.value.recoveryCodes })
  })

  fastify.post('/account/two-factor/disable', { preHandler: staffOnly, schema: { body: DisableForm } }, async (request, reply) => {
    const outcome = await disableTwoFactor(deps, personWho(request.actor!), { password: request.body.password, code: request.body.code, client: request.client() })
    if (!outcome.ok) {
      if (outcome.refusal.code === 'forbidden') throw forbidden(request.t('twoFactor.requiredCannotDisable'))
      return settingsPage(request, reply, { disableErrors: fieldMessages(request.t, outcome.refusal) }, 422)
    }
    reply.flash('success', request.t('twoFactor.disabled'))
    return reply.redirect('/account/two-factor')
  })
}
