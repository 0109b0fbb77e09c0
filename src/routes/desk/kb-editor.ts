// Writing articles (mounted at /desk/kb): the editor for a new article (from scratch, as a
// translation of another, or drafted from a resolved ticket with its requester's personal data
// taken out) and for a new version of one, with a preview that needs no script, and the
// article's files (upload, remove). Saving goes through the article commands (src/commands/kb.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { accountChoices, articleAccounts, articleChoices, contactPhone, getArticle, listKbAttachments, relatedArticles, type KbArticleRow } from '../../db/kb.js'
import { getTicketForActorByNumber, type TicketDetail } from '../../db/ticket.js'
import { KB_AUDIENCES, KB_LANGUAGES, KB_LIMITS, isKbLanguage, renderArticle, scrubPersonalData } from '../../domain/kb.js'
import { addArticleFiles, createArticle, editArticle, removeArticleFile, type ArticleInput } from '../../commands/kb.js'
import { personWho } from '../../commands/kernel.js'
import { echo, Files, files, Form, formFailure, OptionalId, Text, type FormErrors } from '../forms.js'
import { fieldMessages } from '../refusals.js'
import { forbidden, notFound } from '../../plugins/app.js'
import { Ids, pathId, postedIds } from '../admin/shared.js'
import { staffOf } from './shared.js'
import { categoryOptions, KbIdParams, kbActorOf, kbRefusalMessage, mayEdit } from './kb-shared.js'

const ArticleForm = Form({
  title: Text, body: Text, tags: Text, category_id: OptionalId, language: Text, audience: Text, account_ids: Ids,
  translation_of: OptionalId, related_ids: Ids, note: Text,
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 999_999_999 })),
  ticket: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  preview: Type.Optional(Type.String())
})
const NewQuery = Type.Object({
  ticket: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  translation_of: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }))
}, { additionalProperties: false })
const PreviewForm = Form({ body: Text })
const FilesForm = Form({ files: Files, next: Type.Optional(Type.String()) })
const FileParams = Type.Object({ id: Type.String({ maxLength: 12 }), fileId: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })
const FORM_MESSAGES = {
  category_id: 'validation.invalidChoice', translation_of: 'validation.invalidChoice', account_ids: 'validation.invalidChoice',
  related_ids: 'validation.invalidChoice', version: 'kbDesk.conflict', ticket: 'validation.invalidChoice'
}
const WORDS = { keys: { 'accountIds.required': 'kbDesk.editor.accountsRequired', 'relatedIds.out_of_range': 'kbDesk.editor.tooManyRelated', 'tags.out_of_range': 'kbDesk.editor.tooManyTags' } }

/** Ticket states whose words may become an article: it was solved. */
const SOLVED_STATES = ['resolved', 'closed']

/** The Markdown that shows an uploaded image: a path the sanitizer keeps (same site). */
export function imageMarkdown(file: { id: number; filename: string }): string {
  const name = encodeURIComponent(file.filename).replace(/\(/g, '%28').replace(/\)/g, '%29')
  const alt = file.filename.replace(/\.[a-z0-9]+$/i, '').replace(/[[\]\\]/g, '')
  return `![${alt}](/kb/files/${file.id}/${name})`
}

interface TicketDraft {
  ticket: TicketDetail
  title: string
  body: string
  /** What kinds of personal data were taken out, in the page's words. */
  removed: string[]
}

