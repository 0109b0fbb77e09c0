// An article's files at /kb/files/:id/:name, for whoever may read the article: staff always; a
// client or a visitor only when the article is published for them (kbVisible), otherwise 404 as
// for a file that is not there. Images of safe types show inline (an article's pictures); every
// other file downloads, never sniffed.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { articleAccounts, getKbAttachment } from '../../db/kb.js'
import { kbReaderOf, kbVisible } from '../../domain/kb.js'
import type { Actor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'

/** Image types a browser shows and cannot run as a page (no SVG: it can carry script). */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

export function kbDisposition(contentType: string): 'inline' | 'attachment' {
  return INLINE_IMAGES.has(contentType) ? 'inline' : 'attachment'
}

export default async function kbFiles(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.get('/kb/files/:id/:name', {
    schema: { params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), name: Type.String({ maxLength: 1000 }) }) }
  }, async (request, reply) => {
    const file = await getKbAttachment(fastify.db, request.params.id)
    if (!file) throw notFound()
    const accounts = file.audience === 'accounts' ? await articleAccounts(fastify.db, file.article_id) : []
    if (!kbVisible(file, accounts, kbReaderOf(request.actor))) throw notFound()
    const staff = request.actor?.kind === 'staff'
    return reply
      .header('content-type', file.content_type)
      .header('content-length', String(file.size))
      .header('content-disposition', `${kbDisposition(file.content_type)}; filename*=UTF-8''${encodeURIComponent(file.filename)}`)
      .header('x-content-type-options', 'nosniff')
      // A public article's picture may be kept by the browser; anything else is fetched each time.
      .header('cache-control', !staff && file.audience === 'public' ? 'private, max-age=300' : 'private, no-store')
      .send(await fastify.store.open('attachment', file.sha256))
  })
}
