// The knowledge base as clients read it (the help center, the suggestions beside a new ticket)
// and what their reading leaves behind: views, votes, searches, deflections, a kept draft. Who may
// see an article is always visibleTo (src/db/kb.ts); a client reads the articles of any of their accounts.
import { sql } from 'kysely'
import type { Executor } from './index.js'
import type { Database } from './schema.js'
import { isPostgres } from './migrations/util.js'
import { visibleTo } from './kb.js'
import { scopeTicketsToActor } from './ticket-search.js'
import type { KbReader } from '../domain/kb.js'
import type { StaffActor } from '../domain/permissions.js'

const listColumns = ['kb_article.id', 'kb_article.slug', 'kb_article.language', 'kb_article.title', 'kb_article.views', 'kb_article.published_at',
  sql<string>`substr(kb_article.body_text, 1, 300)`.as('lead')] as const

export interface HelpListItem {
  id: number
  slug: string
  language: string
  title: string
  views: number
  published_at: string | null
  lead: string
}

/** One article the reader may see, whole. */
export async function readableArticle(db: Executor, reader: KbReader, id: number) {
  return visibleTo(db.selectFrom('kb_article'), reader).selectAll('kb_article').where('kb_article.id', '=', id).executeTakeFirst()
}

/** The categories (every one, as a tree by parent) with how many articles the reader may see in each. */
export async function helpCategories(db: Executor, reader: KbReader) {
  const counts = visibleTo(db.selectFrom('kb_article'), reader).select(['kb_article.category_id', sql<number>`count(*)`.as('n')])
    .where('kb_article.category_id', 'is not', null).groupBy('kb_article.category_id')
  const rows = await db.selectFrom('kb_category').leftJoin(counts.as('c'), 'c.category_id', 'kb_category.id')
    .select(['kb_category.id', 'kb_category.parent_id', 'kb_category.slug', 'kb_category.name_en', 'kb_category.name_pt', 'kb_category.position', sql<number | null>`c.n`.as('articles')])
    .orderBy('kb_category.position').orderBy('kb_category.name_en').orderBy('kb_category.id').execute()
  return rows.map((r) => ({ ...r, articles: Number(r.articles ?? 0) }))
}

