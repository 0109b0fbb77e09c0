import type { Kysely } from 'kysely'
import { withId } from './util.js'

// The staff queue remembers each staff member's last search (queue_pref: one row per person, the
// search as its canonical query string) and keeps their saved searches, "views" (queue_view):
// personal (desk_id null: only its owner sees it) or shared with a desk (its members see it; its
// owner, the desk's manager and admins rename or delete it).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('queue_pref')
    .addColumn('staff_id', 'integer', (c) => c.primaryKey().references('staff.id').onDelete('cascade'))
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await withId(db, db.schema.createTable('queue_view'))
    .addColumn('owner_staff_id', 'integer', (c) => c.notNull().references('staff.id').onDelete('cascade'))
    .addColumn('desk_id', 'integer', (c) => c.references('desk.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('queue_view_owner_idx').on('queue_view').columns(['owner_staff_id']).execute()
  await db.schema.createIndex('queue_view_desk_idx').on('queue_view').columns(['desk_id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('queue_view').execute()
  await db.schema.dropTable('queue_pref').execute()
}
