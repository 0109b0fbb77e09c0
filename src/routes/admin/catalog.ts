import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { guard } from '../web.js'
import {
  approvalLinkDays, approvalMode, APPROVAL_MODES, listCatalogApprovalRules, saveApprovalLinkDays, setCatalogApproval,
  MAX_APPROVAL_DAYS, type ApprovalMode
} from '../../db/approval.js'
import { oneOf, text, type FormBody, type FormErrors } from '../forms.js'

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
    const errors: FormErrors = {}
    const rawDays = text(body, 'approval_link_days')
    const days = /^\d{1,3}$/.test(rawDays) && Number(rawDays) >= 1 && Number(rawDays) <= MAX_APPROVAL_DAYS ? Number(rawDays) : null
    if (days === null) errors.approval_link_days = t('approval.admin.daysRange', { max: MAX_APPROVAL_DAYS })
    const items = await listCatalogApprovalRules(fastify.db)
    const changes: { id: number; mode: ApprovalMode }[] = []
    for (const item of items) {
      const field = `mode_${item.id}`
      if (body[field] === undefined) continue
      const mode = oneOf(text(body, field), APPROVAL_MODES)
      if (!mode) errors[field] = t('validation.invalidChoice')
      else if (mode !== approvalMode(item)) changes.push({ id: item.id, mode })
    }
    if (Object.keys(errors).length > 0) {
      const values: Record<string, string> = {}
      for (const [k, v] of Object.entries(body)) if (typeof v === 'string' && k !== '_csrf') values[k] = v
      return render(request, reply, { values, errors, status: 422 })
    }
    await fastify.db.transaction().execute(async (trx) => {
      for (const c of changes) await setCatalogApproval(trx, c.id, c.mode)
      await saveApprovalLinkDays(trx, days!)
    })
    request.log.info({ changes, approvalLinkDays: days, by: request.actor!.id }, 'catalog approval rules changed')
    reply.flash('success', t('admin.saved'))
    return reply.redirect(base)
  })
}
