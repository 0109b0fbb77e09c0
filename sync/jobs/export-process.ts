// XLSX exports in a process of their own. An export of 100,000 rows makes about 2 million cell
// objects in exceljs: in the worker's process that garbage grew its heap by 100 MiB or more, which
// V8 keeps once grown, and it ran beside the mail and CRM loops. The worker now starts a short-lived
// Node process when an export is waiting (`exportWaiting`, one look-up) and hands it the job loop
// (`runExportJobs`, unchanged: claims, leases and retries are the database's, as before). That
// process runs with a small young generation and a capped old one (EXPORT_PROCESS_FLAGS), so an
// export peaks well under 200 MiB and hands all of it back when it ends; an export that blows its
// cap ends that process only, and its claim lapses and is retried like a dead worker's.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Config } from '../../src/config.js'
import { createDb, type Db } from '../../src/db/index.js'
import { exportWaiting } from '../../src/db/exports.js'
import { systemClock, type Clock } from '../../src/domain/clock.js'
import { createLogger, type Logger } from '../../src/log.js'
import { runExportJobs, type ExportReport } from './exports.js'

/**
 * V8 settings of the export process: a 2 MiB young generation (collected often: almost everything
 * an export makes dies young) and an old generation capped at 160 MiB (an export keeps about
 * 30 MiB alive; docs/benchmarks.md, "XLSX export").
 */
export const EXPORT_PROCESS_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=160']

/** SQLite's page cache of the export process, MiB. */
export const EXPORT_CACHE_MB = 8

/** How long a stopping worker waits for the export process to hand its job back before killing it. */
const STOP_GRACE_MS = 30_000

export interface ExportProcessDeps {
  db: Db
  config: Config
  holder: string
  leaseMs: number
  log?: Logger
  signal?: AbortSignal
  clock?: Clock
}

/** What the worker sends the export process, and what it answers. */
interface Request { config: Config; holder: string; leaseMs: number }
type Answer = { report: ExportReport } | { error: string }

function entry(): string {
  // The sources run through tsx (npm run dev, tests) and the build as plain JavaScript.
  return fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './export-process.ts' : './export-process.js', import.meta.url))
}

const CHILD_ENV = 'CASEBRIDGE_EXPORT_PROCESS'

/**
 * The worker's export loop: expired files are deleted here; when an export is waiting, a process
 * of its own runs the queue (up to runExportJobs' per-run limit) and reports what it did. A
 * database only this process can see (`sqlite::memory:`) keeps the exports in this process.
 */
export async function runExportJobsApart(deps: ExportProcessDeps): Promise<ExportReport> {
  const base = { db: deps.db, config: deps.config, holder: deps.holder, leaseMs: deps.leaseMs, log: deps.log, signal: deps.signal, clock: deps.clock }
  if (deps.config.databaseUrl === 'sqlite::memory:') return runExportJobs(base)
  const { expired } = await runExportJobs({ ...base, maxPerRun: 0 })
  const now = (deps.clock ?? systemClock)().toISOString()
  if (deps.signal?.aborted || !(await exportWaiting(deps.db, now))) return { done: 0, failed: 0, expired }

  const heapFlags = /^--(max-semi-space-size|max-old-space-size|max-young-generation-size)=/
  const child = fork(entry(), [], {
    execArgv: [...process.execArgv.filter((flag) => !heapFlags.test(flag)), ...EXPORT_PROCESS_FLAGS],
    env: { ...process.env, [CHILD_ENV]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  let answer: Answer | undefined
  child.on('message', (message: Answer) => { answer = message })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  let killer: NodeJS.Timeout | undefined
  const stop = () => {
    child.kill('SIGTERM')
    killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  }
  deps.signal?.addEventListener('abort', stop, { once: true })
  child.send({ config: deps.config, holder: deps.holder, leaseMs: deps.leaseMs } satisfies Request)
  const { code, signal } = await exited
  deps.signal?.removeEventListener('abort', stop)
  if (killer) clearTimeout(killer)
  const reply = answer as Answer | undefined
  if (reply && 'report' in reply) return { ...reply.report, expired: expired + reply.report.expired }
  // Ended without a report (out of memory, killed): the claim lapses and the job is tried again.
  deps.log?.error({ code, signal, error: reply && 'error' in reply ? reply.error : undefined }, 'the export process ended without finishing its run')
  return { done: 0, failed: 0, expired }
}

/** The export process: one run of the queue with the worker's settings, then it ends. */
async function exportProcess(request: Request): Promise<Answer> {
  // An export reads its rows in order, once: a small page cache is enough, and keeps the process small.
  const db = await createDb(request.config.databaseUrl, { sqliteCacheMb: EXPORT_CACHE_MB })
  const stop = new AbortController()
  process.once('SIGTERM', () => stop.abort())
  try {
    const log = createLogger(request.config.LOG_LEVEL).child({ worker: 'exports', exportPid: process.pid })
    const report = await runExportJobs({ db, config: request.config, holder: request.holder, leaseMs: request.leaseMs, log, signal: stop.signal })
    return { report }
  } catch (err) {
    return { error: (err as Error).message ?? String(err) }
  } finally {
    await db.destroy()
  }
}

if (process.env[CHILD_ENV] === '1' && process.send && process.argv[1] === entry()) {
  process.once('message', (request: Request) => {
    void exportProcess(request).then((answer) => {
      process.send!(answer, () => process.disconnect())
    })
  })
}
