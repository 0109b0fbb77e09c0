import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { contactAccounts } from '../../db/people.js'
import { listCatalogItems, listDesks, listProducts } from '../../db/catalog.js'
import { personWho } from '../../commands/kernel.js'
import { openTicket } from '../../commands/open-ticket.js'
import { PRIORITIES } from '../../domain/lifecycle.js'
import { LIMITS } from '../../domain/ticket.js'
import type { ContactActor } from '../../domain/permissions.js'
import { choices, echo, Files, files, Form, formFailure, OptionalId, Text, type FormErrors } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import { keepTicketDraft, recordSearch } from '../../commands/kb-reader.js'
import { ticketDraft } from '../../db/kb-reader.js'
import { findArticles } from '../../db/kb-search.js'
import { helpReader, SUGGESTIONS } from '../../domain/kb-help.js'
import { excerpt } from '../../domain/kb.js'
import type { KbHit } from '../../db/kb-search.js'
import { searchText, suggestedUrl } from './help.js'

const NewTicketForm = Form({
  account_id: OptionalId, product_id: OptionalId, category_id: OptionalId, desk_id: OptionalId,
  priority: Text, title: Text, description: Text, url: Text, attachments: Files,
  /** "new" from the "save and open another" button. */
  next: Text
})
const CHOICES = choices('account_id', 'product_id', 'category_id', 'desk_id')
const NewTicketQuery = Type.Object({ draft: Type.Optional(Type.String({ maxLength: 10 })) })

/** What the suggestions are searched with: the title, then the start of the description. */
export function suggestionText(title: string, description: string): string {
  return searchText(`${title} ${description.slice(0, 300)}`)
}

/** Catalog items grouped by their area, in the order the query returns them. */
function groupByArea<T extends { area_id: number; area_name: string }>(items: T[]) {
  const areas: { id: number; name: string; items: T[] }[] = []
  for (const item of items) {
    let area = areas.find((a) => a.id === item.area_id)
    if (!area) areas.push(area = { id: item.area_id, name: item.area_name, items: [] })
    area.items.push(item)
  }
  return areas
}

export default async function newTicket(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const db = fastify.db

  async function renderForm(request: FastifyRequest, reply: FastifyReply, opts: { values?: Record<string, string>; errors?: FormErrors; status?: number; suggestions?: KbHit[]; restored?: boolean } = {}) {
    const actor = request.actor as ContactActor
    const [theirs, products, items, desks] = await Promise.all([
      contactAccounts(db, actor.id), listProducts(db), listCatalogItems(db), listDesks(db)
    ])
    const accounts = theirs.filter((a) => a.active === 1)
    const errors = opts.errors ?? {}
    const hasErrors = Object.keys(errors).length > 0
    // Errors about fields this form does not show (e.g. no account at all) go to the top.
    const shown = new Set(['account_id', 'product_id', 'category_id', 'desk_id', 'priority', 'title', 'description', 'url', 'attachments'])
    const hidden = Object.entries(errors).filter(([k]) => !shown.has(k) || (k === 'account_id' && accounts.length < 2)).map(([, v]) => v)
    return reply.page('portal/new-ticket', {
      title: request.t('portal.new.title'),
      accounts, products, areas: groupByArea(items), desks, priorities: PRIORITIES, limits: LIMITS,
      values: { priority: '', ...opts.values },
      errors,
      // The help center's articles beside the form: filled in by public/kb-suggest.js as the
      // client types, or by the "search the help center first" step without JavaScript.
      suggestions: { t: request.t, hits: opts.suggestions ?? [], asked: opts.suggestions !== undefined, suggestedUrl, lead: (h: { lead: string }) => excerpt(h.lead, 140) },
      restored: opts.restored === true,
      formError: accounts.length === 0
        ? request.t(theirs.length > 0 ? 'portal.new.accountsInactive' : 'portal.new.noAccount')
        : hasErrors ? [request.t('common.formErrors'), ...hidden].join(' ') : undefined
    }, opts.status ?? 200)
  }

  fastify.get('/tickets/new', { schema: { querystring: NewTicketQuery } }, async (request, reply) => {
    // "I still need help" from an article opened from the suggestions: the form as it was left.
    const sessionId = request.webSession?.id
    const draft = request.query.draft === '1' && sessionId !== undefined ? await ticketDraft(db, (request.actor as ContactActor).id, sessionId) : null
    return renderForm(request, reply, draft ? { values: draft, restored: true } : {})
  })

  // Without JavaScript, the suggestions come from this step: the form's text is kept (for the way
  // back from an article) and the form comes back with the articles beside it.
  fastify.post('/tickets/suggestions', { schema: { body: NewTicketForm }, attachValidation: true }, async (request, reply) => {
    const actor = request.actor as ContactActor
    const values = echo(request)
    const sessionId = request.webSession?.id
    const who = personWho(actor)
    const deps = { db, clock: fastify.clock, random: fastify.random }
    if (sessionId !== undefined) {
      const kept = await keepTicketDraft(deps, who, { sessionId, fields: values })
      if (!kept.ok) return renderForm(request, reply, { values, errors: fieldMessages(request.t, kept.refusal, { keepNames: true }), status: 422 })
    }
    const text = suggestionText(values.title ?? '', values.description ?? '')
    const hits = text === '' ? [] : await findArticles(db, helpReader(actor), text, { limit: SUGGESTIONS })
    if (text !== '') await recordSearch(deps, who, { query: text, results: hits.length, origin: 'suggest', sessionId: sessionId ?? null })
    return renderForm(request, reply, { values, suggestions: hits })
  })

  fastify.post('/tickets', { schema: { body: NewTicketForm }, attachValidation: true }, async (request, reply) => {
    const actor = request.actor as ContactActor
    const t = request.t
    const failure = formFailure(request, CHOICES)
    if (failure) return renderForm(request, reply, { values: echo(request), errors: { [failure.field]: failure.message }, status: 422 })
    const body = request.body
    const outcome = await openTicket({ db, store: fastify.store, clock: fastify.clock, random: fastify.random }, personWho(actor), {
      accountId: body.account_id, productId: body.product_id, categoryId: body.category_id, deskId: body.desk_id,
      priority: body.priority, title: body.title, description: body.description,
      url: body.url, files: files(request, body.attachments), source: 'portal'
    })
    if (!outcome.ok) {
      const errors = fieldMessages(t, outcome.refusal, { params: { max: fastify.config.MAX_ATTACHMENT_MB } })
      return renderForm(request, reply, { values: echo(request), errors, status: 422 })
    }
    const created = outcome.value
    request.log.info({ ticketId: created.id, number: created.number, assigneeId: created.assigneeId }, 'ticket opened in the portal')
    reply.flash('success', t('ticket.created', { number: created.number }))
    return reply.redirect(body.next === 'new' ? '/portal/tickets/new' : `/portal/tickets/${created.number}`)
  })
}
