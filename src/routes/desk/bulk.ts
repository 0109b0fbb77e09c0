// Bulk actions of the staff queue: the rows ticked (or every ticket matching the search) get one
// action, each ticket through its own command, so each is checked, refused or done exactly as on
// its own page; the answer lists what was done and what was refused, and why.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { getTicketForActorByNumber } from '../../db/ticket.js'
import { ticketBatches } from '../../db/ticket-search.js'
import { listDeskStaff } from '../../db/people.js'
import { listDesks } from '../../db/catalog.js'
import { listItems } from '../../db/managed-lists.js'
import { personWho, type Refused } from '../../commands/kernel.js'
import { acceptedAs, applyBulkAction, BULK_JOBS_PER_PERSON, queueBulkJob, refusalFromStore } from '../../commands/bulk.js'
import { bulkItems, bulkProgress, getBulkJob } from '../../db/bulk-jobs.js'
import { BULK_ACTIONS, BULK_INLINE, BULK_MAX, type BulkAction, type BulkParams } from '../../domain/bulk.js'
import { notFound } from '../../plugins/app.js'
import { DESK_DEFAULTS, readSearchQuery, searchQuery } from '../../domain/search.js'
import { MAX_ACTIVE_EXPORTS, requestExport } from '../../commands/exports.js'
import { PRIORITIES } from '../../domain/lifecycle.js'
import type { Locale, StaffActor } from '../../domain/permissions.js'
import type { Translate } from '../../i18n/index.js'
import { choices, Form, formFailure, oneOf, OptionalId, Text, type FormErrors } from '../forms.js'
import { fieldMessages, refusalMessage, refusalStatus } from '../refusals.js'
import { listView } from '../list-view.js'
import { deskPath, staffOf } from './shared.js'

export { BULK_ACTIONS, BULK_MAX, type BulkAction }

const BulkForm = Form({
  bulk_action: Text,
  /** The ticket numbers ticked. */
  tickets: Type.Union([Type.Array(Type.String({ maxLength: 12 }), { maxItems: BULK_MAX }), Type.String({ maxLength: 12 })], { default: [] }),
  /** '1': every ticket matching `query` instead of the ticked ones. */
  all: Text,
  /** The queue's search, as in its address. */
  query: Type.String({ maxLength: 4000, default: '' }),
  assignee_id: OptionalId, desk_id: OptionalId, priority: Text, closure_category: Text,
  /** The transfer note, the resolution, or the closure note. */
  note: Text,
  next: Text
})
type BulkBody = typeof BulkForm.static

/** A ticket a bulk action is applied to. */
interface Target {
  id: number
  number: number
  title: string
}

interface BulkResult {
  number: number
  title: string
  ok: boolean
  message: string
}

/** The inputs an action needs, checked once before any ticket is touched. */
function checkInputs(t: Translate, action: BulkAction | null, body: BulkBody, staff: readonly { id: number }[], desks: readonly { id: number }[], closures: readonly string[]): FormErrors {
  const errors: FormErrors = {}
  if (action === null) errors.bulk_action = t('desk.bulk.chooseAction')
  if (action === 'assign' && !staff.some((s) => s.id === body.assignee_id)) errors.assignee_id = t('desk.bulk.chooseAssignee')
  if (action === 'desk' && !desks.some((d) => d.id === body.desk_id)) errors.desk_id = t('desk.bulk.chooseDesk')
  if (action === 'priority' && !(PRIORITIES as readonly string[]).includes(body.priority)) errors.priority = t('validation.invalidChoice')
  if ((action === 'assign' || action === 'resolve') && body.note.trim() === '') errors.note = t(action === 'assign' ? 'desk.bulk.noteForAssign' : 'desk.bulk.noteForResolve')
  if (action === 'close' && !closures.includes(body.closure_category)) errors.closure_category = t('lifecycle.refused.missing_closure_category')
  return errors
}

/** The words of one refusal, for the results list. */
function refusedWith(t: Translate, refusal: Refused): string {
  const fields = Object.values(fieldMessages(t, refusal, { keys: { 'note.required': 'validation.required' } }))
  return fields.length > 0 ? fields.join(' ') : refusalMessage(t, refusal, { conflict: 'desk.conflict' })
}

