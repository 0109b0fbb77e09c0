import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // Work owed to the CRM, written in the same transaction as the change it mirrors.
  await withId(db, db.schema.createTable('crm_outbox'))
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('ticket.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('note_id', 'integer', (c) => c.references('note.id'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('done_at', 'text')
    .execute()
  await db.schema.createIndex('crm_outbox_due_idx').on('crm_outbox').columns(['status', 'next_attempt_at', 'id']).execute()
  await db.schema.createIndex('crm_outbox_ticket_idx').on('crm_outbox').columns(['ticket_id', 'status']).execute()

  // The last value synced per Case field: an inbound change equal to it is our own echo.
  await db.schema.createTable('crm_shadow')
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('ticket.id'))
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('value', 'text')
    .addColumn('synced_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('crm_shadow_pk', ['ticket_id', 'field'])
    .execute()

  await db.schema.alterTable('note').addColumn('crm_comment_id', 'text').execute()
  await db.schema.createIndex('note_crm_comment_idx').on('note').columns(['crm_comment_id']).execute()

  // Cursors and counters of the sync (inbound SystemModstamp cursor, last success, API usage).
  await db.schema.createTable('sync_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sync_state').ifExists().execute()
  await db.schema.dropIndex('note_crm_comment_idx').ifExists().execute()
  await db.schema.alterTable('note').dropColumn('crm_comment_id').execute()
  await db.schema.dropTable('crm_shadow').ifExists().execute()
  await db.schema.dropTable('crm_outbox').ifExists().execute()
}
