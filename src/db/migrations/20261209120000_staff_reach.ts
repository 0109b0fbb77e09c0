import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // A staff member who works every desk's tickets (a supervisor) without being an admin. Their
  // manager (staff.manager_id) has been in the schema since the start; the admin pages now set it.
  await db.schema.alterTable('staff').addColumn('all_desks', 'integer', (c) => c.notNull().defaultTo(0)).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('staff').dropColumn('all_desks').execute()
}
