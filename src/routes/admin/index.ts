import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { guard } from '../web.js'
import { forbidden } from '../../plugins/app.js'
import { getSettings } from '../../db/settings.js'
import { getSlaPolicies } from '../../db/sla.js'
import { personWho } from '../../commands/kernel.js'
import { saveServiceSettings, saveSlaTargets } from '../../commands/admin.js'
import { PRIORITIES } from '../../domain/lifecycle.js'
import { flag, text, type FormBody, type FormErrors } from '../forms.js'
import adminQuarantine from './quarantine.js'
import adminMail from './mail.js'
import adminSync from './sync.js'
import adminCatalog from './catalog.js'

const FormSchema = Type.Record(Type.String(), Type.Unknown())

function wholeNumber(raw: string, min: number, max: number): number | null {
  if (!/^\d{1,7}$/.test(raw)) return null
  const n = Number(raw)
  return n >= min && n <= max ? n : null
}

/** Administration: service settings and SLA policies (admins only). */
export default async function admin(fastify: FastifyInstance) {
  fastify.addHook('preHandler', guard((r) => r.actor?.kind === 'staff' && r.actor.role === 'admin'))
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }
  await fastify.register(adminQuarantine, { prefix: '/quarantine' })
  await fastify.register(adminMail, { prefix: '/mail' })
  await fastify.register(adminSync, { prefix: '/sync' })
  await fastify.register(adminCatalog, { prefix: '/catalog' })

  fastify.get('/', async (request, reply) => {
    return reply.page('admin/index', { title: request.t('admin.title') })
  })

  fastify.get('/settings', async (request, reply) => {
    return reply.page('admin/settings', { title: request.t('admin.settings.title'), settings: await getSettings(fastify.db) })
  })

  fastify.post('/settings', { schema: { body: FormSchema } }, async (request, reply) => {
    const body = request.body as FormBody
    const t = request.t
    const days = wholeNumber(text(body, 'auto_close_days'), 1, 365)
    const settings = {
      occurrenceViaPortal: flag(body, 'occurrence_via_portal'),
      staffMayCloseWithoutRequester: flag(body, 'staff_may_close_without_requester'),
      autoCloseDays: days ?? 0
    }
    if (days === null) {
      const errors: FormErrors = { auto_close_days: t('admin.settings.daysRange') }
      return reply.page('admin/settings', { title: t('admin.settings.title'), settings, errors, formError: t('common.formErrors') }, 422)
    }
    const outcome = await saveServiceSettings(deps, personWho(request.actor!), settings)
    if (!outcome.ok) throw forbidden()
    request.log.info({ settings, by: request.actor!.id }, 'settings changed')
    reply.flash('success', t('admin.saved'))
    return reply.redirect('/admin/settings')
  })

  fastify.get('/sla', async (request, reply) => {
    return reply.page('admin/sla', { title: request.t('admin.sla.title'), policies: await getSlaPolicies(fastify.db), priorities: PRIORITIES })
  })

  fastify.post('/sla', { schema: { body: FormSchema } }, async (request, reply) => {
    const body = request.body as FormBody
    const t = request.t
    const errors: FormErrors = {}
    const parsed = PRIORITIES.map((p) => {
      const response = wholeNumber(text(body, `${p}_response`), 1, 525_600)
      const resolution = wholeNumber(text(body, `${p}_resolution`), 1, 525_600)
      if (response === null) errors[`${p}_response`] = t('admin.sla.minutesRange')
      if (resolution === null) errors[`${p}_resolution`] = t('admin.sla.minutesRange')
      else if (response !== null && resolution < response) errors[`${p}_resolution`] = t('admin.sla.resolutionAfterResponse')
      return { priority: p, response, resolution }
    })
    if (Object.keys(errors).length > 0) {
      const policies = Object.fromEntries(parsed.map((p) => [p.priority, { responseMinutes: text(body, `${p.priority}_response`), resolutionMinutes: text(body, `${p.priority}_resolution`) }]))
      return reply.page('admin/sla', { title: t('admin.sla.title'), policies, priorities: PRIORITIES, errors, formError: t('common.formErrors') }, 422)
    }
    const outcome = await saveSlaTargets(deps, personWho(request.actor!), parsed.map((p) => ({ priority: p.priority, responseMinutes: p.response!, resolutionMinutes: p.resolution! })))
    if (!outcome.ok) throw forbidden()
    reply.flash('success', t('admin.saved'))
    return reply.redirect('/admin/sla')
  })
}
