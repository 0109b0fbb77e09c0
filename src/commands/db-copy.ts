// Moving an installation from SQLite to PostgreSQL (`casebridge db copy`): the target is migrated,
// then every table is copied in the order its references need (ids kept), the files on disk go
// into the target's file store (`stored_blob`, FILE_STORE=db being PostgreSQL's default), the
// sequences move past the copied ids, and everything is checked (row counts, every stored
// attachment hashed again from the copied bytes) before the one transaction commits. A failure
// anywhere leaves the target as empty as it was. The source is read inside one transaction, a
// consistent snapshot even if a process still writes to it.
import { basename } from 'node:path'
import { createHash } from 'node:crypto'
import { PostgresAdapter, SqliteAdapter } from 'kysely'
import { migrateToLatest, type Db, type Executor } from '../db/index.js'
import {
  appliedMigrations, countRows, deleteAllRows, exportFiles, insertRows, MIGRATOR_TABLES, pgTables, pgWritableColumns,
  referencedFiles, resetSequences, setColumn, setLiveTriggers, sqliteBatch, sqliteColumns, sqliteForeignKeys, sqliteTables,
  WRITTEN_BY_MIGRATIONS, type Row
} from '../db/copy.js'
import { blobSize, insertBlob, listBlobs, readBlobSlice } from '../db/stored-blob.js'
import { rebuildStaffLoads } from '../db/ticket.js'
import { sha256Of, type FileStore } from '../storage/attachments.js'

/** The copy cannot start (what the operator must change is in the message); nothing was written. */
export class CopyRefused extends Error {
  override name = 'CopyRefused'
}

/** The copy ran but did not check out; its transaction was rolled back, the target is as empty as before. */
export class CopyFailed extends Error {
  override name = 'CopyFailed'
}

export interface CopyOptions {
  /** The SQLite database, migrated to this release. */
  source: Db
  /** An empty PostgreSQL database (migrated here). */
  target: Db
  /** The source installation's files (its DATA_DIR's attachments and exports), read only. */
  files: Pick<FileStore, 'read'>
  /** Rows per INSERT (fewer for wide tables; one at a time for tables holding files). */
  batchRows?: number
  /** Told what the copy is doing, a line at a time. */
  progress?: (line: string) => void
}

export interface TableCopy {
  table: string
  /** Rows in the source. */
  rows: number
  /** Rows in the target once copied (stored_blob also gets the files from disk). */
  copied: number
}

export interface CopyReport {
  tables: TableCopy[]
  migrationsApplied: string[]
  attachments: { stored: number; fromDisk: number; alreadyInDatabase: number; bytes: number }
  exports: { fromDisk: number; missing: number }
  /** Text values that held U+0000, which PostgreSQL cannot store: the character was removed. */
  nulsRemoved: number
  /** Tables whose id sequence was moved past the copied ids. */
  sequences: number
}

interface TablePlan {
  table: string
  columns: string[]
  key: string[]
  hasFiles: boolean
  /** References written after every table is in (to a row of the same table, or around a cycle). */
  deferred: Set<string>
}

const adapterOf = (db: Db) => db.getExecutor().adapter

/** The tables that hold rows in a database about to be filled (the migrator's and the migrations' own aside). */
async function rowsHeld(target: Db): Promise<{ table: string; rows: number }[]> {
  const held: { table: string; rows: number }[] = []
  for (const table of await pgTables(target)) {
    if (MIGRATOR_TABLES.includes(table) || WRITTEN_BY_MIGRATIONS.includes(table)) continue
    const rows = await countRows(target, table)
    if (rows > 0) held.push({ table, rows })
  }
  return held
}

type Planned = TablePlan & { refs: { column: string; parent: string }[]; nullable: Set<string> }

