import type { Kysely } from 'kysely'
import { withId } from './util.js'

// Files an article shows or offers (screenshots, a PDF guide), kept in the same file store as
// ticket attachments (by their SHA-256, so the same bytes are stored once). Served at
// /kb/files/:id/:name under the article's audience rule.
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('kb_attachment'))
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('staff_id', 'integer', (c) => c.notNull().references('staff.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('kb_attachment_article_idx').on('kb_attachment').columns(['article_id', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('kb_attachment').execute()
}