export default async function bulk(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  /**
   * The tickets the form names: every ticket of the search (already only those the staff member
   * may see; more than BULK_MAX is "too many"), or the ticked numbers, a ticket the staff member
   * may not see left out as if it were not there.
   */
  async function targets(actor: StaffActor, body: BulkBody): Promise<Target[] | { tooMany: true }> {
    const out: Target[] = []
    if (body.all === '1') {
      const read = readSearchQuery(Object.fromEntries(new URLSearchParams(body.query)), { kind: 'staff', defaults: DESK_DEFAULTS })
      for await (const batch of ticketBatches(fastify.db, actor, { ...read.filters, now: fastify.clock() }, 500)) {
        for (const row of batch) out.push({ id: row.id, number: row.number, title: row.title })
        if (out.length > BULK_MAX) return { tooMany: true }
      }
      return out
    }
    const ticked = (Array.isArray(body.tickets) ? body.tickets : [body.tickets]).filter((n) => /^[1-9]\d{0,8}$/.test(n)).map(Number)
    for (const number of new Set(ticked)) {
      const ticket = await getTicketForActorByNumber(fastify.db, actor, number)
      if (ticket) out.push({ id: ticket.id, number: ticket.number, title: ticket.title })
    }
    return out
  }

  const paramsOf = (body: BulkBody): BulkParams => ({
    assigneeId: body.assignee_id, deskId: body.desk_id, priority: body.priority, closureCategory: body.closure_category, note: body.note
  })

  async function render(request: FastifyRequest, reply: FastifyReply, view: {
    action: BulkAction | null; tickets: Target[]; results?: BulkResult[]; errors?: FormErrors; formError?: string; status?: number; choices?: BulkChoices
  }) {
    const body = (request.body ?? {}) as BulkBody
    const { options, lists } = view.choices ?? await bulkChoices(fastify.db, staffOf(request), request.locale)
    const done = view.results?.filter((r) => r.ok).length ?? 0
    return reply.page('desk/bulk', {
      title: request.t('desk.bulk.title'),
      action: view.action, tickets: view.tickets, results: view.results ?? null,
      done, refused: (view.results?.length ?? 0) - done,
      options, lists,
      values: body, all: body.all === '1',
      back: backTo(body.next),
      errors: view.errors ?? {}, formError: view.formError ?? null
    }, view.status ?? 200)
  }

  /**
   * The export of the ticked tickets (or of every ticket matching the search): the exports' own
   * job, its search narrowed to the ticked numbers; the export itself keeps to what the staff
   * member may see, so a number they may not see is left out as on every other path.
   */
  async function exportChosen(request: FastifyRequest, reply: FastifyReply, actor: StaffActor, body: BulkBody) {
    const t = request.t
    const listed = readSearchQuery(Object.fromEntries(new URLSearchParams(body.query)), { kind: 'staff', defaults: DESK_DEFAULTS }).filters
    const ticked = [...new Set((Array.isArray(body.tickets) ? body.tickets : [body.tickets]).filter((n) => /^[1-9]\d{0,8}$/.test(n)).map(Number))]
    if (body.all !== '1' && ticked.length === 0) {
      return render(request, reply, { action: null, tickets: [], formError: t('desk.bulk.noneChosen'), status: 422 })
    }
    // The ticked rows whatever their state now, in the list's order.
    const filters = body.all === '1' ? listed : { ...DESK_DEFAULTS, situation: 'all' as const, sort: listed.sort, order: listed.order, numbers: ticked.sort((a, b) => a - b) }
    const outcome = await requestExport(deps, personWho(actor), { area: 'desk', query: searchQuery({ ...filters, page: undefined }, DESK_DEFAULTS), locale: request.locale })
    if (!outcome.ok) reply.flash('error', t('exports.limit', { max: MAX_ACTIVE_EXPORTS }))
    else reply.flash('success', t('exports.queued'))
    return reply.redirect(backTo(body.next))
  }

  fastify.post('/bulk', { schema: { body: BulkForm }, attachValidation: true }, async (request, reply) => {
    const actor = staffOf(request)
    const t = request.t
    // Unreadable fields (anything else is a plain 400): too many ticks, or a picker value that is no id.
    const failure = formFailure(request, { tickets: 'desk.bulk.tooManyTicked', ...choices('assignee_id', 'desk_id') }, { max: BULK_MAX })
    if (failure) {
      return render(request, reply, { action: null, tickets: [], formError: failure.message, status: 422 })
    }
    const body = request.body
    if (body.bulk_action === 'export') return exportChosen(request, reply, actor, body)
    const action = oneOf(body.bulk_action, BULK_ACTIONS)
    const found = await targets(actor, body)
    if ('tooMany' in found) {
      return render(request, reply, { action, tickets: [], formError: t('desk.bulk.tooMany', { max: BULK_MAX }), status: 422 })
    }
    if (found.length === 0) {
      return render(request, reply, { action, tickets: [], formError: t('desk.bulk.noneChosen'), status: 422 })
    }
    const offered = await bulkChoices(fastify.db, actor, request.locale)
    const closures = offered.lists.choices('closure_category').map((c) => c.code)
    const errors = checkInputs(t, action, body, offered.options.staff, offered.options.desks, closures)
    if (Object.keys(errors).length > 0) {
      return render(request, reply, { action, tickets: found, errors, formError: t('common.formErrors'), status: 422, choices: offered })
    }
    if (found.length > BULK_INLINE) {
      // Too many for the page to wait on: the worker runs it, and its page shows how far it got.
      const queued = await queueBulkJob(deps, personWho(actor), { action: action!, params: paramsOf(body), targets: found })
      if (!queued.ok) {
        return render(request, reply, { action, tickets: found, formError: queued.refusal.code === 'too_many' ? t('desk.bulk.tooManyJobs', { max: BULK_JOBS_PER_PERSON }) : refusalMessage(t, queued.refusal), status: refusalStatus(queued.refusal), choices: offered })
      }
      request.log.info({ staffId: actor.id, action, tickets: found.length, jobId: queued.value.jobId }, 'bulk action queued for the worker')
      return reply.code(303).redirect(`/desk/bulk/${queued.value.jobId}`)
    }
    const results: BulkResult[] = []
    for (const ticket of found) {
      const outcome = await applyBulkAction(deps, personWho(actor), action!, paramsOf(body), ticket.id)
      // A field edit that finds the ticket already so changes nothing, and says so.
      const unchanged = outcome.ok && acceptedAs(action!, outcome.value) === 'unchanged'
      results.push({
        number: ticket.number, title: ticket.title, ok: outcome.ok,
        message: !outcome.ok ? refusedWith(t, outcome.refusal) : unchanged ? t('desk.bulk.unchanged') : t(`desk.bulk.done.${action}`)
      })
    }
    request.log.info({ staffId: actor.id, action, tickets: results.length, refused: results.filter((r) => !r.ok).length }, 'bulk action at the desk')
    // What needs a look first: the refused ones, then the rest, each group in the order chosen.
    return render(request, reply, { action, tickets: found, results: [...results.filter((r) => !r.ok), ...results.filter((r) => r.ok)], choices: offered })
  })
}

