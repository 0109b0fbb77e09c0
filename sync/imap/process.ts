// One incoming message from fetch to decision: parse, classify, thread, authorize, apply. The
// note (or quarantine row) and the record that the message was handled are written in one
// transaction; the caller moves the message on the server only after that commit.
import { createHash } from 'node:crypto'
import { simpleParser, type ParsedMail } from 'mailparser'
import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import type { InboundResult } from '../../src/db/schema.js'
import type { Locale } from '../../src/domain/permissions.js'
import { canSeeTicket, type Actor } from '../../src/domain/permissions.js'
import { findLogin, loadActor, openableAccounts } from '../../src/db/people.js'
import {
  inboundDesk, inboundTicket, knownMessageIds, lastUnknownSenderReply, notificationTexts, ticketIdByNumber, ticketParticipation, type InboundKey
} from '../../src/db/mailbox.js'
import { isUniqueViolation, personWho } from '../../src/commands/kernel.js'
import { openTicketByEmail, quarantineEmail, replyByEmail, type InboundMessage } from '../../src/commands/mail-intake.js'
import { LIMITS } from '../../src/domain/ticket.js'
import { cleanText, clipText } from '../../src/domain/text.js'
import { UNKNOWN_SENDER_TEMPLATE } from '../../src/domain/notifications.js'
import { verifyToken } from '../../src/domain/thread-token.js'
import { translator } from '../../src/i18n/index.js'
import type { FileStore, StoredFile } from '../../src/storage/attachments.js'
import { classifyAutomated } from './classify.js'
import { chooseThread, isParticipant, titleFromSubject } from './threading.js'
import { internalMarker, replyText, type Ours } from './content.js'

export interface InboundSettings {
  maxInboundBytes: number
  maxAttachmentBytes: number
  unknownSenderReply: boolean
  /** Desk name for tickets opened by mail (null: the first desk). */
  inboundDesk: string | null
  publicUrl: string
  defaultLocale: Locale
  /** Who our notifications come from (see `ourSender`), to tell their quoted history in replies. */
  ours?: Pick<Ours, 'names' | 'addresses'>
}

export interface InboundDeps {
  db: Db
  store: FileStore
  key: Uint8Array
  clock: () => Date
  random: () => number
  log: Logger
  settings: InboundSettings
  /** Senders already looked up in this run (address -> person, null for unknown). */
  senderCache?: Map<string, Actor | null>
}

/** What the server told us about a message; `source` is null when it was too large to fetch. */
export interface FetchedMessage {
  uid: number
  size: number
  source: Buffer | null
  envelope?: { messageId?: string | null; from?: string | null; subject?: string | null }
}

export type Outcome =
  | { result: Exclude<InboundResult, 'quarantined'>; inboundId: number; ticketId: number | null; noteId: number | null }
  | { result: 'quarantined'; inboundId: number; quarantineId: number; reason: QuarantineReason }
  | { result: 'duplicate'; messageId: string }

export const QUARANTINE_REASONS = [
  'too_large', 'broken', 'bounce', 'auto_reply', 'list', 'forged_token', 'unknown_sender', 'unknown_ticket',
  'not_allowed', 'no_ticket', 'no_account', 'empty', 'refused'
] as const
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number]

export { UNKNOWN_SENDER_TEMPLATE }
const UNKNOWN_SENDER_WINDOW_MS = 24 * 60 * 60_000
// Inline images smaller than this are taken for signature logos and not kept.
const INLINE_LOGO_BYTES = 8 * 1024

class Refusal extends Error {
  constructor(readonly reason: QuarantineReason, readonly detail: string, readonly ticketId: number | null = null) {
    super(`${reason}: ${detail}`)
  }
}

/** Whether the portal pointer may go to an unknown sender now (once per address per day). */
export function mayAnswerUnknownSender(lastAnsweredAt: string | null, now: Date, windowMs = UNKNOWN_SENDER_WINDOW_MS): boolean {
  if (!lastAnsweredAt) return true
  const last = Date.parse(lastAnsweredAt)
  return !Number.isFinite(last) || now.getTime() - last >= windowMs
}

/** A Message-ID to dedupe on: the header's (cleaned, see src/domain/text.ts), else one derived from the bytes. */
export function dedupeMessageId(header: string | null | undefined, raw: Buffer | null, key: InboundKey): string {
  const given = header ? cleanText(header).trim() : ''
  if (given) return clipText(given, 900)
  if (raw) return `<sha256.${createHash('sha256').update(raw).digest('hex')}@casebridge.invalid>`
  return `<uid.${key.uidValidity}.${key.uid}@casebridge.invalid>`
}

