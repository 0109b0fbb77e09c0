// Signed thread tokens: every outgoing mail carries one (Message-ID, plus-addressed Reply-To,
// body marker) so a reply finds its ticket. Pure functions; the key comes from mail/keys.ts.
import { createHmac, timingSafeEqual } from 'node:crypto'

export const RECIPIENT_KINDS = ['requester', 'assignee', 'desk_manager'] as const
export type RecipientKind = (typeof RECIPIENT_KINDS)[number]

export interface ThreadClaims {
  ticketId: number
  noteId?: number | null
  recipient?: RecipientKind | null
}

const VERSION = 1
const MAC_BYTES = 10
const MAX_ID = Number.MAX_SAFE_INTEGER
// Lower-case RFC 4648 base32: safe in local parts and Message-IDs, and immune to MTAs that
// lower-case the local part (we lower-case before decoding).
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
const TOKEN_CHARS = /^[a-z2-7]+$/

export function base32Encode(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
    value &= (1 << bits) - 1
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

export function base32Decode(text: string): Buffer | null {
  const bytes: number[] = []
  let bits = 0
  let value = 0
  for (const ch of text) {
    const index = ALPHABET.indexOf(ch)
    if (index < 0) return null
    value = (value << 5) | index
    bits += 5
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
    value &= (1 << bits) - 1
  }
  // Leftover bits must be zero padding, or two spellings would decode to the same token.
  if (bits >= 5 || value !== 0) return null
  return Buffer.from(bytes)
}

function pushVarint(out: number[], n: number) {
  let rest = n
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } | null {
  let value = 0
  let scale = 1
  for (let i = at; i < buf.length && i < at + 8; i++) {
    const byte = buf[i]
    value += (byte & 0x7f) * scale
    if (value > MAX_ID) return null
    if ((byte & 0x80) === 0) return { value, next: i + 1 }
    scale *= 0x80
  }
  return null
}

function mac(key: Uint8Array, payload: Uint8Array): Buffer {
  return createHmac('sha256', key).update('casebridge-thread').update(payload).digest().subarray(0, MAC_BYTES)
}

function isId(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0
}

/** Signs the claims into a short lower-case token (about 30 characters). */
export function signToken(claims: ThreadClaims, key: Uint8Array): string {
  if (!isId(claims.ticketId)) throw new RangeError('ticketId must be a positive integer')
  const hasNote = claims.noteId !== undefined && claims.noteId !== null
  if (hasNote && !isId(claims.noteId)) throw new RangeError('noteId must be a positive integer')
  const recipient = claims.recipient ? RECIPIENT_KINDS.indexOf(claims.recipient) + 1 : 0
  if (recipient === 0 && claims.recipient) throw new RangeError('unknown recipient kind')
  // flags: bit 0 = note id follows; bits 1-2 = recipient kind (0 = none)
  const payload: number[] = [VERSION, (hasNote ? 1 : 0) | (recipient << 1)]
  pushVarint(payload, claims.ticketId)
  if (hasNote) pushVarint(payload, claims.noteId as number)
  const body = Buffer.from(payload)
  return base32Encode(Buffer.concat([body, mac(key, body)]))
}

/** The claims of a genuine token, or null when it is malformed, tampered with or signed with another key. */
export function verifyToken(token: string, key: Uint8Array): ThreadClaims | null {
  const text = token.trim().toLowerCase()
  if (text.length < 16 || text.length > 64 || !TOKEN_CHARS.test(text)) return null
  const raw = base32Decode(text)
  if (!raw || raw.length <= MAC_BYTES + 2) return null
  const body = raw.subarray(0, raw.length - MAC_BYTES)
  const given = raw.subarray(raw.length - MAC_BYTES)
  if (!timingSafeEqual(given, mac(key, body))) return null
  if (body[0] !== VERSION) return null
  const flags = body[1]
  if (flags > 7) return null
  const ticket = readVarint(body, 2)
  if (!ticket || !isId(ticket.value)) return null
  let next = ticket.next
  const claims: ThreadClaims = { ticketId: ticket.value }
  if (flags & 1) {
    const note = readVarint(body, next)
    if (!note || !isId(note.value)) return null
    claims.noteId = note.value
    next = note.next
  }
  const recipient = (flags >> 1) & 3
  if (recipient > RECIPIENT_KINDS.length) return null
  if (recipient > 0) claims.recipient = RECIPIENT_KINDS[recipient - 1]
  if (next !== body.length) return null
  return claims
}

/** `<cb.{token}.{suffix}@{domain}>`: a per-message id (random suffix) or the ticket's thread root. */
export function messageIdFor(token: string, suffix: string, domain: string): string {
  return `<cb.${token}.${suffix}@${domain}>`
}

/** The thread root every notification of a ticket answers, so mail clients group them. */
export function threadRootId(ticketId: number, key: Uint8Array, domain: string): string {
  return messageIdFor(signToken({ ticketId }, key), 'thread', domain)
}

const MESSAGE_ID_TOKEN = /^<?\s*cb\.([a-z2-7]{16,64})\.[a-z0-9-]{1,64}@[^\s<>@]+\s*>?$/i

/** The (unverified) token inside one of our Message-IDs, else null. */
export function tokenFromMessageId(messageId: string): string | null {
  const m = MESSAGE_ID_TOKEN.exec(messageId.trim())
  return m ? m[1].toLowerCase() : null
}

/** Every Message-ID in an In-Reply-To or References header, in order. */
export function messageIdsIn(header: string | null | undefined): string[] {
  return header ? header.match(/<[^<>\s]+>/g) ?? [] : []
}

/** The (unverified) tokens of our Message-IDs in an In-Reply-To / References header, newest last. */
export function tokensFromReferences(header: string | null | undefined): string[] {
  return messageIdsIn(header).map(tokenFromMessageId).filter((t): t is string => t !== null)
}

/** `local+{token}@domain`, the Reply-To of a notification. */
export function replyAddressFor(base: string, token: string): string {
  const at = base.lastIndexOf('@')
  if (at <= 0) throw new RangeError(`not an e-mail address: ${base}`)
  return `${base.slice(0, at)}+${token}@${base.slice(at + 1)}`
}

/** The (unverified) plus-address token of an address such as `Support <support+tok@x>`, else null. */
export function tokenFromAddress(address: string): string | null {
  const angle = /<([^<>]+)>/.exec(address)
  const bare = (angle ? angle[1] : address).trim()
  const at = bare.lastIndexOf('@')
  if (at <= 0) return null
  const local = bare.slice(0, at)
  const plus = local.indexOf('+')
  if (plus < 0) return null
  const token = local.slice(plus + 1).toLowerCase()
  return TOKEN_CHARS.test(token) && token.length >= 16 && token.length <= 64 ? token : null
}

const BODY_MARKER = /\[cb-ref:([a-z2-7]{16,64})\]/gi

/** The marker printed in every notification's footer; it survives quoting in replies. */
export function bodyMarker(token: string): string {
  return `[cb-ref:${token}]`
}

/** The (unverified) tokens of body markers found in a text, in order. */
export function tokensFromBody(text: string): string[] {
  return [...text.matchAll(BODY_MARKER)].map((m) => m[1].toLowerCase())
}

/** The domain part of an address (display name allowed), lower-cased; null when there is none. */
export function domainOf(address: string): string | null {
  const angle = /<([^<>]+)>/.exec(address)
  const bare = (angle ? angle[1] : address).trim()
  const at = bare.lastIndexOf('@')
  return at > 0 && at < bare.length - 1 ? bare.slice(at + 1).toLowerCase() : null
}

/** The bare address of `Name <a@b>` or `a@b`. */
export function bareAddress(address: string): string {
  const angle = /<([^<>]+)>/.exec(address)
  return (angle ? angle[1] : address).trim()
}
