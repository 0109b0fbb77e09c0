import type { FastifyInstance } from 'fastify'

export default async function portal(fastify: FastifyInstance) {
  void fastify
}
