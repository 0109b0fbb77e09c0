import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { getAttachmentForActor } from '../../../db/attachment.js'
import { dispositionFor } from '../../../storage/attachments.js'
import { HttpError } from '../../../plugins/app.js'
import { ErrorResponses, Id } from './schemas.js'

/** Attachment bytes for token holders, under the same rule as the portal's download. */
export default async function attachmentRoutes(fastify: FastifyInstance) {
  const api = fastify.withTypeProvider<TypeBoxTypeProvider>()

  api.get('/attachments/:id', {
    schema: {
      summary: 'Download an attachment of a ticket the caller may see',
      params: Type.Object({ id: Id }),
      response: { 200: Type.Unsafe<unknown>({ description: 'the file, with its content type' }), ...ErrorResponses }
    }
  }, async (request, reply) => {
    const file = await getAttachmentForActor(fastify.db, request.actor!, request.params.id)
    if (!file) throw new HttpError(404, 'not_found', request.t('api.error.attachmentNotFound'))
    return reply
      .header('content-type', file.content_type)
      .header('content-length', String(file.size))
      .header('content-disposition', `${dispositionFor(file.content_type)}; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
      .send(await fastify.store.open('attachment', file.sha256))
  })
}
