import { sql, type Kysely } from 'kysely'
import { isPostgres } from './util.js'

// PostgreSQL only: word search ignores accents, as SQLite's FTS5 does (remove_diacritics), so
// "configuracao" finds "configuração" and "ÍNVOICE" finds "invoice" on either database.
// `unaccent` ships with PostgreSQL (contrib) and is a trusted extension from PostgreSQL 13 on:
// a database owner may create it; otherwise a superuser runs `CREATE EXTENSION unaccent` once
// before migrating (docs/operations.md). `unaccent()` itself is only STABLE (its dictionary
// could be changed), so a generated column needs it wrapped in an IMMUTABLE function that
// names the dictionary; casebridge_fold is also what queries apply to the words typed.

const SEARCH = sql`to_tsvector('simple', casebridge_fold(coalesce(title, '') || ' ' || coalesce(description, '')))`
const SEARCH_BEFORE = sql`to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, ''))`

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return
  await sql`CREATE EXTENSION IF NOT EXISTS unaccent`.execute(db)
  const schema = (await sql<{ s: string }>`SELECT extnamespace::regnamespace::text AS s FROM pg_extension WHERE extname = 'unaccent'`.execute(db)).rows[0].s
  await sql`CREATE OR REPLACE FUNCTION casebridge_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS ${sql.lit(`SELECT ${schema}.unaccent('${schema}.unaccent'::regdictionary, $1)`)}`.execute(db)
  await replaceSearch(db, SEARCH)
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return
  await replaceSearch(db, SEARCH_BEFORE)
  await sql`DROP FUNCTION IF EXISTS casebridge_fold(text)`.execute(db)
}

/** The stored search vector and its index, computed again from every ticket's text. */
async function replaceSearch(db: Kysely<any>, expression: ReturnType<typeof sql>): Promise<void> {
  await sql`ALTER TABLE ticket DROP COLUMN search`.execute(db)
  await sql`ALTER TABLE ticket ADD COLUMN search tsvector GENERATED ALWAYS AS (${expression}) STORED`.execute(db)
  await sql`CREATE INDEX ticket_search_idx ON ticket USING gin (search)`.execute(db)
}
