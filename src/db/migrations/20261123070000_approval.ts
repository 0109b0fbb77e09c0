import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // An item that requires approval may be approved at once (recorded in history) instead of by a manager.
  await db.schema.alterTable('category').addColumn('auto_approve', 'integer', (c) => c.notNull().defaultTo(0)).execute()

  // One row per approval link sent; the row, not the signed token, makes a link single-use.
  await withId(db, db.schema.createTable('approval'))
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('ticket.id'))
    .addColumn('approver_contact_id', 'integer', (c) => c.notNull().references('contact.id'))
    .addColumn('nonce_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('requested_by_staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('decided_at', 'text')
    .addColumn('decision', 'text')
    .addColumn('reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('approval_ticket_idx').on('approval').columns(['ticket_id', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('approval').ifExists().execute()
  await db.schema.alterTable('category').dropColumn('auto_approve').execute()
}
