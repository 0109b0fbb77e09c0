import { sql, type Kysely } from 'kysely'
import { isPostgres } from './util.js'

/** The tables whose rows the web processes keep in memory (src/db/reference-cache.ts). */
const TABLES = ['desk', 'product', 'category', 'setting'] as const

export async function up(db: Kysely<any>): Promise<void> {
  // Desks, products, the catalog and the settings are read on nearly every page and change a few
  // times a year: each process keeps them in memory and reads one number per request instead,
  // `counter.reference_data`, which triggers raise in the same transaction as any change to those
  // tables, whoever makes it. Every process (and every machine) sees the change on its next request.
  await db.insertInto('counter').values({ name: 'reference_data', value: 0 })
    .onConflict((oc) => oc.column('name').doNothing()).execute()
  if (isPostgres(db)) {
    await sql`CREATE FUNCTION casebridge_reference_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'reference_data';
        RETURN NULL;
      END
    $$`.execute(db)
    for (const table of TABLES) {
      await sql`CREATE TRIGGER ${sql.raw(`${table}_reference_changed`)} AFTER INSERT OR UPDATE OR DELETE ON ${sql.table(table)}
        FOR EACH STATEMENT EXECUTE FUNCTION casebridge_reference_changed()`.execute(db)
    }
    return
  }
  for (const table of TABLES) {
    for (const op of ['insert', 'update', 'delete'] as const) {
      await sql`CREATE TRIGGER ${sql.raw(`${table}_reference_${op}`)} AFTER ${sql.raw(op.toUpperCase())} ON ${sql.table(table)} BEGIN
        UPDATE counter SET value = value + 1 WHERE name = 'reference_data';
      END`.execute(db)
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    for (const table of TABLES) await sql`DROP TRIGGER ${sql.raw(`${table}_reference_changed`)} ON ${sql.table(table)}`.execute(db)
    await sql`DROP FUNCTION casebridge_reference_changed()`.execute(db)
  } else {
    for (const table of TABLES) {
      for (const op of ['insert', 'update', 'delete']) await sql.raw(`DROP TRIGGER ${table}_reference_${op}`).execute(db)
    }
  }
  await db.deleteFrom('counter').where('name', '=', 'reference_data').execute()
}
