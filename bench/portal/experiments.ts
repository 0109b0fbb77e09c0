// Experiments the benchmark can switch on to show what a change outside the benchmark would
// give, without editing the application: none of them is the shipped configuration.
import SqliteDatabase from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { Db } from '../../src/db/index.js'
import type { Database } from '../../src/db/schema.js'

/** createDb's connection, but each distinct SQL text is prepared once (Kysely prepares on every query). */
export function statementCachingDb(file: string): Db {
  const sqlite = new SqliteDatabase(file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('synchronous = NORMAL')
  const statements = new Map<string, ReturnType<typeof sqlite.prepare>>()
  const database = {
    prepare(text: string) {
      let stmt = statements.get(text)
      if (!stmt) {
        stmt = sqlite.prepare(text)
        statements.set(text, stmt)
      }
      return stmt
    },
    close() {
      sqlite.close()
    }
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: database as unknown as SqliteDatabase.Database }) })
}

/** What caching formatters in src/i18n would give: `new Intl.DateTimeFormat(same args)` returns one shared object. */
export function cacheIntlFormatters() {
  const formatters = new Map<string, Intl.DateTimeFormat>()
  Intl.DateTimeFormat = new Proxy(Intl.DateTimeFormat, {
    construct(target, args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
      const key = JSON.stringify(args)
      let formatter = formatters.get(key)
      if (!formatter) {
        formatter = new target(...args)
        formatters.set(key, formatter)
      }
      return formatter
    }
  })
}

