import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Actor, Locale } from '../domain/permissions.js'
import { browserLocale, formatDateTime, formatShortDateTime, translator, type Translate } from '../i18n/index.js'
import { loadActor } from '../db/people.js'
import { findLiveSession, type LiveSession } from '../db/sessions.js'
import { hashSecretToken } from '../security/token.js'
import { countUnread } from '../db/notifications.js'
import { UNREAD_CAP, unreadLabel } from '../domain/notifications.js'
import { noteSessionUse, SESSION_IDLE_MS, type ClientInfo } from '../commands/sessions.js'

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null
    locale: Locale
    t: Translate
    /** The server-side session the cookie names, once checked (null: none, or it has ended). */
    webSession: LiveSession | null
    /** Where the request came from, for security events. */
    client(): ClientInfo
  }
  interface FastifyReply {
    /** Renders a view inside the layout with the shared context (t, actor, csrf, flash). */
    page(template: string, data?: Record<string, unknown>, status?: number): FastifyReply
    flash(kind: 'success' | 'error' | 'info', text: string): void
  }
  interface FastifyInstance {
    setActor(request: FastifyRequest, actor: Actor | null): void
    loadSessionActor(request: FastifyRequest): Promise<void>
  }
}

export class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message)
  }
}

export const notFound = (message = 'not found') => new HttpError(404, 'not_found', message)
export const forbidden = (message = 'forbidden') => new HttpError(403, 'forbidden', message)

/** App plugins: who is asking (actor), in which language, and how pages are rendered. */
export default fp(async function appPlugins(fastify) {
  const defaultLocale = fastify.config.DEFAULT_LOCALE

  fastify.decorateRequest('actor', null)
  fastify.decorateRequest('locale', null as unknown as Locale)
  fastify.decorateRequest('t', null as unknown as Translate)
  fastify.decorateRequest('webSession', null)
  fastify.decorateRequest('client', function (this: FastifyRequest): ClientInfo {
    const agent = this.headers['user-agent']
    return { ip: this.ip ?? null, userAgent: typeof agent === 'string' ? agent : null }
  })

  function setActor(request: FastifyRequest, actor: Actor | null) {
    request.actor = actor
    request.locale = actor?.locale ?? browserLocale((offered) => request.languages(offered), defaultLocale)
    request.t = translator(request.locale)
  }
  fastify.decorate('setActor', setActor)

  fastify.addHook('onRequest', async (request) => {
    setActor(request, null)
    request.webSession = null
  })

  // The cookie names a session; the server says whether it still holds (one look-up by a unique
  // index), so a logout, a password change or an account turned off ends it at once.
  fastify.decorate('loadSessionActor', async (request: FastifyRequest) => {
    const token = request.session.get('sid')
    if (!token) return
    const now = fastify.clock()
    const live = await findLiveSession(fastify.db, hashSecretToken(token), new Date(now.getTime() - SESSION_IDLE_MS).toISOString())
    if (!live) {
      request.session.delete()
      return
    }
    request.webSession = live
    // Password given, second factor not yet: no actor; only the second-factor page serves it.
    if (live.secondFactorPending) return
    const actor = await loadActor(fastify.db, live.person.kind, live.person.id)
    if (!actor) {
      request.session.delete()
      request.webSession = null
      return
    }
    setActor(request, actor)
    if (now.getTime() - Date.parse(live.lastSeenAt) > 60_000) {
      await noteSessionUse({ db: fastify.db, clock: fastify.clock, random: fastify.random }, { sessionId: live.id })
    }
  })

  fastify.decorateReply('flash', function (this: FastifyReply, kind: 'success' | 'error' | 'info', text: string) {
    this.request.session.set('flash', { kind, text })
  })

  fastify.decorateReply('page', function (this: FastifyReply, template: string, data: Record<string, unknown> = {}, status = 200) {
    const request = this.request
    // A live page fetching itself again (public/live.js) leaves the flash for the page it is meant for.
    const flash = request.headers['x-live-refresh'] === undefined ? request.session?.get('flash') : undefined
    if (flash) request.session.set('flash', undefined)
    const locale = request.locale
    const context = {
      t: request.t,
      locale,
      actor: request.actor,
      csrf: this.generateCsrf(),
      flash: flash ?? null,
      path: request.url,
      maxAttachmentMb: fastify.config.MAX_ATTACHMENT_MB,
      fmtDate: (value: string | null | undefined) => formatDateTime(value, locale),
      fmtShort: (value: string | null | undefined) => formatShortDateTime(value),
      errors: {},
      values: {},
      ...data
    }
    this.code(status).header('cache-control', 'no-store')
    // Staff pages carry the bell: one bounded count of their unread notifications.
    const actor = request.actor
    if (actor?.kind !== 'staff') return this.view(template, context) as unknown as FastifyReply
    return countUnread(fastify.db, actor.id, UNREAD_CAP).then(
      (unread) => this.view(template, { ...context, unread, unreadLabel: unreadLabel(unread) }),
      // The page (an error page, say) still renders, without the bell.
      (err: unknown) => {
        request.log.warn({ err }, 'unread notifications not counted')
        return this.view(template, context)
      }
    ) as unknown as FastifyReply
  })
}, { name: 'app', dependencies: ['external'] })
