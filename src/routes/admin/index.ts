import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { guard } from '../web.js'
import { forbidden } from '../../plugins/app.js'
import { getSettings } from '../../db/settings.js'
import { getSlaPolicies } from '../../db/sla.js'
import { personWho } from '../../commands/kernel.js'
import { saveServiceSettings, saveSlaTargets } from '../../commands/admin.js'
import { PRIORITIES, type Priority } from '../../domain/lifecycle.js'
import { Checkbox, echo, Form, formFailure, OptionalInteger, type FormErrors } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import adminQuarantine from './quarantine.js'
import adminMail from './mail.js'
import adminSync from './sync.js'
import adminCatalog from './catalog.js'
import adminSecurity from './security.js'
import adminStaff from './staff.js'
import adminAudit from './audit.js'
import adminServiceHours from './service-hours.js'
import adminStructure from './structure.js'
import adminClients from './clients.js'
import adminLists from './lists.js'
import adminKbCategories from './kb-categories.js'
import { runningWorkers } from './workers.js'

const SettingsForm = Form({
  occurrence_via_portal: Checkbox, staff_may_close_without_requester: Checkbox, auto_close_days: OptionalInteger,
  staff_two_factor_required: Checkbox, invite_crm_contacts: Checkbox
})

type SlaField = `${Priority}_${'response' | 'resolution'}`
/** Each priority's response and resolution targets, in minutes. */
const SlaForm = Form(Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}_response`, OptionalInteger], [`${p}_resolution`, OptionalInteger]])) as Record<SlaField, typeof OptionalInteger>)
const SLA_MESSAGES = Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}_response`, 'admin.sla.minutesRange'], [`${p}_resolution`, 'admin.sla.minutesRange']]))

/** Administration: service settings and SLA policies (admins only). */
export default async function admin(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.addHook('preHandler', guard((r) => r.actor?.kind === 'staff' && r.actor.role === 'admin'))
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  await fastify.register(adminQuarantine, { prefix: '/quarantine' })
  await fastify.register(adminMail, { prefix: '/mail' })
  await fastify.register(adminSync, { prefix: '/sync' })
  await fastify.register(adminCatalog, { prefix: '/catalog' })
  await fastify.register(adminSecurity, { prefix: '/security' })
  await fastify.register(adminStaff, { prefix: '/staff' })
  await fastify.register(adminAudit, { prefix: '/audit' })
  await fastify.register(adminStructure)
  await fastify.register(adminClients)
  await fastify.register(adminServiceHours)
  await fastify.register(adminLists, { prefix: '/lists' })
  await fastify.register(adminKbCategories, { prefix: '/kb/categories' })

  fastify.get('/', async (request, reply) => {
    return reply.page('admin/index', { title: request.t('admin.title'), workers: await runningWorkers(fastify), freshSeconds: fastify.config.LEASE_SECONDS })
  })

  fastify.get('/settings', async (request, reply) => {
    return reply.page('admin/settings', { title: request.t('admin.settings.title'), settings: await getSettings(fastify.db) })
  })

  fastify.post('/settings', { schema: { body: SettingsForm }, attachValidation: true }, async (request, reply) => {
    const body = request.body
    const t = request.t
    // A value that is not a whole number is out of range like any other: the command says so.
    const days = formFailure(request, { auto_close_days: 'admin.settings.daysRange' }) ? 0 : body.auto_close_days ?? 0
    const settings = {
      occurrenceViaPortal: body.occurrence_via_portal !== undefined,
      staffMayCloseWithoutRequester: body.staff_may_close_without_requester !== undefined,
      autoCloseDays: days,
      staffTwoFactorRequired: body.staff_two_factor_required !== undefined,
      inviteCrmContacts: body.invite_crm_contacts !== undefined
    }
    const outcome = await saveServiceSettings(deps, personWho(request.actor!), settings)
    if (!outcome.ok) {
      if (outcome.refusal.code !== 'invalid') throw forbidden()
      const errors = fieldMessages(t, outcome.refusal, { names: { autoCloseDays: 'auto_close_days' }, keys: { autoCloseDays: 'admin.settings.daysRange' } })
      return reply.page('admin/settings', { title: t('admin.settings.title'), settings, errors, formError: t('common.formErrors') }, 422)
    }
    request.log.info({ settings, by: request.actor!.id }, 'settings changed')
    reply.flash('success', t('admin.saved'))
    return reply.redirect('/admin/settings')
  })

  fastify.get('/sla', async (request, reply) => {
    return reply.page('admin/sla', { title: request.t('admin.sla.title'), policies: await getSlaPolicies(fastify.db), priorities: PRIORITIES })
  })

  fastify.post('/sla', { schema: { body: SlaForm }, attachValidation: true }, async (request, reply) => {
    const body = request.body
    const t = request.t
    const failure = formFailure(request, SLA_MESSAGES)
    const rerender = (errors: FormErrors) => {
      const typed = echo(request)
      const policies = Object.fromEntries(PRIORITIES.map((p) => [p, { responseMinutes: typed[`${p}_response`] ?? '', resolutionMinutes: typed[`${p}_resolution`] ?? '' }]))
      return reply.page('admin/sla', { title: t('admin.sla.title'), policies, priorities: PRIORITIES, errors, formError: t('common.formErrors') }, 422)
    }
    // Ajv stops at a field that is not a number: that one is said, the others are not read.
    if (failure) return rerender({ [failure.field]: failure.message })
    const targets = PRIORITIES.map((p) => ({ priority: p, responseMinutes: body[`${p}_response`] ?? 0, resolutionMinutes: body[`${p}_resolution`] ?? 0 }))
    const outcome = await saveSlaTargets(deps, personWho(request.actor!), targets)
    if (!outcome.ok) {
      if (outcome.refusal.code !== 'invalid') throw forbidden()
      const names = Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}.responseMinutes`, `${p}_response`], [`${p}.resolutionMinutes`, `${p}_resolution`]]))
      const keys = Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}.responseMinutes.out_of_range`, 'admin.sla.minutesRange'], [`${p}.resolutionMinutes.out_of_range`, 'admin.sla.minutesRange']]))
      return rerender(fieldMessages(t, outcome.refusal, { names, keys }))
    }
    reply.flash('success', t('admin.saved'))
    return reply.redirect('/admin/sla')
  })
}
