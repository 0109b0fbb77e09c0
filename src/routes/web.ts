import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from '../plugins/app.js'
import auth from './auth/index.js'
import portal from './portal/index.js'
import help from './portal/help.js'
import desk from './desk/index.js'
import admin from './admin/index.js'
import attachments from './attachments.js'
import kbFiles from './desk/kb-files.js'
import exportRoutes from './exports.js'
import approvals from './approvals.js'
import { trimForm } from './forms.js'
import { holdsForbiddenText } from '../domain/text.js'
import { twoFactorSetupDue } from '../db/security.js'

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Where staff may go while their two-factor setup is due. */
const SETUP_PATHS = /^\/(account(\/two-factor(\/[a-z-]+)?)?|logout|static\/.*)(\?|$)/

/** Redirects anonymous visitors to the login page; refuses logged-in people of the wrong kind. */
export function guard(allowed: (request: FastifyRequest) => boolean) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.actor) {
      if (request.method === 'GET') return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`)
      throw new HttpError(401, 'unauthenticated', 'login required')
    }
    if (!allowed(request)) throw new HttpError(404, 'not_found', 'not found')
  }
}

function renderError(request: FastifyRequest, reply: FastifyReply, status: number, titleKey: string, bodyText: string) {
  return reply.page('error', { title: request.t(titleKey), message: bodyText }, status)
}

/** The server-rendered site: session actor, CSRF on every unsafe method, HTML errors. */
export default async function web(fastify: FastifyInstance) {
  // Pages post forms (urlencoded or multipart); JSON belongs to the API under /api/v1, so a JSON
  // body here can never pose as a form or as its uploaded files.
  fastify.removeContentTypeParser('application/json')
  fastify.addHook('onRequest', async (request, reply) => {
    await fastify.loadSessionActor(request)
    // Admins may require staff to use two-factor authentication: until they set it up, staff
    // reach only their account (to set it up) and the logout.
    const actor = request.actor
    if (actor?.kind === 'staff' && !SETUP_PATHS.test(request.url) && await twoFactorSetupDue(fastify.db, actor.id)) {
      if (request.method === 'GET') return reply.redirect('/account/two-factor')
      throw new HttpError(403, 'forbidden', 'two-factor authentication required')
    }
  })
  // Text is read as people mean it, without the spaces around it (passwords as typed).
  // A query string holding a control character is no search anyone typed (and PostgreSQL refuses NUL).
  fastify.addHook('preValidation', async (request) => {
    if (holdsForbiddenText(request.query)) throw new HttpError(400, 'bad_query', request.t('error.badRequest'))
    trimForm(request)
  })
  // A route with `attachValidation` answers its own form's failures; anything else (the path) is a 400, as without it.
  fastify.addHook('preHandler', async (request) => {
    const error = request.validationError
    if (error && error.validationContext !== 'body') throw error
  })
  fastify.addHook('preHandler', (request, reply, done) => {
    if (UNSAFE.has(request.method)) return fastify.csrfProtection(request, reply, done)
    done()
  })

  fastify.setErrorHandler(async (error: FastifyError, request, reply) => {
    const t = request.t
    // A multipart body that breaks while it is read (no boundary, cut short) fails inside the
    // parser with a plain Error and no status: the request's fault, and nothing was handled yet.
    const brokenBody = error.statusCode === undefined && request.readingBody
    if (brokenBody) request.log.info({ err: error.message }, 'malformed multipart body')
    const status = brokenBody ? 400 : error.statusCode ?? 500
    if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
      return renderError(request, reply, 403, 'error.forbidden.title', t('error.csrf'))
    }
    if (status === 429) return renderError(request, reply, 429, 'error.forbidden.title', t('error.rateLimited'))
    if (status === 401) return reply.redirect('/login')
    if (status === 404) return renderError(request, reply, 404, 'error.notFound.title', t('error.notFound.body'))
    if (status === 403) return renderError(request, reply, 403, 'error.forbidden.title', t('error.forbidden.body'))
    if (status >= 400 && status < 500) return renderError(request, reply, status, 'error.notFound.title', t('error.badRequest'))
    request.log.error({ err: error }, 'request failed')
    return renderError(request, reply, 500, 'error.server.title', t('error.server.body'))
  })

  fastify.setNotFoundHandler(async (request, reply) => {
    await fastify.loadSessionActor(request)
    return renderError(request, reply, 404, 'error.notFound.title', request.t('error.notFound.body'))
  })

  fastify.get('/', async (request, reply) => {
    if (!request.actor) return reply.redirect('/login')
    return reply.redirect(request.actor.kind === 'staff' ? '/desk' : '/portal')
  })

  await fastify.register(auth)
  await fastify.register(attachments)
  // Article files answer visitors too (a public article's pictures), by the article's audience.
  await fastify.register(kbFiles)
  await fastify.register(exportRoutes)
  // Approval links work without a login, so they sit outside the portal and desk guards.
  await fastify.register(approvals)
  await fastify.register(portal, { prefix: '/portal' })
  await fastify.register(help, { prefix: '/help' })
  await fastify.register(desk, { prefix: '/desk' })
  await fastify.register(admin, { prefix: '/admin' })
}
