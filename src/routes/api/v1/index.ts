import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { findTokenOwner } from '../../../db/token.js'
import { loadActor } from '../../../db/people.js'
import { noteTokenUse } from '../../../commands/sessions.js'
import { errorBody, sendApiError, unauthorized } from './errors.js'
import tickets from './tickets.js'
import transitions from './transitions.js'
import attachments from './attachments.js'
import admin from './admin.js'
import lists from './lists.js'
import reference from './reference.js'
import kb from './kb.js'
import openapi, { describeApi } from './openapi.js'
import { strictInput } from './validation.js'
import { idempotentPosts } from './idempotency.js'

// Tokens are `cb_` + base64url; anything far longer is not worth a database look-up.
const BEARER = /^Bearer\s+([A-Za-z0-9_\-.~+/]{1,200}=*)\s*$/i

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (typeof header !== 'string') return null
  return BEARER.exec(header)?.[1] ?? null
}

/**
 * JSON API v1. Registered outside the web scope: no session and no CSRF; every request
 * authenticates with `Authorization: Bearer <token>` and then obeys the portal's permissions.
 */
export default async function apiV1(fastify: FastifyInstance) {
  // JSON bodies only, read strictly (./validation.ts); queries and paths as before.
  strictInput(fastify)
  idempotentPosts(fastify)
  // Before any route: the document is built from the routes this instance registers.
  await describeApi(fastify)

  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    if (request.routeOptions.config.publicApi === true) return
    const token = bearerToken(request)
    if (!token) throw unauthorized(request.t)
    const now = fastify.clock()
    const owner = await findTokenOwner(fastify.db, token, now.toISOString())
    const actor = owner ? await loadActor(fastify.db, owner.kind, owner.id) : undefined
    if (!owner || !actor) throw unauthorized(request.t)
    fastify.setActor(request, actor)
    // "Last used" on the account page, to the minute: one write a minute per token at most.
    if (!owner.lastUsedAt || now.getTime() - Date.parse(owner.lastUsedAt) > 60_000) {
      await noteTokenUse({ db: fastify.db, clock: fastify.clock, random: fastify.random }, { tokenId: owner.tokenId })
    }
    request.apiTokenId = owner.tokenId
    request.log.debug({ tokenId: owner.tokenId, actor: `${actor.kind}:${actor.id}` }, 'api caller')
  })

  fastify.setErrorHandler(async (error: FastifyError, request, reply) => sendApiError(error, request, reply))

  fastify.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).send(errorBody('not_found', request.t('api.error.noRoute', { method: request.method, path: request.url.split('?')[0] })))
  })

  await fastify.register(openapi)
  await fastify.register(tickets)
  await fastify.register(transitions)
  await fastify.register(attachments)
  await fastify.register(lists)
  await fastify.register(reference)
  await fastify.register(kb)
  await fastify.register(admin, { prefix: '/admin' })
}
