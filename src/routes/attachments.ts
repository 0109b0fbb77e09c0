import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { getAttachmentForActor } from '../db/attachment.js'
import { dispositionFor } from '../storage/attachments.js'
import { guard } from './web.js'
import { notFound } from '../plugins/app.js'

/** Attachment downloads: only to people who may see the ticket (and the note, when internal). */
export default async function attachments(fastify: FastifyInstance) {
  fastify.get('/attachments/:id', {
    preHandler: guard(() => true),
    schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) }
  }, async (request, reply) => {
    const { id } = request.params as { id: number }
    const file = await getAttachmentForActor(fastify.db, request.actor!, id)
    if (!file) throw notFound()
    const disposition = dispositionFor(file.content_type)
    return reply
      .header('content-type', file.content_type)
      .header('content-length', String(file.size))
      .header('content-disposition', `${disposition}; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
      .header('cache-control', 'private, no-store')
      .send(await fastify.store.open('attachment', file.sha256))
  })
}
