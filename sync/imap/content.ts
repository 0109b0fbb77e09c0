// What a person wrote in a reply, without the history their mail client quoted below it or the
// signature it added. Pure functions; table-tested per mail client in test/imap/content.test.ts.
import EmailReplyParser from 'email-reply-parser'
import { convert } from 'html-to-text'
import { messagesFor } from '../../src/i18n/index.js'

// The "type your reply above this line" banner of our own notifications, in every language.
const REPLY_ABOVE = (['en', 'pt-BR'] as const).map((l) => messagesFor(l)['mail.replyAbove']).filter((s): s is string => Boolean(s))

/** Lines that start the quoted history in the clients we know (checked on whole lines). */
const QUOTE_HEADERS: RegExp[] = [
  // Gmail, Apple Mail, iPhone, Android, Thunderbird: "On <date>, <name> wrote:" (may wrap once)
  /^\s*On\s[^\n]{1,300}(\n[^\n]{1,200})?\bwrote:\s*$/m,
  // Portuguese: "Em <data>, <nome> escreveu:" (Gmail wraps it)
  /^\s*Em\s[^\n]{1,300}(\n[^\n]{1,200})?\bescreveu:\s*$/m,
  // Outlook / Samsung separators
  /^\s*-{2,}\s*(Original Message|Mensagem original|Mensaje original|Message d'origine|Ursprüngliche Nachricht)\s*-{2,}\s*$/im,
  /^\s*-{5,}\s*(Forwarded message|Mensagem encaminhada)\s*-{5,}\s*$/im,
  /^\s*_{20,}\s*$/m,
  // Outlook without a separator: a From: line followed by Sent:/Date: (any language Outlook uses)
  /^\s*\*?(From|De|Von|Van|Da)\s?:\*?\s[^\n]+\n\s*\*?(Sent|Date|Enviado|Enviada|Data|Gesendet|Envoyé|Verzonden)\s?:\*?\s/im
]

/** Signature lines that end what was written (mobile "sent from" lines, the "-- " delimiter). */
const SIGNATURE_LINES: RegExp[] = [
  /^-- ?$/,
  /^(Sent from|Sent with|Get Outlook for|Enviado do meu|Enviado de meu|Enviado pelo|Enviado a partir do|Obter o Outlook para|Von meinem|Envoyé de mon)\b.{0,80}$/i
]

function cutAt(text: string, index: number): string {
  return index >= 0 ? text.slice(0, index) : text
}

/** The earliest position where quoted history starts, or -1. */
export function quoteStart(text: string): number {
  let earliest = -1
  const consider = (i: number) => {
    if (i >= 0 && (earliest < 0 || i < earliest)) earliest = i
  }
  for (const banner of REPLY_ABOVE) {
    const i = text.indexOf(banner)
    if (i >= 0) consider(text.lastIndexOf('\n', i) + 1)
  }
  for (const re of QUOTE_HEADERS) consider(text.search(re))
  // A block of "> " lines is quoted history too, wherever it starts.
  const quoted = /^>[^\n]*(\n>[^\n]*)+/m.exec(text)
  if (quoted) consider(quoted.index)
  return earliest
}

function dropSignature(text: string): string {
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (SIGNATURE_LINES.some((re) => re.test(lines[i].trimEnd())) && i > 0) return lines.slice(0, i).join('\n')
  }
  return text
}

const parser = new EmailReplyParser()

/**
 * The new text of a reply: quoted history (per client), our reply-above banner, the body marker
 * and trailing signatures removed. Falls back to the whole text when stripping leaves nothing.
 */
export function stripQuotedReply(input: string): string {
  const text = input.replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ')
  let visible = cutAt(text, quoteStart(text))
  visible = dropSignature(visible)
  // The library knows more languages' quote headers; it only ever shortens what we kept.
  const library = parser.parseReply(visible)
  if (library.trim().length > 0 && library.length < visible.length) visible = library
  visible = visible.replace(/\[cb-ref:[a-z2-7]{16,64}\]/gi, '')
  const cleaned = visible.split('\n').map((l) => l.trimEnd()).join('\n').replace(/\n{3,}/g, '\n\n').trim()
  return cleaned || text.trim()
}

// Where mail clients start the quoted part of an HTML reply: everything from there on goes.
const HTML_QUOTE_MARKERS = [
  /<div[^>]*class="?gmail_quote/i,
  /<div[^>]*class="?moz-cite-prefix/i,
  /<blockquote/i,
  /<div[^>]*id="?(divRplyFwdMsg|appendonsend|mail-editor-reference-message-container)/i,
  /<hr[^>]*id="?stopSpelling/i
]

/** Plain text of an HTML body (scripts, styles and images dropped), quoted part removed. */
export function htmlToSafeText(html: string): string {
  let cut = html.length
  for (const re of HTML_QUOTE_MARKERS) {
    const m = re.exec(html)
    if (m && m.index < cut) cut = m.index
  }
  const text = convert(html.slice(0, cut), {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'head', format: 'skip' }
    ]
  })
  return text.replace(/\n{3,}/g, '\n\n').trim()
}

/** A staff reply whose first line is `#internal` becomes an internal note; the line itself goes. */
export function internalMarker(body: string): { internal: boolean; body: string } {
  const m = /^\s*#internal[ \t]*(\n|$)/i.exec(body)
  return m ? { internal: true, body: body.slice(m[0].length).trim() } : { internal: false, body }
}
