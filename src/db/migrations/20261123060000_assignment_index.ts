import { sql, type Kysely } from 'kysely'

// Least-load assignment counts each candidate's open tickets inside the insert's write
// transaction; over live tickets only, this index answers each count without the table.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('ticket_live_assignee_state_idx').on('ticket').columns(['assignee_id', 'state'])
    .where(sql.ref('deleted_at'), 'is', null).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('ticket_live_assignee_state_idx').ifExists().execute()
}
