// The worker's XLSX exports: claims requested exports one at a time, streams the owner's search
// into a spreadsheet file (one batch of rows in memory at a time, written under DATA_DIR/exports
// whatever the file store), then marks the job done, moves the file into the file store (on disk
// or in the database) and queues the e-mail that carries it, in one transaction. Also deletes
// files whose download time is over.
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { readdir, rm, stat } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import type { Config } from '../../src/config.js'
import type { Db, Executor } from '../../src/db/index.js'
import { createFileStore } from '../../src/db/file-store.js'
import type { FileStore } from '../../src/storage/attachments.js'
import type { Logger } from '../../src/log.js'
import { systemClock, type Clock } from '../../src/domain/clock.js'
import type { Actor, Locale } from '../../src/domain/permissions.js'
import { slaStatus } from '../../src/domain/sla.js'
import { DESK_DEFAULTS, PORTAL_DEFAULTS, readSearchQuery } from '../../src/domain/search.js'
import { formatDateTime, isLocale, translator, type Translate } from '../../src/i18n/index.js'
import { loadActor } from '../../src/db/people.js'
import { countTickets, ticketBatches, type TicketListItem } from '../../src/db/ticket-search.js'
import { ratingsOf } from '../../src/db/reports.js'
import { cellText } from '../../src/domain/text.js'
import { EXPORT_READY_TEMPLATE } from '../../src/domain/notifications.js'
import { claimExport, completeExport, expireExport, exportsDueForExpiry, failExportJob, recordExportProgress, releaseExportJob } from '../../src/commands/exports.js'
import {
  exportFileName, ownerOf,
  XLSX_CONTENT_TYPE, type ExportJob
} from '../../src/db/exports.js'

export type ExportConfig = Pick<Config, 'exportsDir' | 'publicUrl' | 'DEFAULT_LOCALE' | 'EXPORT_TTL_DAYS' | 'EXPORT_MAX_ATTACH_MB' | 'fileStore' | 'dataDir' | 'attachmentsDir'>

/**
 * Rows per step of an export. Smaller batches keep less garbage alive between collections: at
 * 100,000 rows a batch of 1,000 peaked at 113 MiB of heap, 250 at 73 MiB and ran faster (10.0 s
 * against 13.9 s; docs/benchmarks.md).
 */
export const EXPORT_BATCH = 250

export interface ExportDeps {
  db: Db
  config: ExportConfig
  /** Where finished files go (default: the one FILE_STORE names). */
  store?: FileStore<Executor>
  /** Names this worker in claims (each claim adds its own random part). */
  holder: string
  clock?: Clock
  log?: Logger
  /** Rows read and written per step (one keyset query); EXPORT_BATCH by default. */
  batchSize?: number
  /** A claim not renewed for this long belongs to a dead worker and is taken over. */
  leaseMs?: number
  /** Exports written per run, so one run never holds the worker for ever. */
  maxPerRun?: number
  /** Stops between batches (worker shutdown): the job goes back to the queue. */
  signal?: AbortSignal
  /** Called after every batch (benchmarks sample memory here). */
  onProgress?: (rowsDone: number) => void
}

export interface ExportReport {
  done: number
  failed: number
  expired: number
}

const DAY = 86_400_000
const DEFAULT_LEASE_MS = 2 * 60_000
/** A job whose workers died this many times is failed rather than tried again. */
const MAX_ATTEMPTS = 3
/** Leftover partial files (a worker died mid-write) are removed once this old. */
const STALE_PART_MS = DAY
const DATE_FORMAT = 'yyyy-mm-dd hh:mm'

class LostClaim extends Error {
  override name = 'LostClaim'
}
class Stopped extends Error {
  override name = 'Stopped'
}

interface Column {
  title: string
  width: number
  date?: boolean
  value: (row: TicketListItem, rated: Rated | undefined) => ExcelJS.CellValue
}

/** The requester's satisfaction rating of a ticket, when it has one. */
type Rated = { rating: number; comment: string | null }

