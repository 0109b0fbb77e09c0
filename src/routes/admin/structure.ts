import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { notFound } from '../../plugins/app.js'
import { listCatalogItems } from '../../db/catalog.js'
import { deskProfile, getCatalogEntry, getProduct, listCatalogForAdmin, listDesksForAdmin, listProductsForAdmin } from '../../db/structure-admin.js'
import { listStaffForAdmin } from '../../db/staff-admin.js'
import { listAudit } from '../../db/admin-audit.js'
import { personWho } from '../../commands/kernel.js'
import { addCatalogEntry, addDesk, addProduct, editCatalogEntry, editDesk, editProduct, STRUCTURE_LIMITS, type CatalogFields, type DeskFields } from '../../commands/structure-admin.js'
import { Checkbox, echo, Form, formFailure, OptionalId, OptionalInteger, Text, type FormErrors } from '../forms.js'
import { listCalendars } from '../../db/calendars.js'
import { fieldMessages } from '../refusals.js'
import { adminOnly, IdParams, Ids, pathId, postedIds, throwAccessRefusal, type FormValues } from './shared.js'

const DeskForm = Form({
  name: Text, manager: OptionalId, members: Ids, products: Ids, items: Ids, calendar: OptionalId, auto_close_days: OptionalInteger,
  email_alias: Text, inbound_default: Checkbox
})
const ProductForm = Form({ name: Text, code: Text, active: Checkbox })
const CatalogForm = Form({ area: OptionalId, name: Text, ticket_type: Text, active: Checkbox, default_priority: Text })
const FORM_MESSAGES = {
  manager: 'validation.invalidChoice', members: 'validation.invalidChoice', products: 'validation.invalidChoice',
  items: 'validation.invalidChoice', active: 'validation.invalidChoice', area: 'validation.invalidChoice',
  calendar: 'validation.invalidChoice', auto_close_days: 'admin.settings.daysRange', inbound_default: 'validation.invalidChoice'
}
const DESK_WORDS = {
  names: { managerId: 'manager', memberIds: 'members', productIds: 'products', categoryIds: 'items', calendarId: 'calendar' },
  keys: { 'name.taken': 'admin.desks.nameTaken', 'autoCloseDays.out_of_range': 'admin.settings.daysRange', 'emailAlias.taken': 'admin.desks.aliasTaken' }
}
const PRODUCT_WORDS = { keys: { 'name.taken': 'admin.products.nameTaken' } }
const CATALOG_WORDS = { names: { areaId: 'area', ticketType: 'ticket_type' }, keys: { 'name.taken': 'admin.catalog.nameTaken' } }

/**
 * Desks (mounted at /admin/desks) and products (/admin/products): lists, adding, editing. Desks
 * are never deleted and products are turned off, never deleted: history and tickets name them.
 */
