import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { ping } from '../db/index.js'

export default async function health(fastify: FastifyInstance) {
  fastify.get('/healthz', {
    schema: { response: { 200: Type.Object({ status: Type.Literal('ok'), database: Type.Literal('ok') }), 503: Type.Object({ status: Type.String(), database: Type.String() }) } }
  }, async (_request, reply) => {
    try {
      await ping(fastify.db)
      return { status: 'ok' as const, database: 'ok' as const }
    } catch {
      return reply.code(503).send({ status: 'unhealthy', database: 'unreachable' })
    }
  })
}
