import type { Kysely } from 'kysely'

// The foundation's ticket_assignee_state_idx (assignee_id, state) over every ticket duplicates
// 20261123060000_assignment_index's ticket_live_assignee_state_idx over live ones: every query
// by assignee also says `deleted_at IS NULL`, so the planners use the partial one, and each
// ticket write kept both up to date. Staff are deactivated, never deleted, so no foreign-key
// check looks tickets up by assignee either.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('ticket_assignee_state_idx').ifExists().execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('ticket_assignee_state_idx').on('ticket').columns(['assignee_id', 'state']).execute()
}
