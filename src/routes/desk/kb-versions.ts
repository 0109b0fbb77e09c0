// An article's versions (mounted at /desk/kb): every saved version with its author, date and
// note, what changed between any two (word by word), and going back to one (a new version).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { getArticle, getVersion, listVersions } from '../../db/kb.js'
import { textDiff } from '../../domain/kb.js'
import { restoreVersion } from '../../commands/kb.js'
import { personWho } from '../../commands/kernel.js'
import { Form, Version } from '../forms.js'
import { refusalStatus } from '../refusals.js'
import { notFound } from '../../plugins/app.js'
import { pathId } from '../admin/shared.js'
import { staffOf } from './shared.js'
import { KbIdParams, kbActorOf, kbRefusalMessage, mayEdit } from './kb-shared.js'

const VersionNumber = Type.Integer({ minimum: 1, maximum: 999_999_999 })
const DiffQuery = Type.Object({ from: VersionNumber, to: VersionNumber }, { additionalProperties: false })
const RestoreParams = Type.Object({ id: Type.String({ maxLength: 12 }), version: VersionNumber })

/** How a version's note reads: "restored:3" is written by the command, in words here. */
export function noteText(t: (key: string, params?: Record<string, string | number>) => string, note: string | null): string {
  const restored = note ? /^restored:(\d+)$/.exec(note) : null
  return restored ? t('kbDesk.versions.restoredFrom', { version: restored[1] }) : note ?? ''
}

export default async function kbVersions(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  async function versionsPage(request: FastifyRequest, reply: FastifyReply, state: { error?: string; status?: number } = {}) {
    const article = await getArticle(fastify.db, pathId(request))
    if (!article) throw notFound()
    const versions = await listVersions(fastify.db, article.id)
    return reply.page('desk/kb-versions', {
      title: request.t('kbDesk.versions.title', { title: article.title }),
      article, versions: versions.map((v) => ({ ...v, noteText: noteText(request.t, v.note) })),
      mayRestore: mayEdit(article, await kbActorOf(fastify, request)),
      error: state.error ?? null
    }, state.status ?? 200)
  }

  fastify.get('/kb/:id/versions', { schema: { params: KbIdParams } }, async (request, reply) => versionsPage(request, reply))

  fastify.get('/kb/:id/diff', { schema: { params: KbIdParams, querystring: DiffQuery } }, async (request, reply) => {
    const article = await getArticle(fastify.db, pathId(request))
    if (!article) throw notFound()
    const { from, to } = request.query
    const [a, b] = await Promise.all([getVersion(fastify.db, article.id, from), getVersion(fastify.db, article.id, to)])
    if (!a || !b) throw notFound()
    return reply.page('desk/kb-diff', {
      title: request.t('kbDesk.diff.title', { from, to }),
      article, from: a, to: b,
      parts: {
        title: textDiff(a.title, b.title), body: textDiff(a.body, b.body), tags: textDiff(a.tags, b.tags),
        audience: a.audience === b.audience ? null : { from: a.audience, to: b.audience }
      },
      same: a.title === b.title && a.body === b.body && a.tags === b.tags && a.audience === b.audience && a.category_id === b.category_id
    })
  })

  fastify.post('/kb/:id/versions/:version/restore', { schema: { params: RestoreParams, body: Form({ version: Version }) }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    if (request.validationError) return versionsPage(request, reply, { error: request.t('kbDesk.conflict'), status: 409 })
    const outcome = await restoreVersion(deps, personWho(staffOf(request)), id, request.params.version, { version: request.body.version })
    if (!outcome.ok) {
      if (outcome.refusal.code === 'not_found') throw notFound()
      return versionsPage(request, reply, { error: kbRefusalMessage(request.t, outcome.refusal), status: refusalStatus(outcome.refusal) })
    }
    reply.flash('success', request.t('kbDesk.versions.restored', { from: request.params.version, version: outcome.value.version }))
    return reply.redirect(`/desk/kb/${id}/versions`, 303)
  })
}
