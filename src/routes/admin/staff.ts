import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { notFound, forbidden } from '../../plugins/app.js'
import { listDesks, listProducts } from '../../db/catalog.js'
import { listStaffForAdmin, staffProfile } from '../../db/staff-admin.js'
import { listCatalogForAdmin } from '../../db/structure-admin.js'
import { listAudit } from '../../db/admin-audit.js'
import { personWho } from '../../commands/kernel.js'
import { addStaffMember, editStaffMember, HOURLY_RATE_CENTS, setStaffMemberActive, STAFF_ROLES, type StaffFields } from '../../commands/staff-admin.js'
import { LOCALES } from '../../i18n/index.js'
import { Checkbox, echo, Form, formFailure, OptionalId, Text, type FormErrors } from '../forms.js'
import { fieldMessages, refusalMessage } from '../refusals.js'
import type { Refused } from '../../commands/kernel.js'
import { ActiveForm, adminOnly, IdParams, Ids, pathId, postedActive, postedIds, throwAccessRefusal, type FormValues } from './shared.js'

const StaffForm = Form({
  name: Text, email: Text, locale: Text, role: Text, hourly_rate: Text, crm_user: Text,
  can_delete: Checkbox, available: Checkbox, all_desks: Checkbox, manager: OptionalId,
  desks: Ids, products: Ids, areas: Ids
})
/** Schema failures (a desk id that is not a number, a checkbox with an odd value) name their field. */
const FORM_MESSAGES = {
  desks: 'validation.invalidChoice', products: 'validation.invalidChoice', areas: 'validation.invalidChoice', can_delete: 'validation.invalidChoice', available: 'validation.invalidChoice',
  all_desks: 'validation.invalidChoice', manager: 'validation.invalidChoice'
}
const ListQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) })

/** "45", "45.5", "45,50" (the page's language may use a comma): cents, or NaN. */
export function rateToCents(text: string): number {
  const m = /^(\d{1,7})(?:[.,](\d{1,2}))?$/.exec(text.trim())
  if (!m) return text.trim() === '' ? 0 : Number.NaN
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'))
}

const centsToRate = (cents: number) => (cents / 100).toFixed(2)

const FIELD_WORDS = {
  names: { hourlyRateCents: 'hourly_rate', deskIds: 'desks', productIds: 'products', canDelete: 'can_delete', crmUserId: 'crm_user', managerId: 'manager', areaIds: 'areas' },
  keys: { 'email.taken': 'admin.staff.emailTaken', hourlyRateCents: 'admin.staff.rateRange', 'crmUserId.invalid_choice': 'admin.staff.crmUserFormat', 'crmUserId.taken': 'admin.staff.crmUserTaken' },
  params: { max: centsToRate(HOURLY_RATE_CENTS.max) }
}

/**
 * Staff administration (mounted at /admin/staff): the list with search, adding a member (who is
 * mailed an invitation to set a password), editing what they are and serve, turning an account
 * off and on. Every change goes through src/commands/staff-admin.ts and into the audit log.
 */
