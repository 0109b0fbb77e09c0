// The account page: password, language, the sessions and API tokens the person holds (each can be
// ended), and what happened to the account lately (its security events).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { openSessions } from '../../db/sessions.js'
import { listApiTokens } from '../../db/token.js'
import { listSecurityEvents, twoFactorOf } from '../../db/security.js'
import { personWho } from '../../commands/kernel.js'
import { changePassword, setLanguage } from '../../commands/account.js'
import { createOwnApiToken, endOneSession, endOtherSessions, revokeOwnApiToken, SESSION_IDLE_MS, TOKEN_MAX_DAYS } from '../../commands/sessions.js'
import { MIN_PASSWORD_LENGTH } from '../../security/password.js'
import { fieldMessages } from '../refusals.js'
import { LOCALES } from '../../i18n/index.js'
import { ButtonForm, Choice, echo, Form, OptionalInteger, Text, type FormErrors } from '../forms.js'
import { guard } from '../web.js'
import { notFound } from '../../plugins/app.js'

const PasswordForm = Form({ current_password: Text, new_password: Text, confirm_password: Text })
/** '' follows the browser's language. */
const LocaleForm = Form({ locale: Choice(['', ...LOCALES] as const, { default: '' }) })
const TokenForm = Form({ name: Text, expires_in_days: OptionalInteger })
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })

/** A readable name for a browser from its User-Agent: enough to tell one's own sessions apart. */
export function browserName(userAgent: string | null): string {
  if (!userAgent) return '—'
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /OPR\//.test(userAgent) ? 'Opera' : /Firefox\//.test(userAgent) ? 'Firefox'
    : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome' : /Safari\//.test(userAgent) ? 'Safari' : null
  const system = /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS' : /Windows/.test(userAgent) ? 'Windows'
    : /Mac OS X|Macintosh/.test(userAgent) ? 'macOS' : /Linux/.test(userAgent) ? 'Linux' : null
  if (browser && system) return `${browser}, ${system}`
  return browser ?? system ?? userAgent.slice(0, 60)
}

export default async function account(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  const loggedIn = guard(() => true)

  async function accountPage(request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown> = {}, status = 200) {
    const actor = request.actor!
    const person = { kind: actor.kind, id: actor.id }
    const idleSince = new Date(fastify.clock().getTime() - SESSION_IDLE_MS).toISOString()
    const sessions = (await openSessions(fastify.db, person, idleSince)).map((s) => ({ ...s, browser: browserName(s.userAgent), current: s.id === request.webSession?.id }))
    return reply.page('auth/account', {
      title: request.t('nav.account'), sessions, tokens: await listApiTokens(fastify.db, person),
      events: await listSecurityEvents(fastify.db, { person, limit: 20 }), tokenMaxDays: TOKEN_MAX_DAYS, now: fastify.clock().toISOString(),
      twoFactorOn: actor.kind === 'staff' && Boolean((await twoFactorOf(fastify.db, actor.id))?.enabledAt),
      ...data
    }, status)
  }

  fastify.get('/account', { preHandler: loggedIn }, async (request, reply) => accountPage(request, reply))

  fastify.post('/account/password', { preHandler: loggedIn, schema: { body: PasswordForm } }, async (request, reply) => {
    const actor = request.actor!
    const body = request.body
    const t = request.t
    const outcome = await changePassword(deps, personWho(actor), {
      current: body.current_password, next: body.new_password, confirm: body.confirm_password,
      keepSessionId: request.webSession?.id, client: request.client()
    })
    if (!outcome.ok) {
      const errors: FormErrors = fieldMessages(t, outcome.refusal, {
        names: { current: 'current_password', next: 'new_password', confirm: 'confirm_password' }, params: { min: MIN_PASSWORD_LENGTH }
      })
      return accountPage(request, reply, { errors, formError: t('common.formErrors') }, 422)
    }
    request.log.info({ kind: actor.kind, id: actor.id, sessionsEnded: outcome.value.sessionsEnded }, 'password changed')
    reply.flash('success', outcome.value.sessionsEnded > 0 ? t('security.password.changedOthersEnded', { n: outcome.value.sessionsEnded }) : t('auth.password.changed'))
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

  fastify.post('/account/sessions/end-others', { preHandler: loggedIn, schema: { body: ButtonForm } }, async (request, reply) => {
    const outcome = await endOtherSessions(deps, personWho(request.actor!), { currentSessionId: request.webSession!.id, client: request.client() })
    if (outcome.ok) reply.flash('success', request.t('security.sessions.othersEnded', { n: outcome.value }))
    return reply.redirect('/account#sessions')
  })

  fastify.post('/account/sessions/:id/end', { preHandler: loggedIn, schema: { params: IdParams, body: ButtonForm } }, async (request, reply) => {
    const id = request.params.id
    if (id === request.webSession?.id) throw notFound()
    const outcome = await endOneSession(deps, personWho(request.actor!), { sessionId: id, client: request.client() })
    if (!outcome.ok) throw notFound()
    reply.flash('success', request.t('security.sessions.ended'))
    return reply.redirect('/account#sessions')
  })

  fastify.post('/account/tokens', { preHandler: loggedIn, schema: { body: TokenForm }, attachValidation: true }, async (request, reply) => {
    const t = request.t
    if (request.validationError) {
      return accountPage(request, reply, { tokenErrors: { expires_in_days: t('validation.invalidNumber') }, tokenValues: echo(request) }, 422)
    }
    const body = request.body
    const outcome = await createOwnApiToken(deps, personWho(request.actor!), { name: body.name, expiresInDays: body.expires_in_days, client: request.client() })
    if (!outcome.ok) {
      const tokenErrors = fieldMessages(t, outcome.refusal, { keys: { 'expiresInDays.out_of_range': 'security.tokens.daysRange' }, params: { max: TOKEN_MAX_DAYS } })
      return accountPage(request, reply, { tokenErrors, tokenValues: echo(request) }, 422)
    }
    // Shown once, on this answer only (never stored in clear, never put in the flash cookie).
    return accountPage(request, reply, { newToken: { id: outcome.value.id, token: outcome.value.token, name: body.name.trim() } })
  })

  fastify.post('/account/tokens/:id/revoke', { preHandler: loggedIn, schema: { params: IdParams, body: ButtonForm } }, async (request, reply) => {
    const outcome = await revokeOwnApiToken(deps, personWho(request.actor!), { tokenId: request.params.id, client: request.client() })
    if (!outcome.ok) throw notFound()
    reply.flash('success', request.t('security.tokens.revoked'))
    return reply.redirect('/account#tokens')
  })
}
