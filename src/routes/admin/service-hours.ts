import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { notFound } from '../../plugins/app.js'
import { calendarProfile, listCalendars } from '../../db/calendars.js'
import { getSlaPolicies, itemSlaPolicies } from '../../db/sla.js'
import { getCatalogEntry } from '../../db/structure-admin.js'
import { listCatalogItems } from '../../db/catalog.js'
import { listAudit } from '../../db/admin-audit.js'
import { personWho } from '../../commands/kernel.js'
import { addCalendar, CALENDAR_LIMITS, editCalendar, removeCalendar, setItemSlaTargets, type CalendarFields, type ItemTargets } from '../../commands/service-hours.js'
import { STRUCTURE_LIMITS } from '../../commands/structure-admin.js'
import { formatDayHours, WEEKDAYS } from '../../domain/business-hours.js'
import { PRIORITIES } from '../../domain/lifecycle.js'
import { ButtonForm, echo, Form, formFailure, OptionalInteger, Text, type FormErrors } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import { adminOnly, IdParams, pathId, throwAccessRefusal, type FormValues } from './shared.js'

const HOURS_FIELDS = Object.fromEntries(WEEKDAYS.map((d) => [`hours_${d}`, Text])) as Record<`hours_${1 | 2 | 3 | 4 | 5 | 6 | 7}`, typeof Text>
const CalendarForm = Form({ name: Text, time_zone: Text, holidays: Text, ...HOURS_FIELDS })
const TARGET_FIELDS = Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}_response`, OptionalInteger], [`${p}_resolution`, OptionalInteger]]))
const ItemSlaForm = Form(TARGET_FIELDS as Record<string, typeof OptionalInteger>)
const TARGET_MESSAGES = Object.fromEntries(Object.keys(TARGET_FIELDS).map((f) => [f, 'admin.sla.minutesRange']))
const CALENDAR_WORDS = {
  names: { timeZone: 'time_zone', ...Object.fromEntries(WEEKDAYS.map((d) => [`hours.${d}`, `hours_${d}`])) },
  keys: { 'name.taken': 'hours.nameTaken', 'timeZone.invalid_choice': 'hours.badZone', 'hours.invalid_hours': 'hours.noHours', 'holidays.out_of_range': 'hours.tooManyHolidays' }
}

/** The holidays textarea: one per line, "YYYY-MM-DD name" (the name may be left out). */
function holidayLines(text: string): CalendarFields['holidays'] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '').map((line) => {
    const [day, ...name] = line.split(/\s+/)
    return { day, name: name.join(' ') }
  })
}

let zones: string[] | null = null
/** The time zones the runtime knows, for the form's suggestions. */
function timeZones(): string[] {
  zones ??= ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')]
  return zones
}

/**
 * Business hours (mounted at /admin/calendars): calendars desks count their SLA targets in, and
 * (at /admin/sla/items) a catalog item's own targets.
 */
export default async function adminServiceHours(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', adminOnly)
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  const who = (request: FastifyRequest) => personWho(request.actor!)

  async function calendarForm(request: FastifyRequest, reply: FastifyReply, state: { calendarId: number | null; values: FormValues; errors?: FormErrors; status?: number }) {
    const t = request.t
    const profile = state.calendarId === null ? undefined : await calendarProfile(fastify.db, state.calendarId)
    if (state.calendarId !== null && !profile) throw notFound()
    const audit = profile ? await listAudit(fastify.db, { entity: 'calendar', entityId: profile.id, limit: 20 }) : { rows: [] }
    const errors = state.errors ?? {}
    return reply.page('admin/calendar-form', {
      title: profile ? t('hours.editTitle', { name: profile.name }) : t('hours.newTitle'),
      profile: profile ?? null, values: state.values, errors, maxName: STRUCTURE_LIMITS.name, maxHolidays: CALENDAR_LIMITS.holidays,
      formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null,
      weekdays: WEEKDAYS, zones: timeZones(), audit: audit.rows
    }, state.status ?? 200)
  }

  const calendarFields = (body: typeof CalendarForm.static): CalendarFields => ({
    name: body.name, timeZone: body.time_zone,
    hours: Object.fromEntries(WEEKDAYS.map((d) => [String(d), body[`hours_${d}`]])),
    holidays: holidayLines(body.holidays)
  })

  fastify.get('/calendars', async (request, reply) => {
    const calendars = await listCalendars(fastify.db)
    return reply.page('admin/calendars', {
      title: request.t('hours.title'),
      calendars: calendars.map((c) => ({ ...c, days: WEEKDAYS.map((d) => ({ day: d, hours: formatDayHours(c.week[d]) })) }))
    })
  })

  fastify.get('/calendars/new', async (request, reply) => calendarForm(request, reply, {
    calendarId: null,
    values: { time_zone: 'UTC', ...Object.fromEntries([1, 2, 3, 4, 5].map((d) => [`hours_${d}`, '09:00-18:00'])) }
  }))

  fastify.post('/calendars', { schema: { body: CalendarForm }, attachValidation: true }, async (request, reply) => {
    formFailure(request, {})
    const outcome = await addCalendar(deps, who(request), calendarFields(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return calendarForm(request, reply, { calendarId: null, values: echo(request), errors: fieldMessages(request.t, outcome.refusal, CALENDAR_WORDS), status: 422 })
    }
    reply.flash('success', request.t('hours.added', { name: request.body.name }))
    return reply.redirect('/admin/calendars')
  })

  fastify.get('/calendars/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const profile = await calendarProfile(fastify.db, pathId(request))
    if (!profile) throw notFound()
    return calendarForm(request, reply, {
      calendarId: profile.id,
      values: {
        name: profile.name, time_zone: profile.timeZone,
        holidays: profile.holidays.map((h) => `${h.day} ${h.name}`.trim()).join('\n'),
        ...Object.fromEntries(WEEKDAYS.map((d) => [`hours_${d}`, formatDayHours(profile.week[d])]))
      }
    })
  })

  fastify.post('/calendars/:id', { schema: { params: IdParams, body: CalendarForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    formFailure(request, {})
    const outcome = await editCalendar(deps, who(request), { ...calendarFields(request.body), calendarId: id })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return calendarForm(request, reply, { calendarId: id, values: echo(request), errors: fieldMessages(request.t, outcome.refusal, CALENDAR_WORDS), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect(`/admin/calendars/${id}`)
  })

  fastify.post('/calendars/:id/delete', { schema: { params: IdParams, body: ButtonForm } }, async (request, reply) => {
    const id = pathId(request)
    const outcome = await removeCalendar(deps, who(request), id)
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      reply.flash('error', request.t('hours.inUse', { names: String(outcome.refusal.fields.calendarId?.params?.names ?? '') }))
      return reply.redirect(`/admin/calendars/${id}`)
    }
    reply.flash('success', request.t('hours.deleted'))
    return reply.redirect('/admin/calendars')
  })

  // ---- a catalog item's own SLA targets ----

  async function itemForm(request: FastifyRequest, reply: FastifyReply, state: { itemId: number; values?: FormValues; errors?: FormErrors; status?: number }) {
    const t = request.t
    const item = await getCatalogEntry(fastify.db, state.itemId)
    if (!item || item.parent_id === null) throw notFound()
    const own = (await itemSlaPolicies(fastify.db)).get(item.id) ?? {}
    const errors = state.errors ?? {}
    const audit = await listAudit(fastify.db, { entity: 'catalog_item', entityId: item.id, limit: 20 })
    return reply.page('admin/item-sla', {
      title: t('hours.item.title', { name: item.name }), item, priorities: PRIORITIES, defaults: await getSlaPolicies(fastify.db),
      values: state.values ?? Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}_response`, own[p]?.responseMinutes ?? ''], [`${p}_resolution`, own[p]?.resolutionMinutes ?? '']])),
      errors, formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null, audit: audit.rows.filter((r) => r.action === 'sla_targets')
    }, state.status ?? 200)
  }

  fastify.get('/sla/items', async (request, reply) => {
    const [items, own] = await Promise.all([listCatalogItems(fastify.db), itemSlaPolicies(fastify.db)])
    return reply.page('admin/item-sla-list', {
      title: request.t('hours.items.title'), priorities: PRIORITIES,
      items: items.map((i) => ({ ...i, own: own.get(i.id) ?? {} }))
    })
  })

  fastify.get('/sla/items/:id', { schema: { params: IdParams } }, async (request, reply) => itemForm(request, reply, { itemId: pathId(request) }))

  fastify.post('/sla/items/:id', { schema: { params: IdParams, body: ItemSlaForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, TARGET_MESSAGES)
    if (failure) return itemForm(request, reply, { itemId: id, values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const body = request.body as Record<string, number | null>
    const targets: ItemTargets = {}
    // A priority with both fields empty uses the priority's targets; one empty field is a missing number.
    for (const p of PRIORITIES) {
      const response = body[`${p}_response`]
      const resolution = body[`${p}_resolution`]
      if (response === null && resolution === null) continue
      targets[p] = { responseMinutes: response ?? 0, resolutionMinutes: resolution ?? 0 }
    }
    const outcome = await setItemSlaTargets(deps, who(request), { itemId: id, targets })
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      const names = Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}.responseMinutes`, `${p}_response`], [`${p}.resolutionMinutes`, `${p}_resolution`]]))
      const keys = Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}.responseMinutes.out_of_range`, 'admin.sla.minutesRange'], [`${p}.resolutionMinutes.out_of_range`, 'admin.sla.minutesRange']]))
      return itemForm(request, reply, { itemId: id, values: echo(request), errors: fieldMessages(request.t, outcome.refusal, { names, keys }), status: 422 })
    }
    reply.flash(outcome.value.changed ? 'success' : 'info', request.t(outcome.value.changed ? 'admin.saved' : 'admin.staff.nothingChanged'))
    return reply.redirect('/admin/sla/items')
  })
}

