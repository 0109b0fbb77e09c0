// The rows a change to a ticket writes: the ticket itself, its notes, attachments and history.
// Plain inserts and updates: the commands (src/commands) decide what to write and when.
import type { Updateable } from 'kysely'
import type { Executor } from './index.js'
import type { NewNote, NewTicket, NewTicketEvent, TicketTable } from './schema.js'
import type { StoredFile } from '../storage/attachments.js'
import { slaWatchAt } from '../domain/sla.js'

/** The columns a command may change on a ticket (its id, number, version and timestamps are kept by this module). */
export type TicketChanges = Omit<Updateable<TicketTable>, 'id' | 'number' | 'version' | 'created_at' | 'updated_at'>

/**
 * Takes the ticket's write lock before reading it (a no-op update: a row lock on PostgreSQL,
 * the database write lock on SQLite), so read-check-write sequences never interleave.
 */
export async function lockTicket(trx: Executor, ticketId: number): Promise<void> {
  await trx.updateTable('ticket').set((eb) => ({ version: eb.ref('version') })).where('id', '=', ticketId).execute()
}

export async function nextCounter(trx: Executor, name: string): Promise<number> {
  // The UPDATE takes the write lock first, so every read that follows in the transaction
  // (assignment loads) sees a settled picture even with several processes on one file.
  const updated = await trx.updateTable('counter').set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', name).returning('value').executeTakeFirst()
  if (updated) return Number(updated.value)
  await trx.insertInto('counter').values({ name, value: 1 }).execute()
  return 1
}

export async function insertTicket(trx: Executor, values: NewTicket): Promise<{ id: number; number: number; version: number }> {
  const watched = values.created_at === undefined ? null : {
    state: values.state, created_at: values.created_at, response_due_at: values.response_due_at ?? null,
    resolution_due_at: values.resolution_due_at ?? null, first_response_at: values.first_response_at ?? null, resolved_at: values.resolved_at ?? null,
    sla_paused_at: values.sla_paused_at ?? null, sla_paused_ms: values.sla_paused_ms ?? 0, sla_at_risk_at: values.sla_at_risk_at ?? null, sla_alert: values.sla_alert ?? null, deleted_at: values.deleted_at ?? null
  }
  return trx.insertInto('ticket').values({ ...values, sla_watch_at: watched && slaWatchAt(watched) }).returning(['id', 'number', 'version']).executeTakeFirstOrThrow()
}

/** The columns `slaWatchAt` reads: a change to any of them stores the ticket's watch instant again. */
const SLA_COLUMNS = [
  'state', 'created_at', 'response_due_at', 'resolution_due_at', 'first_response_at', 'resolved_at', 'sla_paused_at', 'sla_paused_ms', 'sla_at_risk_at', 'sla_alert', 'deleted_at'
] as const

/** Stores when the SLA job next looks at the ticket, from its row as it now is. */
export async function refreshSlaWatch(trx: Executor, ticketId: number): Promise<string | null> {
  const row = await trx.selectFrom('ticket').select(SLA_COLUMNS).where('id', '=', ticketId).executeTakeFirst()
  if (!row) return null
  const watch = slaWatchAt(row)
  await trx.updateTable('ticket').set({ sla_watch_at: watch }).where('id', '=', ticketId).execute()
  return watch
}

/** Puts the ticket's next SLA look at `at` (the job's guard when a look changed nothing). */
export async function setSlaWatch(trx: Executor, ticketId: number, at: string | null): Promise<void> {
  await trx.updateTable('ticket').set({ sla_watch_at: at }).where('id', '=', ticketId).execute()
}

/**
 * Changes a ticket if it is still at `version`: the version goes up by one and updated_at is
 * set. False when someone changed it first (nothing is written then).
 */
export async function updateTicket(trx: Executor, ticketId: number, version: number, changes: TicketChanges, at: string): Promise<boolean> {
  const res = await trx.updateTable('ticket')
    .set((eb) => ({ ...changes, updated_at: at, version: eb('version', '+', 1) }))
    .where('id', '=', ticketId).where('version', '=', version).executeTakeFirst()
  if (Number(res.numUpdatedRows) !== 1) return false
  if (SLA_COLUMNS.some((column) => column in changes)) await refreshSlaWatch(trx, ticketId)
  return true
}

/** Links a ticket to its Case; metadata only, so the ticket's version is left alone. */
export async function setCaseLink(trx: Executor, ticketId: number, caseId: string, caseNumber: string | null): Promise<void> {
  await trx.updateTable('ticket').set(caseNumber === null ? { crm_case_id: caseId } : { crm_case_id: caseId, crm_case_number: caseNumber })
    .where('id', '=', ticketId).execute()
}

/** The time of the first public staff answer, once. */
export async function markFirstResponse(trx: Executor, ticketId: number, at: string): Promise<void> {
  const res = await trx.updateTable('ticket').set({ first_response_at: at })
    .where('id', '=', ticketId).where('first_response_at', 'is', null).executeTakeFirst()
  if (Number(res.numUpdatedRows) === 1) await refreshSlaWatch(trx, ticketId)
}

/** Records an SLA alert level once: false when the ticket's level is no longer `from`. */
export async function setSlaAlert(trx: Executor, ticketId: number, from: string | null, to: string): Promise<boolean> {
  const res = await trx.updateTable('ticket').set({ sla_alert: to })
    .where('id', '=', ticketId)
    .where((eb) => (from === null ? eb('sla_alert', 'is', null) : eb('sla_alert', '=', from)))
    .executeTakeFirst()
  if (Number(res.numUpdatedRows) !== 1) return false
  await refreshSlaWatch(trx, ticketId)
  return true
}

export async function insertNote(trx: Executor, values: NewNote): Promise<number> {
  return (await trx.insertInto('note').values(values).returning('id').executeTakeFirstOrThrow()).id
}

export async function setNoteComment(trx: Executor, noteId: number, commentId: string): Promise<void> {
  await trx.updateTable('note').set({ crm_comment_id: commentId }).where('id', '=', noteId).execute()
}

export async function insertAttachments(trx: Executor, ticketId: number, noteId: number | null, files: StoredFile[], at: string): Promise<void> {
  for (const f of files) {
    await trx.insertInto('attachment').values({
      ticket_id: ticketId, note_id: noteId, filename: f.filename, content_type: f.contentType,
      size: f.size, sha256: f.sha256, created_at: at
    }).execute()
  }
}

export async function insertEvent(trx: Executor, values: NewTicketEvent): Promise<void> {
  await trx.insertInto('ticket_event').values(values).execute()
}

/** A note or other addition changed the ticket: a newer version and updated_at, whatever version it had. */
export async function touchTicket(trx: Executor, ticketId: number, at: string): Promise<void> {
  await trx.updateTable('ticket').set((eb) => ({ updated_at: at, version: eb('version', '+', 1) })).where('id', '=', ticketId).execute()
}
