// The help center's rules as clients meet it: who reads as whom, how a search is written down,
// when a view or a deflection counts. Pure: src/commands/kb-reader.ts asks these before it writes.
import type { Actor } from './permissions.js'
import { kbReaderOf, type KbReader } from './kb.js'

/** A client's view of an article counts once per session and article within this time (a reload does not count). */
export const VIEW_REPEAT_MS = 60 * 60_000

/**
 * An article opened from the new-ticket form's suggestions is a deflection at once; a ticket the
 * same client opens within this time after it withdraws it (the article did not solve it).
 */
export const DEFLECTION_WINDOW_MS = 60 * 60_000

/**
 * Suggestions are searched while the client types: a suggestion search within this time of the
 * same session's last one replaces it, so a typing burst is one row holding the final words.
 */
export const SUGGEST_BURST_MS = 30_000

/** Suggestions beside the new-ticket form. */
export const SUGGESTIONS = 5

/** Search results and category articles per page. */
export const HELP_PAGE_SIZE = 10

/** The longest query kept (and searched). */
export const QUERY_MAX = 200

export const SEARCH_ORIGINS = ['help', 'suggest', 'staff'] as const
export type SearchOrigin = (typeof SEARCH_ORIGINS)[number]

/** A query as the search log keeps it: one spacing, trimmed, lower case, at most QUERY_MAX characters. */
export function normalizeQuery(text: string): string {
  return text.normalize('NFKC').replace(/\s+/gu, ' ').trim().toLowerCase().slice(0, QUERY_MAX).trim()
}

/**
 * Whom a person reads the help center as: a client as themselves (an article for any of their
 * accounts is theirs to read); staff as the public does (the desk's knowledge base shows them
 * every article, drafts included).
 */
export function helpReader(actor: Actor): KbReader {
  return actor.kind === 'staff' ? { kind: 'anonymous' } : kbReaderOf(actor)
}

/** The share of votes that said yes (0..1), null without votes. */
export function helpfulShare(yes: number, no: number): number | null {
  return yes + no === 0 ? null : yes / (yes + no)
}

/** "yes" / "no" as the feedback form posts them. */
export function feedbackValue(raw: string): boolean | null {
  return raw === 'yes' ? true : raw === 'no' ? false : null
}

/** Whether a view at `lastAt` still covers one at `now` (same session and article). */
export function viewCovered(lastAt: string | null, now: Date): boolean {
  return lastAt !== null && now.getTime() - Date.parse(lastAt) < VIEW_REPEAT_MS
}

/** The suggestion-search row a new one replaces: the session's last, when it is this recent. */
export function sameBurst(lastAt: string | null, now: Date): boolean {
  return lastAt !== null && now.getTime() - Date.parse(lastAt) < SUGGEST_BURST_MS
}


/**
 * Article HTML under the page's own h1: each heading one level down (h1 becomes h2, h6 stays),
 * so the page keeps one h1 and its headings in order. Works on sanitized HTML, whose headings
 * carry no attributes.
 */
export function demoteHeadings(html: string): string {
  return html.replace(/<(\/?)h([1-6])>/g, (_m, slash: string, level: string) => `<${slash}h${Math.min(Number(level) + 1, 6)}>`)
}
