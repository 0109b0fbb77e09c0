// The knowledge base on the staff ticket page: the articles linked to the ticket, up to five
// published articles suggested by its words (each with its link and its text to insert into the
// reply), "Link to this ticket", and "create an article" once the ticket is resolved. Without
// JavaScript, "Insert" is a link (`?insert=ID&as=link|text#reply`) that shows the page again with
// the reply box filled in; public/kb-insert.js inserts at the cursor instead.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { findArticles } from '../../db/kb-search.js'
import { insertableArticles, ticketArticles } from '../../db/kb-links.js'
import { articleClientUrl, insertOffers, ticketSearchText, type InsertKind } from '../../domain/kb-links.js'
import { linkArticleToTicket } from '../../commands/kb-links.js'
import { personWho } from '../../commands/kernel.js'
import type { TicketDetail } from '../../db/ticket.js'
import { notFound } from '../../plugins/app.js'
import { Form } from '../forms.js'
import { NumberParams, deskTicketForm } from './shared.js'
import { redirectAfterChange, renderTicket, type PageState } from './ticket-page.js'

/** How many articles the page suggests. */
export const KB_SUGGESTIONS = 5

/** The states in which a ticket has an answer worth writing down as an article. */
const ANSWERED = ['resolved', 'closed'] as const
/** The states in which nobody writes to the ticket any more: nothing to suggest. */
const FINISHED = ['closed', 'cancelled'] as const

export const InsertQuery = Type.Object({
  insert: Type.Optional(Type.String({ maxLength: 12 })),
  as: Type.Optional(Type.String({ maxLength: 8 }))
})

const LinkForm = Form({ article_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })

export interface KbSuggestion {
  id: number
  title: string
  audience: string
  url: string
  text: string
  offers: InsertKind[]
  linked: boolean
}

/** The product's public address for links put into replies, when one is configured. */
export function publicBase(fastify: FastifyInstance): string | null {
  return fastify.config.PUBLIC_URL ? fastify.config.publicUrl : null
}

/**
 * What the page shows of the knowledge base. Statements: the linked articles (1); the suggestions,
 * while the ticket is worked: the search (1, and its vocabulary when an article changed) and the
 * suggested articles' text (1).
 */
export async function ticketKb(fastify: FastifyInstance, ticket: TicketDetail) {
  const db = fastify.db
  const finished = (FINISHED as readonly string[]).includes(ticket.state)
  const [linked, hits] = await Promise.all([
    ticketArticles(db, ticket.id),
    finished ? Promise.resolve([]) : findArticles(db, { kind: 'staff' }, ticketSearchText(ticket), { limit: KB_SUGGESTIONS })
  ])
  const rows = new Map((await insertableArticles(db, hits.map((h) => h.id), ticket.account_id)).map((r) => [r.id, r]))
  const base = publicBase(fastify)
  const linkedIds = new Set(linked.map((a) => a.id))
  // Staff searches rank published articles first: the first published hits are the best ones.
  const suggestions: KbSuggestion[] = hits.flatMap((h) => {
    const row = rows.get(h.id)
    if (!row || row.state !== 'published') return []
    return [{ id: row.id, title: row.title, audience: row.audience, url: articleClientUrl(row, base), text: row.bodyText, offers: insertOffers(row), linked: linkedIds.has(row.id) }]
  })
  return { linked, suggestions, canCreate: (ANSWERED as readonly string[]).includes(ticket.state), searched: !finished }
}

/**
 * The reply box filled in with an article's link or text (the "Insert" links without
 * JavaScript). A link the requester could not open is refused (422), an article that is not
 * published is not there to insert (404).
 */
export async function insertPrefill(fastify: FastifyInstance, request: FastifyRequest, ticket: TicketDetail, query: { insert?: string; as?: string }): Promise<PageState> {
  if (query.insert === undefined && query.as === undefined) return {}
  const t = request.t
  const as = query.as ?? 'link'
  const id = query.insert !== undefined && /^[1-9]\d{0,9}$/.test(query.insert) ? Number(query.insert) : null
  if (id === null || id > 2 ** 31 - 1 || (as !== 'link' && as !== 'text')) {
    return { status: 400, failed: 'note', formError: t('kbStaff.insert.badRequest') }
  }
  const [article] = await insertableArticles(fastify.db, [id], ticket.account_id)
  if (!article || article.state !== 'published') return { status: 404, failed: 'note', formError: t('kbStaff.insert.notFound') }
  const offers = insertOffers(article)
  if (!offers.includes(as)) return { status: 422, failed: 'note', formError: t('kbStaff.insert.linkRefused', { title: article.title }) }
  const body = as === 'link' ? articleClientUrl(article, publicBase(fastify)) : article.bodyText
  // Text the requester may not read goes into an internal note; a link goes into the reply.
  const mode = offers.includes('link') ? undefined : 'internal'
  return { prefill: { body, mode, articleIds: String(article.id), title: article.title } }
}

export default async function ticketKbRoutes(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  fastify.post('/tickets/:number/kb-links', { schema: { params: NumberParams, body: LinkForm }, attachValidation: true }, async (request, reply) => {
    const { actor, t, ticket } = await deskTicketForm(fastify, request)
    if (request.validationError) return renderTicket(fastify, request, reply, ticket, { status: 400, formError: t('kbStaff.link.badRequest') })
    const outcome = await linkArticleToTicket(deps, personWho(actor), { ticketId: ticket.id, articleId: request.body.article_id })
    if (!outcome.ok) {
      if (outcome.refusal.field !== 'articleId') throw notFound()
      return renderTicket(fastify, request, reply, ticket, { status: 404, formError: t('kbStaff.link.notFound') })
    }
    request.log.info({ ticketId: ticket.id, articleId: request.body.article_id, linked: outcome.value.linked }, 'article linked to a ticket')
    reply.flash(outcome.value.linked ? 'success' : 'info', t(outcome.value.linked ? 'kbStaff.link.done' : 'kbStaff.link.already'))
    return redirectAfterChange(fastify, request, reply, ticket, '#kb-articles')
  })
}
