import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { guard } from '../web.js'
import { approvalLinkDays, approvalMode, APPROVAL_MODES, listCatalogApprovalRules, MAX_APPROVAL_DAYS, type ApprovalMode } from '../../db/approval.js'
import { personWho } from '../../commands/kernel.js'
import { saveApprovalRules } from '../../commands/admin.js'
import { echo, Form, formFailure, OptionalInteger, type FormErrors } from '../forms.js'

/** One select per catalog item, named after it. */
const MODE_FIELD = /^mode_(\d{1,9})$/
const CatalogForm = Form({ approval_link_days: OptionalInteger }, { patternProperties: { [MODE_FIELD.source]: Type.String() } })

/**
 * The service catalog's approval rules (mounted at /admin/catalog): per item, no approval, the
 * requester's manager approves, or approved automatically; and how long approval links last.
 */
export default async function adminCatalog(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  // The admin plugin guards too; this keeps the page closed wherever it is mounted.
  fastify.addHook('preHandler', guard((r) => r.actor?.kind === 'staff' && r.actor.role === 'admin'))
  const base = (fastify.prefix || '/admin/catalog').replace(/\/+$/, '')

  async function render(request: FastifyRequest, reply: FastifyReply, state: { values?: Record<string, string>; errors?: FormErrors; status?: number } = {}) {
    const items = await listCatalogApprovalRules(fastify.db)
    const areas: { id: number; name: string; items: (typeof items[number] & { mode: ApprovalMode })[] }[] = []
    for (const item of items) {
      let area = areas[areas.length - 1]
      if (!area || area.id !== item.area_id) areas.push(area = { id: item.area_id, name: item.area_name, items: [] })
      area.items.push({ ...item, mode: approvalMode(item) })
    }
    const errors = state.errors ?? {}
    return reply.page('admin/catalog', {
      title: request.t('approval.admin.title'),
      base, areas, modes: APPROVAL_MODES, maxDays: MAX_APPROVAL_DAYS,
      days: state.values?.approval_link_days ?? String(await approvalLinkDays(fastify.db)),
      values: state.values ?? {},
      errors,
      formError: Object.keys(errors).length > 0 ? request.t('common.formErrors') : null
    }, state.status ?? 200)
  }

  fastify.get('/', async (request, reply) => render(request, reply))

  fastify.post('/', { schema: { body: CatalogForm }, attachValidation: true }, async (request, reply) => {
    const t = request.t
    const failure = formFailure(request, { approval_link_days: 'approval.admin.daysRange' }, { max: MAX_APPROVAL_DAYS })
    if (failure) return render(request, reply, { values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const body = request.body
    const modes: Record<number, string> = {}
    for (const [name, value] of Object.entries(body)) {
      const m = MODE_FIELD.exec(name)
      if (m && typeof value === 'string') modes[Number(m[1])] = value
    }
    // Left empty is no number of days: out of range, as the command says.
    const linkDays = body.approval_link_days ?? 0
    const outcome = await saveApprovalRules({ db: fastify.db, clock: fastify.clock, random: fastify.random }, personWho(request.actor!), { linkDays, modes })
    if (!outcome.ok) {
      const errors: FormErrors = {}
      for (const field of Object.keys(outcome.refusal.fields)) {
        if (field === 'linkDays') errors.approval_link_days = t('approval.admin.daysRange', { max: MAX_APPROVAL_DAYS })
        else errors[field.replace('mode.', 'mode_')] = t('validation.invalidChoice')
      }
      return render(request, reply, { values: echo(request), errors, status: 422 })
    }
    const changes = outcome.value.changed
    request.log.info({ changes, approvalLinkDays: linkDays, by: request.actor!.id }, 'catalog approval rules changed')
    reply.flash('success', t('admin.saved'))
    return reply.redirect(base)
  })
}
