import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // The scheduled jobs delete sessions unused for 30 days (ended or not) and passed login
  // throttle windows: an index range each, not a scan of every session ever opened.
  await db.schema.createIndex('web_session_last_seen_idx').on('web_session').column('last_seen_at').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('web_session_last_seen_idx').execute()
}
