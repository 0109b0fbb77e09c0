// The help center (/help): clients read the knowledge base here, by category or by search, and
// say whether an article helped; the new-ticket form asks /help/suggest for articles as the client
// types. A client reads the articles of any of their accounts (src/domain/kb-help.ts helpReader);
// staff see what the public sees (the desk's knowledge base has every article) and record nothing.
// Anonymous visitors are sent to log in, as in the rest of the portal.
import { articleClientPath } from '../../domain/kb-links.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { guard } from '../web.js'
import { Form, Text } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import { personWho } from '../../commands/kernel.js'
import { openSuggestedArticle, rateArticle, recordArticleView, recordSearch } from '../../commands/kb-reader.js'
import {
  categoryArticles, feedbackOf, getCategory, helpCategories, latestArticles, mostViewedArticles, readableArticle,
  readableRelated, readableTranslations
} from '../../db/kb-reader.js'
import { findArticles } from '../../db/kb-search.js'
import { demoteHeadings, HELP_PAGE_SIZE, helpReader, QUERY_MAX, SUGGESTIONS } from '../../domain/kb-help.js'
import { excerpt, KB_LIMITS, sanitizeArticleHtml, type KbLanguage } from '../../domain/kb.js'
import type { Actor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'

const Ref = Type.Object({ ref: Type.String({ maxLength: 200 }) })
const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 1_000 })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 }))
})
const SuggestQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 21_000 })) })
const ArticleQuery = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 20 })),
  thanks: Type.Optional(Type.String({ maxLength: 20 }))
})
const FeedbackForm = Form({ helpful: Text, comment: Text, from: Text })

/** `12-some-title` as an id and the slug that follows it (null when it is no such thing). */
export function readRef(ref: string): { id: number; slug: string } | null {
  const m = /^([1-9]\d{0,9})(?:-(.*))?$/.exec(ref)
  if (!m) return null
  const id = Number(m[1])
  return id <= 2_147_483_647 ? { id, slug: m[2] ?? '' } : null
}

export const articleUrl = articleClientPath
export const categoryUrl = (c: { id: number; slug: string }) => `/help/categories/${c.id}-${c.slug}`
/** An article opened from the new-ticket form's suggestions: the visit counts as a deflection. */
export const suggestedUrl = (a: { id: number; slug: string }) => `${articleUrl(a)}?from=suggest`

function kbLanguage(request: FastifyRequest): KbLanguage {
  return request.locale === 'pt-BR' ? 'pt-BR' : 'en'
}

/** The searches' words: at most QUERY_MAX characters of what was typed. */
export function searchText(raw: string | undefined): string {
  return (raw ?? '').replace(/\s+/g, ' ').trim().slice(0, QUERY_MAX)
}

/** A tree of categories (children under their parent), those without any article the reader may see left out. */
export function categoryTree<C extends { id: number; parent_id: number | null; articles: number }>(rows: C[]): (C & { total: number; children: (C & { total: number; children: unknown[] })[] })[] {
  type Node = C & { total: number; children: Node[] }
  const nodes = new Map<number, Node>(rows.map((r) => [r.id, { ...r, total: r.articles, children: [] }]))
  const roots: Node[] = []
  for (const node of nodes.values()) {
    const parent = node.parent_id === null ? undefined : nodes.get(node.parent_id)
    if (parent && parent.id !== node.id) parent.children.push(node)
    else roots.push(node)
  }
  // Totals include the sub-categories' articles; a branch with none is not shown.
  const total = (n: Node, seen: Set<number>): number => {
    if (seen.has(n.id)) return 0
    seen.add(n.id)
    n.total = n.articles + n.children.reduce((sum, c) => sum + total(c, seen), 0)
    n.children = n.children.filter((c) => c.total > 0)
    return n.total
  }
  const seen = new Set<number>()
  return roots.filter((r) => total(r, seen) > 0) as ReturnType<typeof categoryTree<C>>
}

