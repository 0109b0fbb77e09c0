import type { Kysely } from 'kysely'
import { withId } from './util.js'

export async function up(db: Kysely<any>): Promise<void> {
  // Every administration change (people, desks, catalog, settings...): who, when, what, and each
  // changed field's value before and after (JSON), browsable at /admin/audit.
  await withId(db, db.schema.createTable('admin_audit'))
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'integer')
    .addColumn('actor_name', 'text')
    // What was changed: 'staff', 'contact', 'account', 'desk', ... and its id.
    .addColumn('entity', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'integer')
    // What was done: 'create', 'update', 'disable', 'enable', ...
    .addColumn('action', 'text', (c) => c.notNull())
    // The entity's name when the change was made, so the log reads without joins.
    .addColumn('label', 'text')
    // {"field": [before, after], ...}
    .addColumn('changes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('admin_audit_entity_idx').on('admin_audit').columns(['entity', 'entity_id', 'id']).execute()
  await db.schema.createIndex('admin_audit_actor_idx').on('admin_audit').columns(['actor_type', 'actor_id', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('admin_audit').execute()
}
