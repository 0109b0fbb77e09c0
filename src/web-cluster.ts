// The web role as several processes on one port (node:cluster): the main process forks them,
// replaces one that dies, restarts them one at a time on request (SIGHUP) so that some are
// always serving, and stops them with itself. Each web process is the ordinary web role; the
// worker role stays in the main process (or its own), single and leased.
import cluster, { type Worker as Child } from 'node:cluster'
import type { Logger } from './log.js'

/** Set in a web process's environment by the main process. */
export const WEB_CHILD_ENV = 'CASEBRIDGE_WEB_PROCESS'

/** Whether this process is one of the main process's web processes. */
export function isWebChild(): boolean {
  return cluster.isWorker && process.env[WEB_CHILD_ENV] === '1'
}

export interface WebCluster {
  /** Replaces every web process with a new one, one at a time: each new one listens before its old one stops. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** How long a stopping web process may take to finish its requests before it is killed. */
const STOP_GRACE_MS = 30_000
/** A web process that dies is replaced after this, doubled per death in the last minute (at most 30 s). */
const RESPAWN_BASE_MS = 250

export async function startWebCluster(opts: { processes: number; log: Logger }): Promise<WebCluster> {
  const { log } = opts
  const serving = new Set<Child>()
  const retiring = new Set<Child>()
  let stopping = false
  const deaths: number[] = []

  function fork(): Promise<Child> {
    const child = cluster.fork({ [WEB_CHILD_ENV]: '1' })
    return new Promise((resolve, reject) => {
      const early = (code: number | null, signal: string | null) => reject(new Error(`web process ${child.process.pid} exited (${signal ?? code}) before it listened`))
      child.once('exit', early)
      child.once('listening', () => {
        child.off('exit', early)
        serving.add(child)
        child.once('exit', (code, signal) => died(child, code, signal))
        resolve(child)
      })
    })
  }

  function died(child: Child, code: number | null, signal: string | null) {
    serving.delete(child)
    if (retiring.delete(child) || stopping) return
    const now = Date.now()
    deaths.push(now)
    while (deaths.length > 0 && deaths[0] < now - 60_000) deaths.shift()
    const delay = Math.min(30_000, RESPAWN_BASE_MS * 2 ** (deaths.length - 1))
    log.error({ webPid: child.process.pid, code, signal, respawnInMs: delay }, 'a web process died: starting another')
    setTimeout(() => {
      if (stopping) return
      fork().then((next) => log.info({ webPid: next.process.pid }, 'web process started'))
        .catch((err: unknown) => { log.error({ err }, 'a replacement web process failed to start') })
    }, delay).unref()
  }

  /**
   * Asks a web process to finish and waits for it; killed after the grace period. Disconnecting
   * first stops this process handing it new connections (a SIGTERM alone leaves a moment where a
   * new connection reaches a closing server and gets 503); the web process then closes its
   * server after the requests it holds, and exits.
   */
  function retire(child: Child): Promise<void> {
    retiring.add(child)
    serving.delete(child)
    return new Promise((resolve) => {
      if (child.isDead()) return resolve()
      const kill = setTimeout(() => child.process.kill('SIGKILL'), STOP_GRACE_MS)
      child.once('exit', () => {
        clearTimeout(kill)
        resolve()
      })
      if (child.isConnected()) child.disconnect()
      else child.process.kill('SIGTERM')
    })
  }

  try {
    await Promise.all(Array.from({ length: opts.processes }, () => fork()))
  } catch (err) {
    stopping = true
    await Promise.all([...serving].map(retire))
    throw err
  }
  log.info({ processes: opts.processes, webPids: [...serving].map((c) => c.process.pid) }, 'web processes started')

  return {
    async restart() {
      for (const old of [...serving]) {
        if (stopping) return
        const next = await fork()
        log.info({ oldPid: old.process.pid, webPid: next.process.pid }, 'web process replaced')
        await retire(old)
      }
    },
    async stop() {
      stopping = true
      await Promise.all([...serving].map(retire))
    }
  }
}
