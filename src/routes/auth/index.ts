import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { logIn, logOut, type LoggedIn } from '../../commands/sessions.js'
import { ButtonForm, Form, Text } from '../forms.js'
import { safeNext } from '../safe-next.js'
import account from './account.js'
import recovery from './recovery.js'
import twoFactor from './two-factor.js'

const LoginForm = Form({ email: Text, password: Text, next: Text })
const NextQuery = Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) })

export { safeNext }

/** Where a person lands after logging in, when no (safe) `next` says otherwise. */
export function homeOf(kind: 'staff' | 'contact'): string {
  return kind === 'staff' ? '/desk' : '/portal'
}

/**
 * A fresh cookie for a new session: nothing from before survives (no fixation). It carries a new
 * CSRF secret from the start, so the first page after the login does not write the cookie again.
 */
export function startSession(request: FastifyRequest, reply: FastifyReply, login: Pick<LoggedIn, 'token'>): void {
  request.session.regenerate()
  request.session.set('sid', login.token)
  reply.generateCsrf()
}

export default async function auth(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  const config = fastify.config
  const limits = { perIpPerMinute: config.LOGIN_RATE_LIMIT, failuresPerAccount: config.LOGIN_ACCOUNT_LIMIT, accountWindowMinutes: config.LOGIN_ACCOUNT_WINDOW_MINUTES }

  const loginPage = (request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) =>
    reply.page('auth/login', { title: request.t('auth.login.title'), next: '', ...data }, status)

  fastify.get('/login', { schema: { querystring: NextQuery } }, async (request, reply) => {
    const next = safeNext(request.query.next)
    if (request.actor) return reply.redirect(next ?? homeOf(request.actor.kind))
    return loginPage(request, reply, { next: next ?? '' })
  })

  fastify.post('/login', { schema: { body: LoginForm } }, async (request, reply) => {
    const body = request.body
    const next = safeNext(body.next)
    const outcome = await logIn(deps, { email: body.email, password: body.password, client: request.client(), limits })
    if (!outcome.ok) {
      const throttled = outcome.refusal.code === 'too_many'
      request.log.info({ email: body.email.slice(0, 320), throttled }, 'login refused')
      return loginPage(request, reply, {
        next: next ?? '', values: { email: body.email },
        formError: request.t(throttled ? 'security.login.throttled' : 'auth.login.failed')
      }, throttled ? 429 : 401)
    }
    startSession(request, reply, outcome.value)
    const destination = next ?? homeOf(outcome.value.person.kind)
    if (outcome.value.secondFactor) return reply.redirect(`/login/two-factor?next=${encodeURIComponent(destination)}`)
    return reply.redirect(destination)
  })

  fastify.post('/logout', { schema: { body: ButtonForm } }, async (request, reply) => {
    const live = request.webSession
    if (live) await logOut(deps, { sessionId: live.id, person: live.person, client: request.client() })
    request.session.delete()
    return reply.redirect('/login')
  })

  await fastify.register(account)
  await fastify.register(recovery)
  await fastify.register(twoFactor)
}
