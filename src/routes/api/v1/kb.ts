// The knowledge base through the API (`/api/v1/kb/articles`). A client's token sees what the help
// center shows them (published, public or for one of their accounts, never internal): anything
// else is answered 404, as if it did not exist. Staff see every state and write through the same
// commands as the desk's pages (src/commands/kb.ts): drafts, new versions with the version read
// (409 when it changed since), review and publication by reviewers only.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static } from '@sinclair/typebox'
import { HttpError } from '../../../plugins/app.js'
import { personWho, type Refused } from '../../../commands/kernel.js'
import { createArticle, editArticle, moveArticle, type ArticleInput } from '../../../commands/kb.js'
import { findArticles } from '../../../db/kb-search.js'
import { articleExtras, articlesFor, listArticlesFor } from '../../../db/kb-links.js'
import { articleAccounts, type KbArticleRow } from '../../../db/kb.js'
import { KB_AUDIENCES, KB_LANGUAGES, KB_LIMITS, KB_STATES, kbReaderOf, sanitizeArticleHtml, type KbAction } from '../../../domain/kb.js'
import { articleClientPath } from '../../../domain/kb-links.js'
import type { Actor } from '../../../domain/permissions.js'
import { apiRefusal, forbidden } from './errors.js'
import { once } from './idempotency.js'
import { ErrorResponses, Id, NullableId, StringEnum, Timestamp } from './schemas.js'

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(s: T) => Type.Union([s, Type.Null()])

const ArticleJson = Type.Object({
  id: Type.Integer(),
  language: StringEnum(KB_LANGUAGES),
  slug: Type.String(),
  title: Type.String(),
  state: StringEnum(KB_STATES),
  audience: StringEnum(KB_AUDIENCES),
  categoryId: Nullable(Type.Integer()),
  tags: Type.Array(Type.String()),
  translationOf: Nullable(Type.Integer()),
  version: Type.Integer(),
  url: Type.String({ description: 'the article in the help center (clients), /help/articles/ID-slug' }),
  bodyHtml: Type.String({ description: 'the article rendered from its Markdown and sanitized' }),
  bodyText: Type.String({ description: 'its plain text' }),
  body: Type.Optional(Type.String({ description: 'staff only: the Markdown staff edit' })),
  accountIds: Type.Optional(Type.Array(Type.Integer(), { description: 'staff only: for audience accounts, whose clients see it' })),
  publishedAt: Nullable(Timestamp),
  updatedAt: Timestamp
})
type ArticleJson = Static<typeof ArticleJson>

const ArticleList = Type.Object({
  items: Type.Array(ArticleJson),
  total: Type.Integer({ description: 'how many match; with q, how many were found up to this page' }),
  limit: Type.Integer(),
  offset: Type.Integer()
})

const ArticleQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, description: 'words to search for (title first, then tags, then text)' })),
  category: Type.Optional(Id),
  language: Type.Optional(StringEnum(KB_LANGUAGES)),
  state: Type.Optional(StringEnum(KB_STATES, { description: 'staff: any state; clients only ever see published articles' })),
  limit: Type.Integer({ minimum: 1, maximum: 50, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })
}, { additionalProperties: false })

const ArticleParams = Type.Object({ id: Id })

const Tags = Type.Array(Type.String({ maxLength: KB_LIMITS.tag }), { maxItems: KB_LIMITS.tags })
const Accounts = Type.Array(Id, { maxItems: 1000 })
const NewArticleBody = Type.Object({
  language: StringEnum(KB_LANGUAGES),
  title: Type.String({ minLength: 1, maxLength: KB_LIMITS.title }),
  body: Type.String({ minLength: 1, maxLength: KB_LIMITS.body, description: 'Markdown; raw HTML is shown as text' }),
  tags: Type.Optional(Tags),
  categoryId: Type.Optional(NullableId),
  audience: StringEnum(KB_AUDIENCES),
  accountIds: Type.Optional(Accounts),
  translationOf: Type.Optional(NullableId),
  note: Type.Optional(Type.String({ maxLength: KB_LIMITS.note }))
}, { additionalProperties: false })