/** First value of each header, names lower-cased, folding undone. */
export function headerMap(parsed: Pick<ParsedMail, 'headerLines'>): Map<string, string> {
  const map = new Map<string, string>()
  for (const { key, line } of parsed.headerLines) {
    if (map.has(key)) continue
    const colon = line.indexOf(':')
    map.set(key, (colon >= 0 ? line.slice(colon + 1) : '').replace(/\r?\n[ \t]+/g, ' ').trim())
  }
  return map
}

/** Whether a message carries a text/plain body (else its text comes from the HTML part). */
export function hasPlainText(raw: Buffer, headers: Map<string, string>): boolean {
  const type = headers.get('content-type')
  if (!type) return true
  if (/^\s*text\/plain/i.test(type)) return true
  if (!/^\s*multipart\//i.test(type)) return false
  return /^content-type:\s*text\/plain/im.test(raw.toString('latin1'))
}

function addresses(parsed: ParsedMail, headers: Map<string, string>): string[] {
  const out: string[] = []
  for (const field of [parsed.to, parsed.cc]) {
    for (const group of Array.isArray(field) ? field : field ? [field] : []) {
      for (const a of group.value) if (a.address) out.push(a.address)
    }
  }
  for (const name of ['delivered-to', 'x-original-to', 'envelope-to']) {
    const v = headers.get(name)
    if (v) out.push(v)
  }
  return out
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 500)
}

export interface Parsed {
  parsed: ParsedMail
  headers: Map<string, string>
  messageId: string
  from: string | null
  subject: string | null
}

async function parse(source: Buffer, key: InboundKey): Promise<Parsed> {
  const parsed = await simpleParser(source, { skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: 5 * 1024 * 1024 })
  const headers = headerMap(parsed)
  // What a message says is taken as it comes, minus what no database stores alike (NUL, broken surrogates).
  const address = parsed.from?.value.find((a) => a.address)?.address
  const from = address ? cleanText(address).trim().toLowerCase() || null : null
  const subject = parsed.subject === undefined ? null : cleanText(parsed.subject)
  return { parsed, headers, messageId: dedupeMessageId(parsed.messageId, source, key), from, subject }
}

/** A fetched message parsed and its original stored: work that needs no database. */
export interface Prepared {
  msg: FetchedMessage
  parsed?: Parsed
  parseError?: string
  original?: StoredFile
}

/** Parses a message and keeps its original; safe to run for many messages at once. */
export async function prepareMessage(deps: InboundDeps, key: InboundKey, msg: FetchedMessage): Promise<Prepared> {
  if (msg.source === null) return { msg }
  try {
    const parsed = await parse(msg.source, key)
    return { msg, parsed, original: await deps.store.keepBuffer('original-message.eml', 'message/rfc822', msg.source) }
  } catch (err) {
    return { msg, parseError: describe(err) }
  }
}

/** The decision and the write for a prepared message (one at a time: it is database work). */
export async function applyMessage(deps: InboundDeps, key: InboundKey, prep: Prepared): Promise<Outcome> {
  const { msg } = prep
  const log = deps.log.child({ uid: key.uid })
  const now = deps.clock()
  if (msg.source === null) {
    const messageId = dedupeMessageId(msg.envelope?.messageId, null, key)
    if ((await knownMessageIds(deps.db, [messageId])).has(messageId)) return { result: 'duplicate', messageId }
    return quarantine(deps, key, {
      messageId, from: msg.envelope?.from ?? null, subject: msg.envelope?.subject ?? null, raw: null, size: msg.size,
      reason: 'too_large', detail: `${msg.size} bytes; the limit is ${deps.settings.maxInboundBytes} bytes`
    }, now)
  }
  const raw = msg.source
  const p = prep.parsed
  if (!p) {
    return quarantine(deps, key, { messageId: dedupeMessageId(null, raw, key), from: null, subject: null, raw, size: raw.length, reason: 'broken', detail: prep.parseError ?? 'unreadable' }, now)
  }
  if ((await knownMessageIds(deps.db, [p.messageId])).has(p.messageId)) {
    log.info({ messageId: p.messageId }, 'message already processed, not again')
    return { result: 'duplicate', messageId: p.messageId }
  }
  const base = { messageId: p.messageId, from: p.from, subject: p.subject, raw, size: raw.length, stored: prep.original }
  try {
    const original = prep.original ?? await deps.store.keepBuffer('original-message.eml', 'message/rfc822', raw)
    const outcome = await decideAndApply(deps, key, p, raw, original, now)
    log.info({ messageId: p.messageId, result: outcome.result, ticketId: outcome.ticketId, noteId: outcome.noteId }, 'message processed')
    return outcome
  } catch (err) {
    if (err instanceof Refusal) {
      log.info({ messageId: p.messageId, reason: err.reason, detail: err.detail }, 'message quarantined')
      return quarantine(deps, key, { ...base, reason: err.reason, detail: err.detail, ticketId: err.ticketId, unknownSender: err.reason === 'unknown_sender' }, now)
    }
    if (isUniqueViolation(err)) return { result: 'duplicate', messageId: p.messageId }
    throw err
  }
}

