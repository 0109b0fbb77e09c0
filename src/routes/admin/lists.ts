import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { notFound } from '../../plugins/app.js'
import { getListItem, listItems } from '../../db/managed-lists.js'
import { listAudit } from '../../db/admin-audit.js'
import { isManagedList, listOf, MANAGED_LISTS, type ManagedList } from '../../domain/managed-lists.js'
import { LIMITS } from '../../domain/ticket.js'
import { personWho } from '../../commands/kernel.js'
import { addListItem, editListItem, type ListItemInput } from '../../commands/list-admin.js'
import { Checkbox, echo, Form, formFailure, OptionalInteger, Text, type FormErrors } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import { adminOnly, pathId, throwAccessRefusal, type FormValues } from './shared.js'

const ListParams = Type.Object({ list: Type.String({ maxLength: 40 }) })
const ItemParams = Type.Object({ list: Type.String({ maxLength: 40 }), id: Type.String({ maxLength: 12 }) })
const ItemForm = Form({ code: Text, label_en: Text, label_pt: Text, position: OptionalInteger, active: Checkbox })
const FORM_MESSAGES = { position: 'lists.positionRange', active: 'validation.invalidChoice' }
const WORDS = {
  names: { labelEn: 'label_en', labelPt: 'label_pt' },
  keys: { 'code.taken': 'lists.codeTaken', 'code.invalid_choice': 'lists.codeInvalid', 'position.out_of_range': 'lists.positionRange' }
}

/**
 * The managed lists (mounted at /admin/lists): occurrence categories and origins, closure
 * categories and cancellation reasons, each item with a label in both languages. Items are turned
 * off, never deleted, and keep their code: tickets store it.
 */
export default async function adminLists(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', adminOnly)
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  const listParam = (request: FastifyRequest): ManagedList => {
    const list = (request.params as { list: string }).list
    if (!isManagedList(list)) throw notFound()
    return list
  }

  fastify.get('/', async (request, reply) => {
    const items = await listItems(fastify.db)
    const lists = MANAGED_LISTS.map((list) => ({ list, items: listOf(items, list) }))
    return reply.page('admin/lists', { title: request.t('lists.title'), lists })
  })

  async function listPage(request: FastifyRequest, reply: FastifyReply, list: ManagedList, state: { editing?: number; values?: FormValues; errors?: FormErrors; status?: number } = {}) {
    const t = request.t
    const editing = state.editing === undefined ? undefined : await getListItem(fastify.db, state.editing)
    if (state.editing !== undefined && editing?.list !== list) throw notFound()
    const errors = state.errors ?? {}
    const audit = editing ? await listAudit(fastify.db, { entity: 'list_item', entityId: editing.id, limit: 20 }) : { rows: [] }
    return reply.page('admin/list', {
      title: editing ? t('lists.editTitle', { name: editing.label_en }) : t(`lists.${list}`),
      list, items: listOf(await listItems(fastify.db), list), editing: editing ?? null, maxLabel: LIMITS.label,
      values: state.values ?? (editing
        ? { code: editing.code, label_en: editing.label_en, label_pt: editing.label_pt, position: String(editing.position), ...(editing.active ? { active: 'on' } : {}) }
        : { active: 'on' }),
      errors, formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null, audit: audit.rows
    }, state.status ?? 200)
  }

  const fields = (body: typeof ItemForm.static): ListItemInput => ({
    code: body.code, labelEn: body.label_en, labelPt: body.label_pt, position: body.position, active: body.active !== undefined
  })

  fastify.get('/:list', { schema: { params: ListParams } }, async (request, reply) => listPage(request, reply, listParam(request)))

  fastify.post('/:list', { schema: { params: ListParams, body: ItemForm }, attachValidation: true }, async (request, reply) => {
    const list = listParam(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return listPage(request, reply, list, { values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await addListItem(deps, personWho(request.actor!), list, fields(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return listPage(request, reply, list, { values: echo(request), errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422 })
    }
    reply.flash('success', request.t('lists.added', { name: request.body.label_en.trim() }))
    return reply.redirect(`/admin/lists/${list}`)
  })

  fastify.get('/:list/:id', { schema: { params: ItemParams } }, async (request, reply) => listPage(request, reply, listParam(request), { editing: pathId(request) }))

  fastify.post('/:list/:id', { schema: { params: ItemParams, body: ItemForm }, attachValidation: true }, async (request, reply) => {
    const list = listParam(request)
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return listPage(request, reply, list, { editing: id, values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const current = await getListItem(fastify.db, id)
    if (current?.list !== list) throw notFound()
    const outcome = await editListItem(deps, personWho(request.actor!), id, fields(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return listPage(request, reply, list, { editing: id, values: echo(request), errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect(`/admin/lists/${list}`)
  })
}
