import { createHash, randomBytes } from 'node:crypto'

/** API tokens are shown once; only their SHA-256 is stored. */
export function newApiToken(): { token: string; hash: string } {
  const token = `cb_${randomBytes(24).toString('base64url')}`
  return { token, hash: hashApiToken(token) }
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** A session's token (in the encrypted cookie) and the hash the server keeps. */
export function newSessionToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashApiToken(token) }
}

/** A token sent in a link (password reset, invitation): only its hash is stored. */
export function newLinkToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashApiToken(token) }
}

/** SHA-256 (hex) of a session or link token, the form the database keeps. */
export const hashSecretToken = hashApiToken
