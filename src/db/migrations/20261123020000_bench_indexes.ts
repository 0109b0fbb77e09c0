import { sql, type Kysely } from 'kysely'

// Indexes for the ticket lists at scale (bench/portal, docs/benchmarks.md). listTickets reads a
// scope piece by piece (an account, a desk, a person's tickets elsewhere), one state at a time
// when the filters name states; each piece is then one range of one of these indexes, already
// in created_at order, and its capped count is read from the index alone. They are partial
// (live tickets only): every list query says `deleted_at IS NULL`, so the planner may use them.
const INDEXES: [name: string, columns: string[]][] = [
  ['ticket_live_account_idx', ['account_id', 'state', 'created_at']],
  ['ticket_live_contact_idx', ['contact_id', 'account_id', 'state', 'created_at']],
  ['ticket_live_desk_idx', ['desk_id', 'state', 'created_at']],
  ['ticket_live_assignee_idx', ['assignee_id', 'desk_id', 'state', 'created_at']],
  ['ticket_live_state_idx', ['state', 'created_at']]
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, columns] of INDEXES) {
    await db.schema.createIndex(name).on('ticket').columns(columns).where(sql.ref('deleted_at'), 'is', null).execute()
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of INDEXES) await db.schema.dropIndex(name).ifExists().execute()
}