/** Tables in an order where every row's references are copied before it; references that cannot be are deferred. */
async function planCopy(source: Executor, target: Db): Promise<TablePlan[]> {
  const tables = await sqliteTables(source)
  const targetTables = (await pgTables(target)).filter((t) => !MIGRATOR_TABLES.includes(t))
  const missing = tables.filter((t) => !targetTables.includes(t))
  const extra = targetTables.filter((t) => !tables.includes(t))
  if (missing.length > 0 || extra.length > 0) {
    throw new CopyRefused(`the two databases' tables differ (only in the source: ${missing.join(', ') || 'none'}; only in the target: ${extra.join(', ') || 'none'})`)
  }
  const plans = new Map<string, Planned>()
  for (const table of tables) {
    const columns = await sqliteColumns(source, table)
    const writable = new Set(await pgWritableColumns(target, table))
    const unknown = columns.filter((c) => !writable.has(c.name)).map((c) => c.name)
    if (unknown.length > 0) throw new CopyRefused(`the target's ${table} table has no column ${unknown.join(', ')}`)
    plans.set(table, {
      table, columns: columns.map((c) => c.name),
      key: columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
      hasFiles: columns.some((c) => c.type === 'BLOB'),
      deferred: new Set(), refs: await sqliteForeignKeys(source, table),
      nullable: new Set(columns.filter((c) => !c.notNull && c.pk === 0).map((c) => c.name))
    })
  }
  const order: TablePlan[] = []
  const remaining = new Map(plans)
  while (remaining.size > 0) {
    const waitsFor = (p: Planned) =>
      p.refs.filter((r) => r.parent !== p.table && remaining.has(r.parent) && !p.deferred.has(r.column))
    let ready = [...remaining.values()].filter((p) => waitsFor(p).length === 0)
    if (ready.length === 0) {
      // A cycle between tables: one whose references into it may be empty for a moment goes first.
      const breakable = [...remaining.values()].find((p) => waitsFor(p).every((r) => p.nullable.has(r.column)))
      if (!breakable) throw new CopyRefused(`the tables ${[...remaining.keys()].join(', ')} refer to each other with required columns`)
      for (const r of waitsFor(breakable)) breakable.deferred.add(r.column)
      ready = [breakable]
    }
    for (const p of ready.sort((a, b) => a.table.localeCompare(b.table))) {
      // A row may refer to a later row of its own table (a manager added after their report).
      for (const r of p.refs) if (r.parent === p.table && p.nullable.has(r.column)) p.deferred.add(r.column)
      if (p.deferred.size > 0 && p.key.length === 0) throw new CopyRefused(`table ${p.table} has no primary key to set its references by`)
      order.push(p)
      remaining.delete(p.table)
    }
  }
  return order
}

/** SHA-256 of a stored file, read back from the database a slice at a time. */
async function storedSha256(db: Executor, kind: 'attachment' | 'export', key: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const slice = 1 << 20
  for (let offset = 0; offset < size; offset += slice) {
    const part = await readBlobSlice(db, kind, key, offset, Math.min(slice, size - offset))
    if (!part || part.length === 0) break
    hash.update(part)
  }
  return hash.digest('hex')
}

function shortList(items: string[], max = 5): string {
  return items.slice(0, max).join(', ') + (items.length > max ? ` and ${items.length - max} more` : '')
}

