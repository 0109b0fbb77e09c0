// The knowledge base's rows: articles with their versions, tags, accounts, tickets and related
// articles; categories. Reads for staff see every article; what a client may see is narrowed by
// `visibleTo` (the same rule as src/domain/kb.ts kbVisible, in SQL).
import type { SelectQueryBuilder, Selectable } from 'kysely'
import type { Executor } from './index.js'
import { isPostgres } from './migrations/util.js'
import type { Database, KbArticleTable } from './schema.js'
import type { KbAudience, KbLanguage, KbReader, KbState } from '../domain/kb.js'

export type KbArticleRow = Selectable<KbArticleTable>

export interface KbArticleFields {
  language: KbLanguage
  title: string
  body: string
  bodyHtml: string
  bodyText: string
  tags: string[]
  categoryId: number | null
  audience: KbAudience
  accountIds: number[]
  translationOf: number | null
}

export async function getArticle(db: Executor, id: number): Promise<KbArticleRow | undefined> {
  return db.selectFrom('kb_article').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The article for update: on PostgreSQL its row is locked until the transaction ends. */
export async function lockArticle(db: Executor, id: number): Promise<KbArticleRow | undefined> {
  const qb = db.selectFrom('kb_article').selectAll().where('id', '=', id)
  return (isPostgres(db) ? qb.forUpdate() : qb).executeTakeFirst()
}

export async function slugTaken(db: Executor, language: string, slug: string, exceptId: number | null): Promise<boolean> {
  let qb = db.selectFrom('kb_article').select('id').where('language', '=', language).where('slug', '=', slug)
  if (exceptId !== null) qb = qb.where('id', '!=', exceptId)
  return (await qb.executeTakeFirst()) !== undefined
}

export async function insertArticle(db: Executor, f: KbArticleFields & { slug: string; state: KbState; authorId: number; sourceTicketId: number | null }, now: string): Promise<number> {
  const row = await db.insertInto('kb_article').values({
    translation_of: f.translationOf, language: f.language, slug: f.slug, title: f.title, body: f.body, body_html: f.bodyHtml,
    body_text: f.bodyText, tags: f.tags.join(', '), category_id: f.categoryId, audience: f.audience, state: f.state,
    author_staff_id: f.authorId, reviewer_staff_id: null, source_ticket_id: f.sourceTicketId, version: 1, published_at: null,
    created_at: now, updated_at: now
  }).returning('id').executeTakeFirstOrThrow()
  await writeLinks(db, row.id, f)
  return row.id
}

export async function updateArticle(db: Executor, id: number, f: KbArticleFields & { version: number }, now: string): Promise<void> {
  await db.updateTable('kb_article').set({
    translation_of: f.translationOf, title: f.title, body: f.body, body_html: f.bodyHtml, body_text: f.bodyText, tags: f.tags.join(', '),
    category_id: f.categoryId, audience: f.audience, version: f.version, updated_at: now
  }).where('id', '=', id).execute()
  await db.deleteFrom('kb_article_tag').where('article_id', '=', id).execute()
  await db.deleteFrom('kb_article_account').where('article_id', '=', id).execute()
  await writeLinks(db, id, f)
}

async function writeLinks(db: Executor, id: number, f: Pick<KbArticleFields, 'tags' | 'accountIds' | 'audience'>): Promise<void> {
  if (f.tags.length > 0) await db.insertInto('kb_article_tag').values(f.tags.map((tag) => ({ article_id: id, tag }))).execute()
  if (f.audience === 'accounts' && f.accountIds.length > 0) {
    await db.insertInto('kb_article_account').values(f.accountIds.map((account_id) => ({ article_id: id, account_id }))).execute()
  }
}

export async function setArticleState(db: Executor, id: number, state: KbState, set: { reviewerId?: number; publishedAt?: string | null }, now: string): Promise<void> {
  await db.updateTable('kb_article').set({
    state, updated_at: now,
    ...(set.reviewerId !== undefined ? { reviewer_staff_id: set.reviewerId } : {}),
    ...(set.publishedAt !== undefined ? { published_at: set.publishedAt } : {})
  }).where('id', '=', id).execute()
}

export async function insertVersion(db: Executor, v: { articleId: number; version: number; title: string; body: string; tags: string[]; categoryId: number | null; audience: KbAudience; authorId: number; note: string | null }, now: string): Promise<void> {
  await db.insertInto('kb_article_version').values({
    article_id: v.articleId, version: v.version, title: v.title, body: v.body, tags: v.tags.join(', '), category_id: v.categoryId,
    audience: v.audience, author_staff_id: v.authorId, note: v.note, created_at: now
  }).execute()
}

export async function listVersions(db: Executor, articleId: number) {
  return db.selectFrom('kb_article_version').leftJoin('staff', 'staff.id', 'kb_article_version.author_staff_id')
    .select(['kb_article_version.id', 'version', 'title', 'body', 'tags', 'category_id', 'audience', 'note', 'kb_article_version.created_at', 'staff.name as author_name'])
    .where('article_id', '=', articleId).orderBy('version', 'desc').execute()
}

export async function getVersion(db: Executor, articleId: number, version: number) {
  return db.selectFrom('kb_article_version').selectAll().where('article_id', '=', articleId).where('version', '=', version).executeTakeFirst()
}

export async function articleAccounts(db: Executor, articleId: number): Promise<number[]> {
  const rows = await db.selectFrom('kb_article_account').select('account_id').where('article_id', '=', articleId).orderBy('account_id').execute()
  return rows.map((r) => r.account_id)
}

export async function linkTicket(db: Executor, articleId: number, ticketId: number, now: string): Promise<void> {
  const exists = await db.selectFrom('kb_article_ticket').select('ticket_id').where('article_id', '=', articleId).where('ticket_id', '=', ticketId).executeTakeFirst()
  if (!exists) await db.insertInto('kb_article_ticket').values({ article_id: articleId, ticket_id: ticketId, created_at: now }).execute()
}

/** Whether the staff member manages a desk (desk managers review articles). */
export async function managesADesk(db: Executor, staffId: number): Promise<boolean> {
  return (await db.selectFrom('desk').select('id').where('manager_id', '=', staffId).executeTakeFirst()) !== undefined
}

export async function ticketExists(db: Executor, id: number): Promise<boolean> {
  return (await db.selectFrom('ticket').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()) !== undefined
}

export async function categoryExists(db: Executor, id: number): Promise<boolean> {
  return (await db.selectFrom('kb_category').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
}

export async function existingAccounts(db: Executor, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('account').select('id').where('id', 'in', [...ids]).execute()
  return rows.map((r) => r.id)
}

type ArticleQuery<O> = SelectQueryBuilder<Database, 'kb_article', O>

/** Only the articles a reader may see (kbVisible in SQL): staff every one; others published ones of their audience. */
export function visibleTo<O>(qb: ArticleQuery<O>, reader: KbReader): ArticleQuery<O> {
  if (reader.kind === 'staff') return qb
  qb = qb.where('kb_article.state', '=', 'published')
  if (reader.kind === 'anonymous') return qb.where('kb_article.audience', '=', 'public')
  return qb.where((eb) => eb.or([
    eb('kb_article.audience', '=', 'public'),
    eb.and([eb('kb_article.audience', '=', 'accounts'), eb.exists(eb.selectFrom('kb_article_account').select('kb_article_account.article_id')
      .whereRef('kb_article_account.article_id', '=', 'kb_article.id').where('kb_article_account.account_id', '=', reader.accountId))])
  ]))
}

/** The rows other articles point at through translation_of: an article's family (itself, what it translates, its translations). */
export async function translations(db: Executor, article: Pick<KbArticleRow, 'id' | 'translation_of'>) {
  const root = article.translation_of ?? article.id
  return db.selectFrom('kb_article').select(['id', 'language', 'slug', 'title', 'state', 'audience'])
    .where((eb) => eb.or([eb('id', '=', root), eb('translation_of', '=', root)])).where('id', '!=', article.id).orderBy('language').execute()
}
