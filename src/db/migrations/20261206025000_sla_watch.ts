import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  // The next instant the SLA job must look at a ticket (when it may become at risk or breached
  // beyond the level already reported); null when nothing can change with time alone. The job
  // reads only the tickets whose instant has come, through this index, in batches.
  await db.schema.alterTable('ticket').addColumn('sla_watch_at', 'text').execute()
  await sql`CREATE INDEX ticket_sla_watch_idx ON ticket (sla_watch_at, id) WHERE sla_watch_at IS NOT NULL`.execute(db)
  // Every ticket the job used to read is looked at once on its first pass, which sets its real instant.
  await sql`UPDATE ticket SET sla_watch_at = created_at
    WHERE state IN ('open', 'in_progress', 'on_hold') AND deleted_at IS NULL AND resolution_due_at IS NOT NULL
      AND (sla_alert IS NULL OR sla_alert <> 'breached')`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX ticket_sla_watch_idx`.execute(db)
  await db.schema.alterTable('ticket').dropColumn('sla_watch_at').execute()
}
