// The database side of `casebridge backup` and `restore` on SQLite: an online copy through
// SQLite's backup API (consistent while the server writes: it reads the WAL too, which copying the
// file would miss), made a self-contained file, and described by its tables' row counts.
import SqliteDatabase from 'better-sqlite3'
import { sql } from 'kysely'
import type { Db } from './index.js'

/** The file of a `sqlite:<path>` URL (null for PostgreSQL or an in-memory database). */
export function sqliteFile(url: string): string | null {
  if (!url.startsWith('sqlite:')) return null
  const file = url.slice('sqlite:'.length)
  return file === ':memory:' || file === '' ? null : file
}

/**
 * Copies the live database at `source` to `target` (a new file) while other connections go on
 * reading and writing, then turns the copy's journal to DELETE so it is one
 * file with nothing beside it (the server puts it back in WAL mode when it opens it).
 */
export async function backupSqlite(source: string, target: string): Promise<void> {
  const live = new SqliteDatabase(source, { fileMustExist: true })
  try {
    live.pragma('busy_timeout = 5000')
    // All pages in one step, inside one read transaction: a write by another connection between
    // steps would restart the copy (for ever, on a busy server). In WAL mode that read blocks no
    // writer; it only holds this (CLI) process for the copy's length.
    await live.backup(target, { progress: () => 0x7fffffff })
  } finally {
    live.close()
  }
  const copy = new SqliteDatabase(target, { fileMustExist: true })
  try {
    copy.pragma('journal_mode = DELETE')
  } finally {
    copy.close()
  }
}

export interface SqliteDescription {
  /** Rows per table (every table but SQLite's own), by name. */
  tables: Record<string, number>
  /** The migrations it has run, in order (empty when it never ran any). */
  migrations: string[]
}

/** What a database file holds, read without changing it. */
export function describeSqlite(file: string): SqliteDescription {
  const db = new SqliteDatabase(file, { readonly: true, fileMustExist: true })
  try {
    const names = (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`).pluck().all() as string[]).sort()
    const tables: Record<string, number> = {}
    for (const name of names) tables[name] = Number(db.prepare(`SELECT COUNT(*) FROM "${name.replace(/"/g, '""')}"`).pluck().get())
    const migrations = names.includes('kysely_migration')
      ? db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all() as string[]
      : []
    return { tables, migrations }
  } finally {
    db.close()
  }
}

/** Rows per table of an open database (either dialect; SQLite's and PostgreSQL's catalogs left out). */
export async function tableRowCounts(db: Db): Promise<Record<string, number>> {
  const tables = (await db.introspection.getTables({ withInternalKyselyTables: true })).filter((t) => !t.isView)
  const out: Record<string, number> = {}
  for (const t of tables) {
    const { rows } = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql.table(t.name)}`.execute(db)
    out[t.name] = Number(rows[0].n)
  }
  return out
}
