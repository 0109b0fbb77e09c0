// Knowledge-base categories as the administration keeps them: the tree with how many articles and
// subcategories each has, and the rows themselves.
import type { Executor } from './index.js'

export interface CategoryRow {
  id: number
  parent_id: number | null
  slug: string
  name_en: string
  name_pt: string
  position: number
  articles: number
  children: number
}

/** Every category with its number of articles and of direct subcategories. */
export async function listCategoriesForAdmin(db: Executor): Promise<CategoryRow[]> {
  const rows = await db.selectFrom('kb_category as c')
    .select((eb) => ['c.id', 'c.parent_id', 'c.slug', 'c.name_en', 'c.name_pt', 'c.position',
      eb.selectFrom('kb_article').select((e) => e.fn.countAll<number>().as('n')).whereRef('kb_article.category_id', '=', 'c.id').as('articles'),
      eb.selectFrom('kb_category as sub').select((e) => e.fn.countAll<number>().as('n')).whereRef('sub.parent_id', '=', 'c.id').as('children')])
    .orderBy('c.position').orderBy('c.name_en').orderBy('c.id')
    .execute()
  return rows.map((r) => ({ ...r, articles: Number(r.articles ?? 0), children: Number(r.children ?? 0) }))
}

export async function getCategory(db: Executor, id: number) {
  return db.selectFrom('kb_category').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Each category's parent: what a move is checked against (no loops). */
export async function categoryParents(db: Executor): Promise<Map<number, number | null>> {
  const rows = await db.selectFrom('kb_category').select(['id', 'parent_id']).execute()
  return new Map(rows.map((r) => [r.id, r.parent_id]))
}

export async function categorySlugTaken(db: Executor, slug: string): Promise<boolean> {
  return (await db.selectFrom('kb_category').select('id').where('slug', '=', slug).executeTakeFirst()) !== undefined
}

export interface CategoryFields {
  parentId: number | null
  nameEn: string
  namePt: string
  position: number
}

export async function insertCategory(db: Executor, f: CategoryFields & { slug: string }, now: string): Promise<number> {
  const row = await db.insertInto('kb_category').values({
    parent_id: f.parentId, slug: f.slug, name_en: f.nameEn, name_pt: f.namePt, position: f.position, created_at: now, updated_at: now
  }).returning('id').executeTakeFirstOrThrow()
  return row.id
}

export async function updateCategory(db: Executor, id: number, f: CategoryFields, now: string): Promise<void> {
  await db.updateTable('kb_category').set({ parent_id: f.parentId, name_en: f.nameEn, name_pt: f.namePt, position: f.position, updated_at: now })
    .where('id', '=', id).execute()
}

export async function countCategoryUse(db: Executor, id: number): Promise<{ articles: number; children: number }> {
  const [articles, children] = await Promise.all([
    db.selectFrom('kb_article').select((e) => e.fn.countAll<number>().as('n')).where('category_id', '=', id).executeTakeFirstOrThrow(),
    db.selectFrom('kb_category').select((e) => e.fn.countAll<number>().as('n')).where('parent_id', '=', id).executeTakeFirstOrThrow()
  ])
  return { articles: Number(articles.n), children: Number(children.n) }
}

/** Moves every article of one category to another; how many moved. */
export async function moveCategoryArticles(db: Executor, from: number, to: number, now: string): Promise<number> {
  const result = await db.updateTable('kb_article').set({ category_id: to, updated_at: now }).where('category_id', '=', from).executeTakeFirst()
  return Number(result.numUpdatedRows)
}

export async function deleteCategoryRow(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('kb_category').where('id', '=', id).execute()
}
