import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { findLogin, getPasswordHash, setLocale, setPasswordHash } from '../../db/people.js'
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from '../../security/password.js'
import { isLocale } from '../../i18n/index.js'
import { text, type FormErrors } from '../forms.js'
import { guard } from '../web.js'

const FormSchema = Type.Record(Type.String(), Type.Unknown())

/** Only same-site paths may be a login's destination. */
export function safeNext(next: string | undefined): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null
  return next
}

export default async function auth(fastify: FastifyInstance) {
  fastify.get('/login', {
    schema: { querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 2000 })) }) }
  }, async (request, reply) => {
    const { next } = request.query as { next?: string }
    if (request.actor) return reply.redirect(safeNext(next) ?? '/')
    return reply.page('auth/login', { title: request.t('auth.login.title'), next: safeNext(next) ?? '' })
  })

  fastify.post('/login', {
    schema: { body: FormSchema },
    config: {
      rateLimit: {
        max: fastify.config.LOGIN_RATE_LIMIT,
        timeWindow: '1 minute',
        keyGenerator: (request) => request.ip
      }
    }
  }, async (request, reply) => {
    const body = request.body as Record<string, unknown>
    const email = text(body, 'email').toLowerCase()
    const password = typeof body.password === 'string' ? body.password : ''
    const next = safeNext(text(body, 'next'))
    const login = email ? await findLogin(fastify.db, email) : undefined
    const ok = await verifyPassword(password, login?.passwordHash)
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

  fastify.post('/logout', { schema: { body: FormSchema } }, async (request, reply) => {
    request.session.delete()
    return reply.redirect('/login')
  })

  const loggedIn = guard(() => true)

  fastify.get('/account', { preHandler: loggedIn }, async (request, reply) => {
    return reply.page('auth/account', { title: request.t('nav.account') })
  })

  fastify.post('/account/password', { preHandler: loggedIn, schema: { body: FormSchema } }, async (request, reply) => {
    const actor = request.actor!
    const body = request.body as Record<string, unknown>
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '')
    const current = str('current_password')
    const next = str('new_password')
    const confirm = str('confirm_password')
    const t = request.t
    const errors: FormErrors = {}
    if (!(await verifyPassword(current, await getPasswordHash(fastify.db, actor.kind, actor.id)))) errors.current_password = t('auth.password.wrongCurrent')
    if (next.length < MIN_PASSWORD_LENGTH) errors.new_password = t('auth.password.tooShort', { min: MIN_PASSWORD_LENGTH })
    else if (next !== confirm) errors.confirm_password = t('auth.password.mismatch')
    if (Object.keys(errors).length > 0) {
      return reply.page('auth/account', { title: t('nav.account'), errors, formError: t('common.formErrors') }, 422)
    }
    await setPasswordHash(fastify.db, actor.kind, actor.id, await hashPassword(next))
    request.log.info({ kind: actor.kind, id: actor.id }, 'password changed')
    reply.flash('success', t('auth.password.changed'))
    return reply.redirect('/account')
  })

  fastify.post('/account/locale', { preHandler: loggedIn, schema: { body: FormSchema } }, async (request, reply) => {
    const actor = request.actor!
    const raw = text(request.body as Record<string, unknown>, 'locale')
    await setLocale(fastify.db, actor.kind, actor.id, isLocale(raw) ? raw : null)
    await fastify.loadSessionActor(request)
    reply.flash('success', request.t('auth.locale.saved'))
    return reply.redirect('/account')
  })
}
