import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // The priority a catalog item's tickets get when whoever opens one does not choose (mail, the
  // API without a priority, the portal's "usual for this service"); null: medium, as before.
  await db.schema.alterTable('category').addColumn('default_priority', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('category').dropColumn('default_priority').execute()
}
