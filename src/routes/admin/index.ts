import type { FastifyInstance } from 'fastify'

export default async function admin(fastify: FastifyInstance) {
  void fastify
}
