// The knowledge base's categories, administered by admins: add, rename (English and Portuguese),
// move under another category (never under itself or its own subcategories), order by position,
// delete when empty (its articles may be moved to another category in the same step; a category
// with subcategories keeps them until they are moved). Each change is audited.
import { categoryParents, categorySlugTaken, countCategoryUse, deleteCategoryRow, getCategory, insertCategory, moveCategoryArticles, updateCategory, type CategoryFields } from '../db/kb-categories.js'
import { KB_CATEGORY_LIMITS, wouldLoop } from '../domain/kb-categories.js'
import { slugify } from '../domain/kb.js'
import { asAdmin } from './admin-common.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

export interface CategoryInput {
  nameEn: string
  namePt: string
  parentId: number | null
  /** Lower first; null: 0. */
  position: number | null
}

async function checked(uow: UnitOfWork, input: CategoryInput, self: number | null): Promise<CategoryFields> {
  const check = new FieldCheck()
  check.text('nameEn', input.nameEn, KB_CATEGORY_LIMITS.name)
  check.text('namePt', input.namePt, KB_CATEGORY_LIMITS.name)
  const position = input.position ?? 0
  if (!Number.isInteger(position) || position < 0 || position > KB_CATEGORY_LIMITS.position) check.add('position', 'out_of_range', { min: 0, max: KB_CATEGORY_LIMITS.position })
  if (input.parentId !== null) {
    const parents = await categoryParents(uow.trx)
    if (!parents.has(input.parentId)) check.add('parentId', 'invalid_choice')
    else if (self !== null && wouldLoop(self, input.parentId, parents)) check.add('parentId', 'in_use')
  }
  check.refuse()
  return { parentId: input.parentId, nameEn: input.nameEn.trim(), namePt: input.namePt.trim(), position }
}

/** A free address part for the category's English name: its slug, else with -2, -3... */
async function freeSlug(uow: UnitOfWork, name: string): Promise<string> {
  const base = slugify(name)
  for (let n = 1; ; n++) {
    const slug = n === 1 ? base : `${base.slice(0, 75)}-${n}`
    if (!(await categorySlugTaken(uow.trx, slug))) return slug
  }
}

const audited = (f: CategoryFields) => ({ nameEn: f.nameEn, namePt: f.namePt, parentId: f.parentId, position: f.position })

export async function addKbCategory(deps: Deps, who: Who, input: CategoryInput): Promise<Outcome<{ id: number; slug: string }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const f = await checked(uow, input, null)
    const slug = await freeSlug(uow, f.nameEn)
    const id = await insertCategory(uow.trx, { ...f, slug }, uow.at)
    await uow.audit({ entity: 'kb_category', entityId: id, action: 'create', label: f.nameEn, after: audited(f) })
    return { id, slug }
  })
}

/** Renames, moves or reorders a category; its address (slug) stays. */
export async function editKbCategory(deps: Deps, who: Who, id: number, input: CategoryInput): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await getCategory(uow.trx, id)
    if (!current) throw new Refused('not_found')
    const f = await checked(uow, input, id)
    await updateCategory(uow.trx, id, f, uow.at)
    const before = { nameEn: current.name_en, namePt: current.name_pt, parentId: current.parent_id, position: current.position }
    const changed = await uow.audit({ entity: 'kb_category', entityId: id, action: 'update', label: f.nameEn, before, after: audited(f) })
    return { changed }
  })
}

/**
 * Deletes a category. One with subcategories is refused (they are moved first); one with articles
 * is refused unless `moveArticlesTo` names another category, where they go in the same step.
 */
export async function deleteKbCategory(deps: Deps, who: Who, id: number, opts: { moveArticlesTo?: number | null } = {}): Promise<Outcome<{ moved: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await getCategory(uow.trx, id)
    if (!current) throw new Refused('not_found')
    const use = await countCategoryUse(uow.trx, id)
    const check = new FieldCheck()
    if (use.children > 0) check.add('category', 'in_use', { children: use.children })
    const target = opts.moveArticlesTo ?? null
    if (target !== null && (target === id || !(await getCategory(uow.trx, target)))) check.add('moveArticlesTo', 'invalid_choice')
    else if (use.articles > 0 && target === null) check.add('moveArticlesTo', 'required', { articles: use.articles })
    check.refuse()
    const moved = target !== null && use.articles > 0 ? await moveCategoryArticles(uow.trx, id, target, uow.at) : 0
    await deleteCategoryRow(uow.trx, id)
    await uow.audit({
      entity: 'kb_category', entityId: id, action: 'delete', label: current.name_en,
      before: { nameEn: current.name_en, namePt: current.name_pt, parentId: current.parent_id, position: current.position, ...(moved > 0 ? { articlesMovedTo: target } : {}) }
    })
    return { moved }
  })
}
