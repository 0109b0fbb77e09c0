// What a person wrote in a reply: their own words kept whole (answers written between quoted
// lines with the lines they answer, text written below the quote, the sign-off, forwarded
// messages with their headers), and only what is not theirs removed: the quoted history of our
// notification, our footer, `-- ` signatures, disclaimers, client lines and image placeholders.
// Pure functions; every client's format is in test/fixtures/mail/replies/ (npm run mail:score).
import { convert } from 'html-to-text'
import {
  headerAt, isBanner, isBoilerplate, isClientLine, isContextNoise, isDisclaimer, isFooterEnd, isFooterLine, isOurs, isPrintLine, isSignatureStart,
  showLine, splitLine, withoutImages, withoutMarkers, type Line
} from './reply-lines.js'

/** Line breaks as `\n`, no-break and narrow spaces as spaces, invisible marks (BOM, zero-width space) gone. */
export function normalizeText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/[\u00a0\u202f\u2007]/g, ' ').replace(/[\u200b\u200e\u200f\ufeff]/g, '')
}

/**
 * What tells our notifications apart: who sends them (MAIL_FROM's name and address, the reply-to
 * address), as quote headers name the sender, and the texts they carried (the note a reply
 * answers), which tell answers typed between the lines of an unprefixed quote from the quote.
 */
export interface Ours {
  names?: string[]
  addresses?: string[]
  texts?: string[]
}

