import type { Executor } from './index.js'
import type { LoginRecord } from './people.js'
import { hashApiToken } from '../security/token.js'

/** Stores a token's hash for a person (the clear token is never stored). */
export async function insertApiToken(db: Executor, person: Pick<LoginRecord, 'kind' | 'id'>, hash: string, name: string, now: string, expiresAt: string | null = null): Promise<number> {
  const { id } = await db.insertInto('api_token').values({
    token_hash: hash, name, created_at: now, expires_at: expiresAt,
    staff_id: person.kind === 'staff' ? person.id : null,
    contact_id: person.kind === 'contact' ? person.id : null
  }).returning('id').executeTakeFirstOrThrow()
  return id
}

/** The owner of a token that is neither revoked nor expired, and when it was last used. */
export async function findTokenOwner(db: Executor, token: string, now: string = new Date().toISOString()): Promise<{ kind: 'staff' | 'contact'; id: number; tokenId: number; lastUsedAt: string | null } | undefined> {
  const row = await db.selectFrom('api_token').select(['id', 'staff_id', 'contact_id', 'last_used_at'])
    .where('token_hash', '=', hashApiToken(token)).where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst()
  if (!row) return undefined
  if (row.staff_id !== null) return { kind: 'staff', id: row.staff_id, tokenId: row.id, lastUsedAt: row.last_used_at }
  if (row.contact_id !== null) return { kind: 'contact', id: row.contact_id, tokenId: row.id, lastUsedAt: row.last_used_at }
  return undefined
}

export async function touchApiToken(db: Executor, id: number, now: string): Promise<void> {
  await db.updateTable('api_token').set({ last_used_at: now }).where('id', '=', id).execute()
}

export interface ApiTokenRow {
  id: number
  name: string | null
  createdAt: string
  lastUsedAt: string | null
  expiresAt: string | null
  revokedAt: string | null
}

/** The person's tokens, newest first (revoked ones too, for the record). */
export async function listApiTokens(db: Executor, person: Pick<LoginRecord, 'kind' | 'id'>): Promise<ApiTokenRow[]> {
  let q = db.selectFrom('api_token').select(['id', 'name', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'])
  q = person.kind === 'staff' ? q.where('staff_id', '=', person.id) : q.where('contact_id', '=', person.id)
  const rows = await q.orderBy('id', 'desc').limit(200).execute()
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, expiresAt: r.expires_at, revokedAt: r.revoked_at }))
}

/** Revokes one of the person's tokens; false when it is not theirs or was already revoked. */
export async function revokeApiToken(db: Executor, person: Pick<LoginRecord, 'kind' | 'id'>, id: number, now: string): Promise<boolean> {
  let q = db.updateTable('api_token').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null)
  q = person.kind === 'staff' ? q.where('staff_id', '=', person.id) : q.where('contact_id', '=', person.id)
  const result = await q.executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}
