// Saved queue searches (mounted at /desk/views): save the queue's current search under a name,
// personal or shared with a desk the staff member manages; rename and delete those they may.
// The queue's sidebar lists them with their counts (queue.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { listViewsFor } from '../../db/queue-views.js'
import { listDesks } from '../../db/catalog.js'
import { mayEditView, mayShareWith, MAX_VIEWS, VIEW_NAME_MAX } from '../../domain/queue-views.js'
import type { StaffActor } from '../../domain/permissions.js'
import { personWho, type Refused } from '../../commands/kernel.js'
import { deleteQueueView, renameQueueView, saveQueueView, VIEW_QUERY_MAX } from '../../commands/queue-views.js'
import { ButtonForm, echo, Form, formFailure, OptionalId, Text, type FormErrors } from '../forms.js'
import { fieldMessages, refusalStatus } from '../refusals.js'
import { pathId } from '../admin/shared.js'
import { staffOf } from './shared.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 12 }) })
const SaveForm = Form({ name: Text, desk_id: OptionalId, query: Type.String({ default: '', maxLength: VIEW_QUERY_MAX }) })
const RenameForm = Form({ name: Text })
const WORDS = { keys: { 'name.taken': 'desk.views.nameTaken', 'deskId.not_on_desk': 'desk.views.notYourDesk' } }
const FORM_MESSAGES = { desk_id: 'validation.invalidChoice', query: 'desk.views.badQuery', name: 'validation.required' }

/** The queue's address for a stored search ('' is the defaults, which a bare /desk would not give back). */
export function viewUrl(query: string): string {
  return query ? `/desk?${query}` : '/desk?reset=1'
}

/** The desks a staff member may share a view with: those they manage (an admin: all). */
export function shareableDesks(actor: StaffActor, desks: readonly { id: number; name: string; manager_id: number | null }[]) {
  return desks.filter((d) => mayShareWith(actor, d))
}

interface PageState {
  status?: number
  /** The save form, filled in again after a refusal. */
  values?: Record<string, string>
  errors?: FormErrors
  /** The view whose rename form failed, with what was typed. */
  renaming?: { id: number; name: string; error: string }
  /** One sentence for a refusal that is about no field (not yours, gone, too many). */
  message?: string
}

export default async function views(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  async function page(request: FastifyRequest, reply: FastifyReply, state: PageState = {}) {
    const actor = staffOf(request)
    const t = request.t
    const [rows, desks] = await Promise.all([listViewsFor(fastify.db, actor), listDesks(fastify.db)])
    const errors = state.errors ?? {}
    const query = typeof (request.query as { query?: unknown })?.query === 'string' ? String((request.query as { query: string }).query) : ''
    return reply.page('desk/views', {
      title: t('desk.views.title'),
      rows: rows.map((r) => ({ ...r, url: viewUrl(r.query), editable: mayEditView(actor, r) })),
      desks: shareableDesks(actor, desks),
      values: state.values ?? { query: query.slice(0, VIEW_QUERY_MAX) },
      errors, renaming: state.renaming ?? null,
      maxName: VIEW_NAME_MAX, maxViews: MAX_VIEWS,
      formError: state.message ?? (Object.keys(errors).length > 0 ? t('common.formErrors') : null)
    }, state.status ?? 200)
  }

  /** A refusal about no field, in words: not theirs (403), gone or unseen (404), too many (409). */
  function refusalPage(request: FastifyRequest, reply: FastifyReply, refusal: Refused, state: PageState = {}) {
    const t = request.t
    const message = refusal.code === 'forbidden' ? t('desk.views.notYours')
      : refusal.code === 'not_found' ? t('desk.views.notFound')
      : refusal.code === 'too_many' ? t('desk.views.tooMany', { max: MAX_VIEWS })
      : t('error.badRequest')
    return page(request, reply, { ...state, message, status: refusalStatus(refusal) })
  }

  const Query = Type.Object({ query: Type.Optional(Type.String({ maxLength: VIEW_QUERY_MAX })) })
  fastify.get('/views', { schema: { querystring: Query } }, async (request, reply) => page(request, reply))

  fastify.post('/views', { schema: { body: SaveForm }, attachValidation: true }, async (request, reply) => {
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return page(request, reply, { values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const body = request.body
    const outcome = await saveQueueView(deps, personWho(staffOf(request)), { name: body.name, deskId: body.desk_id, query: body.query })
    if (!outcome.ok) {
      if (outcome.refusal.code !== 'invalid') return refusalPage(request, reply, outcome.refusal, { values: echo(request) })
      return page(request, reply, { values: echo(request), errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422 })
    }
    reply.flash('success', request.t('desk.views.saved', { name: body.name.trim() }))
    return reply.redirect(viewUrl(outcome.value.query))
  })

  fastify.post('/views/:id', { schema: { params: IdParams, body: RenameForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const typed = echo(request).name ?? ''
    const failure = formFailure(request, { name: 'validation.required' })
    if (failure) return page(request, reply, { renaming: { id, name: typed, error: failure.message }, status: 422 })
    const outcome = await renameQueueView(deps, personWho(staffOf(request)), id, request.body.name)
    if (!outcome.ok) {
      if (outcome.refusal.code !== 'invalid') return refusalPage(request, reply, outcome.refusal)
      const error = fieldMessages(request.t, outcome.refusal, WORDS).name ?? request.t('error.badRequest')
      return page(request, reply, { renaming: { id, name: typed, error }, status: 422 })
    }
    reply.flash('success', request.t('desk.views.renamed', { name: outcome.value.name }))
    return reply.redirect('/desk/views')
  })

  fastify.post('/views/:id/delete', { schema: { params: IdParams, body: ButtonForm } }, async (request, reply) => {
    const id = pathId(request)
    const outcome = await deleteQueueView(deps, personWho(staffOf(request)), id)
    if (!outcome.ok) return refusalPage(request, reply, outcome.refusal)
    reply.flash('success', request.t('desk.views.deleted', { name: outcome.value.name }))
    return reply.redirect('/desk/views')
  })
}
