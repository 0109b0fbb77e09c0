import type { Kysely } from 'kysely'
import { withId } from './util.js'

// Bulk actions too big to run while the page waits (src/domain/bulk.ts BULK_INLINE): the job,
// claimed by one worker under a lease like an export, and one row per ticket, whose outcome is
// written in the same transaction as the ticket's own change, so a worker that dies half-way and
// the one that takes over never apply an action to a ticket twice.
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('bulk_job'))
    .addColumn('staff_id', 'integer', (c) => c.notNull().references('staff.id'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued'))
    .addColumn('holder', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .execute()
  await db.schema.createIndex('bulk_job_status_idx').on('bulk_job').columns(['status', 'id']).execute()
  await db.schema.createIndex('bulk_job_staff_idx').on('bulk_job').columns(['staff_id', 'id']).execute()
  await withId(db, db.schema.createTable('bulk_item'))
    .addColumn('job_id', 'integer', (c) => c.notNull().references('bulk_job.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('ticket_id', 'integer', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('refusal', 'text')
    .execute()
  await db.schema.createIndex('bulk_item_job_idx').on('bulk_item').columns(['job_id', 'position']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bulk_item').execute()
  await db.schema.dropTable('bulk_job').execute()
}
