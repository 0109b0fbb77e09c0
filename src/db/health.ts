// What /readyz asks the database: whether it answers, and whether it has run this code's migrations.
import { sql } from 'kysely'
import { migrations } from './migrations/index.js'
import type { Db } from './index.js'

/**
 * Migrations this code has that the database has not run, by name. One small read of Kysely's
 * own table (no introspection, nothing created or locked): probes call it every few seconds. It
 * throws when the table is missing (a database never migrated) or the database does not answer.
 */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db)
  const done = new Set(rows.map((r) => r.name))
  return Object.keys(migrations).sort().filter((name) => !done.has(name))
}
