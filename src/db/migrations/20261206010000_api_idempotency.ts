import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // What the JSON API answered to a POST sent with an Idempotency-Key, so that a retry is
  // answered the same and changes nothing. A key belongs to the API token that sent it; the row
  // is inserted "in_flight" before the request runs (the unique key makes a concurrent twin
  // lose), holds the answer once sent ("done"), and is deleted when the request failed. Rows
  // older than a day are ignored and deleted lazily (created_at index).
  await withId(db, db.schema.createTable('api_idempotency'))
    .addColumn('token_id', 'integer', (c) => c.notNull().references('api_token.id').onDelete('cascade'))
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('response_headers', 'text')
    .addColumn('response_body', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .addUniqueConstraint('api_idempotency_token_key_uq', ['token_id', 'idempotency_key'])
    .execute()
  await db.schema.createIndex('api_idempotency_created_idx').on('api_idempotency').column('created_at').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_idempotency').execute()
}
