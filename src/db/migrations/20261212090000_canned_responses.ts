import type { Kysely } from 'kysely'
import { withId } from './util.js'

// Canned responses: reply templates staff insert in the reply box, in both languages, with
// placeholders filled from the ticket. Personal (desk_id null: only its owner sees and edits it)
// or shared with a desk (its members see it; its owner, the desk's manager and admins edit it).
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('canned_response'))
    .addColumn('owner_staff_id', 'integer', (c) => c.notNull().references('staff.id'))
    .addColumn('desk_id', 'integer', (c) => c.references('desk.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body_en', 'text', (c) => c.notNull())
    .addColumn('body_pt', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('canned_response_owner_idx').on('canned_response').columns(['owner_staff_id']).execute()
  await db.schema.createIndex('canned_response_desk_idx').on('canned_response').columns(['desk_id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('canned_response').execute()
}
