import type { Kysely } from 'kysely'

// Searches by time, so the scheduled jobs can delete those older than the dashboard's widest
// window through an index (src/commands/kb-reader.ts pruneKbActivity).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('kb_search_time_idx').on('kb_search').columns(['created_at']).execute()
  await db.schema.createIndex('kb_ticket_draft_time_idx').on('kb_ticket_draft').columns(['saved_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('kb_ticket_draft_time_idx').execute()
  await db.schema.dropIndex('kb_search_time_idx').execute()
}