/** A bulk action the worker runs: its progress while it runs (the page reloads itself), then what was done and refused. */
export async function bulkJobPage(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  fastify.get('/bulk/:id', { schema: { params: Type.Object({ id: Type.String({ maxLength: 12 }) }) } }, async (request, reply) => {
    const actor = staffOf(request)
    const t = request.t
    const id = /^[1-9]\d{0,9}$/.test(request.params.id) ? Number(request.params.id) : 0
    const job = id > 0 && id < 2 ** 31 ? await getBulkJob(fastify.db, id) : undefined
    // Only its own author's: another person's job is as good as missing.
    if (!job || job.staff_id !== actor.id) throw notFound()
    const progress = await bulkProgress(fastify.db, job.id)
    const running = job.status === 'queued' || job.status === 'running'
    const results: BulkResult[] | null = running ? null : (await bulkItems(fastify.db, job.id)).map((r) => ({
      number: r.number, title: r.title, ok: r.outcome !== 'refused',
      message: r.outcome === null ? t('desk.bulk.notReached') : r.outcome === 'refused' ? refusedWith(t, refusalFromStore(r.refusal!)) : r.outcome === 'unchanged' ? t('desk.bulk.unchanged') : t(`desk.bulk.done.${job.action}`)
    }))
    // While it runs, the browser asks again every two seconds (no script needed).
    if (running) reply.header('refresh', '2')
    const done = progress.done + progress.unchanged
    return reply.page('desk/bulk', {
      title: t('desk.bulk.title'), action: job.action, tickets: [], results,
      job: { ...job, progress, handled: job.total - progress.pending, running },
      done, refused: progress.refused, options: null, lists: null, values: {}, all: false, back: '/desk',
      errors: {}, formError: job.status === 'failed' ? t('desk.bulk.jobFailed') : null
    })
  })
}

/** Whom the actor may hand tickets to: the staff of their desks (an admin's: of every desk), each once. */
async function assignableStaff(db: FastifyInstance['db'], actor: StaffActor, desks: readonly { id: number }[]) {
  const deskIds = actor.role === 'admin' ? desks.map((d) => d.id) : actor.deskIds
  const seen = new Map<number, { id: number; name: string; email: string }>()
  for (const r of await listDeskStaff(db, deskIds)) if (!seen.has(r.id)) seen.set(r.id, { id: r.id, name: r.name, email: r.email })
  return [...seen.values()]
}

export type BulkChoices = Awaited<ReturnType<typeof bulkChoices>>

/** What the bulk panel offers (the queue's and the bulk page's): the staff to assign to, the desks, priorities, actions, and the managed lists (closure categories). */
export async function bulkChoices(db: FastifyInstance['db'], actor: StaffActor, locale: Locale) {
  const [desks, items] = await Promise.all([listDesks(db), listItems(db)])
  const staff = await assignableStaff(db, actor, desks)
  return { options: { staff, desks, priorities: PRIORITIES, actions: BULK_ACTIONS }, lists: listView(items, locale) }
}

/** The queue page the form was sent from, when it is one. */
function backTo(next: unknown): string {
  const path = deskPath(next)
  return path !== null && (path === '/desk' || path.startsWith('/desk?')) ? path : '/desk'
}
