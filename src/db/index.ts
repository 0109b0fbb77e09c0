import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely'
import type { Database } from './schema.js'
import { migrationProvider } from './migrations/index.js'
import { DEFAULT_SQLITE_CACHE_MB } from '../config.js'
import { BoundedMap } from '../domain/bounded-map.js'

export type Db = Kysely<Database>
export type Trx = Transaction<Database>
/** Anything that can run a query: the database or a transaction inside it. */
export type Executor = Db | Trx

/**
 * How a SQLite connection's transactions begin: `immediate` (the default: the write lock first, so
 * writers from several processes queue behind the busy timeout) or `deferred` (a read snapshot
 * that never blocks writers: `db copy`'s source).
 */
export type SqliteTransactions = 'immediate' | 'deferred'

/** How many prepared statements a SQLite connection keeps (the app issues a few hundred distinct texts). */
export const STATEMENT_CACHE_SIZE = 500

/**
 * A prepared statement as Kysely's SQLite driver uses it (`reader`, `all`, `run`, `iterate`),
 * whose rows come from better-sqlite3 as arrays and become objects through a function made once
 * per statement from its column names. better-sqlite3 builds each row object a property at a time
 * through V8's API, which costs about 1 µs per value; an object literal of one fixed shape is
 * built about twice as fast (a list page of 20 rows × 32 columns: 0.27 → 0.12 ms). The rows are
 * the same: same keys in the same order, and a repeated column name keeps its last value.
 */
export class CachedStatement {
  readonly reader: boolean
  readonly #row: ((values: unknown[]) => Record<string, unknown>) | undefined
  constructor(readonly statement: SqliteDatabase.Statement) {
    this.reader = statement.reader
    if (this.reader) {
      const names = statement.columns().map((c) => c.name)
      // `"__proto__": x` in a literal would set the prototype: such a statement keeps better-sqlite3's objects.
      if (!names.includes('__proto__')) {
        statement.raw(true)
        // eslint-disable-next-line @typescript-eslint/no-implied-eval -- column names quoted by JSON.stringify
        this.#row = new Function('r', `return {${names.map((name, i) => `${JSON.stringify(name)}: r[${i}]`).join(', ')}}`) as (values: unknown[]) => Record<string, unknown>
      }
    }
  }

  get busy(): boolean {
    return this.statement.busy
  }

  all(parameters: readonly unknown[] = []): unknown[] {
    const rows = this.statement.all(parameters) as unknown[]
    const row = this.#row
    if (row === undefined) return rows
    for (let i = 0; i < rows.length; i++) rows[i] = row(rows[i] as unknown[])
    return rows
  }

  run(parameters: readonly unknown[] = []): SqliteDatabase.RunResult {
    return this.statement.run(parameters)
  }

  *iterate(parameters: readonly unknown[] = []): IterableIterator<unknown> {
    const row = this.#row
    for (const values of this.statement.iterate(parameters)) yield row === undefined ? values : row(values as unknown[])
  }
}

/**
 * The connection Kysely's SQLite driver talks to, keeping each distinct SQL text's prepared
 * statement for reuse: Kysely calls `prepare` for every query, and better-sqlite3 plans the text
 * afresh each time. Least recently used first out past `max`; a statement still being iterated
 * (a streamed export) is never handed out twice, the caller gets a fresh one.
 */
export class StatementCache {
  readonly #statements: BoundedMap<string, CachedStatement>
  constructor(readonly sqlite: SqliteDatabase.Database, readonly max = STATEMENT_CACHE_SIZE, readonly transactions: SqliteTransactions = 'immediate') {
    this.#statements = new BoundedMap(max)
  }

  prepare(text: string): CachedStatement {
    // Kysely opens every transaction with a plain BEGIN, which takes the write lock only at the
    // first write: a transaction that read first and then writes after another process committed
    // fails at once with SQLITE_BUSY (its snapshot is stale; the busy timeout cannot help). Every
    // transaction here is a command's write, so it takes the lock up front and waits its turn.
    if (text === 'begin' && this.transactions === 'immediate') text = 'begin immediate'
    const kept = this.#statements.get(text)
    if (kept) {
      if (kept.busy) return new CachedStatement(this.sqlite.prepare(text))
      this.#statements.set(text, kept)
      return kept
    }
    const statement = new CachedStatement(this.sqlite.prepare(text))
    this.#statements.set(text, statement)
    return statement
  }

  get size(): number {
    return this.#statements.size
  }

  close(): void {
    this.#statements.clear()
    this.sqlite.close()
  }
}

export function isSqliteUrl(url: string): boolean {
  return url.startsWith('sqlite:')
}

/**
 * A SQLite connection set up as the app's: WAL, a busy timeout, foreign keys, NORMAL sync, and a
 * page cache of `cacheMb` (index and row pages kept between queries: with SQLite's own 2 MiB a
 * search that looks up thousands of rows, the full-text matches of a title word, read them
 * through the OS each time: 18 -> 6 ms at 1M tickets).
 */
export function openSqlite(file: string, cacheMb = DEFAULT_SQLITE_CACHE_MB): SqliteDatabase.Database {
  const sqlite = new SqliteDatabase(file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma(`cache_size = -${Math.round(cacheMb * 1024)}`)
  return sqlite
}

/** Opens the database named by a `sqlite:<path>` or `postgres://` URL. */
export async function createDb(url: string, opts: { sqliteTransactions?: SqliteTransactions; sqliteCacheMb?: number } = {}): Promise<Db> {
  if (isSqliteUrl(url)) {
    const file = url.slice('sqlite:'.length)
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
    const sqlite = openSqlite(file, opts.sqliteCacheMb)
    const database = new StatementCache(sqlite, STATEMENT_CACHE_SIZE, opts.sqliteTransactions) as unknown as SqliteDatabase.Database
    return new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
  }
  const pg = await import('pg')
  const { Pool, types } = pg.default
  // node-postgres returns BIGINT (sla_paused_ms, COUNT(*)) as strings; the schema types them as
  // numbers, as SQLite returns them (`paused_ms + held` would otherwise concatenate). Every value
  // kept in one is far below 2^53. Scoped to this pool, not pg's global parsers.
  const int8 = (value: string) => Number(value)
  const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
    oid === types.builtins.INT8 && format !== 'binary' ? int8 : types.getTypeParser(oid, format)) as typeof types.getTypeParser
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: url, max: 10, types: { getTypeParser } }) }) })
}

/** Applies every pending migration; throws with the failing migration's error. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message}`, { cause: error })
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** Whether the database answers (a trivial query). */
export async function ping(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db)
}
