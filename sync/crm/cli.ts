/** `casebridge sync`: one pass of the CRM sync from the command line, with a summary. */
import pino from 'pino'
import type { Config } from '../../src/config.js'
import type { Db } from '../../src/db/index.js'
import { outboxStats } from '../../src/db/crm-outbox.js'
import { getSyncState, SYNC_STATE } from '../../src/db/sync-state.js'
import { createCrmAdapter, createSyncContext } from './context.js'
import { startLocalEmulator } from './local.js'
import { drainOutbox, type DrainReport } from '../outbox.js'
import { pollInbound, type InboundReport } from '../inbound.js'
import { importReference, type ReferenceReport } from '../reference.js'
import type { Emulator } from '../emulator/index.js'

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/services/data`, { signal: AbortSignal.timeout(3000) })
    return res.ok
  } catch {
    return false
  }
}

function skippedLine(what: string, r: { skipped: string | null; pausedUntil: string | null }, reason: string | null): string | null {
  if (r.skipped === 'leased') return `${what}: skipped (a worker is doing it right now)`
  if (r.skipped === 'paused' || r.pausedUntil) return `${what}: CRM calls paused until ${r.pausedUntil}${reason ? ` (${reason})` : ''}`
  return null
}

export function summary(parts: { target: string; reference: ReferenceReport; outbound: DrainReport; inbound: InboundReport; waiting: number; dead: number; reason: string | null }): string[] {
  const { reference, outbound, inbound } = parts
  const lines = [`CRM: ${parts.target}`]
  const counts = Object.entries(reference.counts)
    .map(([o, c]) => `${o} ${Object.entries(c).map(([k, n]) => `${n} ${k}`).join(', ') || 'no change'}`)
  lines.push(skippedLine('reference data', reference, parts.reason) ?? `reference data: ${counts.join('; ')}`)
  lines.push(skippedLine('outbound', outbound, parts.reason)
    ?? `outbound: ${outbound.claimed} changes, ${outbound.casesSent} Cases sent (${outbound.casesCreated} new), ${outbound.commentsCreated + outbound.commentsRecovered} comments, ${outbound.retrying} to retry, ${outbound.dead} failed; ${outbound.calls} API calls`)
  lines.push(skippedLine('inbound', inbound, parts.reason)
    ?? `inbound: ${inbound.cases} Cases read, ${inbound.applied} ticket changes applied, ${inbound.replies} replies added, ${inbound.refused} refused, ${inbound.echoes} own writes ignored`)
  lines.push(`outbox: ${parts.waiting} waiting, ${parts.dead} failed${parts.dead ? ' (see /admin/sync)' : ''}`)
  return lines
}

/** Runs reference import, one drain and one inbound pass against the configured CRM (or the emulator). */
export async function runSyncCommand(db: Db, config: Config, out: (text: string) => void): Promise<void> {
  const log = pino({ level: config.LOG_LEVEL === 'silent' ? 'silent' : 'warn' }, pino.destination(2))
  let emulator: Emulator | null = null
  let url: string | undefined
  if (!config.crm.salesforce) {
    // the server's emulator when it runs, else one started here on the same data file
    const known = await getSyncState(db, SYNC_STATE.emulatorUrl)
    const candidates = [known, `http://127.0.0.1:${config.EMULATOR_PORT}`].filter((u): u is string => !!u)
    for (const c of candidates) if (!url && await reachable(c)) url = c
    if (!url) {
      emulator = await startLocalEmulator({ config: { ...config, EMULATOR_PORT: 0 }, db, log })
      url = emulator.url!
    }
  }
  try {
    const crm = createCrmAdapter(config, log, url)
    const ctx = createSyncContext({ db, crm, config, log, holder: `cli-${process.pid}` })
    const reference = await importReference(ctx)
    const outbound = await drainOutbox(ctx)
    const inbound = await pollInbound(ctx)
    const stats = await outboxStats(db, new Date().toISOString())
    for (const line of summary({ target: crm.target, reference, outbound, inbound, waiting: stats.pending, dead: stats.dead, reason: await getSyncState(db, SYNC_STATE.pauseReason) })) out(line)
  } finally {
    if (emulator) await emulator.close()
  }
}
