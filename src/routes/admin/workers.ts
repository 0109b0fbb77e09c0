// What the running workers say about themselves (their heartbeats): the admin pages show the
// workers' own settings, not the web process's, which may differ (SMTP only on the workers, say).
import type { FastifyInstance } from 'fastify'
import { liveWorkers, type WorkerView } from '../../db/worker-heartbeat.js'

/** Workers heard from within one lease period (they beat three times in it). */
export async function runningWorkers(fastify: FastifyInstance): Promise<WorkerView[]> {
  const since = new Date(fastify.clock().getTime() - fastify.config.LEASE_SECONDS * 1000).toISOString()
  return liveWorkers(fastify.db, since)
}

interface SmtpSetting { configured?: boolean; server?: string | null }

/**
 * How notifications leave: no worker at all (and, when this process has no SMTP server either,
 * probably none would send), workers without SMTP, or these workers through these servers.
 */
export function mailSending(workers: WorkerView[], ownSmtp: boolean): { state: 'no_worker' | 'no_smtp' | 'sending'; ownSmtp: boolean; workers: string; servers: string } {
  if (workers.length === 0) return { state: 'no_worker', ownSmtp, workers: '', servers: '' }
  const sending = workers.filter((w) => (w.settings.smtp as SmtpSetting | undefined)?.configured)
  if (sending.length === 0) return { state: 'no_smtp', ownSmtp, workers: '', servers: '' }
  const servers = [...new Set(sending.map((w) => (w.settings.smtp as SmtpSetting).server ?? '?'))]
  return { state: 'sending', ownSmtp, workers: sending.map((w) => `${w.host}:${w.pid}`).join(', '), servers: servers.join(', ') }
}
