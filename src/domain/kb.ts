// The knowledge base's rules: what an article is made of (safe Markdown, tags, a readable
// address), who may see it (its audience) and how it moves from draft to published. Pure: the
// commands in src/commands/kb.ts ask these before they write.
import MarkdownIt from 'markdown-it'
import sanitizeHtml from 'sanitize-html'
import { convert } from 'html-to-text'
import { diffWordsWithSpace } from 'diff'

export const KB_LANGUAGES = ['en', 'pt-BR'] as const
export type KbLanguage = (typeof KB_LANGUAGES)[number]
export const KB_AUDIENCES = ['public', 'accounts', 'internal'] as const
export type KbAudience = (typeof KB_AUDIENCES)[number]
export const KB_STATES = ['draft', 'in_review', 'published', 'archived'] as const
export type KbState = (typeof KB_STATES)[number]
export const KB_ACTIONS = ['edit', 'submit', 'send_back', 'publish', 'archive', 'restore'] as const
export type KbAction = (typeof KB_ACTIONS)[number]

export const KB_LIMITS = { title: 200, body: 100_000, tags: 20, tag: 40, slug: 80, note: 2_000, comment: 2_000 } as const

export function isKbLanguage(v: unknown): v is KbLanguage {
  return typeof v === 'string' && (KB_LANGUAGES as readonly string[]).includes(v)
}
export function isKbAudience(v: unknown): v is KbAudience {
  return typeof v === 'string' && (KB_AUDIENCES as readonly string[]).includes(v)
}

// Raw HTML in the Markdown is shown as text (html: false); links only to http(s) and mail
// (markdown-it's own check drops javascript:, vbscript:, file: and data: other than images).
const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false })

/** What rendered article HTML may contain; everything else is dropped, text kept. */
const SAFE: sanitizeHtml.IOptions = {
  allowedTags: ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'strong', 'em', 's', 'del', 'code', 'pre', 'blockquote',
    'ul', 'ol', 'li', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  allowedAttributes: { a: ['href', 'title'], img: ['src', 'alt', 'title'], ol: ['start'], th: ['align'], td: ['align'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  // Images only from this site (the article's files, /kb/files/...): the pages' Content-Security-Policy
  // loads images from nowhere else, so another site's picture would only show as a broken one.
  allowedSchemesByTag: { img: [] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    // Links leave without the page's context and are never followed as endorsements.
    a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'noopener noreferrer nofollow' } })
  },
  exclusiveFilter: (frame) => frame.tag === 'img' && !/^\/(?![/\\])/.test(frame.attribs.src ?? '')
}

/** An article's Markdown as the HTML pages show: rendered, then sanitized (unsafe parts dropped). */
export function renderArticle(body: string): string {
  return sanitizeArticleHtml(markdown.render(body))
}

/** Stored article HTML sanitized again before it is shown (a row written by other means is no exception). */
export function sanitizeArticleHtml(html: string): string {
  return sanitizeHtml(html, { ...SAFE, allowedAttributes: { ...SAFE.allowedAttributes, a: ['href', 'title', 'rel'] } })
}

/** The words of rendered HTML, for search and excerpts. */
export function articleText(html: string): string {
  return convert(html, { wordwrap: false, selectors: [{ selector: 'a', options: { ignoreHref: true } }, { selector: 'img', format: 'skip' }] }).trim()
}

/** The first words of an article's text, cut at a word, at most `max` characters. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat.length <= max) return flat
  const cut = flat.slice(0, max - 1)
  const space = cut.lastIndexOf(' ')
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`
}

export interface DiffPart {
  kind: 'same' | 'added' | 'removed'
  text: string
}

/** What changed between two versions' texts, word by word (the version page marks each part). */
export function textDiff(before: string, after: string): DiffPart[] {
  return diffWordsWithSpace(before, after).map((c) => ({ kind: c.added ? 'added' : c.removed ? 'removed' : 'same', text: c.value }))
}

/** A readable address part from a title: lower case, no accents, words joined by hyphens. */
export function slugify(title: string): string {
  const slug = title.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, KB_LIMITS.slug).replace(/-+$/, '')
  return slug || 'article'
}

/** Tags as typed (commas between them) made uniform: trimmed, lower case, single spaces, no repeats. */
export function normalizeTags(raw: string | readonly string[]): string[] {
  const parts = typeof raw === 'string' ? raw.split(',') : raw
  const seen = new Set<string>()
  for (const p of parts) {
    const tag = p.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, ' ')
    if (tag) seen.add(tag)
  }
  return [...seen]
}

/** Who may review and publish: admins and desk managers. */
export interface KbActor {
  staffId: number
  admin: boolean
  manager: boolean
}

export function isReviewer(actor: KbActor): boolean {
  return actor.admin || actor.manager
}

