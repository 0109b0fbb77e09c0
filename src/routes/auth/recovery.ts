// "Forgot password" and invitations: ask for a link by e-mail, then set a password through it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { accountLinkState, requestPasswordReset, setPasswordFromLink, type LinkState } from '../../commands/account-links.js'
import { MIN_PASSWORD_LENGTH } from '../../security/password.js'
import { fieldMessages } from '../refusals.js'
import { Form, Text } from '../forms.js'

const ForgotForm = Form({ email: Text })
const SetPasswordForm = Form({ password: Text, confirm_password: Text })
const TokenParams = Type.Object({ token: Type.String({ maxLength: 200 }) })

export default async function recovery(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  fastify.get('/password/forgot', async (request, reply) => {
    return reply.page('auth/forgot', { title: request.t('recovery.forgot.title'), sent: false })
  })

  // The answer goes out before anything is looked up, so neither its words nor its timing tell
  // whether the address has an account; the request is handled once the answer is sent.
  fastify.post('/password/forgot', { schema: { body: ForgotForm } }, async (request, reply) => {
    const input = { email: request.body.email, client: request.client() }
    reply.raw.once('finish', () => {
      requestPasswordReset(deps, input).catch((err: unknown) => request.log.error({ err }, 'password reset request failed'))
    })
    return reply.page('auth/forgot', { title: request.t('recovery.forgot.title'), sent: true })
  })

  const problem = (request: FastifyRequest, reply: FastifyReply, state: Exclude<LinkState, 'valid'>) =>
    reply.page('auth/link-problem', { title: request.t(`recovery.link.${state}.title`), message: request.t(`recovery.link.${state}.body`) }, state === 'unknown' ? 404 : 410)

  for (const path of ['/password/reset/:token', '/invitation/:token'] as const) {
    const purpose = path.startsWith('/invitation') ? 'invite' : 'reset'
    const title = (request: FastifyRequest) => request.t(purpose === 'invite' ? 'recovery.invite.title' : 'recovery.reset.title')

    fastify.get(path, { schema: { params: TokenParams } }, async (request, reply) => {
      const link = await accountLinkState(deps, request.params.token)
      if (link.state !== 'valid' || link.purpose !== purpose) return problem(request, reply, link.state === 'valid' ? 'unknown' : link.state)
      return reply.page('auth/set-password', { title: title(request), purpose, action: request.url, min: MIN_PASSWORD_LENGTH })
    })

    fastify.post(path, { schema: { params: TokenParams, body: SetPasswordForm } }, async (request, reply) => {
      const link = await accountLinkState(deps, request.params.token)
      if (link.state !== 'valid' || link.purpose !== purpose) return problem(request, reply, link.state === 'valid' ? 'unknown' : link.state)
      const outcome = await setPasswordFromLink(deps, {
        token: request.params.token, password: request.body.password, confirm: request.body.confirm_password, client: request.client()
      })
      if (!outcome.ok) {
        if (outcome.refusal.code === 'conflict') return problem(request, reply, 'used')
        if (outcome.refusal.code === 'not_found') return problem(request, reply, 'unknown')
        const errors = fieldMessages(request.t, outcome.refusal, { names: { password: 'password', confirm: 'confirm_password' }, params: { min: MIN_PASSWORD_LENGTH } })
        return reply.page('auth/set-password', { title: title(request), purpose, action: request.url, min: MIN_PASSWORD_LENGTH, errors, formError: request.t('common.formErrors') }, 422)
      }
      // Any session this browser had is over too (every session of the person ended): log in afresh.
      request.session.regenerate()
      reply.flash('success', request.t(purpose === 'invite' ? 'recovery.invite.done' : 'recovery.reset.done'))
      return reply.redirect('/login')
    })
  }
}
