import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Actor, Locale } from '../domain/permissions.js'
import { browserLocale, formatDateTime, translator, type Translate } from '../i18n/index.js'
import { loadActor } from '../db/people.js'

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null
    locale: Locale
    t: Translate
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

  function setActor(request: FastifyRequest, actor: Actor | null) {
    request.actor = actor
    request.locale = actor?.locale ?? browserLocale((offered) => request.languages(offered), defaultLocale)
    request.t = translator(request.locale)
  }
  fastify.decorate('setActor', setActor)

  fastify.addHook('onRequest', async (request) => {
    setActor(request, null)
  })

  fastify.decorate('loadSessionActor', async (request: FastifyRequest) => {
    const who = request.session.get('who')
    if (!who) return
    const actor = await loadActor(fastify.db, who.kind, who.id)
    if (!actor) {
      request.session.delete()
      return
    }
    setActor(request, actor)
  })

  fastify.decorateReply('flash', function (this: FastifyReply, kind: 'success' | 'error' | 'info', text: string) {
    this.request.session.set('flash', { kind, text })
  })

  fastify.decorateReply('page', function (this: FastifyReply, template: string, data: Record<string, unknown> = {}, status = 200) {
    const request = this.request
    const flash = request.session?.get('flash')
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
      errors: {},
      values: {},
      ...data
    }
    this.code(status).header('cache-control', 'no-store')
    return this.view(template, context) as unknown as FastifyReply
  })
}, { name: 'app', dependencies: ['external'] })
