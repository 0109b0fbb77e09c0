import { sql, type Kysely } from 'kysely'
import { isPostgres, withId } from './util.js'

// The change feed the live pages follow (src/plugins/live.ts): every committed change to a
// ticket, its conversation, or who has its page open leaves one small row in live_event, written
// by triggers in the changing transaction itself, so nothing that changes a ticket can forget it
// and nothing rolled back shows. Each web process reads the rows after the last one it saw (on
// PostgreSQL woken by NOTIFY, on SQLite polled) and tells the open pages that care.
//
// `audience`: 'public' when the requester's page could show the change (a visible note, the state,
// the fields they see); 'staff' for what only the desk sees (internal notes, a version bump
// alone, presence). `desk_id` lets a queue follow the tickets of its desks; a ticket that moves
// leaves a row for the desk it left too.

/** Ticket columns a requester's page shows: a change to any of them is for the public. */
const PUBLIC_COLUMNS = [
  'title', 'description', 'url', 'ticket_type', 'account_id', 'contact_id', 'product_id', 'category_id', 'desk_id', 'impact', 'urgency',
  'priority', 'state', 'status', 'assignee_id', 'parent_id', 'resolution', 'resolved_at', 'closure_category', 'closure_note', 'closed_at',
  'cancel_reason', 'cancel_reason_code', 'reopen_count', 'deleted_at'
] as const

