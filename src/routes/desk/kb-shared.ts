// What the staff knowledge-base pages (/desk/kb...) share: the staff member as the article rules
// see them, the category tree as an indented list, and how a refusal of an article command reads.
import { categoryTree, flattenTree } from '../../domain/kb-categories.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { allCategories, managesADesk } from '../../db/kb.js'
import { kbDecide, type KbAction, type KbActor, type KbState } from '../../domain/kb.js'
import type { Refused } from '../../commands/kernel.js'
import type { Translate } from '../../i18n/index.js'
import { staffOf } from './shared.js'

export const KbIdParams = Type.Object({ id: Type.String({ maxLength: 12 }) })

/** The staff member as the article rules see them (admin, desk manager, staff). */
export async function kbActorOf(fastify: FastifyInstance, request: FastifyRequest): Promise<KbActor> {
  const staff = staffOf(request)
  return { staffId: staff.id, admin: staff.role === 'admin', manager: await managesADesk(fastify.db, staff.id) }
}

/** The review actions this staff member may take on an article now, in the order the page offers them. */
export function reviewActions(article: { state: KbState; author_staff_id: number }, actor: KbActor): Exclude<KbAction, 'edit'>[] {
  const all = ['submit', 'publish', 'send_back', 'archive', 'restore'] as const
  return all.filter((a) => kbDecide(a, article.state, article.author_staff_id, actor).ok)
}

export function mayEdit(article: { state: KbState; author_staff_id: number }, actor: KbActor): boolean {
  return kbDecide('edit', article.state, article.author_staff_id, actor).ok
}

export interface CategoryOption {
  id: number
  name: string
  depth: number
}

/** The categories in tree order (each under its parent), named in the page's language, with their depth. */
export async function categoryOptions(fastify: FastifyInstance, locale: string): Promise<CategoryOption[]> {
  return flattenTree(categoryTree(await allCategories(fastify.db)))
    .map(({ category, depth }) => ({ id: category.id, name: locale === 'pt-BR' ? category.name_pt : category.name_en, depth }))
}

/** A category's name in the page's language. */
export function categoryName(row: { category_en: string | null; category_pt: string | null }, locale: string): string | null {
  return locale === 'pt-BR' ? row.category_pt : row.category_en
}

/** One sentence for a refused review action, edit or restore. */
export function kbRefusalMessage(t: Translate, refusal: Refused): string {
  switch (refusal.code) {
    case 'conflict': return t('kbDesk.conflict')
    case 'not_allowed_in_state': return t('kbDesk.refused.state', { state: t(`kbDesk.state.${refusal.params.state}`) })
    case 'forbidden':
      return refusal.params.reason === 'own_article' ? t('kbDesk.refused.ownArticle') : t('kbDesk.refused.reviewerOnly')
    case 'not_found': return t('error.notFound.body')
    default: return t('common.formErrors')
  }
}
