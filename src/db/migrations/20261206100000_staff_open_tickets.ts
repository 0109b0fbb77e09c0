import { sql, type Kysely } from 'kysely'
import { isPostgres } from './util.js'

// The states in which a ticket counts toward its assignee's load (OPEN_STATES in src/domain/lifecycle.ts).
const OPEN = sql.raw(`('open', 'in_progress', 'on_hold')`)

export async function up(db: Kysely<any>): Promise<void> {
  // Least-load assignment read every open ticket of every candidate on each create, a cost that
  // grew with the backlog. Each staff member now carries their open-ticket count, kept by the
  // database in the same statement as every insert, update (assignee, state, deletion) and delete
  // of a ticket, so no writer can forget it; `casebridge doctor` compares it with the real count.
  await db.schema.alterTable('staff').addColumn('open_tickets', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await sql`UPDATE staff SET open_tickets = (
    SELECT count(*) FROM ticket WHERE ticket.assignee_id = staff.id AND ticket.state IN ${OPEN} AND ticket.deleted_at IS NULL
  )`.execute(db)
  if (isPostgres(db)) {
    // One UPDATE touches both rows of a reassignment (in the index's id order), so two opposite
    // transfers cannot lock the two staff rows in opposite orders.
    await sql`CREATE FUNCTION casebridge_ticket_open_load() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        was bigint := NULL;
        now_on bigint := NULL;
      BEGIN
        IF TG_OP <> 'INSERT' AND OLD.assignee_id IS NOT NULL AND OLD.state IN ${OPEN} AND OLD.deleted_at IS NULL THEN
          was := OLD.assignee_id;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.assignee_id IS NOT NULL AND NEW.state IN ${OPEN} AND NEW.deleted_at IS NULL THEN
          now_on := NEW.assignee_id;
        END IF;
        IF was IS DISTINCT FROM now_on THEN
          UPDATE staff SET open_tickets = open_tickets + CASE WHEN id = now_on THEN 1 ELSE -1 END WHERE id IN (was, now_on);
        END IF;
        RETURN NULL;
      END
    $$`.execute(db)
    await sql`CREATE TRIGGER ticket_open_load AFTER INSERT OR DELETE OR UPDATE OF assignee_id, state, deleted_at ON ticket
      FOR EACH ROW EXECUTE FUNCTION casebridge_ticket_open_load()`.execute(db)
    return
  }
  const counted = (row: 'NEW' | 'OLD') => sql.raw(`(${row}.assignee_id IS NOT NULL AND ${row}.state IN ('open', 'in_progress', 'on_hold') AND ${row}.deleted_at IS NULL)`)
  await sql`CREATE TRIGGER ticket_open_load_ai AFTER INSERT ON ticket WHEN ${counted('NEW')} BEGIN
    UPDATE staff SET open_tickets = open_tickets + 1 WHERE id = NEW.assignee_id;
  END`.execute(db)
  await sql`CREATE TRIGGER ticket_open_load_ad AFTER DELETE ON ticket WHEN ${counted('OLD')} BEGIN
    UPDATE staff SET open_tickets = open_tickets - 1 WHERE id = OLD.assignee_id;
  END`.execute(db)
  await sql`CREATE TRIGGER ticket_open_load_au AFTER UPDATE OF assignee_id, state, deleted_at ON ticket
    WHEN ${counted('OLD')} IS NOT ${counted('NEW')} OR OLD.assignee_id IS NOT NEW.assignee_id BEGIN
    UPDATE staff SET open_tickets = open_tickets - 1 WHERE id = OLD.assignee_id AND ${counted('OLD')};
    UPDATE staff SET open_tickets = open_tickets + 1 WHERE id = NEW.assignee_id AND ${counted('NEW')};
  END`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`DROP TRIGGER ticket_open_load ON ticket`.execute(db)
    await sql`DROP FUNCTION casebridge_ticket_open_load()`.execute(db)
  } else {
    for (const name of ['ticket_open_load_ai', 'ticket_open_load_ad', 'ticket_open_load_au']) await sql.raw(`DROP TRIGGER ${name}`).execute(db)
  }
  await db.schema.alterTable('staff').dropColumn('open_tickets').execute()
}