export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('live_event'))
    .addColumn('ticket_id', 'integer', (c) => c.notNull())
    .addColumn('desk_id', 'integer')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .execute()

  // Who has a ticket's page open (one row per open page), refreshed by its web process.
  await withId(db, db.schema.createTable('ticket_presence'))
    .addColumn('ticket_id', 'integer', (c) => c.notNull())
    .addColumn('staff_id', 'integer', (c) => c.notNull())
    .addColumn('staff_name', 'text', (c) => c.notNull())
    .addColumn('activity', 'text', (c) => c.notNull())
    .addColumn('process', 'text', (c) => c.notNull())
    .addColumn('seen_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('ticket_presence_ticket_idx').on('ticket_presence').columns(['ticket_id']).execute()
  await db.schema.createIndex('ticket_presence_process_idx').on('ticket_presence').columns(['process']).execute()

  const pub = (prefix: string) => PUBLIC_COLUMNS.map((c) => `${prefix}.${c}`).join(', ')
  if (isPostgres(db)) {
    await sql.raw(`CREATE FUNCTION casebridge_live_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (NEW.id, NEW.desk_id, 'ticket', 'public');
        ELSIF NEW.version IS DISTINCT FROM OLD.version THEN
          INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (NEW.id, NEW.desk_id, 'ticket',
            CASE WHEN ROW(${pub('NEW')}) IS DISTINCT FROM ROW(${pub('OLD')}) THEN 'public' ELSE 'staff' END);
          IF NEW.desk_id IS DISTINCT FROM OLD.desk_id THEN
            INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (NEW.id, OLD.desk_id, 'ticket', 'staff');
          END IF;
        ELSE
          RETURN NULL;
        END IF;
        PERFORM pg_notify('casebridge_live', '');
        RETURN NULL;
      END
    $$`).execute(db)
    await sql`CREATE TRIGGER ticket_live AFTER INSERT OR UPDATE ON ticket FOR EACH ROW EXECUTE FUNCTION casebridge_live_ticket()`.execute(db)
    await sql.raw(`CREATE FUNCTION casebridge_live_note() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO live_event (ticket_id, desk_id, kind, audience)
          SELECT NEW.ticket_id, t.desk_id, 'note', CASE WHEN NEW.visibility = 'public' THEN 'public' ELSE 'staff' END FROM ticket t WHERE t.id = NEW.ticket_id;
        PERFORM pg_notify('casebridge_live', '');
        RETURN NULL;
      END
    $$`).execute(db)
    await sql`CREATE TRIGGER note_live AFTER INSERT ON note FOR EACH ROW EXECUTE FUNCTION casebridge_live_note()`.execute(db)
    await sql.raw(`CREATE FUNCTION casebridge_live_presence() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE tid integer;
      BEGIN
        IF TG_OP = 'DELETE' THEN tid := OLD.ticket_id;
        ELSIF TG_OP = 'UPDATE' AND NEW.activity IS NOT DISTINCT FROM OLD.activity THEN RETURN NULL;
        ELSE tid := NEW.ticket_id;
        END IF;
        INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (tid, NULL, 'presence', 'staff');
        PERFORM pg_notify('casebridge_live', '');
        RETURN NULL;
      END
    $$`).execute(db)
    await sql`CREATE TRIGGER ticket_presence_live AFTER INSERT OR UPDATE OR DELETE ON ticket_presence FOR EACH ROW EXECUTE FUNCTION casebridge_live_presence()`.execute(db)
    return
  }
  const changed = PUBLIC_COLUMNS.map((c) => `NEW.${c} IS NOT OLD.${c}`).join(' OR ')
  await sql.raw(`CREATE TRIGGER ticket_live_insert AFTER INSERT ON ticket BEGIN
    INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (NEW.id, NEW.desk_id, 'ticket', 'public');
  END`).execute(db)
  await sql.raw(`CREATE TRIGGER ticket_live_update AFTER UPDATE OF version ON ticket WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (NEW.id, NEW.desk_id, 'ticket', CASE WHEN ${changed} THEN 'public' ELSE 'staff' END);
    INSERT INTO live_event (ticket_id, desk_id, kind, audience) SELECT NEW.id, OLD.desk_id, 'ticket', 'staff' WHERE NEW.desk_id IS NOT OLD.desk_id;
  END`).execute(db)
  await sql.raw(`CREATE TRIGGER note_live_insert AFTER INSERT ON note BEGIN
    INSERT INTO live_event (ticket_id, desk_id, kind, audience)
      SELECT NEW.ticket_id, t.desk_id, 'note', CASE WHEN NEW.visibility = 'public' THEN 'public' ELSE 'staff' END FROM ticket t WHERE t.id = NEW.ticket_id;
  END`).execute(db)
  await sql.raw(`CREATE TRIGGER ticket_presence_live_insert AFTER INSERT ON ticket_presence BEGIN
    INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (NEW.ticket_id, NULL, 'presence', 'staff');
  END`).execute(db)
  await sql.raw(`CREATE TRIGGER ticket_presence_live_update AFTER UPDATE OF activity ON ticket_presence WHEN NEW.activity IS NOT OLD.activity BEGIN
    INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (NEW.ticket_id, NULL, 'presence', 'staff');
  END`).execute(db)
  await sql.raw(`CREATE TRIGGER ticket_presence_live_delete AFTER DELETE ON ticket_presence BEGIN
    INSERT INTO live_event (ticket_id, desk_id, kind, audience) VALUES (OLD.ticket_id, NULL, 'presence', 'staff');
  END`).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`DROP TRIGGER ticket_live ON ticket`.execute(db)
    await sql`DROP TRIGGER note_live ON note`.execute(db)
    await sql`DROP TRIGGER ticket_presence_live ON ticket_presence`.execute(db)
    for (const fn of ['casebridge_live_ticket', 'casebridge_live_note', 'casebridge_live_presence']) await sql.raw(`DROP FUNCTION ${fn}()`).execute(db)
  } else {
    for (const trigger of ['ticket_live_insert', 'ticket_live_update', 'note_live_insert', 'ticket_presence_live_insert', 'ticket_presence_live_update', 'ticket_presence_live_delete']) {
      await sql.raw(`DROP TRIGGER ${trigger}`).execute(db)
    }
  }
  await db.schema.dropTable('ticket_presence').execute()
  await db.schema.dropTable('live_event').execute()
}