export default async function kbEditor(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, store: fastify.store, clock: fastify.clock, random: fastify.random }

  /** A ticket the staff member may see (404 otherwise), solved (a clear refusal otherwise), as a draft without its requester's personal data. */
  async function ticketDraft(request: FastifyRequest, reply: FastifyReply, number: number): Promise<TicketDraft | null> {
    const t = request.t
    const ticket = await getTicketForActorByNumber(fastify.db, staffOf(request), number)
    if (!ticket) throw notFound()
    if (!SOLVED_STATES.includes(ticket.state)) {
      await reply.page('desk/kb-refused', {
        title: t('kbDesk.fromTicket.notSolvedTitle'), message: t('kbDesk.fromTicket.notSolved', { number: ticket.number }),
        back: `/desk/tickets/${ticket.number}`, backLabel: t('kbDesk.fromTicket.backToTicket', { number: ticket.number })
      }, 409)
      return null
    }
    const markers = { person: t('kbDesk.marker.person'), email: t('kbDesk.marker.email'), phone: t('kbDesk.marker.phone'), account: t('kbDesk.marker.account') }
    const known = { names: [ticket.contact_name ?? ''].filter(Boolean), markers, account: ticket.account_name }
    const phone = await contactPhone(fastify.db, ticket.contact_id)
    const solution = ticket.resolution ?? ticket.closure_note ?? ''
    const raw = `## ${t('kbDesk.fromTicket.problem')}\n\n${ticket.description}\n\n## ${t('kbDesk.fromTicket.solution')}\n\n${solution}`
    const withoutPhone = (text: string) => phone && phone.trim().length >= 4 ? text.split(phone.trim()).join(markers.phone) : text
    const title = scrubPersonalData(withoutPhone(ticket.title), known)
    const body = scrubPersonalData(withoutPhone(raw), known)
    const found = new Set([...title.found, ...body.found])
    if (phone && (ticket.title + raw).includes(phone.trim())) found.add(markers.phone)
    const labels: Record<string, string> = {
      [markers.person]: t('kbDesk.fromTicket.removedName'), [markers.email]: t('kbDesk.fromTicket.removedEmail'),
      [markers.phone]: t('kbDesk.fromTicket.removedPhone'), [markers.account]: t('kbDesk.fromTicket.removedAccount')
    }
    return { ticket, title: title.text, body: body.text.trim(), removed: [...found].map((m) => `${labels[m] ?? m} (${m})`) }
  }

  async function editorPage(request: FastifyRequest, reply: FastifyReply, state: {
    article?: KbArticleRow; values: Record<string, unknown>; errors?: FormErrors; status?: number; preview?: string | null; notice?: string | null; draft?: TicketDraft | null
  }) {
    const t = request.t
    const article = state.article
    const [categories, accounts, choices, attachments] = await Promise.all([
      categoryOptions(fastify, request.locale), accountChoices(fastify.db), articleChoices(fastify.db),
      article ? listKbAttachments(fastify.db, article.id) : Promise.resolve([])
    ])
    const errors = state.errors ?? {}
    const language = String(state.values.language ?? article?.language ?? '')
    return reply.page('desk/kb-edit', {
      title: article ? t('kbDesk.editor.editTitle', { title: article.title }) : t('kbDesk.editor.newTitle'),
      article: article ?? null,
      values: state.values, errors,
      formError: Object.keys(errors).length > 0 ? t('common.formErrors') : null,
      notice: state.notice ?? null,
      preview: state.preview ?? null,
      draft: state.draft ? { number: state.draft.ticket.number, title: state.draft.ticket.title, removed: state.draft.removed } : null,
      categories, accounts, languages: KB_LANGUAGES, audiences: KB_AUDIENCES, limits: KB_LIMITS,
      // The original of a translation is in another language and translates nothing itself.
      originals: choices.filter((c) => c.translation_of === null && c.id !== article?.id && (!language || c.language !== language)),
      relatable: choices.filter((c) => c.id !== article?.id),
      files: attachments.map((f) => ({ ...f, markdown: f.content_type.startsWith('image/') ? imageMarkdown(f) : null, href: `/kb/files/${f.id}/${encodeURIComponent(f.filename)}` })),
      action: article ? `/desk/kb/${article.id}/edit` : '/desk/kb/new'
    }, state.status ?? 200)
  }

  const posted = (request: FastifyRequest) => ({ ...echo(request), account_ids: postedIds(request, 'account_ids'), related_ids: postedIds(request, 'related_ids') })

  function input(body: typeof ArticleForm.static): ArticleInput {
    return {
      language: body.language, title: body.title, body: body.body, tags: body.tags, categoryId: body.category_id, audience: body.audience,
      accountIds: body.account_ids, translationOf: body.translation_of, relatedIds: body.related_ids, note: body.note
    }
  }

  fastify.get('/kb/new', { schema: { querystring: NewQuery } }, async (request, reply) => {
    const staff = staffOf(request)
    const { ticket, translation_of: translationOf } = request.query
    const draft = ticket === undefined ? null : await ticketDraft(request, reply, ticket)
    if (ticket !== undefined && !draft) return reply
    const original = translationOf === undefined ? undefined : await getArticle(fastify.db, translationOf)
    if (translationOf !== undefined && (!original || original.translation_of !== null)) throw notFound()
    const locale = draft?.ticket.contact_locale ?? staff.locale ?? request.locale
    const language = original ? KB_LANGUAGES.find((l) => l !== original.language)! : isKbLanguage(locale) ? locale : 'en'
    const values: Record<string, unknown> = original
      ? { language, audience: original.audience, category_id: original.category_id ?? '', translation_of: original.id, tags: original.tags, account_ids: await articleAccounts(fastify.db, original.id), related_ids: [] }
      : { language, audience: 'public', account_ids: [], related_ids: [], title: draft?.title ?? '', body: draft?.body ?? '', ticket: draft?.ticket.number ?? '' }
    return editorPage(request, reply, { values, draft })
  })

  fastify.post('/kb/new', { schema: { body: ArticleForm }, attachValidation: true }, async (request, reply) => {
    const failure = formFailure(request, FORM_MESSAGES)
    const ticketNumber = failure ? undefined : request.body.ticket
    const draft = ticketNumber === undefined ? null : await ticketDraft(request, reply, ticketNumber)
    if (ticketNumber !== undefined && !draft) return reply
    if (failure) return editorPage(request, reply, { values: posted(request), errors: { [failure.field]: failure.message }, status: 422, draft })
    const body = request.body
    if (body.preview !== undefined) return editorPage(request, reply, { values: posted(request), preview: renderArticle(body.body), draft })
    const outcome = await createArticle(deps, personWho(staffOf(request)), { ...input(body), sourceTicketId: draft?.ticket.id ?? null })
    if (!outcome.ok) {
      if (outcome.refusal.code !== 'invalid') throw notFound()
      return editorPage(request, reply, { values: posted(request), errors: fieldMessages(request.t, outcome.refusal, WORDS), status: 422, draft })
    }
    reply.flash('success', request.t('kbDesk.editor.created', { title: body.title }))
    return reply.redirect(`/desk/kb/${outcome.value.id}`, 303)
  })

  async function editable(request: FastifyRequest): Promise<KbArticleRow> {
    const article = await getArticle(fastify.db, pathId(request))
    if (!article) throw notFound()
    if (!mayEdit(article, await kbActorOf(fastify, request))) throw forbidden()
    return article
  }

  fastify.get('/kb/:id/edit', { schema: { params: KbIdParams } }, async (request, reply) => {
    const article = await editable(request)
    const [accounts, related] = await Promise.all([articleAccounts(fastify.db, article.id), relatedArticles(fastify.db, article.id)])
    return editorPage(request, reply, {
      article,
      values: {
        title: article.title, body: article.body, tags: article.tags, category_id: article.category_id ?? '', language: article.language, audience: article.audience,
        account_ids: accounts, translation_of: article.translation_of ?? '', related_ids: related.map((r) => r.id), note: '', version: article.version
      }
    })
  })

  fastify.post('/kb/:id/edit', { schema: { params: KbIdParams, body: ArticleForm }, attachValidation: true }, async (request, reply) => {
    const article = await editable(request)
    const failure = formFailure(request, FORM_MESSAGES)
    if (failure) return editorPage(request, reply, { article, values: posted(request), errors: { [failure.field]: failure.message }, status: 422 })
    const body = request.body
    if (body.preview !== undefined) return editorPage(request, reply, { article, values: posted(request), preview: renderArticle(body.body) })
    const outcome = await editArticle(deps, personWho(staffOf(request)), article.id, { ...input(body), version: body.version ?? 0 })
    if (!outcome.ok) {
      const refusal = outcome.refusal
      if (refusal.code === 'invalid') return editorPage(request, reply, { article, values: posted(request), errors: fieldMessages(request.t, refusal, WORDS), status: 422 })
      if (refusal.code === 'conflict') {
        // What was typed comes back as typed, now against the version that is there: saving again replaces it.
        const current = (await getArticle(fastify.db, article.id))!
        return editorPage(request, reply, {
          article: current, values: { ...posted(request), version: current.version },
          notice: request.t('kbDesk.editor.stale', { read: body.version ?? 0, current: current.version }), status: 409
        })
      }
      if (refusal.code === 'not_found') throw notFound()
      return editorPage(request, reply, { article, values: posted(request), notice: kbRefusalMessage(request.t, refusal), status: 409 })
    }
    reply.flash('success', request.t('kbDesk.editor.saved', { version: outcome.value.version }))
    return reply.redirect(`/desk/kb/${article.id}`, 303)
  })

  // The editor's live preview (public/kb-editor.js): the same rendering and sanitizer as saving.
  fastify.post('/kb/preview', { schema: { body: PreviewForm }, attachValidation: true }, async (request, reply) => {
    // Refused like any page of the site (an error page); the script shows nothing new then.
    if (request.validationError || request.body.body.length > KB_LIMITS.body) {
      return reply.page('error', { title: request.t('error.notFound.title'), message: request.t('kbDesk.editor.previewFailed') }, 422)
    }
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderArticle(request.body.body))
  })

  const backTo = (id: number, next: string | undefined) => next === 'view' ? `/desk/kb/${id}#files` : `/desk/kb/${id}/edit#files`

  fastify.post('/kb/:id/files', { schema: { params: KbIdParams, body: FilesForm }, attachValidation: true }, async (request, reply) => {
    const id = pathId(request)
    const next = request.validationError ? undefined : request.body.next
    const list = request.validationError ? [] : files(request, request.body.files)
    const outcome = await addArticleFiles(deps, personWho(staffOf(request)), id, list)
    if (!outcome.ok) {
      const refusal = outcome.refusal
      if (refusal.code === 'not_found') throw notFound()
      if (refusal.code === 'forbidden') throw forbidden()
      const message = refusal.code === 'invalid'
        ? Object.values(fieldMessages(request.t, refusal, { keys: { 'files.required': 'kbDesk.files.choose', 'files.out_of_range': 'kbDesk.files.tooMany' } })).join(' ')
        : kbRefusalMessage(request.t, refusal)
      const article = await getArticle(fastify.db, id)
      if (!article) throw notFound()
      return reply.page('desk/kb-refused', { title: request.t('kbDesk.files.failedTitle'), message, back: backTo(id, next), backLabel: request.t('kbDesk.backToArticle', { title: article.title }) }, refusal.code === 'invalid' ? 422 : 409)
    }
    reply.flash('success', request.t('kbDesk.files.added', { count: outcome.value.ids.length }))
    return reply.redirect(backTo(id, next), 303)
  })

  fastify.post('/kb/:id/files/:fileId/delete', { schema: { params: FileParams, body: Form({ next: Type.Optional(Type.String()) }) } }, async (request, reply) => {
    const id = pathId(request)
    const outcome = await removeArticleFile(deps, personWho(staffOf(request)), id, request.params.fileId)
    if (!outcome.ok) {
      if (outcome.refusal.code === 'forbidden') throw forbidden()
      throw notFound()
    }
    reply.flash('success', request.t('kbDesk.files.removed'))
    return reply.redirect(backTo(id, request.body.next), 303)
  })
}
