// Knowledge-base articles as staff write them: a new draft (from scratch or from a resolved
// ticket), each save a new version, review and publication by a desk manager or an admin,
// archiving and restoring, and going back to an earlier version. Every change is one
// transaction: the article, its version row, its tags and accounts, the ticket it came from.
import {
  articleAccounts, categoryExists, deleteKbAttachment, existingAccounts, existingArticles, managesADesk, ticketExists, getVersion, insertArticle, insertKbAttachment,
  insertVersion, linkTicket, listKbAttachments, lockArticle, setArticleState, setRelated, slugTaken, updateArticle, type KbArticleFields, type KbArticleRow
} from '../db/kb.js'
import type { StoredFile, UploadedFile } from '../storage/attachments.js'
import { keepFiles } from './open-ticket.js'
import { bumpKbText } from '../db/kb-search.js'
import {
  articleText, isKbAudience, isKbLanguage, kbDecide, KB_LIMITS, normalizeTags, renderArticle, slugify,
  type KbAction, type KbActor, type KbAudience, type KbLanguage
} from '../domain/kb.js'
import type { StaffActor } from '../domain/permissions.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

export interface ArticleInput {
  language: string
  title: string
  /** Markdown. */
  body: string
  /** Comma-separated, as typed. */
  tags: string
  categoryId: number | null
  audience: string
  /** For audience 'accounts': whose clients see it. */
  accountIds: readonly number[]
  /** The article this one translates (another language of the same text). */
  translationOf: number | null
  /** What changed, for the version list. */
  note?: string | null
  /**
   * The articles shown as "see also"; left out, they stay as they are. Kept both ways: B in A's
   * list puts A in B's (src/db/kb.ts setRelated).
   */
  relatedIds?: readonly number[]
}

/** How many related articles one article lists. */
export const KB_MAX_RELATED = 20

function staffPerson(uow: UnitOfWork): StaffActor {
  const person = uow.who.person
  if (person?.kind !== 'staff') throw new Refused('forbidden')
  return person
}

/** The actor as the knowledge base's rules see them: an admin, a desk manager, or staff. */
async function kbActor(uow: UnitOfWork, staff: StaffActor): Promise<KbActor> {
  return { staffId: staff.id, admin: staff.role === 'admin', manager: await managesADesk(uow.trx, staff.id) }
}

/** The article's fields as the rows keep them, the version's note, and the related articles when given. */
type Checked = KbArticleFields & { note: string | null; relatedIds: number[] | undefined }

async function checked(uow: UnitOfWork, input: ArticleInput, self: number | null): Promise<Checked> {
  const check = new FieldCheck()
  check.text('title', input.title, KB_LIMITS.title)
  check.text('body', input.body, KB_LIMITS.body)
  check.text('note', input.note ?? '', KB_LIMITS.note, false)
  if (!isKbLanguage(input.language)) check.add('language', 'invalid_choice')
  if (!isKbAudience(input.audience)) check.add('audience', 'invalid_choice')
  const tags = normalizeTags(input.tags)
  if (tags.length > KB_LIMITS.tags) check.add('tags', 'out_of_range', { max: KB_LIMITS.tags })
  else if (tags.some((tag) => tag.length > KB_LIMITS.tag)) check.add('tags', 'too_long', { max: KB_LIMITS.tag })
  if (input.categoryId !== null && !(await categoryExists(uow.trx, input.categoryId))) check.add('categoryId', 'invalid_choice')
  const accountIds = [...new Set(input.accountIds)]
  if (input.audience === 'accounts') {
    if (accountIds.length === 0) check.add('accountIds', 'required')
    else if ((await existingAccounts(uow.trx, accountIds)).length !== accountIds.length) check.add('accountIds', 'invalid_choice')
  }
  if (input.translationOf !== null) {
    const original = input.translationOf === self ? undefined : await lockArticle(uow.trx, input.translationOf)
    // A translation points at the original, never at another translation, and is in another language.
    if (!original || original.translation_of !== null || original.language === input.language) check.add('translationOf', 'invalid_choice')
  }
  const relatedIds = input.relatedIds === undefined ? undefined : [...new Set(input.relatedIds)]
  if (relatedIds !== undefined) {
    if (relatedIds.length > KB_MAX_RELATED) check.add('relatedIds', 'out_of_range', { max: KB_MAX_RELATED })
    else if (relatedIds.some((id) => id === self) || (await existingArticles(uow.trx, relatedIds)).length !== relatedIds.length) check.add('relatedIds', 'invalid_choice')
  }
  check.refuse()
  const bodyHtml = renderArticle(input.body)
  return {
    language: input.language as KbLanguage, title: input.title.trim(), body: input.body.trim(), bodyHtml, bodyText: articleText(bodyHtml), tags,
    categoryId: input.categoryId, audience: input.audience as KbAudience, accountIds: input.audience === 'accounts' ? accountIds : [],
    translationOf: input.translationOf, note: input.note?.trim() || null, relatedIds
  }
}

