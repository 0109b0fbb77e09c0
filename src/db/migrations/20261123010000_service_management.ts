import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('sla_policy')
    .addColumn('priority', 'text', (c) => c.primaryKey())
    .addColumn('response_minutes', 'integer', (c) => c.notNull())
    .addColumn('resolution_minutes', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  const now = new Date().toISOString()
  await db.insertInto('sla_policy').values([
    { priority: 'critical', response_minutes: 60, resolution_minutes: 240, updated_at: now },
    { priority: 'high', response_minutes: 240, resolution_minutes: 1440, updated_at: now },
    { priority: 'medium', response_minutes: 480, resolution_minutes: 4320, updated_at: now },
    { priority: 'low', response_minutes: 1440, resolution_minutes: 10080, updated_at: now }
  ]).execute()

  // The last SLA alert sent for the ticket, so each level is escalated once.
  await db.schema.alterTable('ticket').addColumn('sla_alert', 'text').execute()

  await withId(db, db.schema.createTable('checklist_item'))
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('ticket.id'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by_staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('done_by_staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('done_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('checklist_item_ticket_idx').on('checklist_item').columns(['ticket_id', 'position']).execute()

  await withId(db, db.schema.createTable('cost_item'))
    .addColumn('ticket_id', 'integer', (c) => c.notNull().references('ticket.id'))
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'integer', (c) => c.notNull())
    .addColumn('staff_id', 'integer', (c) => c.references('staff.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('cost_item_ticket_idx').on('cost_item').columns(['ticket_id']).execute()

  await db.schema.createTable('survey')
    .addColumn('ticket_id', 'integer', (c) => c.primaryKey().references('ticket.id'))
    .addColumn('contact_id', 'integer', (c) => c.notNull().references('contact.id'))
    .addColumn('rating', 'integer', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()

  await withId(db, db.schema.createTable('mail_outbox'))
    .addColumn('ticket_id', 'integer', (c) => c.references('ticket.id'))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('en'))
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('mail_outbox_due_idx').on('mail_outbox').columns(['status', 'next_attempt_at']).execute()
  await db.schema.createIndex('mail_outbox_ticket_idx').on('mail_outbox').columns(['ticket_id']).execute()

  await db.schema.createTable('job_lease')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['job_lease', 'mail_outbox', 'survey', 'cost_item', 'checklist_item', 'sla_policy']) {
    await db.schema.dropTable(table).ifExists().execute()
  }
  await db.schema.alterTable('ticket').dropColumn('sla_alert').execute()
}
