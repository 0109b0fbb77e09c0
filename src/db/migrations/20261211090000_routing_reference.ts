import { sql, type Kysely } from 'kysely'
import { isPostgres } from './util.js'

/**
 * What opening a ticket looks up besides desks, products and the catalog: which desk serves a
 * product or catalog item, the SLA targets, and the desks' business hours and holidays.
 */
const TABLES = ['desk_product', 'desk_category', 'sla_policy', 'sla_item_policy', 'business_calendar', 'business_holiday'] as const

export async function up(db: Kysely<any>): Promise<void> {
  // Kept in each process's memory like desks and products (the reference-data counter of
  // migration 20261206110000): a command confirms its copy with one read of the counter inside
  // its transaction instead of reading these tables while it holds the write lock.
  for (const table of TABLES) {
    if (isPostgres(db)) {
      await sql`CREATE TRIGGER ${sql.raw(`${table}_reference_changed`)} AFTER INSERT OR UPDATE OR DELETE ON ${sql.table(table)}
        FOR EACH STATEMENT EXECUTE FUNCTION casebridge_reference_changed()`.execute(db)
      continue
    }
    for (const op of ['insert', 'update', 'delete'] as const) {
      await sql`CREATE TRIGGER ${sql.raw(`${table}_reference_${op}`)} AFTER ${sql.raw(op.toUpperCase())} ON ${sql.table(table)} BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'reference_data';
      END`.execute(db)
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    if (isPostgres(db)) await sql`DROP TRIGGER ${sql.raw(`${table}_reference_changed`)} ON ${sql.table(table)}`.execute(db)
    else for (const op of ['insert', 'update', 'delete']) await sql.raw(`DROP TRIGGER ${table}_reference_${op}`).execute(db)
  }
}
