import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { findLogin } from '../../db/people.js'
import { hasForbiddenControl } from '../../domain/text.js'
import { personWho } from '../../commands/kernel.js'
import { changePassword, setLanguage } from '../../commands/account.js'
import { MIN_PASSWORD_LENGTH, verifyPassword } from '../../security/password.js'
import { fieldMessages } from '../refusals.js'
import { LOCALES } from '../../i18n/index.js'
import { ButtonForm, Choice, Form, Text, type FormErrors } from '../forms.js'
import { guard } from '../web.js'

const LoginForm = Form({ email: Text, password: Text, next: Text })
const PasswordForm = Form({ current_password: Text, new_password: Text, confirm_password: Text })
/** '' follows the browser's language. */
const LocaleForm = Form({ locale: Choice(['', ...LOCALES] as const, { default: '' }) })

/** Only same-site paths may be a login's destination. */
export function safeNext(next: string | undefined): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null
  return next
}

export default async function auth(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  fastify.get('/login', {
    schema: { querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) }) }
  }, async (request, reply) => {
    const { next } = request.query
    if (request.actor) return reply.redirect(safeNext(next) ?? '/')
    return reply.page('auth/login', { title: request.t('auth.login.title'), next: safeNext(next) ?? '' })
  })

  fastify.post('/login', {
    schema: { body: LoginForm },
    config: {
      rateLimit: {
        max: fastify.config.LOGIN_RATE_LIMIT,
        timeWindow: '1 minute',
        keyGenerator: (request) => request.ip
      }
    }
  }, async (request, reply) => {
    const body = request.body
    const email = body.email.toLowerCase()
    const next = safeNext(body.next)
    const login = email && !hasForbiddenControl(email) ? await findLogin(fastify.db, email) : undefined
    const ok = await verifyPassword(body.password, login?.passwordHash)
    if (!login || !ok) {
      request.log.info({ email }, 'login refused')
      return reply.page('auth/login', {
        title: request.t('auth.login.title'), next: next ?? '', values: { email },
        formError: request.t('auth.login.failed')
      }, 401)
    }
    // A fresh session on login: nothing from before survives (no fixation).
    request.session.regenerate()
    request.session.set('who', { kind: login.kind, id: login.id })
    return reply.redirect(next ?? (login.kind === 'staff' ? '/desk' : '/portal'))
  })

  fastify.post('/logout', { schema: { body: ButtonForm } }, async (request, reply) => {
    request.session.delete()
    return reply.redirect('/login')
  })

  const loggedIn = guard(() => true)

  fastify.get('/account', { preHandler: loggedIn }, async (request, reply) => {
    return reply.page('auth/account', { title: request.t('nav.account') })
  })

  fastify.post('/account/password', { preHandler: loggedIn, schema: { body: PasswordForm } }, async (request, reply) => {
    const actor = request.actor!
    const body = request.body
    const t = request.t
    const outcome = await changePassword(deps, personWho(actor), { current: body.current_password, next: body.new_password, confirm: body.confirm_password })
    if (!outcome.ok) {
      const errors: FormErrors = fieldMessages(t, outcome.refusal, {
        names: { current: 'current_password', next: 'new_password', confirm: 'confirm_password' }, params: { min: MIN_PASSWORD_LENGTH }
      })
      return reply.page('auth/account', { title: t('nav.account'), errors, formError: t('common.formErrors') }, 422)
    }
    request.log.info({ kind: actor.kind, id: actor.id }, 'password changed')
    reply.flash('success', t('auth.password.changed'))
    return reply.redirect('/account')
  })

  fastify.post('/account/locale', { preHandler: loggedIn, schema: { body: LocaleForm } }, async (request, reply) => {
    const actor = request.actor!
    const { locale } = request.body
    await setLanguage(deps, personWho(actor), { locale: locale === '' ? null : locale })
    await fastify.loadSessionActor(request)
    reply.flash('success', request.t('auth.locale.saved'))
    return reply.redirect('/account')
  })
}