const EditArticleBody = Type.Object({
  version: Type.Integer({ minimum: 1, description: 'the version you read; 409 when the article changed since' }),
  title: Type.Optional(Type.String({ minLength: 1, maxLength: KB_LIMITS.title })),
  body: Type.Optional(Type.String({ minLength: 1, maxLength: KB_LIMITS.body })),
  tags: Type.Optional(Tags),
  categoryId: Type.Optional(NullableId),
  audience: Type.Optional(StringEnum(KB_AUDIENCES)),
  accountIds: Type.Optional(Accounts),
  translationOf: Type.Optional(NullableId),
  note: Type.Optional(Type.String({ maxLength: KB_LIMITS.note }))
}, { additionalProperties: false })

const MoveBody = Type.Object({
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'the version you read; 409 when the article changed since' }))
}, { additionalProperties: false })

/** The state changes, as the path names them, and the command's action for each. */
const MOVES: Record<string, { action: Exclude<KbAction, 'edit'>; summary: string }> = {
  submit: { action: 'submit', summary: 'Staff: send a draft for review' },
  publish: { action: 'publish', summary: 'Reviewers: publish a draft or an article in review (not their own, unless an admin)' },
  'send-back': { action: 'send_back', summary: 'Reviewers: send an article in review back to draft' },
  archive: { action: 'archive', summary: 'Reviewers: archive an article' },
  restore: { action: 'restore', summary: 'Reviewers: restore an archived article as a draft' }
}

function actorOf(request: FastifyRequest): Actor {
  return request.actor!
}

function articleJson(row: KbArticleRow, staff: boolean, accountIds: number[]): ArticleJson {
  return {
    id: row.id, language: row.language as ArticleJson['language'], slug: row.slug, title: row.title, state: row.state, audience: row.audience,
    categoryId: row.category_id, tags: row.tags ? row.tags.split(', ').filter(Boolean) : [], translationOf: row.translation_of, version: row.version,
    url: articleClientPath(row), bodyHtml: sanitizeArticleHtml(row.body_html), bodyText: row.body_text,
    ...(staff ? { body: row.body, accountIds } : {}),
    publishedAt: row.published_at, updatedAt: row.updated_at
  }
}