export default async function help(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const db = fastify.db
  const deps = () => ({ db, clock: fastify.clock, random: fastify.random })
  fastify.addHook('preHandler', guard((r) => r.actor !== null))

  const readerOf = (request: FastifyRequest) => helpReader(request.actor as Actor)
  const sessionOf = (request: FastifyRequest) => request.webSession?.id ?? null
  const isClient = (request: FastifyRequest) => request.actor?.kind === 'contact'
  const categoryName = (request: FastifyRequest, c: { name_en: string; name_pt: string }) => (request.locale === 'pt-BR' ? c.name_pt : c.name_en)
  const lead = (hit: { lead: string }) => excerpt(hit.lead, 180)

  fastify.get('/', { schema: { querystring: SearchQuery } }, async (request, reply) => {
    // /help?q=... is the search's address too.
    const asked = searchText(request.query.q)
    if (asked !== '') return reply.redirect(`/help/search?${new URLSearchParams({ q: asked }).toString()}`)
    const reader = readerOf(request)
    const language = kbLanguage(request)
    const [categories, latest, popular] = await Promise.all([
      helpCategories(db, reader), latestArticles(db, reader, language, 5), mostViewedArticles(db, reader, language, 5)
    ])
    return reply.page('portal/help-index', {
      title: request.t('help.title'), tree: categoryTree(categories), latest, popular,
      categoryName: (c: { name_en: string; name_pt: string }) => categoryName(request, c), categoryUrl, articleUrl, lead
    })
  })

  fastify.get('/search', { schema: { querystring: SearchQuery } }, async (request, reply) => {
    const text = searchText(request.query.q)
    if (text === '') return reply.redirect('/help')
    const page = request.query.page ?? 1
    const reader = readerOf(request)
    const language = kbLanguage(request)
    const offset = (page - 1) * HELP_PAGE_SIZE
    // The reader's language first; the other language's answers under them on the first page.
    const found = await findArticles(db, reader, text, { language, limit: HELP_PAGE_SIZE + 1, offset })
    const other = page === 1 && found.length < HELP_PAGE_SIZE
      ? await findArticles(db, reader, text, { language: language === 'en' ? 'pt-BR' : 'en', limit: 5 })
      : []
    const hits = found.slice(0, HELP_PAGE_SIZE)
    if (page === 1) {
      await recordSearch(deps(), personWho(request.actor as Actor), {
        query: text, results: hits.length + other.length, origin: 'help', sessionId: sessionOf(request)
      })
    }
    const link = (p: number) => `/help/search?${new URLSearchParams({ q: text, ...(p > 1 ? { page: String(p) } : {}) }).toString()}`
    return reply.page('portal/help-search', {
      title: request.t('help.search.title', { q: text }), q: text, hits, other, page,
      prev: page > 1 ? link(page - 1) : null, next: found.length > HELP_PAGE_SIZE ? link(page + 1) : null,
      articleUrl, lead, isClient: isClient(request)
    }, hits.length === 0 && page > 1 ? 404 : 200)
  })

  fastify.get('/categories/:ref', { schema: { params: Ref, querystring: SearchQuery } }, async (request, reply) => {
    const ref = readRef(request.params.ref)
    const category = ref ? await getCategory(db, ref.id) : undefined
    if (!ref || !category) throw notFound()
    if (ref.slug !== category.slug) return reply.redirect(categoryUrl(category), 301)
    const reader = readerOf(request)
    const tree = categoryTree(await helpCategories(db, reader))
    const find = (nodes: typeof tree): (typeof tree)[number] | undefined => {
      for (const n of nodes) {
        if (n.id === category.id) return n
        const inner = find(n.children as typeof tree)
        if (inner) return inner
      }
      return undefined
    }
    const node = find(tree)
    // A category with nothing the reader may see is, for them, not there.
    if (!node) throw notFound()
    const page = request.query.page ?? 1
    const offset = (page - 1) * HELP_PAGE_SIZE
    const rows = await categoryArticles(db, reader, category.id, kbLanguage(request), HELP_PAGE_SIZE + 1, offset)
    if (rows.length === 0 && page > 1) throw notFound()
    const parent = category.parent_id === null ? undefined : await getCategory(db, category.parent_id)
    const link = (p: number) => `${categoryUrl(category)}${p > 1 ? `?page=${p}` : ''}`
    return reply.page('portal/help-category', {
      title: categoryName(request, category), category, node, parent: parent ?? null, articles: rows.slice(0, HELP_PAGE_SIZE),
      prev: page > 1 ? link(page - 1) : null, next: rows.length > HELP_PAGE_SIZE ? link(page + 1) : null,
      categoryName: (c: { name_en: string; name_pt: string }) => categoryName(request, c), categoryUrl, articleUrl, lead
    })
  })

  async function renderArticle(request: FastifyRequest, reply: FastifyReply, id: number, opts: { fromSuggest: boolean; thanks: boolean; values?: Record<string, string>; errors?: Record<string, string>; status?: number }) {
    const reader = readerOf(request)
    const article = await readableArticle(db, reader, id)
    if (!article) throw notFound()
    const actor = request.actor as Actor
    const [related, translations, category, vote] = await Promise.all([
      readableRelated(db, reader, id), readableTranslations(db, reader, article),
      article.category_id === null ? undefined : getCategory(db, article.category_id),
      actor.kind === 'contact' ? feedbackOf(db, id, actor.id) : undefined
    ])
    return reply.page('portal/help-article', {
      title: article.title, article, html: demoteHeadings(sanitizeArticleHtml(article.body_html)), related, translations, category: category ?? null,
      vote: vote ? { helpful: vote.helpful === 1, comment: vote.comment ?? '' } : null,
      isClient: actor.kind === 'contact', fromSuggest: opts.fromSuggest, thanks: opts.thanks,
      values: opts.values ?? {}, errors: opts.errors ?? {}, commentMax: KB_LIMITS.comment,
      formError: opts.errors && Object.keys(opts.errors).length > 0 ? request.t('common.formErrors') : undefined,
      categoryName: (c: { name_en: string; name_pt: string }) => categoryName(request, c), categoryUrl, articleUrl,
      languageName: (l: string) => request.t(`help.language.${l}`)
    }, opts.status ?? 200)
  }

  fastify.get('/articles/:ref', { schema: { params: Ref, querystring: ArticleQuery } }, async (request, reply) => {
    const ref = readRef(request.params.ref)
    if (!ref) throw notFound()
    const article = await readableArticle(db, readerOf(request), ref.id)
    if (!article) throw notFound()
    const fromSuggest = request.query.from === 'suggest'
    if (ref.slug !== article.slug) return reply.redirect(fromSuggest ? suggestedUrl(article) : articleUrl(article), 301)
    if (isClient(request)) {
      const who = personWho(request.actor as Actor)
      await recordArticleView(deps(), who, { articleId: article.id, sessionId: sessionOf(request) })
      if (fromSuggest) await openSuggestedArticle(deps(), who, { articleId: article.id, sessionId: sessionOf(request) })
    }
    return renderArticle(request, reply, article.id, { fromSuggest, thanks: request.query.thanks === '1' })
  })

  fastify.post('/articles/:ref/feedback', { schema: { params: Ref, body: FeedbackForm }, attachValidation: true }, async (request, reply) => {
    const ref = readRef(request.params.ref)
    if (!ref || !isClient(request)) throw notFound()
    const body = request.validationError ? { helpful: '', comment: '', from: '' } : request.body
    const fromSuggest = body.from === 'suggest'
    const outcome = await rateArticle(deps(), personWho(request.actor as Actor), { articleId: ref.id, helpful: body.helpful, comment: body.comment })
    if (!outcome.ok) {
      if (outcome.refusal.code === 'not_found') throw notFound()
      const errors = fieldMessages(request.t, outcome.refusal, { keys: { 'helpful.required': 'help.feedback.choose' } })
      return renderArticle(request, reply, ref.id, { fromSuggest, thanks: false, values: { helpful: body.helpful, comment: body.comment }, errors, status: 422 })
    }
    const article = (await readableArticle(db, readerOf(request), ref.id))!
    reply.flash('success', request.t(outcome.value.helpful ? 'help.feedback.thanksYes' : 'help.feedback.thanksNo'))
    return reply.redirect(`${articleUrl(article)}?${fromSuggest ? 'from=suggest&' : ''}thanks=1#feedback`, 303)
  })

  // Suggestions for the new-ticket form (public/kb-suggest.js): an HTML fragment of at most
  // SUGGESTIONS articles. Typed word by word, so the search log keeps one row per burst.
  fastify.get('/suggest', { schema: { querystring: SuggestQuery } }, async (request, reply) => {
    const text = searchText(request.query.q)
    const hits = text === '' ? [] : await findArticles(db, readerOf(request), text, { limit: SUGGESTIONS })
    if (text !== '' && isClient(request)) {
      await recordSearch(deps(), personWho(request.actor as Actor), { query: text, results: hits.length, origin: 'suggest', sessionId: sessionOf(request), live: true })
    }
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8')
    return reply.view('portal/help-suggest', { t: request.t, hits, asked: text !== '', suggestedUrl, lead })
  })
}