function date(value: string | null | undefined): Date | null {
  if (!value) return null
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d
}

/** The spreadsheet's columns: clients get what the portal shows them, staff the queue's fields too. */
export function exportColumns(area: 'portal' | 'desk', t: Translate, publicUrl: string, now: Date): Column[] {
  const desk = area === 'desk'
  const linkBase = `${publicUrl}/${area}/tickets/`.replace(/"/g, '""')
  const cols: (Column | false)[] = [
    { title: 'exports.xlsx.number', width: 10, value: (r) => r.number },
    { title: 'exports.xlsx.title', width: 48, value: (r) => cellText(r.title) },
    { title: 'exports.xlsx.type', width: 12, value: (r) => t(`type.${r.ticket_type}`) },
    { title: 'exports.xlsx.priority', width: 11, value: (r) => t(`priority.${r.priority}`) },
    { title: 'exports.xlsx.state', width: 13, value: (r) => t(`state.${r.state}`) },
    { title: 'exports.xlsx.status', width: 22, value: (r) => t(`status.${r.status}`) },
    { title: 'exports.xlsx.account', width: 26, value: (r) => cellText(r.account_name) },
    { title: 'exports.xlsx.requester', width: 22, value: (r) => cellText(r.contact_name) },
    desk && { title: 'exports.xlsx.requesterEmail', width: 28, value: (r) => cellText(r.contact_email) },
    { title: 'exports.xlsx.desk', width: 18, value: (r) => cellText(r.desk_name) },
    { title: 'exports.xlsx.product', width: 22, value: (r) => cellText(r.product_name) },
    { title: 'exports.xlsx.category', width: 24, value: (r) => cellText(r.category_name) },
    desk && { title: 'exports.xlsx.assignee', width: 20, value: (r) => cellText(r.assignee_name) },
    { title: 'exports.xlsx.created', width: 17, date: true, value: (r) => date(r.created_at) },
    { title: 'exports.xlsx.updated', width: 17, date: true, value: (r) => date(r.updated_at) },
    { title: 'exports.xlsx.closed', width: 17, date: true, value: (r) => date(r.closed_at) },
    desk && { title: 'exports.xlsx.responseDue', width: 17, date: true, value: (r) => date(r.response_due_at) },
    desk && { title: 'exports.xlsx.resolutionDue', width: 17, date: true, value: (r) => date(r.resolution_due_at) },
    desk && { title: 'exports.xlsx.sla', width: 12, value: (r) => { const s = slaStatus(r, now); return s === 'none' ? null : t(`sla.${s}`) } },
    // A HYPERLINK formula, not a cell hyperlink: those are kept in memory until the sheet ends.
    { title: 'exports.xlsx.link', width: 12, value: (r) => ({ formula: `HYPERLINK("${linkBase}${r.number}","#${r.number}")`, result: `#${r.number}` }) },
    // Last, so the columns before them keep their places in sheets people already read.
    desk && { title: 'csat.export.rating', width: 8, value: (_r, rated) => rated?.rating ?? null },
    desk && { title: 'csat.export.ratingComment', width: 40, value: (_r, rated) => cellText(rated?.comment) }
  ]
  return cols.filter((c): c is Column => c !== false).map((c) => ({ ...c, title: t(c.title) }))
}

/** Bytes of sheet XML allowed to wait for compression before the writer pauses. */
const ZIP_BACKLOG_BYTES = 1 << 20

/**
 * Keeps exceljs's streaming writer (4.4) bounded between batches, through two of its internals
 * (without them it only yields a turn). It hands rows to the zip compressor without
 * backpressure: left alone, the whole sheet's XML waits in memory for the slower deflate (about
 * 0.8 MiB per 1,000 rows); so this waits until the compressor's input is below ZIP_BACKLOG_BYTES.
 */
async function zipCaughtUp(sheet: ExcelJS.Worksheet): Promise<void> {
  // The writer also keeps every formula cell written, for shared formulas we never use: forget them.
  const writer = sheet as unknown as { _formulae?: Record<string, unknown> }
  if (writer._formulae && typeof writer._formulae === 'object') writer._formulae = {}
  const entry = (sheet as unknown as { stream?: { pipes?: unknown[] } }).stream?.pipes?.[0] as
    (NodeJS.EventEmitter & { _writableState?: { length: number; needDrain: boolean } }) | undefined
  const state = entry?._writableState
  if (entry && state && state.needDrain && state.length > ZIP_BACKLOG_BYTES) await once(entry, 'drain')
  else await new Promise((resolve) => setImmediate(resolve))
}

function parseQuery(query: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(query)) if (!(k in out)) out[k] = v
  return out
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string }
  return `${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}`.replace(/\s+/g, ' ').slice(0, 500)
}