async function senderOf(deps: InboundDeps, address: string): Promise<Actor | undefined> {
  const cache = deps.senderCache
  if (cache?.has(address)) return cache.get(address) ?? undefined
  const login = await findLogin(deps.db, address)
  const actor = login ? await loadActor(deps.db, login.kind, login.id) : undefined
  cache?.set(address, actor ?? null)
  return actor
}

async function decideAndApply(deps: InboundDeps, key: InboundKey, p: Parsed, raw: Buffer, originalFile: StoredFile, now: Date) {
  const { db } = deps
  if (!p.from) throw new Refusal('broken', 'no From address')
  const automated = classifyAutomated({ headers: p.headers, from: p.from, subject: p.subject, contentType: p.headers.get('content-type') ?? null })
  if (automated) throw new Refusal(automated.kind, automated.detail)

  const actor = await senderOf(deps, p.from)
  if (!actor) throw new Refusal('unknown_sender', p.from)

  const plain = hasPlainText(raw, p.headers)
  const fullText = plain ? (p.parsed.text ?? '') : typeof p.parsed.html === 'string' ? p.parsed.html : ''
  const choice = chooseThread({
    inReplyTo: p.headers.get('in-reply-to') ?? null,
    references: p.headers.get('references') ?? null,
    recipients: addresses(p.parsed, p.headers),
    text: fullText,
    subject: p.subject
  }, (token) => verifyToken(token, deps.key))

  let ticketId: number | null = null
  if (choice.kind === 'forged') throw new Refusal('forged_token', `${choice.source}: ${choice.token}`)
  if (choice.kind === 'token') ticketId = choice.claims.ticketId
  if (choice.kind === 'subject') {
    const found = await ticketIdByNumber(db, choice.number)
    const participation = found === undefined ? undefined : await ticketParticipation(db, found)
    // A number typed in a subject proves nothing: only someone already on the ticket may use it.
    if (found !== undefined && participation && isParticipant(actor, participation)) ticketId = found
  }

  // What we sent on the ticket tells answers typed between the lines of an unquoted history.
  const texts = ticketId === null ? [] : await notificationTexts(db, ticketId)
  const reply = replyText({ text: p.parsed.text, html: typeof p.parsed.html === 'string' ? p.parsed.html : null }, plain, { ...deps.settings.ours, texts })
  let text = cleanText(reply.text)
  const originalText = cleanText(reply.original)
  let internal = false
  if (actor.kind === 'staff') ({ internal, body: text } = internalMarker(text))
  const t = translator(deps.settings.defaultLocale)
  const { files, skipped } = await keepAttachments(deps, p.parsed)
  if (!text.trim() && files.length === 0) throw new Refusal('empty', 'no text and no attachments', ticketId)
  if (!text.trim()) text = t('inbound.attachmentsOnly')
  for (const s of skipped) text += `\n\n${t('inbound.attachmentSkipped', { filename: s.filename, mb: (s.size / 1048576).toFixed(1) })}`
  const message: InboundMessage = { ...key, messageId: p.messageId, sender: p.from }

  if (ticketId === null) {
    if (actor.kind !== 'contact') throw new Refusal('no_ticket', 'staff mail without a thread token')
    return openTicketFromMail(deps, actor, p, text, [...files, originalFile], message, t, now)
  }

  const ticket = await inboundTicket(db, ticketId)
  if (!ticket || ticket.deleted_at) throw new Refusal('unknown_ticket', `ticket id ${ticketId}`)
  if (!canSeeTicket(actor, ticket)) throw new Refusal('not_allowed', `${p.from} on #${ticket.number}`, ticket.id)

  // A staff member's mail client may have quoted a staff-only notification (a transfer's internal
  // note, say): on a reply clients read, the raw message is not attached; its whole text stays on
  // the note (original_text), which the portal shows staff only.
  const keepRaw = actor.kind === 'contact' || internal
  const outcome = await replyByEmail({ ...deps, clock: () => now }, personWho(actor), {
    ticketId: ticket.id, internal, body: clipText(text, LIMITS.note), originalText, files: keepRaw ? [...files, originalFile] : files, message
  })
  if (!outcome.ok) {
    if (outcome.refusal.code === 'not_found') throw new Refusal('unknown_ticket', `ticket id ${ticket.id}`)
    throw new Refusal('refused', outcome.refusal.code, ticket.id)
  }
  return outcome.value
}

