// Canned responses (mounted at /desk/canned): the staff member's own and those shared with their
// desks, to add, change and delete where they may; the reply box inserts them (ticket-page.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { getCanned, listCannedFor } from '../../db/canned.js'
import { listDesks } from '../../db/catalog.js'
import { bodyFor, fillPlaceholders, firstName, mayEditCanned, PLACEHOLDERS } from '../../domain/canned.js'
import type { TicketDetail } from '../../db/ticket.js'
import { LIMITS } from '../../domain/ticket.js'
import { personWho } from '../../commands/kernel.js'
import { addCannedResponse, CANNED_TITLE_MAX, deleteCannedResponse, editCannedResponse, type CannedInput } from '../../commands/canned.js'
import { echo, Form, formFailure, OptionalId, Text, type FormErrors } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import { notFound } from '../../plugins/app.js'
import { pathId, throwAccessRefusal } from '../admin/shared.js'
import { staffOf } from './shared.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 12 }) })
const CannedForm = Form({ title: Text, desk_id: OptionalId, body_en: Text, body_pt: Text })
const WORDS = {
  keys: {
    'bodyEn.required': 'desk.canned.bodyRequired', 'bodyEn.invalid_choice': 'desk.canned.unknownPlaceholder',
    'bodyPt.invalid_choice': 'desk.canned.unknownPlaceholder', 'deskId.not_on_desk': 'desk.canned.notYourDesk'
  }
}

/** The responses a staff member may use, filled in for one ticket in its requester's language: what the reply box offers. */
export function cannedForTicket(rows: readonly { id: number; title: string; body_en: string; body_pt: string }[], ticket: TicketDetail, me: { name: string }, publicUrl: string) {
  const values = {
    'requester.name': ticket.contact_name ?? '', 'requester.first_name': firstName(ticket.contact_name ?? ''),
    'ticket.number': String(ticket.number), 'ticket.title': ticket.title,
    'ticket.link': `${publicUrl.replace(/\/$/, '')}/portal/tickets/${ticket.number}`,
    'assignee.name': ticket.assignee_name ?? '', 'me.name': me.name
  }
  return rows.map((r) => ({ id: r.id, title: r.title, text: fillPlaceholders(bodyFor(r, ticket.contact_locale), values) }))
}

export default async function canned(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  async function page(request: FastifyRequest, reply: FastifyReply, state: { editing?: number; values?: Record<string, unknown>; errors?: FormErrors; status?: number } = {}) {
    const actor = staffOf(request)
    const t = request.t
    const [rows, desks] = await Promise.all([listCannedFor(fastify.db, actor), listDesks(fastify.db)])
    const editing = state.editing === undefined ? undefined : await getCanned(fastify.db, state.editing)
    // One the staff member may not change is not there for them (mayEditCanned implies they may see it).
    if (state.editing !== undefined && (!editing || !mayEditCanned(actor, editing))) throw notFound()
    const errors = state.errors ?? {}
    return reply.page('desk/canned', {
      title: editing ? t('desk.canned.editTitle', { title: editing.title }) : t('desk.canned.title'),
      rows: rows.map((r) => ({ ...r, editable: mayEditCanned(actor, r) })),
      editing: editing ?? null,
      desks: actor.role === 'admin' ? desks : desks.filter((d) => actor.deskIds.includes(d.id)),
      placeholders: PLACEHOLDERS, maxTitle: CANNED_TITLE_MAX, maxBody: LIMITS.note,
      values: state.values ?? (editing
        ? { title: editing.title, desk_id: editing.desk_id === null ? '' : String(editing.desk_id), body_en: editing.body_en, body_pt: editing.body_pt }
        : {}),
      errors, formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null
    }, state.status ?? 200)
  }

  const input = (body: typeof CannedForm.static): CannedInput => ({ deskId: body.desk_id, title: body.title, bodyEn: body.body_en, bodyPt: body.body_pt })
  const FORM_MESSAGES = { desk_id: 'validation.invalidChoice' }

  fastify.get('/canned', async (request, reply) => page(request, reply))

  fastify.post('/canned', { schema: { body: CannedForm }, attachValidation: true }, async (request, reply) => {
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return page(request, reply, { values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await addCannedResponse(deps, personWho(staffOf(request)), input(request.body))
    if (!outcome.ok) {
      throwAccessRefusal(outcome.refusal)
      return page(request, reply, { values: echo(request), errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422 })
    }
    reply.flash('success', request.t('desk.canned.added', { title: request.body.title.trim() }))
    return reply.redirect('/desk/canned')
  })

  fastify.get('/canned/:id', { schema: { params: IdParams } }, async (request, reply) => page(request, reply, { editing: pathId(request) }))

  fastify.post('/canned/:id', { schema: { params: IdParams, body: CannedForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return page(request, reply, { editing: id, values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const outcome = await editCannedResponse(deps, personWho(staffOf(request)), id, input(request.body))
    if (!outcome.ok) {
      if (outcome.refusal.code === 'forbidden') throw notFound()
      throwAccessRefusal(outcome.refusal)
      return page(request, reply, { editing: id, values: echo(request), errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422 })
    }
    reply.flash('success', request.t('desk.canned.saved', { title: request.body.title.trim() }))
    return reply.redirect('/desk/canned')
  })

  fastify.post('/canned/:id/delete', { schema: { params: IdParams } }, async (request, reply) => {
    const outcome = await deleteCannedResponse(deps, personWho(staffOf(request)), pathId(request))
    if (!outcome.ok) throw notFound()
    reply.flash('success', request.t('desk.canned.deleted', { title: outcome.value.title }))
    return reply.redirect('/desk/canned')
  })
}
