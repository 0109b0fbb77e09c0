import type { Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // What each worker counted since it started (mails sent and failed, CRM calls, the API
  // allowance it last saw, its IMAP poller's last pass), as JSON: /metrics reads it from here,
  // because web and worker are separate processes, often on separate machines.
  await db.schema.alterTable('worker_heartbeat').addColumn('stats', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('worker_heartbeat').dropColumn('stats').execute()
}
