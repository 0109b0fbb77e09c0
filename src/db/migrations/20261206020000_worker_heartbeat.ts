import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // Each worker process says it is alive, what it runs with (minus secrets) and which leases it
  // holds; the admin pages and /readyz read it.
  await db.schema.createTable('worker_heartbeat')
    .addColumn('holder', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('beat_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('worker_heartbeat_beat_idx').on('worker_heartbeat').column('beat_at').execute()
  // A mail's Message-ID is fixed when it is queued and reused on every attempt, so a mail sent
  // again after a crash is the same message to the recipient's mail client.
  await db.schema.alterTable('mail_outbox').addColumn('message_key', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mail_outbox').dropColumn('message_key').execute()
  await db.schema.dropTable('worker_heartbeat').execute()
}
