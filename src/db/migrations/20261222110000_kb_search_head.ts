import { sql, type Kysely } from 'kysely'
import { isPostgres } from './util.js'

// On PostgreSQL, a second, small search vector of each article's title (A) and tags (B) with its
// own index. A search looks for its common words only in titles and tags (src/db/kb-search.ts):
// the weighted vector alone cannot find those without reading every article that has the word
// somewhere, since its index does not keep weights. SQLite's FTS5 filters by column in its index.
export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return
  await sql`ALTER TABLE kb_article ADD COLUMN search_head tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', casebridge_fold(title)), 'A') ||
    setweight(to_tsvector('simple', casebridge_fold(tags)), 'B')) STORED`.execute(db)
  await sql`CREATE INDEX kb_article_search_head_idx ON kb_article USING gin (search_head)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return
  await sql`DROP INDEX kb_article_search_head_idx`.execute(db)
  await sql`ALTER TABLE kb_article DROP COLUMN search_head`.execute(db)
}
