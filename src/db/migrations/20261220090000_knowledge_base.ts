import { sql, type Kysely } from 'kysely'
import { isPostgres, withId } from './util.js'

// The knowledge base: articles in a category tree, in English or Brazilian Portuguese (an
// article's translations point at the one they translate), for everyone, for chosen accounts'
// clients or for staff only, written as Markdown and kept with every version. An article keeps
// its Markdown (what staff edit), the sanitized HTML pages show and the plain text search reads.
// Its figures (views, helpful, deflections) are counters on the row, written with the event.
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('kb_category'))
    .addColumn('parent_id', 'integer', (c) => c.references('kb_category.id'))
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('name_pt', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()

  await withId(db, db.schema.createTable('kb_article'))
    .addColumn('translation_of', 'integer', (c) => c.references('kb_article.id'))
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('body_html', 'text', (c) => c.notNull())
    .addColumn('body_text', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('category_id', 'integer', (c) => c.references('kb_category.id'))
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('author_staff_id', 'integer', (c) => c.notNull().references('staff.id'))
    .addColumn('reviewer_staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('source_ticket_id', 'integer', (c) => c.references('ticket.id'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('views', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('helpful', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('not_helpful', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deflections', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('published_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  // Stable addresses: one slug per language.
  await db.schema.createIndex('kb_article_slug_idx').on('kb_article').columns(['language', 'slug']).unique().execute()
  await db.schema.createIndex('kb_article_state_idx').on('kb_article').columns(['state', 'language', 'category_id']).execute()
  await db.schema.createIndex('kb_article_translation_idx').on('kb_article').columns(['translation_of']).execute()

  // The accounts whose clients see an article of audience 'accounts'.
  await db.schema.createTable('kb_article_account')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('account_id', 'integer', (c) => c.notNull().references('account.id'))
    .addPrimaryKeyConstraint('kb_article_account_pk', ['article_id', 'account_id'])
    .execute()
  await db.schema.createIndex('kb_article_account_account_idx').on('kb_article_account').columns(['account_id']).execute()

  await db.schema.createTable('kb_article_tag')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('kb_article_tag_pk', ['article_id', 'tag'])
    .execute()
  await db.schema.createIndex('kb_article_tag_tag_idx').on('kb_article_tag').columns(['tag']).execute()

  // Every saved version, the current one included: what history, diff and restore read.
  await withId(db, db.schema.createTable('kb_article_version'))
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('category_id', 'integer')
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('author_staff_id', 'integer', (c) => c.notNull().references('staff.id'))
    .addColumn('note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('kb_article_version_idx').on('kb_article_version').columns(['article_id', 'version']).unique().execute()

  // The tickets an article came from or solved.
  await db.schema.createTable('kb_article_ticket')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('ticket.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('kb_article_ticket_pk', ['article_id', 'ticket_id'])
    .execute()
  await db.schema.createIndex('kb_article_ticket_ticket_idx').on('kb_article_ticket').columns(['ticket_id']).execute()

  await db.schema.createTable('kb_related')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('related_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addPrimaryKeyConstraint('kb_related_pk', ['article_id', 'related_id'])
    .execute()

  // "Was this helpful?", with an optional comment.
  await withId(db, db.schema.createTable('kb_feedback'))
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('contact_id', 'integer', (c) => c.references('contact.id'))
    .addColumn('helpful', 'integer', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('kb_feedback_article_idx').on('kb_feedback').columns(['article_id', 'id']).execute()

  // What people searched for and how many articles answered: the searches with none are what to write next.
  await withId(db, db.schema.createTable('kb_search'))
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('results', 'integer', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('kb_search_results_idx').on('kb_search').columns(['results', 'created_at']).execute()

  if (isPostgres(db)) {
    await sql`ALTER TABLE kb_article ADD COLUMN search tsvector GENERATED ALWAYS AS (
      setweight(to_tsvector('simple', casebridge_fold(title)), 'A') ||
      setweight(to_tsvector('simple', casebridge_fold(tags)), 'B') ||
      setweight(to_tsvector('simple', casebridge_fold(body_text)), 'C')) STORED`.execute(db)
    await sql`CREATE INDEX kb_article_search_idx ON kb_article USING gin (search)`.execute(db)
  } else {
    await sql`CREATE VIRTUAL TABLE kb_fts USING fts5(title, tags, body_text, content='kb_article', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`.execute(db)
    await sql`CREATE TRIGGER kb_fts_ai AFTER INSERT ON kb_article BEGIN
      INSERT INTO kb_fts(rowid, title, tags, body_text) VALUES (new.id, new.title, new.tags, new.body_text);
    END`.execute(db)
    await sql`CREATE TRIGGER kb_fts_ad AFTER DELETE ON kb_article BEGIN
      INSERT INTO kb_fts(kb_fts, rowid, title, tags, body_text) VALUES ('delete', old.id, old.title, old.tags, old.body_text);
    END`.execute(db)
    await sql`CREATE TRIGGER kb_fts_au AFTER UPDATE OF title, tags, body_text ON kb_article BEGIN
      INSERT INTO kb_fts(kb_fts, rowid, title, tags, body_text) VALUES ('delete', old.id, old.title, old.tags, old.body_text);
      INSERT INTO kb_fts(rowid, title, tags, body_text) VALUES (new.id, new.title, new.tags, new.body_text);
    END`.execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) await sql`DROP TABLE IF EXISTS kb_fts`.execute(db)
  for (const table of ['kb_search', 'kb_feedback', 'kb_related', 'kb_article_ticket', 'kb_article_version', 'kb_article_tag', 'kb_article_account', 'kb_article', 'kb_category']) {
    await db.schema.dropTable(table).execute()
  }
}