export async function getCategory(db: Executor, id: number) {
  return db.selectFrom('kb_category').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The reader's articles of a category, the reader's language first, then by title; one more than asked tells a next page. */
export async function categoryArticles(db: Executor, reader: KbReader, categoryId: number, language: string, limit: number, offset: number): Promise<HelpListItem[]> {
  return visibleTo(db.selectFrom('kb_article'), reader).select([...listColumns])
    .where('kb_article.category_id', '=', categoryId)
    .orderBy(sql`case when kb_article.language = ${language} then 0 else 1 end`).orderBy('kb_article.title').orderBy('kb_article.id')
    .limit(limit).offset(offset).execute()
}

/** The newest articles the reader may see in a language. */
export async function latestArticles(db: Executor, reader: KbReader, language: string, limit: number): Promise<HelpListItem[]> {
  return visibleTo(db.selectFrom('kb_article'), reader).select([...listColumns]).where('kb_article.language', '=', language)
    .orderBy('kb_article.published_at', 'desc').orderBy('kb_article.id', 'desc').limit(limit).execute()
}

/** The most viewed articles the reader may see in a language (ever, from the counter). */
export async function mostViewedArticles(db: Executor, reader: KbReader, language: string, limit: number): Promise<HelpListItem[]> {
  return visibleTo(db.selectFrom('kb_article'), reader).select([...listColumns]).where('kb_article.language', '=', language)
    .where('kb_article.views', '>', 0).orderBy('kb_article.views', 'desc').orderBy('kb_article.id').limit(limit).execute()
}

/** The related articles the reader may see. */
export async function readableRelated(db: Executor, reader: KbReader, articleId: number) {
  return visibleTo(db.selectFrom('kb_article'), reader).innerJoin('kb_related', 'kb_related.related_id', 'kb_article.id')
    .select(['kb_article.id', 'kb_article.slug', 'kb_article.title', 'kb_article.language']).where('kb_related.article_id', '=', articleId)
    .orderBy('kb_article.title').execute()
}

/** The article's other languages the reader may see (its original and the original's translations). */
export async function readableTranslations(db: Executor, reader: KbReader, article: { id: number; translation_of: number | null }) {
  const root = article.translation_of ?? article.id
  return visibleTo(db.selectFrom('kb_article'), reader).select(['kb_article.id', 'kb_article.slug', 'kb_article.title', 'kb_article.language'])
    .where((eb) => eb.or([eb('kb_article.id', '=', root), eb('kb_article.translation_of', '=', root)])).where('kb_article.id', '!=', article.id)
    .orderBy('kb_article.language').execute()
}

// ---- what reading writes (called by src/commands/kb-reader.ts in its transaction) ----

type Counter = 'views' | 'helpful' | 'not_helpful' | 'deflections'

/** Adds `delta` to one of the article's counters (never below zero). */
export async function bumpArticleCounter(db: Executor, articleId: number, counter: Counter, delta: number): Promise<void> {
  if (delta === 0) return
  const qb = db.updateTable('kb_article').where('id', '=', articleId)
  if (delta > 0) await qb.set((eb) => ({ [counter]: eb(counter, '+', delta) })).execute()
  else await qb.set((eb) => ({ [counter]: eb(counter, '-', -delta) })).where(counter, '>=', -delta).execute()
}

/** The article's row, locked until the transaction ends on PostgreSQL (SQLite writes one at a time). */
export async function lockReadable(db: Executor, reader: KbReader, id: number) {
  const qb = visibleTo(db.selectFrom('kb_article'), reader).select(['kb_article.id', 'kb_article.title']).where('kb_article.id', '=', id)
  return (isPostgres(db) ? qb.forUpdate() : qb).executeTakeFirst()
}

/** When this client last had a view of the article counted in this session (null: never). */
export async function lastCountedView(db: Executor, articleId: number, contactId: number, sessionId: number | null): Promise<string | null> {
  let qb = db.selectFrom('kb_article_view').select('viewed_at').where('article_id', '=', articleId).where('contact_id', '=', contactId)
  qb = sessionId === null ? qb.where('session_id', 'is', null) : qb.where('session_id', '=', sessionId)
  const row = await qb.orderBy('viewed_at', 'desc').limit(1).executeTakeFirst()
  return row?.viewed_at ?? null
}

export async function insertView(db: Executor, v: { articleId: number; contactId: number; sessionId: number | null }, now: string): Promise<void> {
  await db.insertInto('kb_article_view').values({ article_id: v.articleId, contact_id: v.contactId, session_id: v.sessionId, viewed_at: now }).execute()
}

export async function feedbackOf(db: Executor, articleId: number, contactId: number) {
  return db.selectFrom('kb_feedback').select(['id', 'helpful', 'comment', 'created_at', 'updated_at'])
    .where('article_id', '=', articleId).where('contact_id', '=', contactId).executeTakeFirst()
}

export async function insertFeedback(db: Executor, f: { articleId: number; contactId: number; helpful: boolean; comment: string | null }, now: string): Promise<void> {
  await db.insertInto('kb_feedback').values({ article_id: f.articleId, contact_id: f.contactId, helpful: f.helpful ? 1 : 0, comment: f.comment, created_at: now, updated_at: now }).execute()
}

export async function updateFeedback(db: Executor, id: number, f: { helpful: boolean; comment: string | null }, now: string): Promise<void> {
  await db.updateTable('kb_feedback').set({ helpful: f.helpful ? 1 : 0, comment: f.comment, updated_at: now }).where('id', '=', id).execute()
}

/** The session's last suggestion search (the row a typing burst keeps replacing). */
export async function lastSuggestSearch(db: Executor, sessionId: number) {
  return db.selectFrom('kb_search').select(['id', 'created_at']).where('session_id', '=', sessionId).where('origin', '=', 'suggest')
    .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()
}

export async function insertSearch(db: Executor, s: { query: string; results: number; origin: string; sessionId: number | null; contactId: number | null }, now: string): Promise<number> {
  const row = await db.insertInto('kb_search').values({ query: s.query, results: s.results, origin: s.origin, session_id: s.sessionId, contact_id: s.contactId, created_at: now })
    .returning('id').executeTakeFirstOrThrow()
  return row.id
}

export async function replaceSearch(db: Executor, id: number, s: { query: string; results: number }, now: string): Promise<void> {
  await db.updateTable('kb_search').set({ query: s.query, results: s.results, created_at: now }).where('id', '=', id).execute()
}

/** This client's visit to the article from suggestions still counted as a deflection since `since`. */
export async function openDeflection(db: Executor, contactId: number, articleId: number, since: string) {
  return db.selectFrom('kb_suggestion_visit').select(['id', 'opened_at']).where('contact_id', '=', contactId).where('outcome', '=', 'deflected')
    .where('opened_at', '>=', since).where('article_id', '=', articleId).executeTakeFirst()
}

export async function insertVisit(db: Executor, v: { articleId: number; contactId: number; sessionId: number | null }, now: string): Promise<void> {
  await db.insertInto('kb_suggestion_visit').values({ article_id: v.articleId, contact_id: v.contactId, session_id: v.sessionId, opened_at: now, outcome: 'deflected', ticket_id: null, decided_at: null }).execute()
}

/** The client's visits from suggestions since `since` still counted as deflections. */
export async function deflectionsSince(db: Executor, contactId: number, since: string) {
  return db.selectFrom('kb_suggestion_visit').select(['id', 'article_id']).where('contact_id', '=', contactId).where('outcome', '=', 'deflected')
    .where('opened_at', '>=', since).orderBy('id').execute()
}

export async function markTicketOpened(db: Executor, visitIds: readonly number[], ticketId: number, now: string): Promise<void> {
  if (visitIds.length === 0) return
  await db.updateTable('kb_suggestion_visit').set({ outcome: 'ticket_opened', ticket_id: ticketId, decided_at: now }).where('id', 'in', [...visitIds]).execute()
}

/** The new-ticket form's fields kept for this session, if any. */
export async function ticketDraft(db: Executor, contactId: number, sessionId: number): Promise<Record<string, string> | null> {
  const row = await db.selectFrom('kb_ticket_draft').select('fields').where('session_id', '=', sessionId).where('contact_id', '=', contactId).executeTakeFirst()
  if (!row) return null
  const parsed: unknown = JSON.parse(row.fields)
  if (typeof parsed !== 'object' || parsed === null) return null
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'))
}

export async function saveTicketDraft(db: Executor, contactId: number, sessionId: number, fields: Record<string, string>, now: string): Promise<void> {
  await db.deleteFrom('kb_ticket_draft').where('session_id', '=', sessionId).where('contact_id', '=', contactId).execute()
  await db.insertInto('kb_ticket_draft').values({ contact_id: contactId, session_id: sessionId, fields: JSON.stringify(fields), saved_at: now }).execute()
}

export async function deleteTicketDrafts(db: Executor, contactId: number): Promise<void> {
  await db.deleteFrom('kb_ticket_draft').where('contact_id', '=', contactId).execute()
}

// ---- the dashboard's knowledge-base section ----

export interface KbTopArticle {
  id: number
  title: string
  language: string
  views: number
  helpful: number
  notHelpful: number
  deflections: number
  tickets: number
}

export interface KbDashboardFigures {
  top: KbTopArticle[]
  /** Articles opened from suggestions in the window and not followed by a ticket. */
  deflections: number
  /** Searches in the window that found nothing, the most frequent first. */
  unanswered: { query: string; count: number }[]
}

/** Rows of each table on the dashboard. */
export const KB_DASHBOARD_ROWS = 10

const n = sql<number>`count(*)`

/**
 * The knowledge base over the window since `since`: the articles most viewed (then most
 * deflecting) with their views, votes, deflections and linked tickets in the window (tickets the
 * actor may see), the deflections, and the searches that found nothing. One statement a figure.
 */
export async function kbDashboardFigures(db: Executor, actor: StaffActor, since: string): Promise<KbDashboardFigures> {
  const views = await db.selectFrom('kb_article_view').select(['article_id', n.as('n')]).where('viewed_at', '>=', since).groupBy('article_id').execute()
  const votes = await db.selectFrom('kb_feedback').select(['article_id',
    sql<number>`sum(case when helpful = 1 then 1 else 0 end)`.as('yes'), sql<number>`sum(case when helpful = 1 then 0 else 1 end)`.as('no')])
    .where('updated_at', '>=', since).groupBy('article_id').execute()
  const deflected = await db.selectFrom('kb_suggestion_visit').select(['article_id', n.as('n')]).where('opened_at', '>=', since)
    .where('outcome', '=', 'deflected').groupBy('article_id').execute()
  const linked = await scopeTicketsToActor(db.selectFrom('ticket'), actor).innerJoin('kb_article_ticket', 'kb_article_ticket.ticket_id', 'ticket.id')
    .select(['kb_article_ticket.article_id', n.as('n')]).where('kb_article_ticket.created_at', '>=', since).groupBy('kb_article_ticket.article_id').execute()

  const figures = new Map<number, Omit<KbTopArticle, 'title' | 'language'>>()
  const of = (id: number) => {
    let f = figures.get(id)
    if (!f) figures.set(id, f = { id, views: 0, helpful: 0, notHelpful: 0, deflections: 0, tickets: 0 })
    return f
  }
  for (const r of views) of(r.article_id).views = Number(r.n)
  for (const r of votes) Object.assign(of(r.article_id), { helpful: Number(r.yes), notHelpful: Number(r.no) })
  for (const r of deflected) of(r.article_id).deflections = Number(r.n)
  for (const r of linked) of(r.article_id).tickets = Number(r.n)
  const ranked = [...figures.values()].sort((a, b) => b.views - a.views || b.deflections - a.deflections || (b.helpful + b.notHelpful) - (a.helpful + a.notHelpful) || b.tickets - a.tickets || a.id - b.id)
    .slice(0, KB_DASHBOARD_ROWS)
  const names = ranked.length === 0 ? [] : await db.selectFrom('kb_article').select(['id', 'title', 'language']).where('id', 'in', ranked.map((r) => r.id)).execute()
  const top = ranked.map((r) => {
    const name = names.find((a) => a.id === r.id)
    return { ...r, title: name?.title ?? '', language: name?.language ?? '' }
  })

  const unanswered = await db.selectFrom('kb_search').select(['query', n.as('n')]).where('results', '=', 0).where('created_at', '>=', since)
    .groupBy('query').orderBy('n', 'desc').orderBy('query').limit(KB_DASHBOARD_ROWS).execute()
  return {
    top,
    deflections: deflected.reduce((sum, r) => sum + Number(r.n), 0),
    unanswered: unanswered.map((r) => ({ query: r.query, count: Number(r.n) }))
  }
}

/** Deletes the reading log older than `before` (views, suggestion visits, searches) and kept drafts older than `draftsBefore`. How many rows. */
export async function pruneKbActivity(db: Executor, before: string, draftsBefore: string): Promise<number> {
  let n = 0
  n += Number((await db.deleteFrom('kb_article_view').where('viewed_at', '<', before).executeTakeFirst()).numDeletedRows)
  n += Number((await db.deleteFrom('kb_suggestion_visit').where('opened_at', '<', before).executeTakeFirst()).numDeletedRows)
  n += Number((await db.deleteFrom('kb_search').where('created_at', '<', before).executeTakeFirst()).numDeletedRows)
  n += Number((await db.deleteFrom('kb_ticket_draft').where('saved_at', '<', draftsBefore).executeTakeFirst()).numDeletedRows)
  return n
}
