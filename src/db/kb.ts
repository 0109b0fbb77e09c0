// The knowledge base's rows: articles with their versions, tags, accounts, tickets and related
// articles; categories. Reads for staff see every article; what a client may see is narrowed by
// `visibleTo` (the same rule as src/domain/kb.ts kbVisible, in SQL).
import type { SelectQueryBuilder, Selectable } from 'kysely'
import type { Executor } from './index.js'
import { isPostgres } from './migrations/util.js'
import type { Database, KbArticleTable } from './schema.js'
import type { KbAudience, KbLanguage, KbReader, KbState } from '../domain/kb.js'
import type { Actor } from '../domain/permissions.js'
import { scopeTicketsToActor } from './ticket-search.js'

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

/** Links an article to a ticket; false when it already was (made once, even by two requests at a time). */
export async function linkTicket(db: Executor, articleId: number, ticketId: number, now: string): Promise<boolean> {
  const result = await db.insertInto('kb_article_ticket').values({ article_id: articleId, ticket_id: ticketId, created_at: now })
    .onConflict((oc) => oc.columns(['article_id', 'ticket_id']).doNothing()).executeTakeFirst()
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
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
      .whereRef('kb_article_account.article_id', '=', 'kb_article.id').where('kb_article_account.account_id', 'in', [...reader.accountIds]))])
  ]))
}

/** The rows other articles point at through translation_of: an article's family (itself, what it translates, its translations). */
export async function translations(db: Executor, article: Pick<KbArticleRow, 'id' | 'translation_of'>) {
  const root = article.translation_of ?? article.id
  return db.selectFrom('kb_article').select(['id', 'language', 'slug', 'title', 'state', 'audience'])
    .where((eb) => eb.or([eb('id', '=', root), eb('translation_of', '=', root)])).where('id', '!=', article.id).orderBy('language').execute()
}

// ---- Staff pages: the list, one article's surroundings, the editor's choices, files ----

export interface StaffArticleFilter {
  state?: KbState
  language?: KbLanguage
  categoryId?: number
  audience?: KbAudience
  authorId?: number
  /** Only these ids (a text search's matches), listed in this order. */
  ids?: readonly number[]
}

function filtered(db: Executor, f: StaffArticleFilter) {
  let qb = db.selectFrom('kb_article')
  if (f.state) qb = qb.where('kb_article.state', '=', f.state)
  if (f.language) qb = qb.where('kb_article.language', '=', f.language)
  if (f.categoryId) qb = qb.where('kb_article.category_id', '=', f.categoryId)
  if (f.audience) qb = qb.where('kb_article.audience', '=', f.audience)
  if (f.authorId) qb = qb.where('kb_article.author_staff_id', '=', f.authorId)
  if (f.ids) qb = qb.where('kb_article.id', 'in', f.ids.length > 0 ? [...f.ids] : [0])
  return qb
}