/** Deletes the files of exports whose download time is over, and partial files left by dead workers. */
export async function expireExports(deps: ExportDeps): Promise<number> {
  const clock = deps.clock ?? systemClock
  const work = { db: deps.db, clock, random: Math.random, store: deps.store ?? createFileStore(deps.config, deps.db) }
  const due = await exportsDueForExpiry(work)
  for (const job of due) await expireExport(work, job)
  let names: string[] = []
  try {
    names = await readdir(deps.config.exportsDir)
  } catch {
    return due.length
  }
  const cutoff = clock().getTime() - STALE_PART_MS
  for (const name of names.filter((n) => n.endsWith('.part'))) {
    const file = join(deps.config.exportsDir, name)
    const info = await stat(file).catch(() => null)
    if (info && info.mtimeMs < cutoff) await rm(file, { force: true })
  }
  return due.length
}

/** One pass: expire old files, then write waiting exports one at a time. */
export async function runExportJobs(given: ExportDeps): Promise<ExportReport> {
  const deps = { ...given, store: given.store ?? createFileStore(given.config, given.db) }
  const clock = deps.clock ?? systemClock
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS
  const report: ExportReport = { done: 0, failed: 0, expired: await expireExports(deps) }
  for (let n = 0; n < (deps.maxPerRun ?? 20) && !deps.signal?.aborted; n++) {
    const job = await claimExport({ db: deps.db, clock, random: Math.random }, { holder: `${deps.holder}/${randomUUID()}`, leaseMs, maxAttempts: MAX_ATTEMPTS })
    if (!job) break
    const outcome = await runExport(deps, job)
    if (outcome === 'done') report.done++
    if (outcome === 'failed') report.failed++
    if (outcome === 'released') break
  }
  return report
}

