import type { FastifyInstance } from 'fastify'

export default async function desk(fastify: FastifyInstance) {
  void fastify
}
