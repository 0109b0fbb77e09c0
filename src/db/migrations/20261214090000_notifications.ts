import type { Kysely } from 'kysely'
import { withId } from './util.js'

// In-app notifications for staff (the bell in the header, /desk/notifications): one row per
// person and event, written in the transaction of the command that caused it; and each person's
// choice, per kind, of whether they also get e-mail (no row: the kind's default).
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('notification'))
    .addColumn('staff_id', 'integer', (c) => c.notNull().references('staff.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('ticket.id'))
    .addColumn('actor_name', 'text')
    .addColumn('detail', 'text')
    .addColumn('excerpt', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('read_at', 'text')
    .execute()
  // The bell counts a person's unread ones; the page lists theirs newest first.
  await db.schema.createIndex('notification_staff_read_idx').on('notification').columns(['staff_id', 'read_at', 'id']).execute()
  await db.schema.createIndex('notification_staff_id_idx').on('notification').columns(['staff_id', 'id']).execute()
  // Retention deletes by age.
  await db.schema.createIndex('notification_created_idx').on('notification').columns(['created_at']).execute()

  await db.schema.createTable('notification_pref')
    .addColumn('staff_id', 'integer', (c) => c.notNull().references('staff.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('email', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_pref_pk', ['staff_id', 'kind'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_pref').execute()
  await db.schema.dropTable('notification').execute()
}
