// What each line of a reply is: its quote depth, a header that starts quoted history or a
// forward (per mail client, en and pt-BR), a line of our own notifications, a signature, a
// disclaimer, an image placeholder. Pure functions, used by content.ts.
import { LOCALES, messagesFor } from '../../src/i18n/index.js'

export interface Line {
  /** How many `>` prefix the line (0: not quoted). */
  depth: number
  /** The line without its quote prefix and trailing blanks. */
  text: string
}

const QUOTE_PREFIX = /^((?:[ \t]?>)+)[ \t]?/

export function splitLine(raw: string): Line {
  const m = QUOTE_PREFIX.exec(raw)
  if (!m) return { depth: 0, text: raw.trimEnd() }
  return { depth: m[1].split('>').length - 1, text: raw.slice(m[0].length).trimEnd() }
}

/** The line as it is shown again: a quote keeps one `>` per level and one space. */
export function showLine(line: Line): string {
  if (line.depth === 0) return line.text
  return '>'.repeat(line.depth) + (line.text ? ` ${line.text}` : '')
}

// Headers are short: longer lines are never tested (and no pattern runs over a huge line).
const MAX_HEADER_LINE = 500

// Unicode hyphens and dashes (Proton writes its separator with U+2010) read as '-'.
function plain(text: string): string {
  return text.replace(/[\u2010-\u2015\u2212]/g, '-').trim()
}

// ---- Lines of our own notifications, from the message catalogs (views/mail/) ----

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// A link as mail clients print it after its text: `<url>`, `[url]`, `( url )`, `: url`.
const URL_TAIL = String.raw`(?:\s*[<[(]\s*(?:https?|mailto):[^\s>\])]*\s*[>\])]|:?\s+https?:\/\/\S+)?`

/** A regular expression for a catalog text: each `{placeholder}` stands for some text. */
function templatePattern(text: string): RegExp | null {
  const literal = text.replace(/\{\w+\}/g, '').replace(/[\s:.,#[\]]/g, '')
  if (literal.length < 4) return null
  const body = text.trim().split(/\{\w+\}/).map(escape).join('.+?')
  return new RegExp(`^${body}${URL_TAIL}$`, 'i')
}

function catalogPatterns(keys: (key: string) => boolean): RegExp[] {
  const out: RegExp[] = []
  for (const locale of LOCALES) {
    for (const [key, text] of Object.entries(messagesFor(locale))) {
      if (!keys(key)) continue
      const re = templatePattern(text)
      if (re) out.push(re)
    }
  }
  return out
}

const BANNERS = LOCALES.map((l) => messagesFor(l)['mail.replyAbove']).filter((s): s is string => Boolean(s)).map((s) => s.trim())
const MARKER = /\[cb-ref:[a-z2-7]{16,64}\]/gi
/** The last lines of every notification: the automatic-message footer and the reference line. */
const FOOTER = catalogPatterns((k) => k === 'mail.footer.automatic' || k === 'mail.footer.reference' || /^mail\.[a-z]+\.footer$/.test(k))
/** Lines only our notifications hold: the banner, footer, ticket line, links, every intro. */
const DISTINCT = catalogPatterns((k) => k.startsWith('mail.') && (/intro/.test(k) || ['mail.ticketLine', 'mail.viewTicket', 'mail.viewTicketText'].includes(k)))
/** Every line a notification prints, the short ones (labels, the app's name) too. */
const ANY = catalogPatterns((k) => k.startsWith('mail.') || k === 'app.name')
/** The sentences that ask the reader something: an answer to one keeps it as its context. */
const ASKS = catalogPatterns((k) => k.startsWith('mail.') && /\.(ask|hint)$/.test(k))
const LABELS = LOCALES.flatMap((l) => Object.entries(messagesFor(l)).filter(([k]) => k.startsWith('mail.label.')).map(([, v]) => `${v}:`.toLowerCase()))
const APP_NAMES = LOCALES.map((l) => (messagesFor(l)['app.name'] ?? '').toLowerCase())

function matchesAny(patterns: RegExp[], text: string): boolean {
  return text.length <= MAX_HEADER_LINE && patterns.some((re) => re.test(text))
}

export function isBanner(text: string): boolean {
  return BANNERS.includes(text.trim())
}

export function hasMarker(text: string): boolean {
  MARKER.lastIndex = 0
  return MARKER.test(text)
}

export function withoutMarkers(text: string): string {
  return text.replace(MARKER, '')
}

/** Our footer's lines: the automatic-message line and the reference line. */
export function isFooterLine(text: string): boolean {
  return matchesAny(FOOTER, text.trim())
}

/** A line that ends one of our notifications (footer or reference). */
export function isFooterEnd(text: string): boolean {
  return hasMarker(text) || isFooterLine(text)
}

/** A line that shows the text around it is one of our notifications. */
export function isOurs(text: string): boolean {
  const t = text.trim()
  return isBanner(t) || isFooterEnd(t) || matchesAny(DISTINCT, t)
}

// Proton writes a link as `[text](url)`; buttons side by side end up on one line, each with its link.
const MARKDOWN_LINK = /^\[(.+)\]\((?:https?|mailto):[^)\s]*\)$/
const LINK = /\s*[<[(]\s*(?:https?|mailto):[^\s>\])]*\s*[>\])]\s*/

