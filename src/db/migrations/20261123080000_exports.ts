import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // A search result exported to XLSX by the worker: asked for on the web, claimed by one worker
  // (holder + lease_until; a dead worker's job is claimed again once its lease runs out).
  await withId(db, db.schema.createTable('export_job'))
    .addColumn('staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('contact_id', 'integer', (c) => c.references('contact.id'))
    .addColumn('area', 'text', (c) => c.notNull())
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued'))
    .addColumn('rows_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_total', 'integer')
    .addColumn('file_key', 'text', (c) => c.notNull())
    .addColumn('file_path', 'text')
    .addColumn('file_size', 'integer')
    .addColumn('holder', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addUniqueConstraint('export_job_file_key_uq', ['file_key'])
    .execute()
  await db.schema.createIndex('export_job_status_idx').on('export_job').columns(['status', 'id']).execute()
  await db.schema.createIndex('export_job_staff_idx').on('export_job').columns(['staff_id', 'id']).execute()
  await db.schema.createIndex('export_job_contact_idx').on('export_job').columns(['contact_id', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('export_job').ifExists().execute()
}
