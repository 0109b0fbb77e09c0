// Turns a mail_outbox row into the subject, text and HTML of the message, in the recipient's
// language. Templates live under views/mail/{html,text}/<kind>/<action>.eta.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'
import type { Locale } from '../domain/permissions.js'
import { isLocale, translator, type Translate } from '../i18n/index.js'
import { bodyMarker } from '../domain/thread-token.js'

const VIEWS = fileURLToPath(new URL('../../views/mail/', import.meta.url))

// One engine per variant: HTML escapes every `<%= %>`; text/plain must carry the characters
// themselves, never entities.
const engines = {
  html: new Eta({ views: VIEWS, autoEscape: true, cache: true }),
  text: new Eta({ views: VIEWS, autoEscape: false, autoTrim: false, cache: true })
}

export interface MailRowLike {
  template: string
  locale: string | null
  /** The row's JSON text, or already parsed. */
  data: string | Record<string, unknown>
}

export interface RenderOptions {
  publicUrl: string
  defaultLocale: Locale
  /** The message's thread token, printed as a body marker so replies find the ticket. */
  token?: string | null
}

export interface RenderedMail {
  subject: string
  text: string
  html: string
  locale: Locale
}

/** Every template name the commands and jobs queue; each has an HTML and a text template. */
export const MAIL_TEMPLATES = [
  'ticket.created', 'ticket.pick_up', 'ticket.escalate', 'ticket.hold', 'ticket.resume', 'ticket.resolve',
  'ticket.resolve_by_origin', 'ticket.close', 'ticket.cancel', 'ticket.accept', 'ticket.reject', 'ticket.reopen',
  'ticket.auto_close', 'ticket.transfer', 'ticket.rate', 'ticket.approve', 'ticket.reject_approval',
  'ticket.approval_request',
  'ticket.sla_escalation', 'note.reply', 'note.message', 'note.occurrence', 'note.mention'
] as const

// 'staff': a staff member told of something that is not theirs as assignee or manager (a mention).
const STAFF_ROLES = new Set(['assignee', 'desk_manager', 'staff'])
const TEMPLATE_NAME = /^(ticket|note|export|account)\.([a-z_]{1,40})$/
const found = new Map<string, string | null>()

/** The template file for a queued template name, or null when there is none (fallback). */
export function templateFile(name: string): string | null {
  const cached = found.get(name)
  if (cached !== undefined) return cached
  const m = TEMPLATE_NAME.exec(name)
  const file = m ? `${m[1]}/${m[2].replace(/_/g, '-')}.eta` : null
  const result = file && existsSync(join(VIEWS, 'html', file)) && existsSync(join(VIEWS, 'text', file)) ? file : null
  found.set(name, result)
  return result
}

function str(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return null
}

/** A value queued in every language (a managed list's label: { en, 'pt-BR' }) read in the recipient's; any other as it is. */
function inLocale(value: unknown, locale: Locale): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value
  const labels = value as Record<string, unknown>
  return labels[locale] ?? labels.en ?? null
}

function num(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null
}

export function parseData(data: MailRowLike['data']): Record<string, unknown> {
  if (typeof data !== 'string') return data
  const parsed: unknown = JSON.parse(data)
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('mail data is not a JSON object')
  return parsed as Record<string, unknown>
}

/** Where the recipient reads the ticket: staff in the desk, everyone else in the portal. */
export function ticketUrl(publicUrl: string, recipientRole: string | null, number: number): string {
  const area = recipientRole && STAFF_ROLES.has(recipientRole) ? 'desk' : 'portal'
  return `${publicUrl}/${area}/tickets/${number}`
}

// Header values must stay on one line; titles are user input.
function oneLine(text: string): string {
  return text.replace(/[\r\n\t\u2028\u2029]+/g, ' ').replace(/\s{2,}/g, ' ').trim()
}

// Trailing blanks go, except in the "-- " line that tells mail clients a signature follows.
function tidyText(text: string): string {
  return text.replace(/(?<!^--)[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n').trim() + '\n'
}

/** What every mail template sees as `it`. */
export interface MailView {
  t: Translate
  locale: Locale
  template: string
  role: string | null
  number: number | null
  title: string
  actor: string
  ticketUrl: string | null
  acceptUrl: string | null
  rejectUrl: string | null
  marker: string | null
  status: string | null
  /** The row's data, strings only (body, reason, resolution, parentNumber, sla, ...). */
  d: Record<string, string | null>
  /** Looks up `mail.<template>.<suffix>.<role>`, then `mail.<template>.<suffix>`. */
  tr(suffix: string, params?: Record<string, string | number | null>): string
}

export function buildView(row: MailRowLike, opts: RenderOptions): MailView {
  const locale: Locale = isLocale(row.locale) ? row.locale : opts.defaultLocale
  const t = translator(locale)
  const data = parseData(row.data)
  const d: Record<string, string | null> = {}
  for (const [k, v] of Object.entries(data)) d[k] = str(inLocale(v, locale))
  const number = num(data.number)
  const role = str(data.recipientRole)
  const title = oneLine(str(data.title) ?? '')
  const actor = str(data.actorName) ?? str(data.authorName) ?? t('mail.someone')
  // An approver may not be able to open the ticket: their mail links to the approval page instead.
  const url = number === null || role === 'approver' ? null : ticketUrl(opts.publicUrl, role, number)
  const isRequester = !role || !STAFF_ROLES.has(role)
  const base = { number, actor, title, parent: d.parentNumber }
  return {
    t, locale, template: row.template, role, number, title, actor, d,
    ticketUrl: url,
    acceptUrl: url && isRequester ? `${url}#accept` : null,
    rejectUrl: url && isRequester ? `${url}#reject` : null,
    marker: opts.token ? bodyMarker(opts.token) : null,
    status: d.status ? t(`status.${d.status}`) : null,
    tr(suffix, params = {}) {
      const all = { ...base, ...params }
      const keys = [role ? `mail.${row.template}.${suffix}.${role}` : null, `mail.${row.template}.${suffix}`]
      for (const key of keys) {
        if (!key) continue
        const text = t(key, all)
        if (text !== key) return text
      }
      return t(`mail.fallback.${suffix}`, all)
    }
  }
}

/** Renders a queued notification; unknown template names get the generic "update" mail. */
export function renderMail(row: MailRowLike, opts: RenderOptions): RenderedMail {
  const view = buildView(row, opts)
  const file = templateFile(row.template) ?? 'fallback.eta'
  // Mail about no ticket (an export) may name its own subject: `mail.<template>.subject`.
  const ownSubjectKey = `mail.${row.template}.subject`
  const ownSubject = view.number === null ? view.t(ownSubjectKey, view.d) : ownSubjectKey
  const subject = oneLine(ownSubject !== ownSubjectKey
    ? ownSubject
    : view.number === null
      ? view.t('mail.subjectNoNumber', { title: view.title || view.t('app.name') })
      : view.t('mail.subject', { number: view.number, title: view.title }))
  const html = engines.html.render(`/html/${file}`, view)
  const text = tidyText(engines.text.render(`/text/${file}`, view))
  return { subject, text, html, locale: view.locale }
}
