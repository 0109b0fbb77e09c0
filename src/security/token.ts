import { createHash, randomBytes } from 'node:crypto'

/** API tokens are shown once; only their SHA-256 is stored. */
export function newApiToken(): { token: string; hash: string } {
  const token = `cb_${randomBytes(24).toString('base64url')}`
  return { token, hash: hashApiToken(token) }
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