function squeeze(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Whether header lines name our sender: one of its names, or its address (plus-addressed too). */
function namesUs(header: Line[], ours: Ours): boolean {
  if (header.length === 0) return false
  // The sender's line only: a forwarded message sent *to* us names us in its To line.
  const text = header.map((l) => l.text).filter((t) => !/^\W{0,2}(to|cc|bcc|para|cco|subject|assunto|date|data|sent|enviad[oa]s?(?: em)?)\W{0,2}\s*:/i.test(t.trim())).join('\n')
  const patterns = [
    ...(ours.names ?? []).filter((n) => n.trim().length >= 3).map((n) => new RegExp(`(?<![\\p{L}\\p{N}])${escape(n.trim())}(?![\\p{L}\\p{N}])`, 'iu')),
    ...(ours.addresses ?? []).filter((a) => a.includes('@')).map((a) => {
      const at = a.lastIndexOf('@')
      return new RegExp(`(?<![\\w.+-])${escape(a.slice(0, at))}(\\+[^@\\s<>]*)?@${escape(a.slice(at + 1))}(?![\\w.-])`, 'i')
    })
  ]
  return patterns.some((re) => re.test(text))
}

/** A part of the message: the text before any header (`header` 0), or one header and what follows it. */
interface Section {
  lines: Line[]
  header: number
}

function sectionsOf(lines: Line[]): Section[] {
  const sections: Section[] = [{ lines: [], header: 0 }]
  for (let i = 0; i < lines.length;) {
    const found = headerAt(lines, i)
    // Our banner opens our notification when a client quoted it with no header of its own.
    const banner = !found && sections.length === 1 && lines[i].depth === 0 && isBanner(lines[i].text)
    if (found || banner) {
      const header = found?.lines ?? 0
      sections.push({ lines: lines.slice(i, i + header), header })
      i += header
      if (banner) sections[sections.length - 1].lines.push(lines[i++])
      continue
    }
    sections[sections.length - 1].lines.push(lines[i++])
  }
  return sections
}

/** What someone wrote in one stretch of their own lines, without what clients and servers add. */
function ownWords(texts: string[]): string[] {
  const signature = texts.findIndex(isSignatureStart)
  const kept: string[] = []
  for (const raw of signature >= 0 ? texts.slice(0, signature) : texts) {
    if (isBanner(raw) || isFooterLine(raw) || isClientLine(raw) || isPrintLine(raw)) continue
    const text = withoutImages(withoutMarkers(raw)).trimEnd()
    if (text.trim() === '' && raw.trim() !== '') continue
    kept.push(text)
  }
  // Disclaimers follow the words, never come between them: only trailing ones go.
  for (;;) {
    while (kept.length > 0 && kept[kept.length - 1].trim() === '') kept.pop()
    let start = kept.length
    while (start > 0 && kept[start - 1].trim() !== '') start--
    if (start === kept.length || !isDisclaimer(kept.slice(start).join('\n'))) break
    kept.length = start
  }
  while (kept.length > 0 && kept[0].trim() === '') kept.shift()
  return kept
}

/** The quoted lines an answer answers: the last quoted paragraph before it, without our notification's own lines. */
function contextOf(quoted: Line[]): string[] {
  let end = quoted.length
  while (end > 0 && quoted[end - 1].text.trim() === '') end--
  let start = end
  while (start > 0 && quoted[start - 1].text.trim() !== '') start--
  return quoted.slice(start, end)
    .filter((l) => !isContextNoise(l.text))
    .map((l) => showLine({ depth: l.depth, text: withoutImages(withoutMarkers(l.text)).trimEnd() }))
    .filter((s) => s.replace(/^>+/, '').trim() !== '')
}

type Piece = string[]

/**
 * Lines where quoted runs and the author's own runs alternate. When the quotes are our
 * notification, each answer keeps the quoted paragraph it follows and the rest of the quote
 * goes; other quotes are the author's to keep.
 */
function alternating(lines: Line[], oursQuoted: boolean): Piece[] {
  const pieces: Piece[] = []
  let current: Piece = []
  let quoted: Line[] = []
  for (let i = 0; i < lines.length;) {
    if (lines[i].depth > 0) {
      const run: Line[] = []
      while (i < lines.length && lines[i].depth > 0) run.push(lines[i++])
      if (oursQuoted) quoted = run
      else current.push(...run.map((l) => showLine({ depth: l.depth, text: withoutImages(withoutMarkers(l.text)).trimEnd() })))
      continue
    }
    const own: string[] = []
    while (i < lines.length && lines[i].depth === 0) own.push(lines[i++].text)
    const words = ownWords(own)
    if (words.length === 0) continue
    if (oursQuoted) {
      const context = contextOf(quoted)
      pieces.push(context.length > 0 ? [...context, '', ...words] : words)
    } else {
      // The author's own quoting stays as they laid it out.
      const gap = current.length > 0 && own[0].trim() === ''
      current.push(...(gap ? ['', ...words] : words))
      if (own[own.length - 1].trim() === '' && i < lines.length) current.push('')
    }
  }
  if (current.length > 0) pieces.push(current)
  return pieces
}

function quotesOurs(lines: Line[]): boolean {
  return lines.some((l) => l.depth > 0 && isOurs(l.text))
}

function sectionPieces(section: Section, ours: Ours): Piece[] {
  const { lines, header } = section
  if (header === 0 && !lines.some((l) => l.depth === 0 && isBanner(l.text))) return alternating(lines, quotesOurs(lines))
  if (!lines.some((l) => isOurs(l.text)) && !namesUs(lines.slice(0, header), ours)) {
    // Not our notification: a forwarded message, or history that is not ours to drop.
    const kept = lines.map((l) => showLine({ depth: l.depth, text: withoutImages(withoutMarkers(l.text)).trimEnd() }))
    return [kept]
  }
  const body = lines.slice(header)
  const first = body.find((l) => l.text.trim() !== '')
  if (first && first.depth > 0) return alternating(body, true)
  // Quoted without `>` (Outlook, Yahoo, Notes, Samsung): our notification runs to its footer;
  // what follows it was written below the quote.
  let end = -1
  body.forEach((l, i) => {
    if (l.depth === 0 && isFooterEnd(l.text)) end = i
  })
  if (end < 0) return []
  const after = body.slice(end + 1)
  const sent = (ours.texts ?? []).map((t) => normalizeText(t))
  if (sent.length === 0) return alternating(after, quotesOurs(after))
  // Each line of what we sent; or, long enough not to be a short answer, a part of it (clients
  // rewrap lines) or the whole of it (some run a note's lines together).
  const sentLines = new Set(sent.flatMap((t) => t.split('\n')).map(squeeze).filter(Boolean))
  const whole = sent.map(squeeze).join('\n')
  // Knowing what we sent, a line of the quote that is neither that nor our notification's own was
  // typed into it: an answer (Outlook users answer inline in colour; plain text keeps no colour).
  let previous = false
  const marked = body.slice(0, end + 1).map((l) => {
    const t = squeeze(l.text)
    // The short rest of a rewrapped line counts as sent when the line before it was.
    const sentLine = sentLines.has(t) || ((t.length >= 20 || previous) && t !== '' && whole.includes(t))
    previous = sentLine
    return t === '' || sentLine || isBoilerplate(t) ? { depth: 1, text: l.text } : l
  })
  return [...alternating(marked, true), ...alternating(after, quotesOurs(after))]
}

function assemble(pieces: Piece[]): string {
  const lines: string[] = []
  for (const piece of pieces) {
    if (piece.length === 0) continue
    if (lines.length > 0) lines.push('')
    lines.push(...piece)
  }
  return lines.map((l) => l.trimEnd()).join('\n').replace(/\n{3,}/g, '\n\n').trim()
}

/**
 * The text a person wrote in a reply (see the top of this file). Empty when nothing in it is
 * theirs: a reply that only quotes our notification. Quoted history is ours when it holds a line
 * of our notifications or its header names `sender` (a quote trimmed to one question).
 */
export function stripQuotedReply(input: string, ours: Ours = {}): string {
  const lines = normalizeText(input).split('\n').map(splitLine)
  return assemble(sectionsOf(lines).flatMap((s) => sectionPieces(s, ours)))
}

/** Plain text of an HTML body: scripts, styles and images dropped, quoted parts prefixed with `>`. */
export function htmlToSafeText(html: string): string {
  const text = convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
      { selector: 'blockquote', options: { trimEmptyLines: false } },
      // Line breaks that only CSS keeps (our notifications print the note this way).
      { selector: '[style*="white-space:pre"]', format: 'pre' },
      { selector: '[style*="white-space: pre"]', format: 'pre' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'head', format: 'skip' }
    ]
  })
  return normalizeText(text).split('\n').map((l) => l.trimEnd()).join('\n').replace(/\n{3,}/g, '\n\n').trim()
}

