import { sql, type Kysely } from 'kysely'
import { isPostgres } from './util.js'

// The words of the knowledge base's index with how many articles use each, so a typed word that
// matches none can be corrected to a close one the articles use: on SQLite FTS5's own vocabulary
// view of kb_fts, on PostgreSQL ts_stat over the articles' search vectors. Each process keeps the
// list in memory while `counter.kb_text` (raised by every command that changes an article's
// words) stays the number it was read under.
export async function up(db: Kysely<any>): Promise<void> {
  await db.insertInto('counter').values({ name: 'kb_text', value: 0 }).execute()
  if (isPostgres(db)) return
  await sql`CREATE VIRTUAL TABLE kb_vocab USING fts5vocab(kb_fts, 'row')`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('counter').where('name', '=', 'kb_text').execute()
  if (isPostgres(db)) return
  await sql`DROP TABLE kb_vocab`.execute(db)
}