/** Writes one claimed export; the job row says how it went. */
export async function runExport(deps: ExportDeps, job: ExportJob): Promise<'done' | 'failed' | 'lost' | 'released'> {
  const { db, config } = deps
  const clock = deps.clock ?? systemClock
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS
  const holder = job.holder!
  const log = deps.log?.child({ exportId: job.id })
  const work = { db, clock, random: Math.random }
  const owner = ownerOf(job)
  // The owner as they are now: a client's export holds only what they may see when it runs.
  const actor: Actor | undefined = await loadActor(db, owner.kind, owner.id)
  if (!actor) {
    await failExportJob(work, { exportId: job.id, holder, error: 'owner_gone' })
    return 'failed'
  }
  const locale: Locale = actor.locale ?? (isLocale(job.locale) ? job.locale : config.DEFAULT_LOCALE)
  const t = translator(locale)
  const area = actor.kind === 'staff' ? 'desk' : 'portal'
  const defaults = area === 'desk' ? DESK_DEFAULTS : PORTAL_DEFAULTS
  const { filters } = readSearchQuery(parseQuery(job.query), { kind: actor.kind, defaults })
  const startedAt = clock()
  const search = { ...filters, page: undefined, perPage: undefined, now: startedAt }

  const store = deps.store ?? createFileStore(config, db)
  // Named per claim, so a worker that lost its claim never writes over the one that took it.
  const name = `${job.file_key}-${job.attempts}.xlsx`
  const part = join(config.exportsDir, `${name}.part`)
  try {
    mkdirSync(config.exportsDir, { recursive: true })
    const rowsTotal = await countTickets(db, actor, search)
    if (!(await recordExportProgress(work, { exportId: job.id, holder, rowsDone: 0, rowsTotal, leaseMs }))) throw new LostClaim()

    const columns = exportColumns(area, t, config.publicUrl, startedAt)
    // No shared strings: that table would hold every distinct text in memory until the end.
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: part, useStyles: true, useSharedStrings: false })
    workbook.creator = t('app.name')
    workbook.created = startedAt
    const sheet = workbook.addWorksheet(t('exports.sheet'), { views: [{ state: 'frozen', ySplit: 1 }] })
    sheet.columns = columns.map((c, i) => ({ key: String(i), header: c.title, width: c.width, style: c.date ? { numFmt: DATE_FORMAT } : {} }))
    sheet.getRow(1).font = { bold: true }
    sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } }
    sheet.getRow(1).commit()

    let rowsDone = 0
    try {
      for await (const batch of ticketBatches(db, actor, search, deps.batchSize ?? EXPORT_BATCH)) {
        const ratings = area === 'desk' ? await ratingsOf(db, batch.map((r) => r.id)) : undefined
        for (const r of batch) {
          const rated = ratings?.get(r.id)
          sheet.addRow(columns.map((c) => c.value(r, rated))).commit()
        }
        rowsDone += batch.length
        if (deps.signal?.aborted) throw new Stopped()
        if (!(await recordExportProgress(work, { exportId: job.id, holder, rowsDone, leaseMs }))) throw new LostClaim()
        deps.onProgress?.(rowsDone)
        await zipCaughtUp(sheet)
      }
      sheet.commit()
    } finally {
      await workbook.commit()
    }
    const size = (await stat(part)).size

    const finishedAt = clock()
    const expiresAt = new Date(finishedAt.getTime() + config.EXPORT_TTL_DAYS * DAY).toISOString()
    const filename = exportFileName(t('exports.fileName'), job.id, job.created_at)
    const attach = size <= config.EXPORT_MAX_ATTACH_MB * 1024 * 1024
    const done = await completeExport({ db, store, clock: () => finishedAt, random: Math.random }, {
      exportId: job.id, holder, localFile: part, done: { rowsDone, filePath: name, fileSize: size, expiresAt },
      mail: {
        ticketId: null, recipient: actor.email, locale, template: EXPORT_READY_TEMPLATE,
        data: {
          exportId: job.id, rowCount: rowsDone, rows: rowsDone.toLocaleString(locale), filename,
          expires: formatDateTime(expiresAt, locale), exportsUrl: `${config.publicUrl}/exports`,
          attached: attach ? 'yes' : 'no', tooLarge: attach ? '' : 'yes',
          attachments: attach ? [{ ...store.mailRef('export', name), filename, contentType: XLSX_CONTENT_TYPE }] : []
        }
      }
    })
    if (!done) {
      await rm(part, { force: true })
      return 'lost'
    }
    log?.info({ rows: rowsDone, bytes: size, ms: finishedAt.getTime() - startedAt.getTime() }, 'export written')
    return 'done'
  } catch (err) {
    // Best effort: the folder itself may be what failed.
    await rm(part, { force: true }).catch(() => undefined)
    await store.remove('export', name).catch(() => undefined)
    if (err instanceof LostClaim) {
      log?.warn('export taken over by another worker')
      return 'lost'
    }
    if (err instanceof Stopped) {
      await releaseExportJob(work, { exportId: job.id, holder })
      return 'released'
    }
    log?.error({ err }, 'export failed')
    await failExportJob(work, { exportId: job.id, holder, error: `failed: ${describe(err)}` })
    return 'failed'
  }
}
