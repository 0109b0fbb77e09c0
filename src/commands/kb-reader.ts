// What clients' reading of the help center records, each in one transaction with the article's
// counter it moves: a view (once per session and article an hour, VIEW_REPEAT_MS), a vote on
// "was this helpful?" (one per client and article; a changed vote moves both counters), a search
// (suggestions typed word by word kept as one row, SUGGEST_BURST_MS), an article opened from the
// new-ticket form's suggestions (a deflection, withdrawn when a ticket follows within
// DEFLECTION_WINDOW_MS) and the form's text kept while the client reads.
import {
  bumpArticleCounter, deflectionsSince, deleteTicketDrafts, feedbackOf, insertFeedback, insertSearch, insertView, insertVisit, lastCountedView,
  lastSuggestSearch, lockReadable, markTicketOpened, openDeflection, pruneKbActivity, replaceSearch, saveTicketDraft, updateFeedback
} from '../db/kb-reader.js'
import {
  DEFLECTION_WINDOW_MS, feedbackValue, helpReader, normalizeQuery, sameBurst, SEARCH_ORIGINS, viewCovered, type SearchOrigin
} from '../domain/kb-help.js'
import { KB_LIMITS } from '../domain/kb.js'
import { LIMITS } from '../domain/ticket.js'
import type { ContactActor } from '../domain/permissions.js'
import { FieldCheck, Refused, run, SYSTEM, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

function client(uow: UnitOfWork): ContactActor {
  const person = uow.who.person
  if (person?.kind !== 'contact') throw new Refused('forbidden')
  return person
}

/** The article as the client may see it, locked for its counters; not_found when they may not. */
async function readable(uow: UnitOfWork, person: ContactActor, articleId: number) {
  const article = await lockReadable(uow.trx, helpReader(person), articleId)
  if (!article) throw new Refused('not_found')
  return article
}

/** A client's view of an article: counted unless this session had it counted within the hour. */
export async function recordArticleView(deps: Deps, who: Who, input: { articleId: number; sessionId: number | null }): Promise<Outcome<{ counted: boolean }>> {
  return run(deps, who, async (uow) => {
    const person = client(uow)
    await readable(uow, person, input.articleId)
    if (viewCovered(await lastCountedView(uow.trx, input.articleId, person.id, input.sessionId), uow.now)) return { counted: false }
    await insertView(uow.trx, { articleId: input.articleId, contactId: person.id, sessionId: input.sessionId }, uow.at)
    await bumpArticleCounter(uow.trx, input.articleId, 'views', 1)
    return { counted: true }
  })
}

export interface FeedbackInput {
  articleId: number
  /** "yes" or "no". */
  helpful: string
  comment: string
}

/** "Was this helpful?": the client's one vote on the article, cast or changed, with an optional comment. */
export async function rateArticle(deps: Deps, who: Who, input: FeedbackInput): Promise<Outcome<{ helpful: boolean; changed: boolean }>> {
  return run(deps, who, async (uow) => {
    const person = client(uow)
    const check = new FieldCheck()
    const helpful = feedbackValue(input.helpful)
    if (helpful === null) check.add('helpful', input.helpful === '' ? 'required' : 'invalid_choice')
    check.text('comment', input.comment, KB_LIMITS.comment, false)
    check.refuse()
    await readable(uow, person, input.articleId)
    const comment = input.comment.trim() || null
    const before = await feedbackOf(uow.trx, input.articleId, person.id)
    if (!before) {
      await insertFeedback(uow.trx, { articleId: input.articleId, contactId: person.id, helpful: helpful!, comment }, uow.at)
      await bumpArticleCounter(uow.trx, input.articleId, helpful ? 'helpful' : 'not_helpful', 1)
      return { helpful: helpful!, changed: false }
    }
    const was = before.helpful === 1
    await updateFeedback(uow.trx, before.id, { helpful: helpful!, comment }, uow.at)
    if (was !== helpful) {
      await bumpArticleCounter(uow.trx, input.articleId, was ? 'helpful' : 'not_helpful', -1)
      await bumpArticleCounter(uow.trx, input.articleId, helpful ? 'helpful' : 'not_helpful', 1)
    }
    return { helpful: helpful!, changed: was !== helpful }
  })
}

export interface SearchRecord {
  query: string
  results: number
  origin: SearchOrigin
  sessionId: number | null
  /**
   * A suggestion searched while the client types: it replaces the session's last one within
   * SUGGEST_BURST_MS. A final one (the form's "search the help center first") is always a row.
   */
  live?: boolean
}

/** A search written down (normalised); nothing for an empty query. Returns the row's id. */
export async function recordSearch(deps: Deps, who: Who, input: SearchRecord): Promise<Outcome<{ id: number } | null>> {
  return run(deps, who, async (uow) => {
    if (!(SEARCH_ORIGINS as readonly string[]).includes(input.origin)) throw new Refused('invalid', { fields: { origin: { problem: 'invalid_choice' } } })
    const query = normalizeQuery(input.query)
    if (query === '') return null
    const contactId = uow.who.person?.kind === 'contact' ? uow.who.person.id : null
    const results = Math.max(0, Math.trunc(input.results))
    if (input.live && input.sessionId !== null) {
      const last = await lastSuggestSearch(uow.trx, input.sessionId)
      if (last && sameBurst(last.created_at, uow.now)) {
        await replaceSearch(uow.trx, last.id, { query, results }, uow.at)
        return { id: last.id }
      }
    }
    return { id: await insertSearch(uow.trx, { query, results, origin: input.origin, sessionId: input.sessionId, contactId }, uow.at) }
  })
}

/**
 * An article opened from the new-ticket form's suggestions: a deflection at once (the client may
 * leave with the answer), unless this one is already counted within the window (a reload).
 */
export async function openSuggestedArticle(deps: Deps, who: Who, input: { articleId: number; sessionId: number | null }): Promise<Outcome<{ counted: boolean }>> {
  return run(deps, who, async (uow) => {
    const person = client(uow)
    await readable(uow, person, input.articleId)
    const since = new Date(uow.now.getTime() - DEFLECTION_WINDOW_MS).toISOString()
    if (await openDeflection(uow.trx, person.id, input.articleId, since)) return { counted: false }
    await insertVisit(uow.trx, { articleId: input.articleId, contactId: person.id, sessionId: input.sessionId }, uow.at)
    await bumpArticleCounter(uow.trx, input.articleId, 'deflections', 1)
    return { counted: true }
  })
}

/**
 * Inside the command that opens a ticket for a client: the articles they opened from suggestions
 * within DEFLECTION_WINDOW_MS did not solve it, so those deflections are withdrawn; the form's
 * kept text is done with.
 */
export async function ticketFollowedSuggestions(uow: UnitOfWork, contactId: number, ticketId: number): Promise<number> {
  const since = new Date(uow.now.getTime() - DEFLECTION_WINDOW_MS).toISOString()
  const visits = await deflectionsSince(uow.trx, contactId, since)
  await markTicketOpened(uow.trx, visits.map((v) => v.id), ticketId, uow.at)
  for (const v of visits) await bumpArticleCounter(uow.trx, v.article_id, 'deflections', -1)
  await deleteTicketDrafts(uow.trx, contactId)
  return visits.length
}

/** The fields of the new-ticket form a draft keeps. */
export const DRAFT_FIELDS = ['account_id', 'product_id', 'category_id', 'desk_id', 'priority', 'title', 'description', 'url'] as const

/** The new-ticket form's text kept for this session while the client reads the suggestions. */
export async function keepTicketDraft(deps: Deps, who: Who, input: { sessionId: number; fields: Record<string, string> }): Promise<Outcome<null>> {
  return run(deps, who, async (uow) => {
    const person = client(uow)
    const check = new FieldCheck()
    const kept: Record<string, string> = {}
    for (const name of DRAFT_FIELDS) {
      const value = input.fields[name] ?? ''
      const max = name === 'title' ? LIMITS.title : name === 'description' ? LIMITS.description : 2_000
      check.text(name, value, max, false)
      if (value !== '') kept[name] = value
    }
    check.refuse()
    await saveTicketDraft(uow.trx, person.id, input.sessionId, kept, uow.at)
    return null
  })
}

/**
 * The knowledge base's reading log is kept as long as the dashboard can look back (its widest
 * window, plus a day); the article's counters keep their totals. A kept ticket draft holds what a
 * client typed: it goes after a day (a ticket opened from it deletes it at once).
 */
export const KB_ACTIVITY_KEPT_DAYS = 366 /* the dashboard's widest window, 365 days, and a day */
export const KB_DRAFT_KEPT_MS = 86_400_000

/** The scheduled jobs' tidy-up of the knowledge base's reading log; how many rows went. */
export async function pruneKbActivityLog(deps: Pick<Deps, 'db' | 'clock' | 'random'>): Promise<number> {
  const outcome = await run(deps, SYSTEM, async (uow) => pruneKbActivity(uow.trx,
    new Date(uow.now.getTime() - KB_ACTIVITY_KEPT_DAYS * 86_400_000).toISOString(), new Date(uow.now.getTime() - KB_DRAFT_KEPT_MS).toISOString()))
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}
