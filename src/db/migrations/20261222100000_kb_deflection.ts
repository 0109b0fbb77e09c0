import type { Kysely } from 'kysely'
import { withId } from './util.js'

// What clients do in the help center, as rows the counters on kb_article are written with:
// - kb_article_view: a client's view of an article, so a view is counted once per session and
//   article within an hour (a reload does not count again) and the dashboard counts a window's;
// - kb_suggestion_visit: an article opened from the suggestions beside the new-ticket form, a
//   deflection from the moment it is opened, withdrawn ('ticket_opened') when the same client
//   opens a ticket soon after;
// - kb_ticket_draft: the new-ticket form's text kept while the client reads suggestions, so
//   "I still need help" brings it back (one row per session);
// - kb_feedback: one vote per client and article (a changed vote moves the counters), and when
//   it was last changed; kb_search: the session and client of a search, so a suggestion typed
//   word by word is kept as one row.
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('kb_article_view'))
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('contact_id', 'integer', (c) => c.notNull().references('contact.id'))
    .addColumn('session_id', 'integer')
    .addColumn('viewed_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('kb_article_view_article_idx').on('kb_article_view').columns(['article_id', 'contact_id', 'viewed_at']).execute()
  await db.schema.createIndex('kb_article_view_time_idx').on('kb_article_view').columns(['viewed_at']).execute()

  await withId(db, db.schema.createTable('kb_suggestion_visit'))
    .addColumn('article_id', 'integer', (c) => c.notNull().references('kb_article.id'))
    .addColumn('contact_id', 'integer', (c) => c.notNull().references('contact.id'))
    .addColumn('session_id', 'integer')
    .addColumn('opened_at', 'text', (c) => c.notNull())
    // 'deflected' until a ticket follows within the window, then 'ticket_opened'.
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'integer', (c) => c.references('ticket.id'))
    .addColumn('decided_at', 'text')
    .execute()
  await db.schema.createIndex('kb_suggestion_visit_contact_idx').on('kb_suggestion_visit').columns(['contact_id', 'outcome', 'opened_at']).execute()
  await db.schema.createIndex('kb_suggestion_visit_time_idx').on('kb_suggestion_visit').columns(['opened_at']).execute()

  await withId(db, db.schema.createTable('kb_ticket_draft'))
    .addColumn('contact_id', 'integer', (c) => c.notNull().references('contact.id'))
    .addColumn('session_id', 'integer', (c) => c.notNull())
    /** The form's fields as posted (JSON object of strings). */
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('saved_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('kb_ticket_draft_session_idx').on('kb_ticket_draft').columns(['session_id', 'contact_id']).unique().execute()

  await db.schema.alterTable('kb_feedback').addColumn('updated_at', 'text').execute()
  await db.schema.createIndex('kb_feedback_contact_idx').on('kb_feedback').columns(['article_id', 'contact_id']).unique().execute()
  await db.schema.createIndex('kb_feedback_time_idx').on('kb_feedback').columns(['updated_at']).execute()

  await db.schema.alterTable('kb_search').addColumn('session_id', 'integer').execute()
  await db.schema.alterTable('kb_search').addColumn('contact_id', 'integer').execute()
  await db.schema.createIndex('kb_search_session_idx').on('kb_search').columns(['session_id', 'created_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('kb_search_session_idx').execute()
  await db.schema.alterTable('kb_search').dropColumn('contact_id').execute()
  await db.schema.alterTable('kb_search').dropColumn('session_id').execute()
  await db.schema.dropIndex('kb_feedback_time_idx').execute()
  await db.schema.dropIndex('kb_feedback_contact_idx').execute()
  await db.schema.alterTable('kb_feedback').dropColumn('updated_at').execute()
  for (const table of ['kb_ticket_draft', 'kb_suggestion_visit', 'kb_article_view']) await db.schema.dropTable(table).execute()
}
