import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // A note from e-mail shows what its author wrote; the whole text of the message (the quoted
  // history included) is kept beside it when it differs, for the page's "show quoted text".
  await db.schema.alterTable('note').addColumn('original_text', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('note').dropColumn('original_text').execute()
}
