import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { guard } from '../web.js'
import { approvalLinkDays, approvalMode, APPROVAL_MODES, listCatalogApprovalRules, MAX_APPROVAL_DAYS, type ApprovalMode } from '../../db/approval.js'
import { personWho } from '../../commands/kernel.js'
import { saveApprovalRules } from '../../commands/admin.js'
import { text, type FormBody, type FormErrors } from '../forms.js'

const FormSchema = Type.Record(Type.String(), Type.Unknown())

/**
 * The service catalog's approval rules (mounted at /admin/catalog): per item, no approval, the
 * requester's manager approves, or approved automatically; and how long approval links last.
 */
export default async function adminCatalog(fastify: FastifyInstance) {
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

  fastify.post('/', { schema: { body: FormSchema } }, async (request, reply) => {
    const body = request.body as FormBody
    const t = request.t
    const rawDays = text(body, 'approval_link_days')
    const modes: Record<number, string> = {}
    for (const [k, v] of Object.entries(body)) {
      const m = /^mode_(\d{1,9})$/.exec(k)
      if (m) modes[Number(m[1])] = text(body, k)
    }
    const outcome = await saveApprovalRules({ db: fastify.db, clock: fastify.clock, random: fastify.random }, personWho(request.actor!), {
      linkDays: /^\d{1,3}$/.test(rawDays) ? Number(rawDays) : 0, modes
    })
    if (!outcome.ok) {
      const errors: FormErrors = {}
      for (const field of Object.keys(outcome.refusal.fields)) {
        if (field === 'linkDays') errors.approval_link_days = t('approval.admin.daysRange', { max: MAX_APPROVAL_DAYS })
        else errors[field.replace('mode.', 'mode_')] = t('validation.invalidChoice')
      }
      const values: Record<string, string> = {}
      for (const [k, v] of Object.entries(body)) if (typeof v === 'string' && k !== '_csrf') values[k] = v
      return render(request, reply, { values, errors, status: 422 })
    }
    const changes = outcome.value.changed
    const days = Number(rawDays)
    request.log.info({ changes, approvalLinkDays: days, by: request.actor!.id }, 'catalog approval rules changed')
    reply.flash('success', t('admin.saved'))
    return reply.redirect(base)
  })
}
