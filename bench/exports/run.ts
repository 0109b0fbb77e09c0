// XLSX export at scale: the worker's export job over every ticket of a fresh SQLite database,
// for an admin (whose search is the whole table), at two sizes, to show that memory stays flat
// as rows grow. Prints wall time, rows/s, peak memory and the file size.
//
//   npm run bench:exports -- [--tickets 100000] [--small 10000] [--data DIR] [--batch 250]
//
// Each size gets its own database, seeded by bench/portal/seed.ts (500 accounts). Each export
// runs in a child process of its own, so its peak RSS is the export's (plus Node and the app's
// modules), not the seeding's. Memory is sampled every 20 ms and after every batch; maxRSS is
// the kernel's figure for the whole child. The written file is then read back with exceljs's
// streaming reader in this process and its rows counted.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import ExcelJS from 'exceljs'
import { loadConfig } from '../../src/config.js'
import { createDb } from '../../src/db/index.js'
import { requestExport } from '../../src/commands/exports.js'
import { personWho } from '../../src/commands/kernel.js'
import { loadStaffActor } from '../../src/db/people.js'
import { EXPORT_BATCH, runExportJobs } from '../../sync/jobs/exports.js'
import { EXPORT_CACHE_MB, EXPORT_PROCESS_FLAGS } from '../../sync/jobs/export-process.js'
import { formatBytes, seed } from '../portal/seed.js'

const { values } = parseArgs({
  options: {
    tickets: { type: 'string', default: '100000' },
    small: { type: 'string', default: '10000' },
    data: { type: 'string' },
    batch: { type: 'string', default: String(EXPORT_BATCH) },
    /** Old-space cap (MiB) of one more run of the largest size: it must still finish. */
    cap: { type: 'string', default: '48' },
    child: { type: 'boolean', default: false },
    live: { type: 'boolean', default: false }
  }
})

interface Result {
  tickets: number
  rows: number
  seconds: number
  rowsPerSecond: number
  fileBytes: number
  baselineRss: number
  peakRss: number
  maxRss: number
  peakHeap: number
  /** With --live: the largest heap + external memory right after a full GC, taken every 10 batches. */
  peakLive: number | null
  file: string
}

