import type { Executor } from './index.js'
import type { LoginRecord } from './people.js'
import { hashApiToken } from '../security/token.js'

/** Stores a token's hash for a person (the clear token is never stored). */
export async function insertApiToken(db: Executor, person: Pick<LoginRecord, 'kind' | 'id'>, hash: string, name: string, now: string): Promise<void> {
  await db.insertInto('api_token').values({
    token_hash: hash, name, created_at: now,
    staff_id: person.kind === 'staff' ? person.id : null,
    contact_id: person.kind === 'contact' ? person.id : null
  }).execute()
}

export async function findTokenOwner(db: Executor, token: string): Promise<{ kind: 'staff' | 'contact'; id: number; tokenId: number } | undefined> {
  const row = await db.selectFrom('api_token').select(['id', 'staff_id', 'contact_id'])
    .where('token_hash', '=', hashApiToken(token)).where('revoked_at', 'is', null).executeTakeFirst()
  if (!row) return undefined
  if (row.staff_id !== null) return { kind: 'staff', id: row.staff_id, tokenId: row.id }
  if (row.contact_id !== null) return { kind: 'contact', id: row.contact_id, tokenId: row.id }
  return undefined
}
