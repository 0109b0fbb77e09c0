// Named leases for background passes that only one worker may run at a time (CRM outbox,
// inbound, reference import, scheduled jobs): taken for a while, renewed while the pass runs,
// given back at its end, and taken over by another worker once it has expired.
import type { Executor } from '../db/index.js'
import { dropLease, takeLease } from '../db/lease.js'

/** Takes (or renews) a named lease for `ttlMs`; true when this holder has it. */
export async function acquireLease(db: Executor, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
  return takeLease(db, name, holder, now.toISOString(), new Date(now.getTime() + ttlMs).toISOString())
}

export async function releaseLease(db: Executor, name: string, holder: string): Promise<void> {
  await dropLease(db, name, holder)
}
