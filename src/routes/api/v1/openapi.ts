// The API describes itself: an OpenAPI 3.1 document built from the route schemas themselves
// (@fastify/swagger), served without a token at GET /api/v1/openapi.json. Registered on the API's
// own instance, so it sees the /api/v1 routes and nothing of the HTML site.
import type { FastifyInstance, FastifySchema } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import swagger from '@fastify/swagger'
import { Type } from '@sinclair/typebox'
import { VERSION } from '../../../version.js'
import { ErrorResponses } from './schemas.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answered without a token: the API's own description, nothing else. */
    publicApi?: boolean
  }
}

export const OPENAPI_URL = '/api/v1/openapi.json'

/** The document's groups, in the order a reader meets them; each route's by the first part of its path. */
export const API_TAGS = [
  { name: 'tickets', description: 'Tickets and their notes, transfers and lifecycle' },
  { name: 'attachments', description: 'Files on tickets and notes' },
  { name: 'knowledge base', description: 'Help-center articles: what clients may read; drafts, versions and review for staff' },
  { name: 'reference', description: 'Who the caller is, and the ids and codes a ticket or a search may name' },
  { name: 'administration', description: 'The organisation\'s structure, people and service hours (administrators\' tokens only)' },
  { name: 'documentation', description: 'This document' }
] as const
type Tag = (typeof API_TAGS)[number]['name']

export function tagOf(url: string): Tag {
  const first = url.replace(/^\/api\/v1\//, '').split('/')[0]
  if (first === 'tickets') return 'tickets'
  if (first === 'attachments') return 'attachments'
  if (first === 'kb') return 'knowledge base'
  if (first === 'admin') return 'administration'
  if (first === 'openapi.json') return 'documentation'
  return 'reference'
}

/**
 * A route's schema as the document shows it: its group, each answer described, and query
 * parameters that have a default (page, perPage) not marked required: a caller may leave them out.
 */
function documented(schema: FastifySchema, url: string): FastifySchema {
  const query = schema.querystring as { properties?: Record<string, { default?: unknown }>; required?: string[] } | undefined
  const optionalQuery = query?.required && query.properties
    ? { querystring: { ...query, required: query.required.filter((name) => query.properties![name]?.default === undefined) } }
    : {}
  const responses = Object.fromEntries(Object.entries((schema.response ?? {}) as Record<string, { description?: string }>)
    .map(([status, answer]) => [status, answer.description ? answer : { ...answer, description: SUCCESS[status] ?? 'Answer' }]))
  return { ...schema, ...optionalQuery, response: responses, tags: schema.tags ?? [tagOf(url)] }
}

const SUCCESS: Record<string, string> = { 200: 'OK', 201: 'Created', 204: 'Done, nothing to answer' }

/** Collects the API's routes for the document; call it on the API's instance before any route. */
export async function describeApi(fastify: FastifyInstance): Promise<void> {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Casebridge API',
        version: VERSION,
        description: [
          'The JSON API of Casebridge: the tickets a person may see and what they may do with them, under the portal\'s permissions.',
          'Every request but this document\'s authenticates with an API token (created on the account page) sent as `Authorization: Bearer <token>`.',
          'Errors answer `{ "error": { "code", "message", "fields"? } }`. A POST may carry an `Idempotency-Key` header: a retry gets the first answer again.',
          'A human-readable reference is docs/api.md in the source.'
        ].join('\n\n')
      },
      tags: API_TAGS.map((tag) => ({ ...tag })),
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token from the account page (`cb_...`)' }
        }
      },
      security: [{ bearerAuth: [] }]
    },
    transform: ({ schema, url }) => ({ schema: documented(schema ?? {}, url), url })
  })
}

const OpenApiDocument = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description: 'an OpenAPI 3.1 document' })

/** GET /openapi.json: public, like the description of any public API. */
export default async function openapiRoute(instance: FastifyInstance) {
  const api = instance.withTypeProvider<TypeBoxTypeProvider>()
  api.get('/openapi.json', {
    config: { publicApi: true },
    schema: {
      summary: 'This API described as an OpenAPI 3.1 document (no token needed)',
      security: [],
      response: { 200: OpenApiDocument, ...ErrorResponses }
    }
  }, async () => api.swagger() as unknown as Record<string, unknown>)
}
