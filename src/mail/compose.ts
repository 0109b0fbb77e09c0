// Builds the complete message for an outbox row: rendered content plus the threading headers.
// Shared by the drainer and the admin pages, so what the admin reads is what is sent.
import { randomBytes } from 'node:crypto'
import type { Config } from '../config.js'
import type { Locale } from '../domain/permissions.js'
import { parseData, renderMail, type MailRowLike } from './render.js'
import { approvalMailData, APPROVAL_TEMPLATE } from './approval-links.js'
import { formatDateTime, isLocale } from '../i18n/index.js'
import {
  bareAddress, base32Encode, domainOf, messageIdFor, replyAddressFor, signToken, threadRootId,
  RECIPIENT_KINDS, type RecipientKind
} from '../domain/thread-token.js'

export interface MailSettings {
  from: string
  /** The address replies go to; each message plus-addresses it with its token. */
  replyBase: string
  /** Right-hand side of our Message-IDs. */
  domain: string
  publicUrl: string
  defaultLocale: Locale
  maxAttempts: number
}

export function mailSettings(config: Pick<Config, 'MAIL_FROM' | 'REPLY_TO_ADDRESS' | 'publicUrl' | 'DEFAULT_LOCALE' | 'MAIL_MAX_ATTEMPTS'>): MailSettings {
  const replyBase = config.REPLY_TO_ADDRESS ?? bareAddress(config.MAIL_FROM)
  return {
    from: config.MAIL_FROM,
    replyBase,
    domain: domainOf(replyBase) ?? domainOf(config.MAIL_FROM) ?? 'localhost',
    publicUrl: config.publicUrl,
    defaultLocale: config.DEFAULT_LOCALE,
    maxAttempts: config.MAIL_MAX_ATTEMPTS
  }
}

export interface OutboxRowLike extends MailRowLike {
  ticket_id: number | null
  recipient: string
  /** Fixed when the mail was queued (older rows have none): the Message-ID's unique part. */
  message_key?: string | null
}

export interface ComposedMail {
  from: string
  to: string
  replyTo: string
  subject: string
  text: string
  html: string
  messageId: string
  inReplyTo?: string
  references?: string[]
  token: string | null
  headers: Record<string, string>
}

function recipientKind(value: unknown): RecipientKind | null {
  return typeof value === 'string' && (RECIPIENT_KINDS as readonly string[]).includes(value) ? (value as RecipientKind) : null
}

/** A password reset or invitation mail: its link on this site, and until when it works. */
function accountLinkData(data: Record<string, unknown>, publicUrl: string, locale: Locale): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof data.linkPath === 'string' && /^\/(password\/reset|invitation)\/[A-Za-z0-9_-]+$/.test(data.linkPath)) out.linkUrl = `${publicUrl}${data.linkPath}`
  if (typeof data.expiresAt === 'string' && !Number.isNaN(Date.parse(data.expiresAt))) out.expiresOn = formatDateTime(data.expiresAt, locale)
  return out
}

function positive(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null
}

/**
 * The message for a row; `suffix` makes its Message-ID unique: the row's own key, fixed when it
 * was queued, so an attempt made again after a crash is the same message (random for rows
 * queued before there were keys).
 */
export function composeMail(row: OutboxRowLike, settings: MailSettings, key: Uint8Array, suffix = row.message_key ?? base32Encode(randomBytes(10))): ComposedMail {
  const data = parseData(row.data)
  const token = row.ticket_id === null ? null : signToken({
    ticketId: row.ticket_id, noteId: positive(data.noteId), recipient: recipientKind(data.recipientRole)
  }, key)
  // An approval request's links are signed here, where the key is (mail/approval-links.ts).
  const locale = isLocale(row.locale) ? row.locale : settings.defaultLocale
  const shown = row.template === APPROVAL_TEMPLATE
    ? { ...data, ...approvalMailData(data, { publicUrl: settings.publicUrl, mailKey: key, locale }) }
    : row.template.startsWith('account.')
      ? { ...data, ...accountLinkData(data, settings.publicUrl, locale) }
      : data
  const rendered = renderMail({ ...row, data: shown }, { publicUrl: settings.publicUrl, defaultLocale: settings.defaultLocale, token })
  const headers: Record<string, string> = {
    // RFC 3834: tells well-behaved autoresponders not to answer us (no mail loops).
    'Auto-Submitted': 'auto-generated',
    'X-Auto-Response-Suppress': 'All'
  }
  const number = positive(data.number)
  if (number !== null) headers['X-Casebridge-Ticket'] = String(number)
  const mail: ComposedMail = {
    from: settings.from,
    to: row.recipient,
    replyTo: token ? replyAddressFor(settings.replyBase, token) : settings.replyBase,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    messageId: messageIdFor(token ?? 'm', suffix, settings.domain),
    token,
    headers
  }
  if (row.ticket_id !== null) {
    const root = threadRootId(row.ticket_id, key, settings.domain)
    mail.inReplyTo = root
    mail.references = [root]
  }
  return mail
}
