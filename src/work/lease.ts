// Named leases for background passes that only one worker may run at a time (the CRM outbox
// drain, the inbound poll, the reference import, the scheduled jobs). A lease is short (tens of
// seconds) and kept alive by a heartbeat while the pass runs; every renewal is checked, and a
// pass that lost its lease stops before its next outside call. A crashed worker beats no more:
// any other worker of the role takes its lease over once it has expired.
import type { Executor } from '../db/index.js'
import type { Logger } from '../log.js'
import { dropLease, takeLease } from '../db/lease.js'

/** How long a lease lasts without renewal, unless the caller says otherwise (LEASE_SECONDS). */
export const DEFAULT_LEASE_MS = 15_000

/** Takes (or renews) a named lease for `ttlMs`; true when this holder has it. */
export async function acquireLease(db: Executor, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
  return takeLease(db, name, holder, now.toISOString(), new Date(now.getTime() + ttlMs).toISOString())
}

export async function releaseLease(db: Executor, name: string, holder: string): Promise<void> {
  await dropLease(db, name, holder)
}

/** The lease went to another worker (or could not be renewed): the pass must stop. */
export class LeaseLost extends Error {
  override name = 'LeaseLost'
  constructor(readonly lease: string) {
    super(`lease ${lease} lost`)
  }
}

export interface HeldLease {
  readonly name: string
  readonly holder: string
  /** Whether a renewal found the lease gone. */
  readonly lost: boolean
  /** Throws LeaseLost once the lease is gone: call it before every outside effect (a CRM call, a job's write). */
  assertHeld(): void
  /** Renews now (the heartbeat does so by itself); false when the lease is gone. */
  renew(): Promise<boolean>
}

export interface LeaseDeps {
  db: Executor
  clock: () => Date
  log?: Logger
}

/**
 * Runs `fn` holding the named lease: taken for `ttlMs`, renewed every third of it while `fn`
 * runs (each renewal checked), given back when `fn` ends, however it ends. `{ ran: false }` when
 * another worker holds it.
 */
export async function withLease<T>(deps: LeaseDeps, name: string, holder: string, ttlMs: number, fn: (lease: HeldLease) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  if (!(await acquireLease(deps.db, name, holder, deps.clock(), ttlMs))) return { ran: false }
  let lost = false
  let renewing: Promise<boolean> | null = null
  const renew = async (): Promise<boolean> => {
    if (lost) return false
    renewing ??= acquireLease(deps.db, name, holder, deps.clock(), ttlMs).catch((err) => {
      deps.log?.warn({ err, lease: name }, 'lease renewal failed')
      return false
    }).then((held) => {
      renewing = null
      if (!held && !lost) {
        lost = true
        deps.log?.warn({ lease: name, holder }, 'lease lost: stopping before the next outside call')
      }
      return held
    })
    return renewing
  }
  const beat = setInterval(() => void renew(), Math.max(50, Math.floor(ttlMs / 3)))
  beat.unref()
  const lease: HeldLease = {
    name, holder,
    get lost() { return lost },
    assertHeld() { if (lost) throw new LeaseLost(name) },
    renew
  }
  try {
    return { ran: true, value: await fn(lease) }
  } finally {
    clearInterval(beat)
    if (renewing) await renewing
    if (!lost) await releaseLease(deps.db, name, holder).catch((err) => deps.log?.warn({ err, lease: name }, 'lease release failed'))
  }
}
