import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // What an idempotent API request changed, written in the command's own transaction (status
  // "committed"): a retry whose first attempt died after its commit but before its answer was
  // recorded is answered from this outcome instead of running the command again.
  await db.schema.alterTable('api_idempotency').addColumn('outcome', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_idempotency').dropColumn('outcome').execute()
}