const MiB = 1024 * 1024
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`

/** The child: one export of every ticket, measured. */
async function child(dataDir: string, batchSize: number, live: boolean): Promise<Result> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (live && !gc) throw new Error('--live needs node --expose-gc')
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', SEED: 'none' })
  const db = await createDb(config.databaseUrl, { sqliteCacheMb: EXPORT_CACHE_MB })
  const adminRow = await db.selectFrom('staff').select('id').where('role', '=', 'admin').orderBy('id').executeTakeFirstOrThrow()
  const admin = (await loadStaffActor(db, adminRow.id))!
  const tickets = Number((await db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  await db.deleteFrom('export_job').execute()
  // The staff queue's search with the "open" default cleared: every ticket, newest first.
  const queued = await requestExport({ db, clock: () => new Date(), random: Math.random }, personWho(admin), { area: 'desk', query: 'situation=', locale: 'en' })
  if (!queued.ok) throw new Error('export refused')

  gc?.()
  const baselineRss = process.memoryUsage().rss
  let peakRss = baselineRss
  let peakHeap = process.memoryUsage().heapUsed
  const sample = () => {
    const m = process.memoryUsage()
    if (m.rss > peakRss) peakRss = m.rss
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed
  }
  let peakLive: number | null = null
  let batches = 0
  const progress = () => {
    sample()
    if (live && ++batches % 10 === 0) {
      gc!()
      const m = process.memoryUsage()
      peakLive = Math.max(peakLive ?? 0, m.heapUsed + m.external)
    }
  }
  const timer = setInterval(sample, 20)
  const started = process.hrtime.bigint()
  const report = await runExportJobs({ db, config, holder: 'bench', batchSize, onProgress: progress })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  clearInterval(timer)
  sample()
  if (report.done !== 1) throw new Error(`export did not finish: ${JSON.stringify(report)}`)
  const job = await db.selectFrom('export_job').selectAll().where('id', '=', queued.value.exportId).executeTakeFirstOrThrow()
  await db.destroy()
  return {
    tickets, rows: job.rows_done, seconds, rowsPerSecond: job.rows_done / seconds, fileBytes: job.file_size ?? 0,
    baselineRss, peakRss, maxRss: process.resourceUsage().maxRSS * 1024, peakHeap, peakLive,
    file: join(config.exportsDir, job.file_path!)
  }
}

/**
 * Counts the rows of the written file with exceljs's streaming reader. Its unzip stream can halt
 * without an error (exceljs issue 2790: an entry left undrained), and a halted stream leaves
 * nothing for the event loop, so the process would end silently; a timer keeps it alive and turns
 * a stall (no row for `stallMs`) into an error that says so.
 */
async function countRows(file: string, stallMs = 60_000): Promise<number> {
  let rows = 0
  let last = Date.now()
  let stalled: ((err: Error) => void) | undefined
  const watch = setInterval(() => {
    if (Date.now() - last > stallMs) stalled?.(new Error(`read-back of ${file} stalled after ${rows} rows (no row for ${stallMs / 1000} s)`))
  }, 1000)
  try {
    const reading = (async () => {
      const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, { worksheets: 'emit', sharedStrings: 'ignore', hyperlinks: 'ignore', styles: 'ignore', entries: 'ignore' })
      for await (const sheet of reader) {
        for await (const _row of sheet) {
          rows++
          last = Date.now()
        }
      }
      return rows
    })()
    return await Promise.race([reading, new Promise<never>((_resolve, reject) => { stalled = reject })])
  } finally {
    clearInterval(watch)
  }
}

async function main() {
  if (values.child) {
    const result = await child(values.data!, Number(values.batch), values.live!)
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  const root = resolve(values.data ?? mkdtempSync(join(tmpdir(), 'casebridge-bench-exports-')))
  const sizes = [Number(values.small), Number(values.tickets)]
  const run = promisify(execFile)
  /** One export in a child process of its own; `live` forces GCs to see what is kept, `capMiB` caps the heap. */
  const measure = async (dir: string, opts: { live?: boolean; capMiB?: number } = {}) => {
    // The V8 settings the worker's export process runs with (sync/jobs/export-process.ts), the cap replaced when asked.
    const production = EXPORT_PROCESS_FLAGS.filter((f) => !(opts.capMiB && f.startsWith('--max-old-space-size=')))
    const flags = [...production, ...(opts.live ? ['--expose-gc'] : []), ...(opts.capMiB ? [`--max-old-space-size=${opts.capMiB}`] : [])]
    // The child runs as this process does: through tsx from the sources, or the compiled build
    // (`npm run build`, then `node dist/bench/exports/run.js`), which is how the product runs.
    const args = [...process.execArgv, ...flags, process.argv[1], '--child', '--data', dir, '--batch', values.batch!, ...(opts.live ? ['--live'] : [])]
    const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * MiB })
    return JSON.parse(stdout.trim().split('\n').pop()!) as Result
  }
  const results: Result[] = []
  for (const size of sizes) {
    const dir = join(root, String(size))
    const info = join(dir, 'bench.json')
    // The seeder's count includes the demo organisation's few tickets.
    const seededCount = existsSync(info) ? (JSON.parse(readFileSync(info, 'utf8')) as { tickets: number }).tickets : 0
    if (!(seededCount >= size && seededCount < size + 100)) await seed({ data: dir, tickets: size, accounts: 500, seed: 42, force: true })
    const result = await measure(dir)
    // A second run forcing a full GC every 10 batches: what is really kept, not what awaits collection.
    result.peakLive = (await measure(dir, { live: true })).peakLive
    results.push(result)
    // The figures first: a read-back that fails must not hide them.
    process.stdout.write(`${size.toLocaleString('en')} tickets: ${result.rows.toLocaleString('en')} rows in ${result.seconds.toFixed(1)} s ` +
      `(${Math.round(result.rowsPerSecond).toLocaleString('en')} rows/s), file ${formatBytes(result.fileBytes)}, ` +
      `RSS ${mib(result.baselineRss)} before, peak ${mib(result.peakRss)} sampled / ${mib(result.maxRss)} maxRSS, heap peak ${mib(result.peakHeap)}, ` +
      `live after GC ${mib(result.peakLive ?? 0)}\n`)
    const read = await countRows(result.file)
    if (read !== result.rows + 1) throw new Error(`the file has ${read} rows, expected ${result.rows} and a header`)
    process.stdout.write(`  read back: ${read - 1} rows + header\n`)
  }
  const [small, large] = results
  const cap = Number(values.cap)
  if (cap > 0) {
    const capped = await measure(join(root, String(sizes[1])), { capMiB: cap })
    process.stdout.write(`${sizes[1].toLocaleString('en')} tickets with the V8 heap capped at ${cap} MiB: ${capped.rows.toLocaleString('en')} rows in ${capped.seconds.toFixed(1)} s, ` +
      `peak RSS ${mib(capped.peakRss)}, heap peak ${mib(capped.peakHeap)}\n`)
  }
  process.stdout.write(`\nmachine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`)
  process.stdout.write(`rows x${(large.rows / small.rows).toFixed(1)}: peak RSS x${(large.peakRss / small.peakRss).toFixed(2)} ` +
    `(+${mib(large.peakRss - small.peakRss)}), growth over baseline ${mib(small.peakRss - small.baselineRss)} -> ${mib(large.peakRss - large.baselineRss)}; ` +
    `live memory after GC ${mib(small.peakLive ?? 0)} -> ${mib(large.peakLive ?? 0)}\n`)
  process.stdout.write(`data: ${root}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