/** One page of the staff list: newest change first, or in the search's order when `ids` is given. */
export async function listArticlesForStaff(db: Executor, f: StaffArticleFilter, page: { limit: number; offset: number }) {
  const counted = await filtered(db, f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const total = Number(counted.n)
  let qb = filtered(db, f)
    .leftJoin('kb_category', 'kb_category.id', 'kb_article.category_id')
    .leftJoin('staff as author', 'author.id', 'kb_article.author_staff_id')
    .select([
      'kb_article.id', 'kb_article.title', 'kb_article.slug', 'kb_article.state', 'kb_article.language', 'kb_article.audience',
      'kb_article.version', 'kb_article.views', 'kb_article.helpful', 'kb_article.not_helpful', 'kb_article.updated_at',
      'kb_category.name_en as category_en', 'kb_category.name_pt as category_pt', 'author.name as author_name'
    ])
  if (f.ids) {
    // The search ranked them; the page keeps that order.
    const rows = await qb.execute()
    const at = new Map(f.ids.map((id, i) => [id, i]))
    rows.sort((a, b) => at.get(a.id)! - at.get(b.id)!)
    return { total, items: rows.slice(page.offset, page.offset + page.limit) }
  }
  qb = qb.orderBy('kb_article.updated_at', 'desc').orderBy('kb_article.id', 'desc').limit(page.limit).offset(page.offset)
  return { total, items: await qb.execute() }
}

export async function countInState(db: Executor, state: KbState): Promise<number> {
  const row = await db.selectFrom('kb_article').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', state).executeTakeFirstOrThrow()
  return Number(row.n)
}

/** An article with the names the staff page shows. */
export async function articleForStaff(db: Executor, id: number) {
  return db.selectFrom('kb_article')
    .leftJoin('kb_category', 'kb_category.id', 'kb_article.category_id')
    .leftJoin('staff as author', 'author.id', 'kb_article.author_staff_id')
    .leftJoin('staff as reviewer', 'reviewer.id', 'kb_article.reviewer_staff_id')
    .selectAll('kb_article')
    .select(['kb_category.name_en as category_en', 'kb_category.name_pt as category_pt', 'author.name as author_name', 'reviewer.name as reviewer_name'])
    .where('kb_article.id', '=', id).executeTakeFirst()
}

export async function articleAccountNames(db: Executor, articleId: number) {
  return db.selectFrom('kb_article_account').innerJoin('account', 'account.id', 'kb_article_account.account_id')
    .select(['account.id', 'account.name']).where('kb_article_account.article_id', '=', articleId).orderBy('account.name').execute()
}

/** The tickets an article came from or solved that the actor may see, and how many there are in all. */
export async function articleTickets(db: Executor, actor: Actor, articleId: number) {
  const all = await db.selectFrom('kb_article_ticket').select((eb) => eb.fn.countAll<number>().as('n')).where('article_id', '=', articleId).executeTakeFirstOrThrow()
  const visible = await scopeTicketsToActor(db.selectFrom('ticket'), actor)
    .innerJoin('kb_article_ticket', 'kb_article_ticket.ticket_id', 'ticket.id')
    .select(['ticket.number', 'ticket.title', 'ticket.state', 'ticket.status', 'kb_article_ticket.created_at'])
    .where('kb_article_ticket.article_id', '=', articleId).orderBy('ticket.number', 'desc').limit(50).execute()
  return { total: Number(all.n), visible }
}

/**
 * Related articles are kept both ways (a row for A->B and one for B->A): "see also" reads one
 * direction on either article, and changing A's list changes what B shows of A.
 */
export async function relatedArticles(db: Executor, articleId: number) {
  return db.selectFrom('kb_related').innerJoin('kb_article', 'kb_article.id', 'kb_related.related_id')
    .select(['kb_article.id', 'kb_article.title', 'kb_article.language', 'kb_article.state', 'kb_article.slug', 'kb_article.audience'])
    .where('kb_related.article_id', '=', articleId).orderBy('kb_article.title').execute()
}

export async function setRelated(db: Executor, articleId: number, relatedIds: readonly number[]): Promise<void> {
  await db.deleteFrom('kb_related').where((eb) => eb.or([eb('article_id', '=', articleId), eb('related_id', '=', articleId)])).execute()
  if (relatedIds.length === 0) return
  await db.insertInto('kb_related').values(relatedIds.flatMap((id) => [{ article_id: articleId, related_id: id }, { article_id: id, related_id: articleId }])).execute()
}

export async function existingArticles(db: Executor, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('kb_article').select('id').where('id', 'in', [...ids]).execute()
  return rows.map((r) => r.id)
}

/** Every category, for the editor's indented select and the list's filter (the tree is built by the page). */
export async function allCategories(db: Executor) {
  return db.selectFrom('kb_category').select(['id', 'parent_id', 'name_en', 'name_pt', 'position']).orderBy('position').orderBy('name_en').execute()
}

/** The accounts an article of audience 'accounts' may be for. */
export async function accountChoices(db: Executor) {
  return db.selectFrom('account').select(['id', 'name', 'active']).orderBy('name').execute()
}

/** Articles the editor offers as the original of a translation and as related ones (archived left out). */
export async function articleChoices(db: Executor) {
  return db.selectFrom('kb_article').select(['id', 'title', 'language', 'translation_of', 'state'])
    .where('state', '!=', 'archived').orderBy('title').orderBy('id').limit(2000).execute()
}

/** What a draft from a ticket leaves out: its requester's phone (name and e-mail come with the ticket). */
export async function contactPhone(db: Executor, contactId: number): Promise<string | null> {
  const row = await db.selectFrom('contact').select('phone').where('id', '=', contactId).executeTakeFirst()
  return row?.phone ?? null
}

export async function insertKbAttachment(db: Executor, a: { articleId: number; filename: string; contentType: string; size: number; sha256: string; staffId: number }, now: string): Promise<number> {
  const row = await db.insertInto('kb_attachment').values({
    article_id: a.articleId, filename: a.filename, content_type: a.contentType, size: a.size, sha256: a.sha256, staff_id: a.staffId, created_at: now
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

export async function deleteKbAttachment(db: Executor, articleId: number, id: number): Promise<boolean> {
  const result = await db.deleteFrom('kb_attachment').where('id', '=', id).where('article_id', '=', articleId).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

export async function listKbAttachments(db: Executor, articleId: number) {
  return db.selectFrom('kb_attachment').leftJoin('staff', 'staff.id', 'kb_attachment.staff_id')
    .select(['kb_attachment.id', 'kb_attachment.filename', 'kb_attachment.content_type', 'kb_attachment.size', 'kb_attachment.created_at', 'staff.name as staff_name'])
    .where('kb_attachment.article_id', '=', articleId).orderBy('kb_attachment.id').execute()
}

export async function getKbAttachment(db: Executor, id: number) {
  return db.selectFrom('kb_attachment').innerJoin('kb_article', 'kb_article.id', 'kb_attachment.article_id')
    .select(['kb_attachment.id', 'kb_attachment.article_id', 'kb_attachment.filename', 'kb_attachment.content_type', 'kb_attachment.size', 'kb_attachment.sha256', 'kb_article.state', 'kb_article.audience'])
    .where('kb_attachment.id', '=', id).executeTakeFirst()
}
