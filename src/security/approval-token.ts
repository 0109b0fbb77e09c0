// Signed approval links: the token names one approval row and its expiry, carries that row's
// random nonce, and is signed with a key derived from the mail-token key (MAIL_TOKEN_SECRET or
// the key kept under DATA_DIR). The signature proves we issued it; the row decides whether it
// may still be used (single use, superseded, expired).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Config } from '../config.js'
import { mailTokenKey } from './mail-key.js'

const VERSION = 1
const ID_BYTES = 6
const TIME_BYTES = 6
export const NONCE_BYTES = 16
const MAC_BYTES = 16
const PAYLOAD_BYTES = 1 + ID_BYTES + TIME_BYTES + NONCE_BYTES
const TOKEN_LENGTH = Math.ceil(((PAYLOAD_BYTES + MAC_BYTES) * 4) / 3)
const TOKEN_CHARS = /^[A-Za-z0-9_-]+$/
const MAX_48 = 2 ** 48 - 1

export interface ApprovalClaims {
  approvalId: number
  /** Whole seconds: the row's expires_at, truncated. */
  expiresAt: Date
  nonce: Buffer
}

/** The approval-link key: its own key, derived from the mail-token key so both roles agree on it. */
export function approvalKeyFrom(mailKey: Uint8Array): Buffer {
  return createHmac('sha256', mailKey).update('casebridge-approval-link').digest()
}

export function approvalKey(config: Pick<Config, 'MAIL_TOKEN_SECRET' | 'dataDir'>): Buffer {
  return approvalKeyFrom(mailTokenKey(config))
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES)
}

/** What the approval row keeps of the nonce: a leaked table alone signs nothing. */
export function nonceHash(nonce: Uint8Array): string {
  return createHash('sha256').update(nonce).digest('hex')
}

function mac(key: Uint8Array, payload: Uint8Array): Buffer {
  return createHmac('sha256', key).update('casebridge-approval').update(payload).digest().subarray(0, MAC_BYTES)
}

export function signApprovalToken(claims: ApprovalClaims, key: Uint8Array): string {
  const seconds = Math.floor(claims.expiresAt.getTime() / 1000)
  if (!Number.isSafeInteger(claims.approvalId) || claims.approvalId < 1 || claims.approvalId > MAX_48) throw new RangeError('approvalId out of range')
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_48) throw new RangeError('expiresAt out of range')
  if (claims.nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`)
  const payload = Buffer.alloc(PAYLOAD_BYTES)
  payload[0] = VERSION
  payload.writeUIntBE(claims.approvalId, 1, ID_BYTES)
  payload.writeUIntBE(seconds, 1 + ID_BYTES, TIME_BYTES)
  Buffer.from(claims.nonce).copy(payload, 1 + ID_BYTES + TIME_BYTES)
  return Buffer.concat([payload, mac(key, payload)]).toString('base64url')
}

/** The claims of a genuine token, or null when malformed, tampered with or signed with another key. */
export function verifyApprovalToken(token: string, key: Uint8Array): ApprovalClaims | null {
  if (token.length !== TOKEN_LENGTH || !TOKEN_CHARS.test(token)) return null
  const raw = Buffer.from(token, 'base64url')
  // One spelling per token: trailing bits that decode the same are refused.
  if (raw.length !== PAYLOAD_BYTES + MAC_BYTES || raw.toString('base64url') !== token) return null
  const payload = raw.subarray(0, PAYLOAD_BYTES)
  if (!timingSafeEqual(raw.subarray(PAYLOAD_BYTES), mac(key, payload))) return null
  if (payload[0] !== VERSION) return null
  const approvalId = payload.readUIntBE(1, ID_BYTES)
  if (approvalId < 1) return null
  const seconds = payload.readUIntBE(1 + ID_BYTES, TIME_BYTES)
  return { approvalId, expiresAt: new Date(seconds * 1000), nonce: Buffer.from(payload.subarray(1 + ID_BYTES + TIME_BYTES)) }
}

/** Does this nonce match the hash the row keeps? Compared in constant time. */
export function nonceMatches(nonce: Uint8Array, hash: string): boolean {
  const expected = Buffer.from(hash, 'hex')
  const given = createHash('sha256').update(nonce).digest()
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/** The two links of the request mail: both open the same page, at its approve or reject form. */
export function approvalLinks(publicUrl: string, token: string): { approveUrl: string; rejectUrl: string } {
  const page = `${publicUrl}/approvals/${token}`
  return { approveUrl: `${page}#approve`, rejectUrl: `${page}#reject` }
}