export interface ReplyText {
  /** What the author wrote (see stripQuotedReply). */
  text: string
  /** The whole decoded text of the message (its HTML as text when it has no plain part). */
  original: string
}

/** The text of a message's body, from its text/plain part, else its HTML. */
export function replyText(body: { text?: string | null; html?: string | null }, plain: boolean, ours: Ours = {}): ReplyText {
  const original = plain ? (body.text ?? '').replace(/\r\n?/g, '\n').trim() : htmlToSafeText(body.html ?? '')
  return { text: stripQuotedReply(original, ours), original }
}

/** Our sender as configured: MAIL_FROM (`Name <address>`) and the reply-to address. */
export function ourSender(mailFrom: string, replyTo: string | null | undefined): Required<Pick<Ours, 'names' | 'addresses'>> {
  const m = /^\s*"?([^"<]*?)"?\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(mailFrom)
  const names = m && m[1] ? [m[1]] : []
  const addresses = [m ? m[2] : mailFrom.trim(), ...(replyTo ? [replyTo] : [])].filter((a) => /^[^\s@]+@[^\s@]+$/.test(a))
  return { names, addresses: [...new Set(addresses.map((a) => a.toLowerCase()))] }
}

/** A staff reply whose first line is `#internal` becomes an internal note; the line itself goes. */
export function internalMarker(body: string): { internal: boolean; body: string } {
  const m = /^\s*#internal[ \t]*(\n|$)/i.exec(body)
  return m ? { internal: true, body: body.slice(m[0].length).trim() } : { internal: false, body }
}