export type KbRefusal = 'not_allowed_in_state' | 'reviewer_only' | 'own_article'

/**
 * Whether `actor` may take `action` on an article in `state` written by `authorId`. Drafts are
 * edited by any staff member; published articles only by reviewers (a new version, still
 * published). A reviewer publishes what another wrote; an admin may publish their own.
 */
export function kbDecide(action: KbAction, state: KbState, authorId: number, actor: KbActor): { ok: true; to: KbState } | { ok: false; code: KbRefusal } {
  const reviewer = isReviewer(actor)
  switch (action) {
    case 'edit':
      if (state === 'archived') return { ok: false, code: 'not_allowed_in_state' }
      if (state === 'published' && !reviewer) return { ok: false, code: 'reviewer_only' }
      return { ok: true, to: state }
    case 'submit':
      return state === 'draft' ? { ok: true, to: 'in_review' } : { ok: false, code: 'not_allowed_in_state' }
    case 'send_back':
      if (state !== 'in_review') return { ok: false, code: 'not_allowed_in_state' }
      return reviewer ? { ok: true, to: 'draft' } : { ok: false, code: 'reviewer_only' }
    case 'publish':
      if (state !== 'in_review' && state !== 'draft') return { ok: false, code: 'not_allowed_in_state' }
      if (!reviewer) return { ok: false, code: 'reviewer_only' }
      if (authorId === actor.staffId && !actor.admin) return { ok: false, code: 'own_article' }
      return { ok: true, to: 'published' }
    case 'archive':
      if (state === 'archived') return { ok: false, code: 'not_allowed_in_state' }
      return reviewer ? { ok: true, to: 'archived' } : { ok: false, code: 'reviewer_only' }
    case 'restore':
      if (state !== 'archived') return { ok: false, code: 'not_allowed_in_state' }
      return reviewer ? { ok: true, to: 'draft' } : { ok: false, code: 'reviewer_only' }
  }
}

/** What a reader is, for an article's audience. */
/** Who reads: staff; a client, for the articles of any of their accounts; anyone else. */
export type KbReader = { kind: 'staff' } | { kind: 'contact'; accountIds: readonly number[] } | { kind: 'anonymous' }

/** The reader a person is: staff as staff, a client of no account as anyone. */
export function kbReaderOf(actor: { kind: 'staff' } | { kind: 'contact'; accountIds: readonly number[] } | null | undefined): KbReader {
  if (!actor) return { kind: 'anonymous' }
  if (actor.kind === 'staff') return { kind: 'staff' }
  return actor.accountIds.length > 0 ? { kind: 'contact', accountIds: actor.accountIds } : { kind: 'anonymous' }
}

/**
 * Whether a reader may see a published article: staff see every audience; a client sees public
 * articles and those of any of their accounts; nobody else sees anything but public ones. Drafts, articles
 * in review and archived ones are for staff only.
 */
export function kbVisible(article: { state: KbState; audience: KbAudience }, accounts: readonly number[], reader: KbReader): boolean {
  if (reader.kind === 'staff') return true
  if (article.state !== 'published') return false
  if (article.audience === 'public') return true
  if (article.audience === 'accounts') return reader.kind === 'contact' && accounts.some((a) => reader.accountIds.includes(a))
  return false
}

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu
// Phone numbers: 8 or more digits with the usual separators, optionally international.
const PHONE = /(?<![\p{L}\p{N}])\+?\d(?:[\s().-]?\d){7,}(?![\p{L}\p{N}])/gu

/**
 * A ticket's words without the requester's personal data: their name, e-mail and phone, their
 * account's name, and any e-mail address or phone number, each replaced by a marker. Returns
 * what was found, so the draft is flagged for the reviewer.
 */
export function scrubPersonalData(text: string, known: { names: readonly string[]; markers: { person: string; email: string; phone: string; account: string }; account?: string | null }): { text: string; found: string[] } {
  const found = new Set<string>()
  let out = text
  const replaceWord = (value: string, marker: string) => {
    const v = value.trim()
    if (v.length < 2) return
    const re = new RegExp(`(?<![\\p{L}\\p{N}])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'giu')
    out = out.replace(re, () => { found.add(marker); return marker })
  }
  out = out.replace(EMAIL, () => { found.add(known.markers.email); return known.markers.email })
  out = out.replace(PHONE, () => { found.add(known.markers.phone); return known.markers.phone })
  if (known.account) replaceWord(known.account, known.markers.account)
  for (const name of [...known.names].sort((a, b) => b.length - a.length)) {
    replaceWord(name, known.markers.person)
    // A first name alone is personal too.
    const first = name.trim().split(/\s+/)[0]
    if (first && first.length >= 3 && first !== name.trim()) replaceWord(first, known.markers.person)
  }
  return { text: out, found: [...found] }
}
