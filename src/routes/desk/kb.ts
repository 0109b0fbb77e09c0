// The knowledge base for staff (mounted at /desk/kb): the list of every article with its
// filters and the review queue, and one article's page: its rendered text, state, numbers,
// translations, the tickets it came from or solved, related articles, files and the review
// actions this staff member may take.
import { articleClientPath } from '../../domain/kb-links.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import {
  articleAccountNames, articleForStaff, articleTickets, countInState, listArticlesForStaff, listKbAttachments, relatedArticles, translations,
  type StaffArticleFilter
} from '../../db/kb.js'
import { findArticles } from '../../db/kb-search.js'
import { KB_AUDIENCES, KB_LANGUAGES, KB_STATES, isReviewer, sanitizeArticleHtml, type KbAction } from '../../domain/kb.js'
import { moveArticle } from '../../commands/kb.js'
import { personWho } from '../../commands/kernel.js'
import { Choice, Form, Version } from '../forms.js'
import { refusalStatus } from '../refusals.js'
import { notFound } from '../../plugins/app.js'
import { pathId } from '../admin/shared.js'
import { staffOf } from './shared.js'
import { categoryName, categoryOptions, KbIdParams, kbActorOf, kbRefusalMessage, mayEdit, reviewActions } from './kb-shared.js'

const PER_PAGE = 25
/** A text search lists at most this many of the best matches (the search answers in pages of 50). */
const SEARCH_CAP = 200

const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  state: Type.Optional(Choice(['', ...KB_STATES] as const)),
  language: Type.Optional(Choice(['', ...KB_LANGUAGES] as const)),
  audience: Type.Optional(Choice(['', ...KB_AUDIENCES] as const)),
  category: Type.Optional(Type.String({ pattern: '^(|[1-9][0-9]{0,8})$' })),
  mine: Type.Optional(Choice(['', '1'] as const)),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 }))
}, { additionalProperties: false })

const MOVES = ['submit', 'send_back', 'publish', 'archive', 'restore'] as const
const MoveParams = Type.Object({ id: Type.String({ maxLength: 12 }), action: Choice(MOVES) })
const MoveForm = Form({ version: Version })

/** The client's address of a published article that is not internal; null otherwise. */
export function clientPath(article: { id: number; slug: string; state: string; audience: string }): string | null {
  return article.state === 'published' && article.audience !== 'internal' ? articleClientPath(article) : null
}

export default async function kbPages(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  fastify.get('/kb', { schema: { querystring: ListQuery } }, async (request, reply) => {
    const query = request.query
    const staff = staffOf(request)
    const actor = await kbActorOf(fastify, request)
    const text = (query.q ?? '').trim()
    const filter: StaffArticleFilter = {
      state: query.state || undefined, language: query.language || undefined, audience: query.audience || undefined,
      categoryId: query.category ? Number(query.category) : undefined, authorId: query.mine === '1' ? staff.id : undefined
    }
    if (text) {
      const ids: number[] = []
      for (let offset = 0; offset < SEARCH_CAP; offset += 50) {
        const hits = await findArticles(fastify.db, { kind: 'staff' }, text, { language: filter.language, categoryId: filter.categoryId ?? null, limit: 50, offset })
        ids.push(...hits.map((h) => h.id))
        if (hits.length < 50) break
      }
      filter.ids = ids
    }
    const page = query.page ?? 1
    const result = await listArticlesForStaff(fastify.db, filter, { limit: PER_PAGE, offset: (page - 1) * PER_PAGE })
    const params = (p: number) => {
      const u = new URLSearchParams()
      for (const [k, v] of Object.entries({ q: text, state: query.state, language: query.language, audience: query.audience, category: query.category, mine: query.mine })) if (v) u.set(k, v)
      if (p > 1) u.set('page', String(p))
      const s = u.toString()
      return s ? `/desk/kb?${s}` : '/desk/kb'
    }
    return reply.page('desk/kb-list', {
      title: request.t('kbDesk.title'),
      rows: result.items.map((r) => ({ ...r, category: categoryName(r, request.locale) })),
      result: { total: result.total, totalCapped: false, page, perPage: PER_PAGE },
      linkFor: params,
      filters: { q: text, state: query.state ?? '', language: query.language ?? '', audience: query.audience ?? '', category: query.category ?? '', mine: query.mine === '1' },
      categories: await categoryOptions(fastify, request.locale),
      states: KB_STATES, languages: KB_LANGUAGES, audiences: KB_AUDIENCES,
      reviewer: isReviewer(actor),
      inReview: isReviewer(actor) ? await countInState(fastify.db, 'in_review') : 0,
      searchCapped: text !== '' && (filter.ids?.length ?? 0) >= SEARCH_CAP
    })
  })

  async function articlePage(request: FastifyRequest, reply: FastifyReply, id: number, state: { error?: string; status?: number } = {}) {
    const staff = staffOf(request)
    const article = await articleForStaff(fastify.db, id)
    if (!article) throw notFound()
    const actor = await kbActorOf(fastify, request)
    const [family, tickets, related, files, accounts] = await Promise.all([
      translations(fastify.db, article), articleTickets(fastify.db, staff, id), relatedArticles(fastify.db, id),
      listKbAttachments(fastify.db, id), articleAccountNames(fastify.db, id)
    ])
    const original = family.find((f) => f.id === article.translation_of) ?? null
    return reply.page('desk/kb-article', {
      title: article.title,
      article: { ...article, category: categoryName(article, request.locale), tagList: article.tags ? article.tags.split(', ') : [] },
      bodyHtml: sanitizeArticleHtml(article.body_html),
      clientPath: clientPath(article),
      family, original, tickets, related, files, accounts,
      actions: reviewActions(article, actor), editable: mayEdit(article, actor),
      missingLanguages: article.translation_of === null ? KB_LANGUAGES.filter((l) => l !== article.language && !family.some((f) => f.language === l)) : [],
      error: state.error ?? null
    }, state.status ?? 200)
  }

  fastify.get('/kb/:id', { schema: { params: KbIdParams } }, async (request, reply) => articlePage(request, reply, pathId(request)))

  fastify.post('/kb/:id/:action', { schema: { params: MoveParams, body: MoveForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const action = request.params.action as Exclude<KbAction, 'edit'>
    if (request.validationError) return articlePage(request, reply, id, { error: request.t('kbDesk.conflict'), status: 409 })
    const outcome = await moveArticle(deps, personWho(staffOf(request)), id, action, { version: request.body.version })
    if (!outcome.ok) {
      if (outcome.refusal.code === 'not_found') throw notFound()
      return articlePage(request, reply, id, { error: kbRefusalMessage(request.t, outcome.refusal), status: refusalStatus(outcome.refusal) })
    }
    reply.flash('success', request.t(`kbDesk.moved.${action}`))
    return reply.redirect(`/desk/kb/${id}`, 303)
  })
}
