import { sql, type Kysely } from 'kysely'
import { isPostgres } from './util.js'

// The bell follows live too: a notification written for a staff member, or one they read, leaves a
// row in the change feed (migration 20261213090000) naming them, so their open desk pages update
// the unread count without a reload.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('live_event').addColumn('staff_id', 'integer').execute()
  if (isPostgres(db)) {
    await sql.raw(`CREATE FUNCTION casebridge_live_notification() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND NEW.read_at IS NOT DISTINCT FROM OLD.read_at THEN RETURN NULL; END IF;
        INSERT INTO live_event (ticket_id, desk_id, kind, audience, staff_id) VALUES (NEW.ticket_id, NULL, 'notification', 'staff', NEW.staff_id);
        PERFORM pg_notify('casebridge_live', '');
        RETURN NULL;
      END
    $$`).execute(db)
    await sql`CREATE TRIGGER notification_live AFTER INSERT OR UPDATE ON notification FOR EACH ROW EXECUTE FUNCTION casebridge_live_notification()`.execute(db)
    return
  }
  await sql.raw(`CREATE TRIGGER notification_live_insert AFTER INSERT ON notification BEGIN
    INSERT INTO live_event (ticket_id, desk_id, kind, audience, staff_id) VALUES (NEW.ticket_id, NULL, 'notification', 'staff', NEW.staff_id);
  END`).execute(db)
  await sql.raw(`CREATE TRIGGER notification_live_read AFTER UPDATE OF read_at ON notification WHEN NEW.read_at IS NOT OLD.read_at BEGIN
    INSERT INTO live_event (ticket_id, desk_id, kind, audience, staff_id) VALUES (NEW.ticket_id, NULL, 'notification', 'staff', NEW.staff_id);
  END`).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`DROP TRIGGER notification_live ON notification`.execute(db)
    await sql`DROP FUNCTION casebridge_live_notification()`.execute(db)
  } else {
    await sql`DROP TRIGGER notification_live_insert`.execute(db)
    await sql`DROP TRIGGER notification_live_read`.execute(db)
  }
  await db.schema.alterTable('live_event').dropColumn('staff_id').execute()
}
