import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // Business-hours calendars: weekly opening intervals in a time zone, plus holidays. A desk with
  // a calendar counts its SLA targets in open time; a desk without one counts calendar time.
  await withId(db, db.schema.createTable('business_calendar'))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    // {"1": [[540, 1080]], ...}: ISO weekday to [start, end) minutes after local midnight.
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await withId(db, db.schema.createTable('business_holiday'))
    .addColumn('calendar_id', 'integer', (c) => c.notNull().references('business_calendar.id').onDelete('cascade'))
    // A local date in the calendar's zone.
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addUniqueConstraint('business_holiday_day_unique', ['calendar_id', 'day'])
    .execute()
  await db.schema.alterTable('desk').addColumn('calendar_id', 'integer', (c) => c.references('business_calendar.id')).execute()
  // Days a resolved ticket of this desk waits for an answer before it closes; null: the service setting.
  await db.schema.alterTable('desk').addColumn('auto_close_days', 'integer').execute()

  // Targets for one catalog item, in place of its priority's (sla_policy) where set.
  await db.schema.createTable('sla_item_policy')
    .addColumn('category_id', 'integer', (c) => c.notNull().references('category.id').onDelete('cascade'))
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('response_minutes', 'integer', (c) => c.notNull())
    .addColumn('resolution_minutes', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sla_item_policy_pk', ['category_id', 'priority'])
    .execute()

  // When the ticket counts as at risk (three quarters of its resolution target, in open time),
  // stored with its due times. Tickets from before keep null and are judged by the share of
  // calendar time, as they were.
  await db.schema.alterTable('ticket').addColumn('sla_at_risk_at', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ticket').dropColumn('sla_at_risk_at').execute()
  await db.schema.dropTable('sla_item_policy').execute()
  await db.schema.alterTable('desk').dropColumn('auto_close_days').execute()
  await db.schema.alterTable('desk').dropColumn('calendar_id').execute()
  await db.schema.dropTable('business_holiday').execute()
  await db.schema.dropTable('business_calendar').execute()
}