/** A free address for the title in its language: the slug, else the slug with -2, -3... */
async function freeSlug(uow: UnitOfWork, language: string, title: string, self: number | null): Promise<string> {
  const base = slugify(title)
  for (let n = 1; ; n++) {
    const slug = n === 1 ? base : `${base.slice(0, 75)}-${n}`
    if (!(await slugTaken(uow.trx, language, slug, self))) return slug
  }
}

/** A new draft; from a ticket, linked to it (the ticket shows the article, the article lists the ticket). */
export async function createArticle(deps: Deps, who: Who, input: ArticleInput & { sourceTicketId?: number | null }): Promise<Outcome<{ id: number; slug: string }>> {
  return run(deps, who, async (uow) => {
    const staff = staffPerson(uow)
    const f = await checked(uow, input, null)
    let sourceTicketId: number | null = null
    if (input.sourceTicketId != null) {
      if (!(await ticketExists(uow.trx, input.sourceTicketId))) throw new Refused('not_found')
      sourceTicketId = input.sourceTicketId
    }
    const slug = await freeSlug(uow, f.language, f.title, null)
    const id = await insertArticle(uow.trx, { ...f, slug, state: 'draft', authorId: staff.id, sourceTicketId }, uow.at)
    await insertVersion(uow.trx, { articleId: id, version: 1, title: f.title, body: f.body, tags: f.tags, categoryId: f.categoryId, audience: f.audience, authorId: staff.id, note: f.note }, uow.at)
    if (sourceTicketId !== null) await linkTicket(uow.trx, id, sourceTicketId, uow.at)
    if (f.relatedIds !== undefined) await setRelated(uow.trx, id, f.relatedIds)
    await bumpKbText(uow.trx)
    return { id, slug }
  })
}

async function editable(uow: UnitOfWork, id: number, action: KbAction, version?: number): Promise<{ article: KbArticleRow; actor: KbActor; to: KbArticleRow['state'] }> {
  const staff = staffPerson(uow)
  const article = await lockArticle(uow.trx, id)
  if (!article) throw new Refused('not_found')
  if (version !== undefined && version !== article.version) throw new Refused('conflict')
  const actor = await kbActor(uow, staff)
  const decision = kbDecide(action, article.state, article.author_staff_id, actor)
  if (!decision.ok) {
    if (decision.code === 'not_allowed_in_state') throw new Refused('not_allowed_in_state', { params: { state: article.state, action } })
    throw new Refused('forbidden', { params: { reason: decision.code } })
  }
  return { article, actor, to: decision.to }
}

/** A new version of the article's text and settings; the address stays (a stable URL). */
export async function editArticle(deps: Deps, who: Who, id: number, input: ArticleInput & { version?: number }): Promise<Outcome<{ id: number; version: number }>> {
  return run(deps, who, async (uow) => {
    const { article, actor } = await editable(uow, id, 'edit', input.version)
    if (input.language !== article.language) {
      // The language is part of the address: another language is a translation, a new article.
      const check = new FieldCheck()
      check.add('language', 'invalid_choice')
      check.refuse()
    }
    const f = await checked(uow, input, id)
    const version = article.version + 1
    await updateArticle(uow.trx, id, { ...f, version }, uow.at)
    await insertVersion(uow.trx, { articleId: id, version, title: f.title, body: f.body, tags: f.tags, categoryId: f.categoryId, audience: f.audience, authorId: actor.staffId, note: f.note }, uow.at)
    if (f.relatedIds !== undefined) await setRelated(uow.trx, id, f.relatedIds)
    await bumpKbText(uow.trx)
    if (article.state === 'published') {
      await uow.audit({ entity: 'kb_article', entityId: id, action: 'update', label: f.title, before: { version: article.version }, after: { version } })
    }
    return { id, version }
  })
}

