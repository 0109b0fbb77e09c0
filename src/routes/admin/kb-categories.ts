// Knowledge-base categories (mounted at /admin/kb/categories, admins only): the tree with each
// category's articles and subcategories, a form to add one, and each category's page to rename,
// move, reorder or delete it (moving its articles to another category first).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { getCategory, listCategoriesForAdmin, type CategoryRow } from '../../db/kb-categories.js'
import { listAudit } from '../../db/admin-audit.js'
import { categoryTree, flattenTree, KB_CATEGORY_LIMITS } from '../../domain/kb-categories.js'
import { personWho } from '../../commands/kernel.js'
import { addKbCategory, deleteKbCategory, editKbCategory, type CategoryInput } from '../../commands/kb-categories.js'
import { echo, Form, formFailure, OptionalId, OptionalInteger, Text, type FormErrors } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import { notFound } from '../../plugins/app.js'
import { adminOnly, IdParams, pathId, throwAccessRefusal, type FormValues } from './shared.js'

const CategoryForm = Form({ name_en: Text, name_pt: Text, parent_id: OptionalId, position: OptionalInteger })
const DeleteForm = Form({ move_to: OptionalId })
const FORM_MESSAGES = { parent_id: 'validation.invalidChoice', position: 'kbStaff.categories.positionRange', move_to: 'validation.invalidChoice' }
const WORDS = {
  keys: {
    'parentId.in_use': 'kbStaff.categories.loop', 'position.out_of_range': 'kbStaff.categories.positionRange',
    'category.in_use': 'kbStaff.categories.hasChildren', 'moveArticlesTo.required': 'kbStaff.categories.hasArticles'
  },
  names: { moveArticlesTo: 'move_to' }
}

type State = { values?: FormValues; errors?: FormErrors; status?: number }

export default async function adminKbCategories(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', adminOnly)
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  /** The categories in reading order, each with its depth and its name in the reader's language. */
  function ordered(rows: CategoryRow[], locale: string) {
    return flattenTree(categoryTree(rows)).map(({ category, depth }) => ({ ...category, depth, name: locale === 'pt-BR' ? category.name_pt : category.name_en }))
  }

  async function listPage(request: FastifyRequest, reply: FastifyReply, state: State = {}) {
    const t = request.t
    const rows = await listCategoriesForAdmin(fastify.db)
    const errors = state.errors ?? {}
    return reply.page('admin/kb-categories', {
      title: t('kbStaff.categories.title'), tree: categoryTree(rows), choices: ordered(rows, request.locale), limits: KB_CATEGORY_LIMITS,
      values: state.values ?? {}, errors, formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null
    }, state.status ?? 200)
  }

  async function categoryPage(request: FastifyRequest, reply: FastifyReply, id: number, state: State & { failed?: 'edit' | 'delete' } = {}) {
    const t = request.t
    const [category, rows, audit] = await Promise.all([getCategory(fastify.db, id), listCategoriesForAdmin(fastify.db), listAudit(fastify.db, { entity: 'kb_category', entityId: id, limit: 20 })])
    if (!category) throw notFound()
    const self = rows.find((r) => r.id === id)!
    const choices = ordered(rows, request.locale)
    // Not under itself nor under its own subcategories: those are not offered as parents.
    const below = new Set<number>([id])
    for (const c of choices) if (c.parent_id !== null && below.has(c.parent_id)) below.add(c.id)
    const errors = state.errors ?? {}
    return reply.page('admin/kb-category', {
      title: t('kbStaff.categories.editTitle', { name: request.locale === 'pt-BR' ? category.name_pt : category.name_en }),
      category, articles: self.articles, children: self.children,
      parents: choices.filter((c) => !below.has(c.id)), targets: choices.filter((c) => c.id !== id), limits: KB_CATEGORY_LIMITS,
      values: state.values ?? { name_en: category.name_en, name_pt: category.name_pt, parent_id: category.parent_id === null ? '' : String(category.parent_id), position: String(category.position) },
      failed: state.failed ?? null, errors, formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null, audit: audit.rows
    }, state.status ?? 200)
  }

  const fields = (body: typeof CategoryForm.static): CategoryInput => ({ nameEn: body.name_en, namePt: body.name_pt, parentId: body.parent_id, position: body.position })

  fastify.get('/', async (request, reply) => listPage(request, reply))

  fastify.post('/', { schema: { body: CategoryForm }, attachValidation: true }, async (request, reply) => {
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return listPage(request, reply, { values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await addKbCategory(deps, personWho(request.actor!), fields(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return listPage(request, reply, { values: echo(request), errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422 })
    }
    request.log.info({ categoryId: outcome.value.id }, 'knowledge-base category added')
    reply.flash('success', request.t('kbStaff.categories.added', { name: request.body.name_en }))
    return reply.redirect('/admin/kb/categories')
  })

  fastify.get('/:id', { schema: { params: IdParams } }, async (request, reply) => categoryPage(request, reply, pathId(request)))

  fastify.post('/:id', { schema: { params: IdParams, body: CategoryForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return categoryPage(request, reply, id, { failed: 'edit', values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await editKbCategory(deps, personWho(request.actor!), id, fields(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return categoryPage(request, reply, id, { failed: 'edit', values: echo(request), errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect('/admin/kb/categories')
  })

  fastify.post('/:id/delete', { schema: { params: IdParams, body: DeleteForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return categoryPage(request, reply, id, { failed: 'delete', errors: { [failure.field]: failure.message }, status: 422 })
    const category = await getCategory(fastify.db, id)
    const outcome = await deleteKbCategory(deps, personWho(request.actor!), id, { moveArticlesTo: request.body.move_to })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return categoryPage(request, reply, id, { failed: 'delete', errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422 })
    }
    const name = category ? (request.locale === 'pt-BR' ? category.name_pt : category.name_en) : ''
    reply.flash('success', request.t(outcome.value.moved > 0 ? 'kbStaff.categories.deletedMoved' : 'kbStaff.categories.deleted', { name, count: outcome.value.moved }))
    return reply.redirect('/admin/kb/categories')
  })
}
