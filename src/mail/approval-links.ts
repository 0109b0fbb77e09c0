// The links of an approval request mail, signed when the mail is composed: the outbox row keeps
// the approval id, expiry and nonce; the key (derived from the mail-token key) stays out of the database.
import type { Locale } from '../domain/permissions.js'
import { formatDateTime } from '../i18n/index.js'
import { approvalKeyFrom, approvalLinks, NONCE_BYTES, signApprovalToken } from '../security/approval-token.js'

export { APPROVAL_TEMPLATE } from '../domain/notifications.js'

const NONCE_HEX = new RegExp(`^[0-9a-f]{${NONCE_BYTES * 2}}$`)

/** approveUrl, rejectUrl and the expiry as the recipient reads it; nothing when the row lacks what a link needs. */
export function approvalMailData(data: Record<string, unknown>, opts: { publicUrl: string; mailKey: Uint8Array; locale: Locale }): Record<string, string> {
  const { approvalId, expiresAt, nonce } = data
  if (typeof approvalId !== 'number' || !Number.isSafeInteger(approvalId) || approvalId < 1) return {}
  if (typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt))) return {}
  if (typeof nonce !== 'string' || !NONCE_HEX.test(nonce)) return {}
  const token = signApprovalToken({ approvalId, expiresAt: new Date(expiresAt), nonce: Buffer.from(nonce, 'hex') }, approvalKeyFrom(opts.mailKey))
  return { ...approvalLinks(opts.publicUrl, token), expiresOn: formatDateTime(expiresAt, opts.locale) }
}
