// What a command leaves behind: a database trigger that makes one write fail (on SQLite and
// PostgreSQL alike) so a test can show a failure after the first write leaves nothing; a picture
// of every business row to compare before and after a refusal or a failure; a refusal in the
// shape tests compare (code, field, fields); and the history, mail, CRM and note rows a command
// added, as a support person or the CRM would read them.
import { PostgresAdapter, sql } from 'kysely'
import type { Test } from 'tap'
import type { Db } from '../../src/db/index.js'
import type { Database } from '../../src/db/schema.js'
import type { Outcome } from '../../src/commands/kernel.js'

/** The message every injected failure carries (match it with `t.rejects(..., { message: INJECTED })`). */
export const INJECTED = /injected failure/

export type Write = 'INSERT' | 'UPDATE' | 'DELETE'

export interface FailingWrite {
  table: keyof Database
  write: Write
  /** A row condition in SQL both databases read alike, e.g. `NEW.kind = 'case'`; every row when left out. */
  when?: string
}

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter
const triggerName = (f: FailingWrite) => `test_fail_${f.table}_${f.write.toLowerCase()}`

/** From now on, the write named aborts its statement with an error (not a refusal) until `stopFailing`. */
export async function startFailing(db: Db, f: FailingWrite): Promise<void> {
  const name = sql.raw(triggerName(f))
  const table = sql.raw(f.table)
  const write = sql.raw(f.write)
  const when = f.when ? sql.raw(`WHEN (${f.when})`) : sql.raw('')
  if (isPostgres(db)) {
    await sql`CREATE OR REPLACE FUNCTION test_injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$`.execute(db)
    await sql`CREATE TRIGGER ${name} BEFORE ${write} ON ${table} FOR EACH ROW ${when} EXECUTE FUNCTION test_injected_failure()`.execute(db)
  } else {
    await sql`CREATE TRIGGER ${name} BEFORE ${write} ON ${table} FOR EACH ROW ${when} BEGIN SELECT RAISE(ABORT, 'injected failure'); END`.execute(db)
  }
}

export async function stopFailing(db: Db, f: FailingWrite): Promise<void> {
  const name = sql.raw(triggerName(f))
  if (isPostgres(db)) await sql`DROP TRIGGER IF EXISTS ${name} ON ${sql.raw(f.table)}`.execute(db)
  else await sql`DROP TRIGGER IF EXISTS ${name}`.execute(db)
}

/** Runs `fn` while the write named fails; the trigger is gone afterwards, whatever `fn` did. */
export async function whileFailing<T>(db: Db, f: FailingWrite, fn: () => Promise<T>): Promise<T> {
  await startFailing(db, f)
  try {
    return await fn()
  } finally {
    await stopFailing(db, f)
  }
}

/** Every table of business data (the worker's leases left out). */
const TABLES: (keyof Database)[] = [
  'account', 'contact', 'contact_account', 'staff', 'desk', 'desk_member', 'staff_product', 'product', 'category',
  'desk_product', 'desk_category', 'ticket', 'note', 'attachment', 'ticket_event', 'api_token', 'counter', 'setting',
  'sla_policy', 'checklist_item', 'cost_item', 'survey', 'mail_outbox', 'crm_outbox', 'crm_shadow', 'sync_state',
  'mailbox_state', 'inbound_message', 'mail_quarantine', 'approval', 'export_job'
]

/**
 * Every row of every business table, each table's rows as sorted JSON lines: two pictures are
 * equal exactly when nothing was written in between, and a difference names the rows.
 */
export async function allRows(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const table of TABLES) {
    const rows = await db.selectFrom(table).selectAll().execute()
    out[table] = rows.map((r) => JSON.stringify(r)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  }
  return out
}

export interface RefusalShape {
  code: string
  field?: string
  fields?: Record<string, unknown>
}