function isNotificationLine(text: string): boolean {
  const t = text.trim().replace(MARKDOWN_LINK, '$1')
  if (t === '' || isSignatureStart(t)) return true
  if (LABELS.includes(t.toLowerCase()) || APP_NAMES.includes(t.toLowerCase())) return true
  return isOurs(t) || matchesAny(ANY, t) || attributionText(t)
}

/** Any line a notification prints besides the note it carries. */
export function isBoilerplate(text: string): boolean {
  if (isNotificationLine(text)) return true
  const pieces = text.split(LINK).map((p) => p.trim()).filter(Boolean)
  return pieces.length > 1 && text.length <= MAX_HEADER_LINE && pieces.every(isNotificationLine)
}

/** A line never kept as the context of an answer: our notification's own, except its questions. */
export function isContextNoise(text: string): boolean {
  return isBoilerplate(text) && !matchesAny(ASKS, text.trim())
}

// ---- Headers that start quoted history or a forward ----

const ATTRIBUTION_START = /^(On|Em|Le|Am|El|Il|Op)\s/
const ATTRIBUTION_END = /\b(wrote|escreveu|a écrit|écrit|schrieb|escribió|ha scritto|schreef)\s*:$/i
// Notes: "Name <address> wrote on 23/11/2026 10:00:00:"; many clients: "Name <address> wrote:".
const WROTE_ON = /^.{2,200}\s(wrote|escreveu)\s(on|em)\s.{4,120}:$/i
const NAME_WROTE = /^.{0,200}<[^<>\s]+@[^<>\s]+>\s*(wrote|escreveu)\s*:$/i

function attributionText(text: string): boolean {
  if (text.length > MAX_HEADER_LINE) return false
  return (ATTRIBUTION_START.test(text) && ATTRIBUTION_END.test(text)) || WROTE_ON.test(text) || NAME_WROTE.test(text)
}

