import type { FastifyInstance } from 'fastify'

export default async function apiV1(fastify: FastifyInstance) {
  void fastify
}