/** The refusal as a person's channel reads it (`allowed` when it went through); empty parts left out. */
export function refusalOf(outcome: Outcome<unknown>): RefusalShape {
  if (outcome.ok) return { code: 'allowed' }
  const r = outcome.refusal
  return {
    code: r.code,
    ...(r.field !== undefined ? { field: r.field } : {}),
    ...(Object.keys(r.fields).length > 0 ? { fields: r.fields } : {})
  }
}


/** Asserts the command is refused as `wanted` and that it wrote nothing at all. */
export async function refusedUnchanged(t: Test, db: Db, command: () => Promise<Outcome<unknown>>, wanted: RefusalShape, what: string): Promise<void> {
  const before = await allRows(db)
  t.same(refusalOf(await command()), wanted, what)
  t.same(await allRows(db), before, `${what}: nothing written`)
}

/** Asserts the command fails (an error, not a refusal) while `f` fails, and leaves every row as it was. */
export async function failsUnchanged(t: Test, db: Db, f: FailingWrite, command: () => Promise<unknown>, what: string): Promise<void> {
  const before = await allRows(db)
  await t.rejects(whileFailing(db, f, command), { message: INJECTED }, `${what}: the command fails`)
  t.same(await allRows(db), before, `${what}: nothing is left (ticket, note, history, mail, CRM rows)`)
}

/** Where the history, the two outboxes and the notes stood (their highest ids), to read what a command added since. */
export interface Mark {
  ticket_event: number
  mail_outbox: number
  crm_outbox: number
  note: number
}

export async function markRows(db: Db): Promise<Mark> {
  const top = async (table: keyof Mark) => Number((await db.selectFrom(table).select((eb) => eb.fn.max('id').as('n')).executeTakeFirst())?.n ?? 0)
  return { ticket_event: await top('ticket_event'), mail_outbox: await top('mail_outbox'), crm_outbox: await top('crm_outbox'), note: await top('note') }
}

export interface Written {
  /** History rows as the ticket page shows them: who, what, which field, from, to, why. */
  history: { ticket: number; by: string; action: string; field?: string; from?: string; to?: string; note?: string }[]
  /** Mail owed: template and recipient. */
  mail: { ticket: number | null; template: string; to: string }[]
  /** CRM work owed: the Case, or a comment for a note. */
  crm: { ticket: number; kind: string; note?: number }[]
  notes: { ticket: number; id: number; kind: string; visibility: string; body: string; by: string | null }[]
}

type Present<T> = { [K in keyof T]: null extends T[K] ? Exclude<T[K], null> | undefined : T[K] }
const present = <T extends Record<string, unknown>>(o: T): Present<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Present<T>

/** The history, mail, CRM and note rows written since `mark`, oldest first. */
export async function writtenSince(db: Db, mark: Mark): Promise<Written> {
  const events = await db.selectFrom('ticket_event').selectAll().where('id', '>', mark.ticket_event).orderBy('id').execute()
  const mails = await db.selectFrom('mail_outbox').selectAll().where('id', '>', mark.mail_outbox).orderBy('id').execute()
  const crm = await db.selectFrom('crm_outbox').selectAll().where('id', '>', mark.crm_outbox).orderBy('id').execute()
  const notes = await db.selectFrom('note').selectAll().where('id', '>', mark.note).orderBy('id').execute()
  return {
    history: events.map((e) => present({
      ticket: e.ticket_id, by: e.actor_type === 'system' ? 'system' : e.actor_name ?? e.actor_type, action: e.action,
      field: e.field, from: e.from_value, to: e.to_value, note: e.note
    })),
    mail: mails.map((m) => ({ ticket: m.ticket_id, template: m.template, to: m.recipient })),
    crm: crm.map((c) => present({ ticket: c.ticket_id, kind: c.kind, note: c.note_id })),
    notes: notes.map((n) => ({ ticket: n.ticket_id, id: n.id, kind: n.kind, visibility: n.visibility, body: n.body, by: n.author_name }))
  }
}
