import type { Selectable } from 'kysely'
import type { Executor } from './index.js'
import type { ApiIdempotencyTable } from './schema.js'

export type StoredIdempotency = Selectable<ApiIdempotencyTable>

export interface IdempotencyClaim {
  tokenId: number
  key: string
  fingerprint: string
  now: string
}

export interface ClaimWindows {
  /** Rows created before this are expired: ignored and replaced. */
  expiredBefore: string
  /** An in-flight row created before this belongs to a request that died: replaced. */
  abandonedBefore: string
}

/** Claimed: the request runs. Otherwise the row holding the key (null: it changed hands meanwhile; busy). */
export type ClaimResult = { claimed: true; id: number } | { claimed: false; row: StoredIdempotency | null }

export async function findIdempotencyKey(db: Executor, tokenId: number, key: string): Promise<StoredIdempotency | undefined> {
  return db.selectFrom('api_idempotency').selectAll().where('token_id', '=', tokenId).where('idempotency_key', '=', key).executeTakeFirst()
}

/**
 * Inserts the key as in flight, unless a live row holds it (the unique key decides between two
 * requests at once); an expired or abandoned row is deleted and the insert tried again.
 */
export async function claimIdempotencyKey(db: Executor, claim: IdempotencyClaim, windows: ClaimWindows): Promise<ClaimResult> {
  let row: StoredIdempotency | undefined
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await db.insertInto('api_idempotency').values({
      token_id: claim.tokenId, idempotency_key: claim.key, fingerprint: claim.fingerprint, status: 'in_flight', created_at: claim.now
    }).onConflict((oc) => oc.columns(['token_id', 'idempotency_key']).doNothing()).returning('id').executeTakeFirst()
    if (inserted) return { claimed: true, id: inserted.id }
    row = await findIdempotencyKey(db, claim.tokenId, claim.key)
    if (!row) continue
    const stale = row.created_at < windows.expiredBefore || (row.status === 'in_flight' && row.created_at < windows.abandonedBefore)
    if (!stale) return { claimed: false, row }
    await db.deleteFrom('api_idempotency').where('id', '=', row.id).where('created_at', '=', row.created_at).execute()
  }
  return { claimed: false, row: null }
}

/**
 * In the command's transaction: the claimed request's command committed with this result. False
 * when the claim is no longer this request's (deleted as abandoned): the caller must roll back.
 */
export async function markIdempotencyCommitted(db: Executor, id: number, outcome: string): Promise<boolean> {
  const result = await db.updateTable('api_idempotency').set({ status: 'committed', outcome })
    .where('id', '=', id).where('status', '=', 'in_flight').executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** The answer sent for a claimed key, replayed to its retries. */
export async function recordIdempotentResponse(db: Executor, id: number, response: { status: number; headers: Record<string, string>; body: string; now: string }): Promise<void> {
  await db.updateTable('api_idempotency').set({
    status: 'done', response_status: response.status, response_headers: JSON.stringify(response.headers), response_body: response.body,
    completed_at: response.now
  }).where('id', '=', id).where('status', 'in', ['in_flight', 'committed']).execute()
}

/** Frees a claimed key whose request failed before its command committed: a retry runs again. */
export async function releaseIdempotencyKey(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('api_idempotency').where('id', '=', id).where('status', '=', 'in_flight').execute()
}

/** Deletes rows created before `before` (they are ignored anyway). */
export async function deleteExpiredIdempotency(db: Executor, before: string): Promise<number> {
  const result = await db.deleteFrom('api_idempotency').where('created_at', '<', before).executeTakeFirst()
  return Number(result.numDeletedRows)
}
