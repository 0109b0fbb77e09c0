import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // Accounts and contacts created or edited in the portal, owed to the CRM (matched there by
  // e-mail or name, never duplicated). The same queue columns as crm_outbox and mail_outbox.
  await withId(db, db.schema.createTable('crm_people_outbox'))
    // 'account' | 'contact'
    .addColumn('entity', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('done_at', 'text')
    .execute()
  await db.schema.createIndex('crm_people_outbox_due_idx').on('crm_people_outbox').columns(['status', 'next_attempt_at', 'id']).execute()
  await db.schema.createIndex('crm_people_outbox_entity_idx').on('crm_people_outbox').columns(['entity', 'entity_id', 'status']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('crm_people_outbox').execute()
}