export default async function kbApi(instance: FastifyInstance) {
  const api = instance.withTypeProvider<TypeBoxTypeProvider>()
  const db = api.db
  const deps = { db, clock: api.clock, random: api.random }
  const notFound = (request: FastifyRequest) => new HttpError(404, 'not_found', request.t('kbStaff.api.notFound'))

  function staffOnly(request: FastifyRequest): void {
    if (actorOf(request).kind !== 'staff') throw forbidden(request.t('kbStaff.api.staffOnly'))
  }

  /** A command's refusal as the API answers it. */
  function refusal(request: FastifyRequest, r: Refused): HttpError {
    const t = request.t
    if (r.code === 'not_found') return notFound(request)
    if (r.code === 'forbidden') return forbidden(t(r.params.reason ? `kbStaff.api.refused.${r.params.reason}` : 'kbStaff.api.staffOnly'))
    if (r.code === 'not_allowed_in_state') return new HttpError(409, 'not_allowed', t('kbStaff.api.notInState', { state: r.params.state ?? '', action: r.params.action ?? '' }))
    if (r.code === 'conflict') return new HttpError(409, 'conflict', t('kbStaff.api.conflict'))
    return apiRefusal(t, r, { keepNames: true })
  }

  /** The article as the caller may see it, else 404. */
  async function visible(request: FastifyRequest, id: number): Promise<ArticleJson> {
    const actor = actorOf(request)
    const [row] = await articlesFor(db, kbReaderOf(actor), [id])
    if (!row) throw notFound(request)
    const staff = actor.kind === 'staff'
    return articleJson(row, staff, staff ? await articleAccounts(db, id) : [])
  }

  api.get('/kb/articles', {
    schema: { summary: 'Knowledge-base articles the caller may see, searched or the most recently changed first', querystring: ArticleQuery, response: { 200: ArticleList, ...ErrorResponses } }
  }, async (request) => {
    const actor = actorOf(request)
    const staff = actor.kind === 'staff'
    const reader = kbReaderOf(actor)
    const { q, category, language, state, limit, offset } = request.query
    let rows: KbArticleRow[]
    let total: number
    if (q !== undefined && q.trim() !== '') {
      // The search ranks; the rows are then read whole, in its order.
      const ids = (await findArticles(db, reader, q, { language, categoryId: category, limit: Math.min(offset + limit, 50) })).map((h) => h.id)
      const byId = new Map((await articlesFor(db, reader, ids, state)).map((r) => [r.id, r]))
      const kept = ids.flatMap((id) => byId.get(id) ?? [])
      rows = kept.slice(offset, offset + limit)
      total = kept.length
    } else {
      ({ rows, total } = await listArticlesFor(db, reader, { language, categoryId: category, state, limit, offset }))
    }
    const extras = staff ? await articleExtras(db, rows.map((r) => r.id)) : new Map<number, { accountIds: number[] }>()
    return { items: rows.map((r) => articleJson(r, staff, extras.get(r.id)?.accountIds ?? [])), total, limit, offset }
  })

  api.get('/kb/articles/:id', {
    schema: { summary: 'One knowledge-base article (404 when the caller may not see it)', params: ArticleParams, response: { 200: ArticleJson, ...ErrorResponses } }
  }, async (request) => visible(request, request.params.id))

  api.post('/kb/articles', {
    schema: { summary: 'Staff: write a new article, as a draft', body: NewArticleBody, response: { 201: ArticleJson, ...ErrorResponses } }
  }, async (request, reply) => {
    staffOnly(request)
    const b = request.body
    const input: ArticleInput = {
      language: b.language, title: b.title, body: b.body, tags: (b.tags ?? []).join(','), categoryId: b.categoryId ?? null, audience: b.audience,
      accountIds: b.accountIds ?? [], translationOf: b.translationOf ?? null, note: b.note ?? null
    }
    const outcome = await once(request, deps, (d) => createArticle(d, personWho(actorOf(request)), input))
    if (!outcome.ok) throw refusal(request, outcome.refusal)
    request.log.info({ articleId: outcome.value.id }, 'article drafted through the API')
    return reply.code(201).header('location', `/api/v1/kb/articles/${outcome.value.id}`).send(await visible(request, outcome.value.id))
  })

  api.patch('/kb/articles/:id', {
    schema: { summary: 'Staff: save a new version of an article (the fields sent change, the others stay)', params: ArticleParams, body: EditArticleBody, response: { 200: ArticleJson, ...ErrorResponses } }
  }, async (request) => {
    staffOnly(request)
    const id = request.params.id
    const [current] = await articlesFor(db, kbReaderOf(actorOf(request)), [id])
    if (!current) throw notFound(request)
    const b = request.body
    const input: ArticleInput & { version: number } = {
      language: current.language, title: b.title ?? current.title, body: b.body ?? current.body,
      tags: b.tags ? b.tags.join(',') : current.tags, categoryId: b.categoryId !== undefined ? b.categoryId : current.category_id,
      audience: b.audience ?? current.audience, accountIds: b.accountIds ?? await articleAccounts(db, id),
      translationOf: b.translationOf !== undefined ? b.translationOf : current.translation_of, note: b.note ?? null, version: b.version
    }
    const outcome = await editArticle(deps, personWho(actorOf(request)), id, input)
    if (!outcome.ok) throw refusal(request, outcome.refusal)
    request.log.info({ articleId: id, version: outcome.value.version }, 'article edited through the API')
    return visible(request, id)
  })

  for (const [path, move] of Object.entries(MOVES)) {
    api.post(`/kb/articles/:id/${path}`, {
      schema: { summary: move.summary, params: ArticleParams, body: MoveBody, response: { 200: ArticleJson, ...ErrorResponses } },
      // A state change needs nothing but the article: no body at all is an empty one.
      preValidation: async (request) => { if (request.body === undefined || request.body === null) request.body = {} }
    }, async (request) => {
      staffOnly(request)
      const id = request.params.id
      const outcome = await once(request, deps, (d) => moveArticle(d, personWho(actorOf(request)), id, move.action, { version: request.body.version }))
      if (!outcome.ok) throw refusal(request, outcome.refusal)
      request.log.info({ articleId: id, state: outcome.value.state }, 'article moved through the API')
      return visible(request, id)
    })
  }
}
