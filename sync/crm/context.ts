/**
 * What every sync job shares: the database, the CRM adapter, the maps, the clock, and the
 * pause every caller honours after REQUEST_LIMIT_EXCEEDED or while the CRM is unreachable.
 */
import { randomUUID } from 'node:crypto'
import type { Config } from '../../src/config.js'
import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import { translator } from '../../src/i18n/index.js'
import { getSyncState, SYNC_STATE } from '../../src/db/sync-state.js'
import { emulatorCredentials } from '../../src/security/emulator-credentials.js'
import { saveProgress } from '../../src/work/state.js'
import { backoffMs, CRM_AUTH, CRM_LIMIT, CRM_UNAVAILABLE } from '../../src/work/backoff.js'
import type { CrmAdapter } from './adapter.js'
import { CrmCallError } from './adapter.js'
import { buildMaps, type CrmMaps, type MappingContext } from './mapping.js'
import { SalesforceAdapter } from './salesforce.js'

export interface SyncContext {
  db: Db
  crm: CrmAdapter
  maps: CrmMaps
  mapping: MappingContext
  log: Logger
  clock: () => Date
  random: () => number
  /** A row failing for a reason that may pass (a lock, a timeout) is parked after this many sends. */
  maxAttempts: number
  /** Who holds the sync leases (one per worker process). */
  holder: string
  /** How long the sync's leases and row claims last without renewal (LEASE_SECONDS). */
  leaseMs: number
}

export interface SyncContextOptions {
  db: Db
  crm: CrmAdapter
  config: Pick<Config, 'crm' | 'publicUrl' | 'DEFAULT_LOCALE' | 'CRM_MAX_ATTEMPTS' | 'LEASE_SECONDS'>
  log: Logger
  clock?: () => Date
  random?: () => number
  holder?: string
}

export function createSyncContext(opts: SyncContextOptions): SyncContext {
  return {
    db: opts.db,
    crm: opts.crm,
    maps: buildMaps({ statusMap: opts.config.crm.statusMap, priorityMap: opts.config.crm.priorityMap }),
    mapping: { publicUrl: opts.config.publicUrl, t: translator(opts.config.DEFAULT_LOCALE) },
    log: opts.log,
    clock: opts.clock ?? (() => new Date()),
    random: opts.random ?? Math.random,
    maxAttempts: opts.config.CRM_MAX_ATTEMPTS,
    holder: opts.holder ?? `sync-${process.pid}-${randomUUID().slice(0, 8)}`,
    leaseMs: opts.config.LEASE_SECONDS * 1000
  }
}

/** The adapter for the configured org, or for the emulator at `emulatorUrl` when none is configured. */
export function createCrmAdapter(
  config: Pick<Config, 'crm' | 'EMULATOR_PORT' | 'dataDir' | 'SALESFORCE_CLIENT_ID' | 'SALESFORCE_CLIENT_SECRET'>, log: Logger, emulatorUrl?: string
): SalesforceAdapter {
  const sf = config.crm.salesforce
  if (sf) return new SalesforceAdapter({ settings: sf, log })
  const url = emulatorUrl ?? `http://127.0.0.1:${config.EMULATOR_PORT}`
  // the bundled emulator grants tokens only to the credentials kept under DATA_DIR (or configured)
  const { clientId, clientSecret } = emulatorCredentials(config)
  return new SalesforceAdapter({
    settings: { auth: 'client_credentials', loginUrl: url, instanceUrl: null, clientId, clientSecret },
    log,
    label: `emulator ${url}`
  })
}

// ------------------------------------------------------------------ pause and health

export const STATE = SYNC_STATE

/** The time calls may resume, when they are paused now. */
export async function pausedUntil(ctx: SyncContext): Promise<string | null> {
  const until = await getSyncState(ctx.db, STATE.pausedUntil)
  return until && until > ctx.clock().toISOString() ? until : null
}

/**
 * How long to stop calling after a failed call, longer each time it happens again (the one
 * backoff): the daily allowance frees up as the 24-hour window moves, refused credentials wait
 * for someone to fix them, an outage passes (with jitter, so workers do not come back together).
 */
export function pauseFor(kind: CrmCallError['kind'], consecutive: number, random: () => number): number {
  switch (kind) {
    case 'limit': return backoffMs(consecutive, CRM_LIMIT)
    case 'auth': return backoffMs(consecutive, CRM_AUTH)
    case 'unavailable': return backoffMs(consecutive, CRM_UNAVAILABLE, random)
    default: return 0
  }
}

/** Records a call that failed as a whole; limit, outage and refused credentials pause every CRM call. */
export async function recordCallFailure(ctx: SyncContext, err: CrmCallError): Promise<string | null> {
  const now = ctx.clock()
  const at = now.toISOString()
  const message = `${err.code}: ${err.message}`.slice(0, 2000)
  if (err.kind === 'request') {
    await saveProgress(ctx, { [STATE.lastError]: message, [STATE.lastErrorAt]: at })
    return null
  }
  const consecutive = Number(await getSyncState(ctx.db, STATE.failures) ?? 0) + 1
  const until = new Date(now.getTime() + pauseFor(err.kind, consecutive, ctx.random)).toISOString()
  await saveProgress(ctx, {
    [STATE.lastError]: message, [STATE.lastErrorAt]: at, [STATE.failures]: String(consecutive), [STATE.pausedUntil]: until, [STATE.pauseReason]: message
  })
  ctx.log.warn({ code: err.code, kind: err.kind, until }, 'CRM calls paused')
  return until
}

/** A call went through: the failure streak ends; the last success and API usage are recorded. */
export async function recordCallSuccess(ctx: SyncContext, which: 'outbound' | 'inbound' | 'reference'): Promise<void> {
  const at = ctx.clock().toISOString()
  const key = which === 'outbound' ? STATE.outboundSuccess : which === 'inbound' ? STATE.inboundSuccess : STATE.referenceSuccess
  const usage = ctx.crm.apiUsage()
  await saveProgress(ctx, {
    [key]: at,
    ...(await getSyncState(ctx.db, STATE.failures) !== '0' ? { [STATE.failures]: '0' } : {}),
    ...(usage ? { [STATE.apiUsage]: JSON.stringify(usage) } : {})
  })
}


export { CrmCallError }