export default async function adminStructure(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', adminOnly)
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  const who = (request: FastifyRequest) => personWho(request.actor!)


  // ---- desks ----

  async function deskForm(request: FastifyRequest, reply: FastifyReply, state: { deskId: number | null; values: FormValues; errors?: FormErrors; status?: number }) {
    const t = request.t
    const profile = state.deskId === null ? undefined : await deskProfile(fastify.db, state.deskId)
    if (state.deskId !== null && !profile) throw notFound()
    const [staff, products, items, calendars, audit] = await Promise.all([
      listStaffForAdmin(fastify.db), listProductsForAdmin(fastify.db), listCatalogItems(fastify.db), listCalendars(fastify.db),
      state.deskId === null ? { rows: [] } : listAudit(fastify.db, { entity: 'desk', entityId: state.deskId, limit: 20 })
    ])
    const errors = state.errors ?? {}
    return reply.page('admin/desk-form', {
      title: profile ? t('admin.desks.editTitle', { name: profile.name }) : t('admin.desks.newTitle'),
      profile: profile ?? null, values: state.values, errors, maxName: STRUCTURE_LIMITS.name,
      formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null,
      staff: staff.filter((s) => s.active), products, items, calendars, audit: audit.rows
    }, state.status ?? 200)
  }

  const deskFields = (body: typeof DeskForm.static): DeskFields => ({
    name: body.name, managerId: body.manager, memberIds: body.members, productIds: body.products, categoryIds: body.items,
    calendarId: body.calendar, autoCloseDays: body.auto_close_days, emailAlias: body.email_alias, inboundDefault: body.inbound_default !== undefined
  })
  const postedDesk = (request: FastifyRequest): FormValues => ({
    ...echo(request), members: postedIds(request, 'members'), products: postedIds(request, 'products'), items: postedIds(request, 'items')
  })

  fastify.get('/desks', async (request, reply) => {
    return reply.page('admin/desks', { title: request.t('admin.desks.title'), desks: await listDesksForAdmin(fastify.db) })
  })

  fastify.get('/desks/new', async (request, reply) => deskForm(request, reply, { deskId: null, values: { members: [], products: [], items: [] } }))

  fastify.post('/desks', { schema: { body: DeskForm }, attachValidation: true }, async (request, reply) => {
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return deskForm(request, reply, { deskId: null, values: postedDesk(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await addDesk(deps, who(request), deskFields(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return deskForm(request, reply, { deskId: null, values: postedDesk(request), errors: fieldMessages(request.t, outcome.refusal, DESK_WORDS), status: 422 })
    }
    reply.flash('success', request.t('admin.desks.added', { name: request.body.name }))
    return reply.redirect('/admin/desks')
  })

  fastify.get('/desks/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const profile = await deskProfile(fastify.db, pathId(request))
    if (!profile) throw notFound()
    return deskForm(request, reply, {
      deskId: profile.id,
      values: {
        name: profile.name, manager: profile.managerId === null ? '' : String(profile.managerId), members: profile.memberIds, products: profile.productIds, items: profile.categoryIds,
        calendar: profile.calendarId === null ? '' : String(profile.calendarId), auto_close_days: profile.autoCloseDays === null ? '' : String(profile.autoCloseDays),
        email_alias: profile.emailAlias ?? '', ...(profile.inboundDefault ? { inbound_default: 'on' } : {})
      }
    })
  })

  fastify.post('/desks/:id', { schema: { params: IdParams, body: DeskForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return deskForm(request, reply, { deskId: id, values: postedDesk(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await editDesk(deps, who(request), { ...deskFields(request.body), deskId: id })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return deskForm(request, reply, { deskId: id, values: postedDesk(request), errors: fieldMessages(request.t, outcome.refusal, DESK_WORDS), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect(`/admin/desks/${id}`)
  })

  // ---- products ----

  async function productsPage(request: FastifyRequest, reply: FastifyReply, state: { editing?: number; values?: FormValues; errors?: FormErrors; status?: number } = {}) {
    const t = request.t
    const editing = state.editing === undefined ? undefined : await getProduct(fastify.db, state.editing)
    if (state.editing !== undefined && !editing) throw notFound()
    const errors = state.errors ?? {}
    const audit = editing ? await listAudit(fastify.db, { entity: 'product', entityId: editing.id, limit: 20 }) : { rows: [] }
    return reply.page('admin/products', {
      title: editing ? t('admin.products.editTitle', { name: editing.name }) : t('admin.products.title'),
      products: await listProductsForAdmin(fastify.db), editing: editing ?? null, maxName: STRUCTURE_LIMITS.name, maxCode: STRUCTURE_LIMITS.code,
      values: state.values ?? (editing ? { name: editing.name, code: editing.code ?? '', ...(editing.active ? { active: 'on' } : {}) } : { active: 'on' }),
      errors, formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null, audit: audit.rows
    }, state.status ?? 200)
  }

  const productFields = (body: typeof ProductForm.static) => ({ name: body.name, code: body.code, active: body.active !== undefined })

  fastify.get('/products', async (request, reply) => productsPage(request, reply))

  fastify.post('/products', { schema: { body: ProductForm }, attachValidation: true }, async (request, reply) => {
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return productsPage(request, reply, { values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await addProduct(deps, who(request), productFields(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return productsPage(request, reply, { values: echo(request), errors: fieldMessages(request.t, outcome.refusal, PRODUCT_WORDS), status: 422 })
    }
    reply.flash('success', request.t('admin.products.added', { name: request.body.name }))
    return reply.redirect('/admin/products')
  })

  fastify.get('/products/:id', { schema: { params: IdParams } }, async (request, reply) => productsPage(request, reply, { editing: pathId(request) }))

  fastify.post('/products/:id', { schema: { params: IdParams, body: ProductForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return productsPage(request, reply, { editing: id, values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await editProduct(deps, who(request), { ...productFields(request.body), productId: id })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return productsPage(request, reply, { editing: id, values: echo(request), errors: fieldMessages(request.t, outcome.refusal, PRODUCT_WORDS), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect('/admin/products')
  })

  // ---- service catalog: areas and items ----

  async function catalogPage(request: FastifyRequest, reply: FastifyReply, state: { editing?: number; values?: FormValues; errors?: FormErrors; status?: number } = {}) {
    const t = request.t
    const editing = state.editing === undefined ? undefined : await getCatalogEntry(fastify.db, state.editing)
    if (state.editing !== undefined && !editing) throw notFound()
    const errors = state.errors ?? {}
    const entity = editing?.parent_id === null ? 'catalog_area' : 'catalog_item'
    const audit = editing ? await listAudit(fastify.db, { entity, entityId: editing.id, limit: 20 }) : { rows: [] }
    return reply.page('admin/catalog-entries', {
      title: editing ? t('admin.catalog.editTitle', { name: editing.name }) : t('admin.catalog.title'),
      catalog: await listCatalogForAdmin(fastify.db), editing: editing ?? null, maxName: STRUCTURE_LIMITS.name,
      values: state.values ?? (editing
        ? {
            area: editing.parent_id === null ? '' : String(editing.parent_id), name: editing.name, ticket_type: editing.ticket_type,
            default_priority: editing.default_priority ?? '', ...(editing.active ? { active: 'on' } : {})
          }
        : { area: '', ticket_type: 'incident', active: 'on' }),
      errors, formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null, audit: audit.rows
    }, state.status ?? 200)
  }

  const catalogFields = (body: typeof CatalogForm.static): CatalogFields => ({
    areaId: body.area, name: body.name, ticketType: body.ticket_type, active: body.active !== undefined, defaultPriority: body.default_priority
  })

  fastify.get('/catalog/entries', async (request, reply) => catalogPage(request, reply))

  fastify.post('/catalog/entries', { schema: { body: CatalogForm }, attachValidation: true }, async (request, reply) => {
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return catalogPage(request, reply, { values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await addCatalogEntry(deps, who(request), catalogFields(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return catalogPage(request, reply, { values: echo(request), errors: fieldMessages(request.t, outcome.refusal, CATALOG_WORDS), status: 422 })
    }
    reply.flash('success', request.t('admin.catalog.added', { name: request.body.name }))
    return reply.redirect('/admin/catalog/entries')
  })

  fastify.get('/catalog/entries/:id', { schema: { params: IdParams } }, async (request, reply) => catalogPage(request, reply, { editing: pathId(request) }))

  fastify.post('/catalog/entries/:id', { schema: { params: IdParams, body: CatalogForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return catalogPage(request, reply, { editing: id, values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await editCatalogEntry(deps, who(request), { ...catalogFields(request.body), entryId: id })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return catalogPage(request, reply, { editing: id, values: echo(request), errors: fieldMessages(request.t, outcome.refusal, CATALOG_WORDS), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect('/admin/catalog/entries')
  })
}
