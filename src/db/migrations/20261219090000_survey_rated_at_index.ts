import type { Kysely } from 'kysely'

// Satisfaction on the dashboard (issue 16): the ratings of a period are read by when they were
// given, then joined to their tickets for the scope. Without this the survey table (one row per
// rated ticket, and it only grows) is read whole for every dashboard. The rating and the ticket
// ride along, so a period's ratings are counted from the index alone.
const NAME = 'survey_created_idx'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex(NAME).on('survey').columns(['created_at', 'rating', 'ticket_id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex(NAME).ifExists().execute()
}