async function openTicketFromMail(deps: InboundDeps, actor: Extract<Actor, { kind: 'contact' }>, p: Parsed, text: string, files: StoredFile[], message: InboundMessage, t: ReturnType<typeof translator>, now: Date) {
  const { db } = deps
  const accounts = await openableAccounts(db, actor.id)
  if (accounts.length === 0) throw new Refusal('no_account', actor.email)
  const deskId = await inboundDesk(db, addresses(p.parsed, p.headers), deps.settings.inboundDesk)
  if (deskId === undefined) throw new Refusal('refused', 'no desk to open the ticket on')
  const outcome = await openTicketByEmail({ ...deps, clock: () => now }, personWho(actor), {
    accountId: accounts[0].id, deskId, title: clipText(titleFromSubject(p.subject) || t('inbound.noSubject'), LIMITS.title),
    description: clipText(text, LIMITS.description), files, message
  })
  if (!outcome.ok) throw new Refusal('refused', outcome.refusal.code)
  return outcome.value
}

async function keepAttachments(deps: InboundDeps, parsed: ParsedMail): Promise<{ files: StoredFile[]; skipped: { filename: string; size: number }[] }> {
  const files: StoredFile[] = []
  const skipped: { filename: string; size: number }[] = []
  for (const a of parsed.attachments) {
    const size = a.size ?? a.content.length
    if (a.related && size < INLINE_LOGO_BYTES) continue
    // Parts of a delivery report or an attached message body are kept whole in the original.
    const filename = cleanText(a.filename ?? `attachment-${files.length + skipped.length + 1}`)
    if (size > deps.settings.maxAttachmentBytes) {
      skipped.push({ filename, size })
      continue
    }
    const kept = await deps.store.keepBuffer(filename, a.contentType, a.content)
    // the store shortens long names, which may cut a surrogate pair
    files.push({ ...kept, filename: cleanText(kept.filename) })
  }
  return { files, skipped }
}

/** Quarantines a message whose processing failed unexpectedly, so the ones after it still flow. */
export async function quarantineUnprocessable(deps: InboundDeps, key: InboundKey, msg: FetchedMessage, detail: string): Promise<Outcome> {
  return quarantine(deps, key, {
    messageId: dedupeMessageId(msg.envelope?.messageId, msg.source, key), from: msg.envelope?.from ?? null,
    subject: msg.envelope?.subject ?? null, raw: msg.source, size: msg.size, reason: 'broken', detail
  }, deps.clock())
}

interface QuarantineFacts {
  messageId: string
  from: string | null
  subject: string | null
  raw: Buffer | null
  size: number
  reason: QuarantineReason
  detail: string
  ticketId?: number | null
  unknownSender?: boolean
  /** The raw message already kept in the store. */
  stored?: StoredFile
}

async function quarantine(deps: InboundDeps, key: InboundKey, facts: QuarantineFacts, now: Date): Promise<Outcome> {
  // an envelope read from the server or an error's text may carry what the message carried
  const q = { ...facts, from: facts.from === null ? null : cleanText(facts.from), subject: facts.subject === null ? null : cleanText(facts.subject), detail: cleanText(facts.detail) }
  const stored = q.stored ?? (q.raw ? await deps.store.keepBuffer('message.eml', 'message/rfc822', q.raw) : null)
  const answer = q.unknownSender && q.from && deps.settings.unknownSenderReply
    ? mayAnswerUnknownSender(await lastUnknownSenderReply(deps.db, q.from, UNKNOWN_SENDER_TEMPLATE), now)
    : false
  const t = translator(deps.settings.defaultLocale)
  try {
    const written = await quarantineEmail({ ...deps, clock: () => now }, {
      ...key, messageId: q.messageId, reason: q.reason, detail: q.detail, from: q.from, subject: q.subject,
      ticketId: q.ticketId ?? null, rawSha256: stored?.sha256 ?? null, rawSize: q.size,
      answer: answer && q.from ? {
        recipient: q.from, locale: deps.settings.defaultLocale, template: UNKNOWN_SENDER_TEMPLATE,
        title: t('inbound.unknownSender.subject'), body: t('inbound.unknownSender.body', { url: `${deps.settings.publicUrl}/login` })
      } : undefined
    })
    return { result: 'quarantined' as const, inboundId: written.inboundId, quarantineId: written.quarantineId, reason: q.reason }
  } catch (err) {
    if (isUniqueViolation(err)) return { result: 'duplicate', messageId: q.messageId }
    throw err
  }
}