/** Review and publication: submit, send back, publish, archive, restore (to a draft). */
export async function moveArticle(deps: Deps, who: Who, id: number, action: Exclude<KbAction, 'edit'>, opts: { version?: number } = {}): Promise<Outcome<{ id: number; state: KbArticleRow['state'] }>> {
  return run(deps, who, async (uow) => {
    const { article, actor, to } = await editable(uow, id, action, opts.version)
    const publishing = action === 'publish'
    await setArticleState(uow.trx, id, to, {
      ...(publishing ? { reviewerId: actor.staffId, publishedAt: article.published_at ?? uow.at } : {})
    }, uow.at)
    if (publishing || action === 'archive' || action === 'restore') {
      await uow.audit({ entity: 'kb_article', entityId: id, action, label: article.title, before: { state: article.state }, after: { state: to } })
    }
    return { id, state: to }
  })
}

/** Goes back to an earlier version: its text and settings become a new version (nothing is lost). */
export async function restoreVersion(deps: Deps, who: Who, id: number, fromVersion: number, opts: { version?: number } = {}): Promise<Outcome<{ id: number; version: number }>> {
  return run(deps, who, async (uow) => {
    const { article, actor } = await editable(uow, id, 'edit', opts.version)
    const old = await getVersion(uow.trx, id, fromVersion)
    if (!old) throw new Refused('not_found')
    const accounts = await articleAccounts(uow.trx, id)
    const f = await checked(uow, {
      language: article.language, title: old.title, body: old.body, tags: old.tags,
      categoryId: old.category_id !== null && (await categoryExists(uow.trx, old.category_id)) ? old.category_id : null,
      audience: old.audience === 'accounts' && accounts.length === 0 ? 'internal' : old.audience,
      accountIds: accounts, translationOf: article.translation_of, note: null
    }, id)
    const version = article.version + 1
    await updateArticle(uow.trx, id, { ...f, version }, uow.at)
    await insertVersion(uow.trx, { articleId: id, version, title: f.title, body: f.body, tags: f.tags, categoryId: f.categoryId, audience: f.audience, authorId: actor.staffId, note: `restored:${fromVersion}` }, uow.at)
    await bumpKbText(uow.trx)
    return { id, version }
  })
}

/** How many files one article may have. */
export const KB_MAX_FILES = 50

/**
 * Files for an article (screenshots, a guide), kept in the file store in this transaction; whoever
 * may edit the article may add them. The article's version does not change: the text that shows
 * an image is what versions keep.
 */
export async function addArticleFiles(deps: Deps, who: Who, id: number, files: readonly (UploadedFile | StoredFile)[]): Promise<Outcome<{ ids: number[] }>> {
  return run(deps, who, async (uow) => {
    const { actor } = await editable(uow, id, 'edit')
    const check = new FieldCheck()
    if (files.length === 0) check.add('files', 'required')
    const tooBig = files.find((f) => 'truncated' in f && f.truncated)
    if (tooBig) check.add('files', 'file_too_large', { filename: tooBig.filename })
    const have = (await listKbAttachmentIds(uow, id)).length
    if (have + files.length > KB_MAX_FILES) check.add('files', 'out_of_range', { max: KB_MAX_FILES })
    check.refuse()
    const kept = await keepFiles(deps, [...files], uow.trx)
    const ids: number[] = []
    for (const f of kept) {
      ids.push(await insertKbAttachment(uow.trx, { articleId: id, filename: f.filename, contentType: f.contentType, size: f.size, sha256: f.sha256, staffId: actor.staffId }, uow.at))
    }
    return { ids }
  })
}

async function listKbAttachmentIds(uow: UnitOfWork, articleId: number): Promise<number[]> {
  return (await listKbAttachments(uow.trx, articleId)).map((a) => a.id)
}

/** Takes a file off an article (its bytes stay in the store: another article or ticket may share them). */
export async function removeArticleFile(deps: Deps, who: Who, id: number, fileId: number): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    await editable(uow, id, 'edit')
    if (!(await deleteKbAttachment(uow.trx, id, fileId))) throw new Refused('not_found')
    return { id: fileId }
  })
}
