import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { listHistory, listNotes, type TicketDetail } from '../../db/ticket.js'
import { personWho, type Refused } from '../../commands/kernel.js'
import { addNote } from '../../commands/add-note.js'
import { markReadAboutTicket } from '../../commands/notifications.js'
import { registerOccurrence } from '../../commands/register-occurrence.js'
import { transferTicket } from '../../commands/transfer.js'
import { NOTE_MODES } from '../../domain/ticket.js'
import { notFound } from '../../plugins/app.js'
import { Checkbox, Choice, choices, echo, Files, files, Form, formFailure, OptionalId, Text, Version, type FormErrors } from '../forms.js'
import { fieldMessages, refusalMessage, refusalStatus, type FieldWords } from '../refusals.js'
import { deskTicketForm, NumberParams, staffOf, ticketByNumber, whole } from './shared.js'
import { openedBy, redirectAfterChange, renderTicket, type DeskForm } from './ticket-page.js'
import { listItems } from '../../db/managed-lists.js'
import { listView, withListLabels } from '../list-view.js'
import { collisionSince, parseSeen } from '../../domain/collision.js'
import type { StaffActor } from '../../domain/permissions.js'
import type { Translate } from '../../i18n/index.js'
import { linkArticlesFromNote } from '../../commands/kb-links.js'
import { postedArticleIds } from '../../domain/kb-links.js'
import { InsertQuery, insertPrefill } from './ticket-kb.js'

const TransferForm = Form({ version: Version, assignee_id: OptionalId, account_id: OptionalId, product_id: OptionalId, note: Text })
const NoteForm = Form({
  mode: Choice(NOTE_MODES), body: Text, occurred_at: Text, minutes_spent: Text,
  visible_to_requester: Checkbox, send_email: Checkbox, attachments: Files,
  /** What the page showed (src/domain/collision.ts). */
  seen: Text,
  /** Knowledge-base articles inserted into the reply (ids, comma separated): linked to the ticket once it is sent. */
  kb_articles: Text
})
const OccurrenceForm = Form({
  category: Text, origin: Text, description: Text, occurred_at: Text, minutes_spent: Text,
  visible_to_requester: Checkbox, notify_responsible: Checkbox, attachments: Files
})

/** How the note and occurrence forms name what the commands refuse. */
const NOTE_WORDS: FieldWords = {
  names: { minutesSpent: 'minutes_spent', occurredAt: 'occurred_at', sendEmail: 'send_email' },
  keys: { 'minutesSpent.out_of_range': 'desk.reply.minutesRange', 'occurredAt.invalid_choice': 'desk.occurredAt.invalid' }
}

/**
 * Minutes spent: empty is none; anything but whole minutes is out of range (-1), for the command
 * to say so beside the other fields' messages (which is why the schema takes it as text).
 */
function minutesField(raw: string): number | null {
  if (raw === '') return null
  return whole(raw) ?? -1
}

/**
 * When the occurrence happened, from a datetime-local field read as UTC (the times the app
 * shows are UTC); a date that does not exist is passed on as given, for the command to refuse.
 */
function occurredAtField(raw: string): string | null {
  if (raw === '') return null
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(raw)
  const date = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0)) : null
  // Date.UTC rolls 2026-02-31 over into March: a date that does not round-trip is not a date.
  if (!date || date.getUTCDate() !== +m![3] || date.getUTCMonth() !== +m![2] - 1) return raw
  return date.toISOString()
}

