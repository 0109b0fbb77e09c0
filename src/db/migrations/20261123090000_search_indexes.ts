import { sql, type Kysely } from 'kysely'

// Indexes for the advanced search at scale (bench/portal, docs/benchmarks.md, "Advanced search
// at 1M tickets"). listTickets reads each scope piece (a desk, an account, every ticket for an
// admin) one state at a time in created_at order; the other filters (priority, product, item,
// type, assignee...) were then checked on the table row, one look-up per candidate, which for a
// desk's open tickets is tens of thousands of look-ups per page. The three piece indexes of
// 20261123020000_bench_indexes are replaced by the same leading columns followed by those filter
// columns, so SQLite tests the filters on the index entry and reads only the rows that match
// (same index count, wider entries). Closing dates get their own index: a closed-date range is
// a small slice of a desk's closed tickets but no slice of its created_at order.
const REPLACED: [name: string, columns: string[], partial: boolean][] = [
  ['ticket_live_account_idx', ['account_id', 'state', 'created_at'], true],
  ['ticket_live_desk_idx', ['desk_id', 'state', 'created_at'], true],
  ['ticket_live_state_idx', ['state', 'created_at'], true],
  // Narrower than the desk index and just as selective on paper, so SQLite picked it for counts
  // and then read every row to test the other filters; live tickets are served by the new ones.
  ['ticket_state_desk_idx', ['state', 'desk_id'], false]
]

const FILTERS = ['priority', 'status', 'ticket_type', 'product_id', 'category_id', 'assignee_id']

// `id` right after the sort column keeps each index in (created_at, id) order, the lists' order,
// whatever follows it; resolution_due_at lets "at risk" / "on track" skip tickets already past due.
// On the account index, deleted_at (always null here, one byte) makes "My requests"' count of an
// account's tickets covered by it in SQLite's eyes; otherwise the narrower foundation index
// (account_id, created_at) looked as good and each row was read to check deleted_at.
const INDEXES: [name: string, columns: string[]][] = [
  ['ticket_live_account_search_idx', ['account_id', 'state', 'created_at', 'id', ...FILTERS, 'desk_id', 'contact_id', 'resolution_due_at', 'deleted_at']],
  ['ticket_live_desk_search_idx', ['desk_id', 'state', 'created_at', 'id', ...FILTERS, 'contact_id', 'resolution_due_at']],
  ['ticket_live_state_search_idx', ['state', 'created_at', 'id', 'desk_id', ...FILTERS, 'contact_id', 'resolution_due_at']]
]

// Only tickets with a closing date, so SQLite considers it only for a closed-date filter (which
// implies one); created_at lets each piece sort its matches without reading them.
const CLOSED: [name: string, columns: string[]] =
  ['ticket_live_closed_idx', ['state', 'closed_at', 'id', 'desk_id', 'account_id', 'contact_id', ...FILTERS, 'created_at']]

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name] of REPLACED) await db.schema.dropIndex(name).ifExists().execute()
  for (const [name, columns] of INDEXES) {
    await db.schema.createIndex(name).on('ticket').columns(columns).where(sql.ref('deleted_at'), 'is', null).execute()
  }
  await db.schema.createIndex(CLOSED[0]).on('ticket').columns(CLOSED[1])
    .where(sql.ref('deleted_at'), 'is', null).where(sql.ref('closed_at'), 'is not', null).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of [...INDEXES, CLOSED]) await db.schema.dropIndex(name).ifExists().execute()
  for (const [name, columns, partial] of REPLACED) {
    const index = db.schema.createIndex(name).on('ticket').columns(columns)
    await (partial ? index.where(sql.ref('deleted_at'), 'is', null) : index).execute()
  }
}