export default async function adminStaff(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', adminOnly)
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  const choices = async () => {
    const [desks, products, staff, catalog] = await Promise.all([listDesks(fastify.db), listProducts(fastify.db), listStaffForAdmin(fastify.db), listCatalogForAdmin(fastify.db)])
    return { desks, products, roles: STAFF_ROLES, locales: LOCALES, managers: staff.filter((s) => s.active === 1), areas: catalog }
  }

  async function renderForm(request: FastifyRequest, reply: FastifyReply, state: {
    staffId: number | null; values: FormValues; errors?: FormErrors; formError?: string | null; status?: number
  }) {
    const t = request.t
    const profile = state.staffId === null ? undefined : await staffProfile(fastify.db, state.staffId)
    if (state.staffId !== null && !profile) throw notFound()
    const audit = state.staffId === null ? { rows: [], more: false } : await listAudit(fastify.db, { entity: 'staff', entityId: state.staffId, limit: 20 })
    return reply.page('admin/staff-form', {
      title: profile ? t('admin.staff.editTitle', { name: profile.name }) : t('admin.staff.newTitle'),
      profile: profile ?? null,
      isSelf: profile?.id === request.actor!.id,
      values: state.values,
      errors: state.errors ?? {},
      formError: state.formError ?? (state.errors && Object.keys(state.errors).length > 0 ? t('common.formErrors') : null),
      audit: audit.rows,
      ...(await choices())
    }, state.status ?? 200)
  }

  function fieldsOf(body: typeof StaffForm.static): StaffFields {
    return {
      name: body.name, email: body.email, locale: body.locale === '' ? null : body.locale, role: body.role || 'staff',
      canDelete: body.can_delete !== undefined, available: body.available !== undefined,
      hourlyRateCents: rateToCents(body.hourly_rate), deskIds: body.desks, productIds: body.products, crmUserId: body.crm_user,
      managerId: body.manager, allDesks: body.all_desks !== undefined, areaIds: body.areas
    }
  }

  function posted(request: FastifyRequest): FormValues {
    return { ...echo(request), desks: postedIds(request, 'desks'), products: postedIds(request, 'products'), areas: postedIds(request, 'areas') }
  }

  function refusedForm(request: FastifyRequest, reply: FastifyReply, staffId: number | null, refusal: Refused) {
    throwAccessRefusal(refusal)
    const errors = fieldMessages(request.t, refusal, FIELD_WORDS)
    return renderForm(request, reply, { staffId, values: posted(request), errors, formError: refusalMessage(request.t, refusal), status: 422 })
  }

  fastify.get('/', { schema: { querystring: ListQuery } }, async (request, reply) => {
    const q = request.query.q ?? ''
    return reply.page('admin/staff', { title: request.t('admin.staff.title'), q, staff: await listStaffForAdmin(fastify.db, q) })
  })

  fastify.get('/new', async (request, reply) => {
    return renderForm(request, reply, { staffId: null, values: { role: 'staff', available: 'on', hourly_rate: '0.00', locale: '' } })
  })

  fastify.post('/', { schema: { body: StaffForm }, attachValidation: true }, async (request, reply) => {
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return renderForm(request, reply, { staffId: null, values: posted(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await addStaffMember(deps, personWho(request.actor!), { ...fieldsOf(request.body), client: request.client() })
    if (!outcome.ok) return refusedForm(request, reply, null, outcome.refusal)
    request.log.info({ staffId: outcome.value.id, by: request.actor!.id }, 'staff member added')
    reply.flash('success', request.t('admin.staff.added', { email: request.body.email.toLowerCase() }))
    return reply.redirect('/admin/staff')
  })

  fastify.get('/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const profile = await staffProfile(fastify.db, pathId(request))
    if (!profile) throw notFound()
    return renderForm(request, reply, {
      staffId: profile.id,
      values: {
        name: profile.name, email: profile.email, locale: profile.locale ?? '', role: profile.role, hourly_rate: centsToRate(profile.hourlyRateCents), crm_user: profile.crmUserId ?? '',
        ...(profile.canDelete ? { can_delete: 'on' } : {}), ...(profile.available ? { available: 'on' } : {}),
        ...(profile.allDesks ? { all_desks: 'on' } : {}), manager: profile.managerId === null ? '' : String(profile.managerId),
        desks: profile.deskIds, products: profile.productIds, areas: profile.areaIds
      }
    })
  })

  fastify.post('/:id', { schema: { params: IdParams, body: StaffForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return renderForm(request, reply, { staffId: id, values: posted(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await editStaffMember(deps, personWho(request.actor!), { ...fieldsOf(request.body), staffId: id })
    if (!outcome.ok) return refusedForm(request, reply, id, outcome.refusal)
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect(`/admin/staff/${id}`)
  })

  fastify.post('/:id/active', { schema: { params: IdParams, body: ActiveForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const t = request.t
    const active = postedActive(request, reply)
    if (active === null) return reply.redirect(`/admin/staff/${id}`)
    const outcome = await setStaffMemberActive(deps, personWho(request.actor!), { staffId: id, active, client: request.client() })
    if (!outcome.ok) {
      if (outcome.refusal.code === 'not_found') throw notFound()
      if (outcome.refusal.code === 'forbidden') throw forbidden()
      const field = outcome.refusal.fields.active
      reply.flash('error', field ? t(field.problem === 'last_admin' ? 'admin.staff.lastAdmin' : 'admin.staff.notYourself') : refusalMessage(t, outcome.refusal))
      return reply.redirect(`/admin/staff/${id}`)
    }
    const open = outcome.value.openTickets
    reply.flash('success', active ? t('admin.staff.enabled')
      : open > 0 ? t('admin.staff.disabledWithTickets', { count: open }) : t('admin.staff.disabled'))
    return reply.redirect(`/admin/staff/${id}`)
  })
}
