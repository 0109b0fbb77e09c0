// The API's Idempotency-Key bookkeeping: a POST claims its key before it runs, its answer is
// recorded once sent, a failed request frees the key, and expired keys are swept. These rows are
// the API channel's memory of what it answered, not business data, but they are written here all
// the same so that every write has one place.
import type { Trx } from '../db/index.js'
import {
  claimIdempotencyKey, deleteExpiredIdempotency, markIdempotencyCommitted, recordIdempotentResponse, releaseIdempotencyKey, type ClaimResult
} from '../db/idempotency.js'
import type { Deps } from './kernel.js'

type KeyDeps = Pick<Deps, 'db' | 'clock'>

const before = (deps: KeyDeps, ms: number) => new Date(deps.clock().getTime() - ms).toISOString()

/**
 * Claims `key` for the token's request with this fingerprint. An answer older than `ttlMs` no
 * longer counts; an in-flight claim older than `abandonedMs` belongs to a request that died.
 */
export async function claimApiKey(
  deps: KeyDeps, input: { tokenId: number; key: string; fingerprint: string; ttlMs: number; abandonedMs: number }
): Promise<ClaimResult> {
  return claimIdempotencyKey(deps.db, { tokenId: input.tokenId, key: input.key, fingerprint: input.fingerprint, now: deps.clock().toISOString() }, {
    expiredBefore: before(deps, input.ttlMs), abandonedBefore: before(deps, input.abandonedMs)
  })
}

/**
 * Deps for the claimed request's command: its result is kept with the key in the command's own
 * transaction, so a retry after a crash between the commit and the answer is answered from it.
 */
export function committingKey<D extends Deps>(deps: D, id: number): D {
  return {
    ...deps,
    recordOutcome: async (trx: Trx, value: unknown) => {
      if (!(await markIdempotencyCommitted(trx, id, JSON.stringify(value ?? null)))) {
        throw new Error(`idempotency claim ${id} was lost before its command committed`)
      }
    }
  }
}

/** The answer sent for a claimed key, replayed to its retries. */
export async function recordApiAnswer(deps: KeyDeps, id: number, answer: { status: number; headers: Record<string, string>; body: string }): Promise<void> {
  await recordIdempotentResponse(deps.db, id, { ...answer, now: deps.clock().toISOString() })
}

/** The claimed request failed: a retry runs again. */
export async function releaseApiKey(deps: KeyDeps, id: number): Promise<void> {
  await releaseIdempotencyKey(deps.db, id)
}

/** Deletes the keys older than `ttlMs`; how many went. */
export async function sweepApiKeys(deps: KeyDeps, ttlMs: number): Promise<number> {
  return deleteExpiredIdempotency(deps.db, before(deps, ttlMs))
}