/** Copies a SQLite installation (rows and files) into an empty PostgreSQL database, and checks it. */
export async function copyInstallation(opts: CopyOptions): Promise<CopyReport> {
  const { source, target } = opts
  const say = opts.progress ?? (() => undefined)
  if (!(adapterOf(source) instanceof SqliteAdapter)) throw new CopyRefused('the source must be a SQLite database')
  if (!(adapterOf(target) instanceof PostgresAdapter)) throw new CopyRefused('the target must be a PostgreSQL database (postgres://…)')

  const held = await rowsHeld(target)
  if (held.length > 0) {
    throw new CopyRefused(`the target database already holds data (${shortList(held.map((h) => `${h.table}: ${h.rows} row${h.rows === 1 ? '' : 's'}`))}); ` +
      'db copy fills only an empty database: create a new one (createdb) and copy into it')
  }
  say('migrating the target')
  const migrationsApplied = await migrateToLatest(target)
  const ran = { source: await appliedMigrations(source), target: await appliedMigrations(target) }
  if (ran.source.join() !== ran.target.join()) {
    const behind = ran.target.filter((m) => !ran.source.includes(m))
    throw new CopyRefused(behind.length > 0
      ? `the source database has not run ${shortList(behind)}: run \`casebridge migrate\` on it first`
      : `the source database ran migrations this release does not have (${shortList(ran.source.filter((m) => !ran.target.includes(m)))}): copy with the release that wrote it`)
  }

  // The source's snapshot: one read transaction, however long the copy takes.
  return source.transaction().execute(async (snapshot) => {
    const plan = await planCopy(snapshot, target)
    const batchRows = opts.batchRows ?? 500
    const report: CopyReport = {
      tables: [], migrationsApplied,
      attachments: { stored: 0, fromDisk: 0, alreadyInDatabase: 0, bytes: 0 }, exports: { fromDisk: 0, missing: 0 },
      nulsRemoved: 0, sequences: 0
    }
    await target.transaction().execute(async (trx) => {
      // The default SLA policies the target's migrations wrote make way for the source's own.
      for (const p of [...plan].reverse()) await deleteAllRows(trx, p.table)
      // Copied tickets and notes are no news to a live page.
      await setLiveTriggers(trx, false)
      const later: { plan: TablePlan; key: Row; column: string; value: unknown }[] = []
      for (const p of plan) {
        say(`copying ${p.table}`)
        // PostgreSQL takes at most 65,535 parameters per statement.
        const limit = p.hasFiles ? 1 : Math.max(1, Math.min(batchRows, Math.floor(30_000 / p.columns.length)))
        let after = 0
        let rows = 0
        for (;;) {
          const batch = await sqliteBatch(snapshot, p.table, p.columns, after, limit)
          if (batch.length === 0) break
          after = batch[batch.length - 1].rowid
          rows += batch.length
          await insertRows(trx, p.table, batch.map(({ rowid: _rowid, ...row }) => {
            for (const [column, value] of Object.entries(row)) {
              if (typeof value === 'string' && value.includes('\u0000')) {
                row[column] = value.replaceAll('\u0000', '')
                report.nulsRemoved++
              }
              if (p.deferred.has(column) && value !== null) {
                later.push({ plan: p, key: Object.fromEntries(p.key.map((k) => [k, row[k]])), column, value: row[column] })
                row[column] = null
              }
            }
            return row
          }))
        }
        report.tables.push({ table: p.table, rows, copied: 0 })
      }
      for (const d of later) await setColumn(trx, d.plan.table, d.column, d.key, d.value)

      say('copying files')
      const now = new Date().toISOString()
      const wanted = await referencedFiles(trx)
      const lost: string[] = []
      const wrong: string[] = []
      for (const sha256 of wanted) {
        // A source that kept its files in the database (FILE_STORE=db) brought them with stored_blob.
        if ((await blobSize(trx, 'attachment', sha256)) !== null) {
          report.attachments.alreadyInDatabase++
          continue
        }
        const bytes = await opts.files.read('attachment', sha256)
        if (!bytes) lost.push(sha256)
        else if (sha256Of(bytes) !== sha256) wrong.push(sha256)
        else {
          await insertBlob(trx, { kind: 'attachment', key: sha256, sha256, bytes, createdAt: now })
          report.attachments.fromDisk++
          report.attachments.bytes += bytes.length
        }
      }
      if (lost.length > 0) throw new CopyFailed(`${lost.length} file(s) the rows refer to are not in the source's attachments folder: ${shortList(lost)}`)
      if (wrong.length > 0) throw new CopyFailed(`${wrong.length} file(s) in the source's attachments folder do not hash to their names (damaged): ${shortList(wrong)}`)
      const exportSums = new Map<string, string>()
      for (const job of await exportFiles(trx)) {
        const key = basename(job.file_path!)
        if ((await blobSize(trx, 'export', key)) !== null) continue
        const bytes = await opts.files.read('export', key)
        // Exports are made again on request; one whose file is gone shows as expired, as it would have.
        if (!bytes) {
          report.exports.missing++
          continue
        }
        const sha256 = sha256Of(bytes)
        await insertBlob(trx, { kind: 'export', key, sha256, bytes, createdAt: now })
        exportSums.set(key, sha256)
        report.exports.fromDisk++
      }

      for (const p of plan) if ((await resetSequences(trx, p.table)).length > 0) report.sequences++
      await setLiveTriggers(trx, true)
      // The target's triggers counted each copied open ticket on top of the copied counts.
      await rebuildStaffLoads(trx)

      say('verifying')
      const added = report.attachments.fromDisk + report.exports.fromDisk
      const counts: string[] = []
      for (const t of report.tables) {
        t.rows = await countRows(snapshot, t.table)
        t.copied = await countRows(trx, t.table)
        const expected = t.rows + (t.table === 'stored_blob' ? added : 0)
        if (t.copied !== expected) counts.push(`${t.table}: ${t.rows} in the source, ${t.copied} copied`)
      }
      if (counts.length > 0) throw new CopyFailed(`row counts differ: ${shortList(counts)}`)
      const bad: string[] = []
      for (let after: string | undefined, page; (page = await listBlobs(trx, 'attachment', { after, limit: 500 })).length > 0; after = page[page.length - 1].key) {
        for (const blob of page) {
          if ((await storedSha256(trx, 'attachment', blob.key, Number(blob.size))) !== blob.key) bad.push(blob.key)
          else report.attachments.stored++
        }
      }
      for (const [key, sha256] of exportSums) {
        const size = (await blobSize(trx, 'export', key)) ?? 0
        if ((await storedSha256(trx, 'export', key, size)) !== sha256) bad.push(`export ${key}`)
      }
      if (bad.length > 0) throw new CopyFailed(`${bad.length} copied file(s) do not hash to what was read: ${shortList(bad)}`)
    })
    return report
  })
}