const ORIGINAL = /^-{2,}\s*(original message|mensagem original|mensaje original|message d'origine|ursprüngliche nachricht|messaggio originale)\s*-{2,}$/i
const FORWARDED = /^(-{2,}\s*(forwarded message|mensagem encaminhada|mensaje reenviado|message transféré|weitergeleitete nachricht)\s*-{2,}|(begin forwarded message|início da mensagem encaminhada|inicio del mensaje reenviado)\s*:)$/i
const RULE = /^[-_]{10,}$/
// Header fields as clients print them above a quoted or forwarded message (Outlook bolds them).
const FIELD = /^\*{0,2}(from|sent|date|to|cc|bcc|subject|reply-to|de|enviad[oa]s?(?: em)?|data|para|assunto|cco|responder a)\*{0,2}\s*:\*{0,2}(\s|$)/i
const FROM_FIELD = /^\*{0,2}(from|de)\*{0,2}\s*:/i
const WHEN_FIELD = /^\*{0,2}(sent|date|subject|enviad[oa]s?(?: em)?|data|assunto)\*{0,2}\s*:/i

/** A header found at a line: how many lines it takes. Whether what follows goes depends on whose it is. */
export interface Header {
  lines: number
}

/** Header fields from line `i`: at least two, a From and a date or subject among them (one after a separator). */
function headerRun(lines: Line[], i: number, afterSeparator = false): number {
  const depth = lines[i]?.depth
  let n = 0
  let from = false
  let when = false
  while (i + n < lines.length && lines[i + n].depth === depth) {
    const t = plain(lines[i + n].text)
    if (t.length > MAX_HEADER_LINE || !FIELD.test(t)) break
    from ||= FROM_FIELD.test(t)
    when ||= WHEN_FIELD.test(t)
    n++
  }
  if (afterSeparator) return n
  return n >= 2 && from && when ? n : 0
}

function skipBlank(lines: Line[], i: number, most = 2): number {
  let j = i
  while (j < lines.length && j - i < most && lines[j].text.trim() === '') j++
  return j
}

function attributionAt(lines: Line[], i: number): number {
  const first = lines[i]
  const start = plain(first.text)
  if (attributionText(start)) return 1
  // Gmail and others wrap a long attribution over two or three lines.
  if (!ATTRIBUTION_START.test(start) && !/\s(wrote|escreveu)\s(on|em)\s/i.test(start) && !/<[^<>\s]*$/.test(start) && !/<[^<>\s]+@[^<>\s]+>$/.test(start)) return 0
  let joined = start
  for (let k = 1; k < 3 && i + k < lines.length; k++) {
    const next = lines[i + k]
    if (next.depth !== first.depth || next.text.trim() === '') return 0
    joined += (joined.endsWith('<') ? '' : ' ') + plain(next.text)
    if (attributionText(joined)) return k + 1
  }
  return 0
}

/** The header starting at line `i`, if one does: an attribution, a separator, a block of header fields. */
export function headerAt(lines: Line[], i: number): Header | null {
  const text = plain(lines[i].text)
  if (text === '' || text.length > MAX_HEADER_LINE) return null
  const attribution = attributionAt(lines, i)
  if (attribution > 0) return { lines: attribution }
  if (FORWARDED.test(text) || ORIGINAL.test(text)) {
    const next = skipBlank(lines, i + 1)
    const run = next < lines.length ? headerRun(lines, next, true) || attributionAt(lines, next) : 0
    return { lines: run > 0 ? next - i + run : 1 }
  }
  if (RULE.test(text)) {
    const next = skipBlank(lines, i + 1, 1)
    const run = next < lines.length ? headerRun(lines, next) : 0
    return run > 0 ? { lines: next - i + run } : null
  }
  const run = headerRun(lines, i)
  return run > 0 ? { lines: run } : null
}

// ---- What a client or a mail server adds to what a person wrote ----

// Gmail `[image: logo.png]`, `[imagem: …]` in Portuguese, Outlook `[cid:image001.png@01DB…]`.
const IMAGE_PLACEHOLDER = /\[(?:image|imagem|imagen|bild|cid):[^\]\n]{0,300}\]/gi

export function withoutImages(text: string): string {
  return text.replace(IMAGE_PLACEHOLDER, '')
}

/** A mobile or webmail client's own line ("Sent from my iPhone", "Get Outlook for Android"). */
const CLIENT_LINE = /^(Sent from|Sent with|Sent via|Get Outlook for|Enviado do|Enviado de|Enviado pelo|Enviado com|Enviado via|Enviado a partir d[oe]|Obter o Outlook para|Baixe o Outlook para|Von meinem|Envoyé de)\b.{0,70}$/i

export function isClientLine(text: string): boolean {
  return CLIENT_LINE.test(text.trim())
}

/** "Think before you print" lines, in their usual wordings. */
const PRINT_LINE = /(before (you )?print|consider the environment|antes de imprimir|pense no meio ambiente|pense em seu compromisso com o meio ambiente)/i

export function isPrintLine(text: string): boolean {
  const t = text.trim()
  return t.length > 0 && t.length <= 200 && PRINT_LINE.test(t)
}

/** The `-- ` line that starts a signature (clients that trim blanks leave `--`). */
export function isSignatureStart(text: string): boolean {
  return /^-- ?$/.test(text)
}

const DISCLAIMER_HEADING = /^\W{0,3}(confidentiality notice|confidentiality|disclaimer|legal notice|aviso legal|aviso de confidencialidade|confidencialidade|isenção de responsabilidade)\b[^:\n]{0,30}:/i
// A disclaimer names confidentiality or the intended recipient, and one more of its stock phrases.
const CORE = [/confidential/i, /privileged/i, /intended (solely |only )?(for|recipient)/i, /confidencia/i, /destinat[aá]ri[oa]/i, /sigil/i]
const MORE = [/in error/i, /notify (the )?sender/i, /\b(delete|destroy)\b/i, /prohibited|unauthori[sz]ed/i, /por engano/i, /\b(apague|exclua|elimine|destrua)\b/i, /proibid/i, /privilegiad/i, /\blegal\b/i]

/** A legal disclaimer paragraph (only ever removed from the end of what someone wrote). */
export function isDisclaimer(paragraph: string): boolean {
  const text = paragraph.replace(/\s+/g, ' ').trim()
  if (text.length < 60) return false
  if (DISCLAIMER_HEADING.test(text)) return true
  const core = CORE.filter((re) => re.test(text)).length
  const more = MORE.filter((re) => re.test(text)).length
  return core >= 1 && core + more >= 2
}
