// The knowledge base on the staff ticket page: the articles linked to a ticket (made from it or
// used in it), what the page needs of the articles it suggests, and the links themselves.
import type { SelectQueryBuilder } from 'kysely'
import type { Executor } from './index.js'
import type { Database } from './schema.js'
import { visibleTo, type KbArticleRow } from './kb.js'
import type { KbAudience, KbLanguage, KbReader, KbState } from '../domain/kb.js'

export interface LinkedArticle {
  id: number
  slug: string
  title: string
  language: string
  state: KbState
  audience: KbAudience
}

/** The articles linked to a ticket, the most recently linked first. */
export async function ticketArticles(db: Executor, ticketId: number): Promise<LinkedArticle[]> {
  return db.selectFrom('kb_article_ticket').innerJoin('kb_article', 'kb_article.id', 'kb_article_ticket.article_id')
    .select(['kb_article.id', 'kb_article.slug', 'kb_article.title', 'kb_article.language', 'kb_article.state', 'kb_article.audience'])
    .where('kb_article_ticket.ticket_id', '=', ticketId)
    .orderBy('kb_article_ticket.created_at', 'desc').orderBy('kb_article.id', 'desc')
    .execute()
}

export interface InsertableArticle {
  id: number
  slug: string
  title: string
  state: KbState
  audience: KbAudience
  bodyText: string
  /** For audience 'accounts': whether the ticket's account is one of them. */
  forTicketAccount: boolean
}

/** The articles with these ids (in no order), with their text and whether the ticket's account may read them. */
export async function insertableArticles(db: Executor, ids: readonly number[], accountId: number): Promise<InsertableArticle[]> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('kb_article')
    .select((eb) => ['kb_article.id', 'kb_article.slug', 'kb_article.title', 'kb_article.state', 'kb_article.audience', 'kb_article.body_text',
      eb.exists(eb.selectFrom('kb_article_account').select('kb_article_account.article_id')
        .whereRef('kb_article_account.article_id', '=', 'kb_article.id').where('kb_article_account.account_id', '=', accountId)).as('for_account')])
    .where('kb_article.id', 'in', [...ids])
    .execute()
  return rows.map((r) => ({
    id: r.id, slug: r.slug, title: r.title, state: r.state, audience: r.audience, bodyText: r.body_text,
    // SQLite answers EXISTS with 0/1, PostgreSQL with a boolean.
    forTicketAccount: Boolean(Number(r.for_account))
  }))
}

/** Which of these ids are articles. */
export async function existingArticleIds(db: Executor, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('kb_article').select('id').where('id', 'in', [...ids]).execute()
  return rows.map((r) => r.id)
}

/** How many tickets an article is linked to. */
export async function articleTicketCount(db: Executor, articleId: number): Promise<number> {
  const row = await db.selectFrom('kb_article_ticket').select((eb) => eb.fn.countAll<number>().as('n')).where('article_id', '=', articleId).executeTakeFirstOrThrow()
  return Number(row.n)
}

// The API's reads of articles (src/routes/api/v1/kb.ts): a reader sees what visibleTo lets them.

export interface ArticleFilter {
  language?: KbLanguage
  categoryId?: number
  state?: KbState
  limit: number
  offset: number
}

/** A page of the articles the reader may see, the most recently changed first, and how many there are. */
export async function listArticlesFor(db: Executor, reader: KbReader, f: ArticleFilter): Promise<{ rows: KbArticleRow[]; total: number }> {
  let qb = visibleTo(db.selectFrom('kb_article'), reader)
  if (f.language) qb = qb.where('kb_article.language', '=', f.language)
  if (f.categoryId) qb = qb.where('kb_article.category_id', '=', f.categoryId)
  if (f.state) qb = qb.where('kb_article.state', '=', f.state)
  const [rows, count] = await Promise.all([
    qb.selectAll('kb_article').orderBy('kb_article.updated_at', 'desc').orderBy('kb_article.id', 'desc').limit(f.limit).offset(f.offset).execute(),
    qb.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  ])
  return { rows, total: Number(count.n) }
}

/** The articles with these ids that the reader may see (in no order). */
export async function articlesFor(db: Executor, reader: KbReader, ids: readonly number[], state?: KbState): Promise<KbArticleRow[]> {
  if (ids.length === 0) return []
  let qb = visibleTo(db.selectFrom('kb_article'), reader).where('kb_article.id', 'in', [...ids])
  if (state) qb = qb.where('kb_article.state', '=', state)
  return qb.selectAll('kb_article').execute()
}

/** The tags and accounts of articles, by article. */
export async function articleExtras(db: Executor, ids: readonly number[]): Promise<Map<number, { accountIds: number[] }>> {
  const out = new Map<number, { accountIds: number[] }>(ids.map((id) => [id, { accountIds: [] }]))
  if (ids.length === 0) return out
  const rows = await db.selectFrom('kb_article_account').select(['article_id', 'account_id']).where('article_id', 'in', [...ids]).orderBy('account_id').execute()
  for (const r of rows) out.get(r.article_id)?.accountIds.push(r.account_id)
  return out
}
