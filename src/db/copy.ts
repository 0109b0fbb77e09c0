// The queries `casebridge db copy` is made of (src/commands/db-copy.ts runs them): what tables and
// columns a SQLite installation has, its rows in batches, and the writes that fill an empty
// PostgreSQL database with them, ids kept, then its sequences moved past the copied ids.
import { sql, type Kysely } from 'kysely'
import type { Executor, Trx } from './index.js'

/** Rows of the copied tables, as plain values (numbers, text, Buffers, nulls). */
export type Row = Record<string, unknown>

/** The migrator's own tables: each side keeps its own. */
export const MIGRATOR_TABLES: readonly string[] = ['kysely_migration', 'kysely_migration_lock']

/**
 * Tables the migrations themselves fill (default SLA policies, the reference data's version in
 * `counter`, the managed lists' starting items): a target holding only these is empty, and the
 * source's rows replace them.
 */
export const WRITTEN_BY_MIGRATIONS: readonly string[] = ['sla_policy', 'counter', 'list_item']

/**
 * Tables whose rows only matter while the processes that wrote them run (the live pages' change
 * feed and who has a ticket open): never copied, and the copy does not fill them either.
 */
export const EPHEMERAL_TABLES: readonly string[] = ['live_event', 'ticket_presence']

/** The triggers that write the change feed: a copy's rows are not changes anyone follows. */
const LIVE_TRIGGERS = [['ticket', 'ticket_live'], ['note', 'note_live'], ['notification', 'notification_live']] as const

/** Turns the target's change-feed triggers off for the copy's transaction (on again before it commits). */
export async function setLiveTriggers(trx: Trx, enabled: boolean): Promise<void> {
  for (const [table, trigger] of LIVE_TRIGGERS) {
    await sql`ALTER TABLE ${sql.table(table)} ${sql.raw(enabled ? 'ENABLE' : 'DISABLE')} TRIGGER ${sql.raw(trigger)}`.execute(trx)
  }
}

// Kysely's typed builder knows the schema's tables by name; a copy walks whatever tables there are.
const loose = (db: Executor) => db as unknown as Kysely<any>

/**
 * The tables holding Casebridge's rows in a SQLite database: not SQLite's own, not the migrator's,
 * and not the full-text index (a virtual table and its shadow tables, which PostgreSQL replaces
 * with a generated column).
 */
export async function sqliteTables(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ name: string; sql: string | null }>`SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name`.execute(db)
  const virtual = rows.filter((r) => /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(r.sql ?? '')).map((r) => r.name)
  return rows.map((r) => r.name).filter((name) =>
    !name.startsWith('sqlite_') && !MIGRATOR_TABLES.includes(name) && !EPHEMERAL_TABLES.includes(name) && !virtual.some((v) => name === v || name.startsWith(`${v}_`)))
}

export interface SqliteColumn {
  name: string
  /** Declared type (`INTEGER`, `TEXT`, `BLOB`...). */
  type: string
  notNull: boolean
  /** Position in the primary key (0: not part of it). */
  pk: number
}

export async function sqliteColumns(db: Executor, table: string): Promise<SqliteColumn[]> {
  const { rows } = await sql<{ name: string; type: string; not_null: number; pk: number }>`
    SELECT name, type, "notnull" AS not_null, pk FROM pragma_table_info(${table}) ORDER BY cid`.execute(db)
  return rows.map((r) => ({ name: r.name, type: r.type.toUpperCase(), notNull: Number(r.not_null) === 1, pk: Number(r.pk) }))
}

/** The table's foreign keys: which column points at which table. */
export async function sqliteForeignKeys(db: Executor, table: string): Promise<{ column: string; parent: string }[]> {
  const { rows } = await sql<{ column: string; parent: string }>`
    SELECT "from" AS "column", "table" AS parent FROM pragma_foreign_key_list(${table})`.execute(db)
  return rows
}

/** Up to `limit` rows after the one whose rowid is `afterRowid`, in rowid order (`rowid` included). */
export async function sqliteBatch(db: Executor, table: string, columns: string[], afterRowid: number, limit: number): Promise<(Row & { rowid: number })[]> {
  const { rows } = await sql<Row & { __copy_rowid: number }>`
    SELECT rowid AS __copy_rowid, ${sql.join(columns.map((c) => sql.ref(c)))} FROM ${sql.table(table)}
    WHERE rowid > ${afterRowid} ORDER BY rowid LIMIT ${limit}`.execute(db)
  return rows.map(({ __copy_rowid, ...row }) => ({ ...row, rowid: Number(__copy_rowid) }))
}

/** The names of the migrations a database has run, in order (none when it has never been migrated). */
export async function appliedMigrations(db: Executor): Promise<string[]> {
  try {
    const rows = await loose(db).selectFrom('kysely_migration').select('name').orderBy('name').execute()
    return rows.map((r: { name: string }) => r.name)
  } catch {
    return []
  }
}

/** The ordinary tables of a PostgreSQL database's current schema. */
export async function pgTables(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(db)
  return rows.map((r) => r.name).filter((name) => !EPHEMERAL_TABLES.includes(name))
}

/** The columns of a PostgreSQL table a copy may write (generated ones, such as the search vector, are computed). */
export async function pgWritableColumns(db: Executor, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT column_name AS name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table} AND is_generated = 'NEVER'
    ORDER BY ordinal_position`.execute(db)
  return rows.map((r) => r.name)
}

export async function countRows(db: Executor, table: string): Promise<number> {
  const row = await loose(db).selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Empties a table (the rows the target's migrations wrote, before the source's take their place). */
export async function deleteAllRows(trx: Trx, table: string): Promise<void> {
  await loose(trx).deleteFrom(table).execute()
}

export async function insertRows(trx: Trx, table: string, rows: Row[]): Promise<void> {
  if (rows.length > 0) await loose(trx).insertInto(table).values(rows).execute()
}

/** Sets one column of the rows named by their primary key (a reference written once its row exists). */
export async function setColumn(trx: Trx, table: string, column: string, key: Row, value: unknown): Promise<void> {
  let q = loose(trx).updateTable(table).set({ [column]: value })
  for (const [k, v] of Object.entries(key)) q = q.where(k, '=', v)
  await q.execute()
}

/**
 * Moves every sequence of the table (its `serial` id) past the largest id copied, so the next
 * row PostgreSQL numbers itself does not collide with a copied one. Returns the columns moved.
 */
export async function resetSequences(trx: Trx, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT column_name AS name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table} AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL`.execute(trx)
  for (const { name } of rows) {
    await sql`SELECT setval(pg_get_serial_sequence(${table}, ${name}), COALESCE((SELECT MAX(${sql.ref(name)}) FROM ${sql.table(table)}), 0) + 1, false)`.execute(trx)
  }
  return rows.map((r) => r.name)
}

/** The SHA-256 values rows refer to (attachments, quarantined messages' originals), each once. */
export async function referencedFiles(db: Executor): Promise<string[]> {
  const attachments = await db.selectFrom('attachment').select('sha256').distinct().execute()
  const raw = await db.selectFrom('mail_quarantine').select('raw_sha256').where('raw_sha256', 'is not', null).distinct().execute()
  return [...new Set([...attachments.map((r) => r.sha256), ...raw.map((r) => r.raw_sha256!)])].sort()
}

/** Finished exports and the file each names (its download is still to come). */
export async function exportFiles(db: Executor) {
  return db.selectFrom('export_job').select(['id', 'file_path', 'file_size'])
    .where('status', '=', 'done').where('file_path', 'is not', null).orderBy('id').execute()
}