export default async function ticketPage(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  /** Re-renders the page with one form failed; a refusal or conflict shows the current ticket. */
  function failed(request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, form: DeskForm, status: number, formError: string, errors: FormErrors = {}) {
    return renderTicket(fastify, request, reply, ticket, { status, failed: form, errors, values: echo(request), formError })
  }

  fastify.get('/tickets/:number', { schema: { params: NumberParams, querystring: InsertQuery } }, async (request, reply) => {
    const { number } = request.params
    const ticket = await ticketByNumber(fastify, request, number)
    // Opening the ticket reads what the bell said about it.
    await markReadAboutTicket(deps, personWho(staffOf(request)), ticket.id)
    return renderTicket(fastify, request, reply, ticket, await insertPrefill(fastify, request, ticket, request.query))
  })

  fastify.get('/tickets/:number/history', { schema: { params: NumberParams } }, async (request, reply) => {
    const { number } = request.params
    const ticket = await ticketByNumber(fastify, request, number)
    const createdBy = await openedBy(fastify, ticket)
    const [history, managed] = await Promise.all([listHistory(fastify.db, ticket.id), listItems(fastify.db)])
    const events = withListLabels(history, listView(managed, request.locale)).map((e) =>
      e.action === 'created' && createdBy
        ? { ...e, note: e.note ?? request.t('ticket.onBehalfBy', { staff: createdBy, contact: ticket.contact_name }) }
        : e)
    return reply.page('desk/history', { title: `#${ticket.number} ${ticket.title}`, tab: 'history', ticket, createdBy, events })
  })

  fastify.get('/tickets/:number/occurrences', { schema: { params: NumberParams } }, async (request, reply) => {
    const { number } = request.params
    const ticket = await ticketByNumber(fastify, request, number)
    const [{ notes }, createdBy, managed] = await Promise.all([listNotes(fastify.db, staffOf(request), ticket.id), openedBy(fastify, ticket), listItems(fastify.db)])
    return reply.page('desk/occurrences', {
      title: `#${ticket.number} ${ticket.title}`, tab: 'occurrences', ticket, createdBy, lists: listView(managed, request.locale),
      occurrences: notes.filter((n) => n.kind === 'occurrence'),
      conversation: notes.filter((n) => n.kind !== 'occurrence')
    })
  })

  /** A command's refusal on one of the page's forms: 404 for a ticket gone, else the page with the reason. */
  async function refusedForm(request: FastifyRequest, reply: FastifyReply, ticket: TicketDetail, form: DeskForm, refusal: Refused, words: FieldWords = {}) {
    if (refusal.code === 'not_found') throw notFound()
    const t = request.t
    const status = refusalStatus(refusal)
    const errors = fieldMessages(t, refusal, { params: { max: fastify.config.MAX_ATTACHMENT_MB }, ...words })
    if (status === 422) return failed(request, reply, ticket, form, 422, refusal.code === 'nothing_to_change' ? refusalMessage(t, refusal) : t('common.formErrors'), errors)
    const current = await ticketByNumber(fastify, request, ticket.number)
    const message = refusalMessage(t, refusal, { conflict: 'desk.conflict' })
    return failed(request, reply, current, form, status, form === 'note' && status === 409 && refusal.code !== 'conflict'
      ? t('desk.reply.refused', { status: t('status.' + current.status), reason: message })
      : message, errors)
  }

  fastify.post('/tickets/:number/transfer', { schema: { params: NumberParams, body: TransferForm }, attachValidation: true }, async (request, reply) => {
    const { actor, t, ticket } = await deskTicketForm(fastify, request)
    const failure = formFailure(request, { version: 'error.badRequest', ...choices('assignee_id', 'account_id', 'product_id') })
    if (failure?.field === 'version') return failed(request, reply, ticket, 'transfer', 422, failure.message)
    if (failure) return failed(request, reply, ticket, 'transfer', 422, t('common.formErrors'), { [failure.field]: failure.message })
    const { version, note } = request.body
    // None (null) keeps the assignee and the client as they are: a transfer hands the ticket on, it does not leave it without anyone.
    const assigneeId = request.body.assignee_id ?? undefined
    const accountId = request.body.account_id ?? undefined
    const productId = request.body.product_id

    const outcome = await transferTicket(deps, personWho(actor), { ticketId: ticket.id, version, assigneeId, accountId, productId, note })
    if (!outcome.ok) return refusedForm(request, reply, ticket, 'transfer', outcome.refusal)
    reply.flash('success', t('desk.transfer.done'))
    return redirectAfterChange(fastify, request, reply, ticket)
  })

  /**
   * The reply held back once when the ticket moved on since its page was loaded (someone else
   * wrote, or its state or assignee changed): what changed, said so that its writer reads it first.
   */
  async function heldBack(actor: StaffActor, t: Translate, ticket: TicketDetail, raw: string): Promise<string | null> {
    const seen = parseSeen(raw)
    if (!seen || ticket.version <= seen.version) return null
    const { notes } = await listNotes(fastify.db, actor, ticket.id)
    const found = collisionSince(seen, ticket, notes, actor.id, t('live.someone'))
    if (!found) return null
    const parts: string[] = []
    if (found.authors.length > 0) parts.push(t('live.collisionNotes', { who: found.authors.join(t('live.and')) }))
    if (found.state) parts.push(t('live.collisionState', { state: t('state.' + found.state.state), status: t('status.' + found.state.status) }))
    if (found.assignee) {
      parts.push(found.assignee.id === null ? t('live.collisionUnassigned') : t('live.collisionAssignee', { name: ticket.assignee_name ?? t('live.someone') }))
    }
    return t('live.collision', { what: parts.join(t('live.and')) })
  }

  fastify.post('/tickets/:number/notes', { schema: { params: NumberParams, body: NoteForm }, attachValidation: true }, async (request, reply) => {
    const { actor, t, ticket } = await deskTicketForm(fastify, request)
    const failure = formFailure(request, choices('mode'))
    if (failure) return failed(request, reply, ticket, 'note', 422, t('common.formErrors'), { [failure.field]: failure.message })
    const body = request.body
    const held = await heldBack(actor, t, ticket, body.seen)
    if (held) return failed(request, reply, ticket, 'note', 409, held)
    const mode = body.mode
    const visible = mode === 'note' && body.visible_to_requester !== undefined
    const outcome = await addNote(deps, personWho(actor), {
      ticketId: ticket.id, mode, body: body.body, visibleToRequester: visible, sendEmail: mode === 'note' && body.send_email !== undefined,
      minutesSpent: minutesField(body.minutes_spent), occurredAt: occurredAtField(body.occurred_at), files: files(request, body.attachments), source: 'portal'
    })
    if (!outcome.ok) return refusedForm(request, reply, ticket, 'note', outcome.refusal, NOTE_WORDS)
    const result = outcome.value
    if (result.childTicket) {
      request.log.info({ ticketId: ticket.id, childId: result.childTicket.id }, 'desk reply to a closed ticket opened a follow-up')
      reply.flash('success', t('desk.reply.childOpened', { number: ticket.number, child: result.childTicket.number }))
      return redirectAfterChange(fastify, request, reply, result.childTicket)
    }
    request.log.info({ ticketId: ticket.id, noteId: result.noteId, mode }, 'desk note added')
    // The articles it points at or that were inserted into it now count this ticket (a second, idempotent step: the note is sent either way).
    const kb = await linkArticlesFromNote(deps, personWho(actor), { ticketId: ticket.id, text: body.body, articleIds: postedArticleIds(body.kb_articles) })
    if (kb.ok && kb.value.linked.length > 0) request.log.info({ ticketId: ticket.id, articleIds: kb.value.linked }, 'articles linked from a note')
    const done = mode === 'reply' ? 'desk.reply.sent' : mode === 'message' ? 'desk.reply.messageSent' : mode === 'internal' || !visible ? 'desk.reply.noted' : 'desk.reply.notedPublic'
    reply.flash('success', t(done))
    return reply.redirect(`/desk/tickets/${ticket.number}#note-${result.noteId}`)
  })

  fastify.post('/tickets/:number/occurrences', { schema: { params: NumberParams, body: OccurrenceForm } }, async (request, reply) => {
    const { actor, t, ticket } = await deskTicketForm(fastify, request)
    const body = request.body
    const outcome = await registerOccurrence(deps, personWho(actor), {
      ticketId: ticket.id, category: body.category, origin: body.origin, description: body.description,
      occurredAt: occurredAtField(body.occurred_at), minutesSpent: minutesField(body.minutes_spent), files: files(request, body.attachments), source: 'portal',
      visibleToRequester: body.visible_to_requester !== undefined, notifyResponsible: body.notify_responsible !== undefined
    })
    if (!outcome.ok) return refusedForm(request, reply, ticket, 'occurrence', outcome.refusal, NOTE_WORDS)
    request.log.info({ ticketId: ticket.id, noteId: outcome.value.noteId }, 'occurrence registered at the desk')
    reply.flash('success', t('desk.occurrence.done'))
    return reply.redirect(`/desk/tickets/${ticket.number}#note-${outcome.value.noteId}`)
  })
}
