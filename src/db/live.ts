// The change feed the live pages follow (rows written by triggers: migration 20261213090000) and
// who has a ticket's page open. Reads here; the presence writes are for src/commands/presence.ts.
import type { Executor } from './index.js'
import type { TicketPresenceTable } from './schema.js'

export interface LiveRow {
  id: number
  ticket_id: number
  desk_id: number | null
  kind: 'ticket' | 'note' | 'presence' | 'notification'
  audience: 'public' | 'staff'
  /** Whose bell changed (kind 'notification'). */
  staff_id: number | null
}

/** The newest change's id (where a process starts following), 0 when there is none. */
export async function lastLiveId(db: Executor): Promise<number> {
  const row = await db.selectFrom('live_event').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst()
  return Number(row?.id ?? 0)
}

/** Up to `limit` changes after `afterId`, oldest first. */
export async function liveAfter(db: Executor, afterId: number, limit: number): Promise<LiveRow[]> {
  const rows = await db.selectFrom('live_event').select(['id', 'ticket_id', 'desk_id', 'kind', 'audience', 'staff_id'])
    .where('id', '>', afterId).orderBy('id').limit(limit).execute()
  return rows.map((r) => ({ ...r, id: Number(r.id) }))
}

/** Forgets the changes up to `throughId` (every process has long read them). */
export async function pruneLive(db: Executor, throughId: number): Promise<number> {
  const res = await db.deleteFrom('live_event').where('id', '<=', throughId).executeTakeFirst()
  return Number(res.numDeletedRows)
}

/** What a ticket's stream checks a person against: enough for canSeeTicket, and the number pages use. */
export async function ticketScope(db: Executor, ticketId: number) {
  return db.selectFrom('ticket').select(['id', 'number', 'desk_id', 'contact_id', 'account_id', 'assignee_id', 'deleted_at', 'version'])
    .where('id', '=', ticketId).executeTakeFirst()
}

export type PresenceActivity = TicketPresenceTable['activity']

/** Who has the ticket's page open now (seen since `since`), each person once, replying before viewing. */
export async function presentOn(db: Executor, ticketId: number, since: string): Promise<{ staff_id: number; name: string; activity: PresenceActivity }[]> {
  const rows = await db.selectFrom('ticket_presence').select(['staff_id', 'staff_name', 'activity'])
    .where('ticket_id', '=', ticketId).where('seen_at', '>=', since).orderBy('staff_name').orderBy('id').execute()
  const people = new Map<number, { staff_id: number; name: string; activity: PresenceActivity }>()
  for (const r of rows) {
    const had = people.get(r.staff_id)
    if (!had) people.set(r.staff_id, { staff_id: r.staff_id, name: r.staff_name, activity: r.activity })
    else if (r.activity === 'replying') had.activity = 'replying'
  }
  return [...people.values()]
}

export async function insertPresence(db: Executor, row: { ticketId: number; staffId: number; name: string; process: string; at: string }): Promise<number> {
  const inserted = await db.insertInto('ticket_presence').values({
    ticket_id: row.ticketId, staff_id: row.staffId, staff_name: row.name, activity: 'viewing', process: row.process, seen_at: row.at
  }).returning('id').executeTakeFirstOrThrow()
  return Number(inserted.id)
}

/** Sets what the page's person is doing; false when the row is gone (its stream ended). */
export async function setPresenceActivity(db: Executor, id: number, staffId: number, activity: PresenceActivity, at: string): Promise<boolean> {
  const res = await db.updateTable('ticket_presence').set({ activity, seen_at: at })
    .where('id', '=', id).where('staff_id', '=', staffId).executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

export async function deletePresence(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('ticket_presence').where('id', '=', id).execute()
}

/** A process still holds its pages' streams: their rows stay current (one statement for all of them). */
export async function refreshPresence(db: Executor, process: string, at: string): Promise<void> {
  await db.updateTable('ticket_presence').set({ seen_at: at }).where('process', '=', process).execute()
}

/** Rows no process has refreshed since `before` (their process died): gone, and their pages told. */
export async function deleteStalePresence(db: Executor, before: string): Promise<number> {
  const res = await db.deleteFrom('ticket_presence').where('seen_at', '<', before).executeTakeFirst()
  return Number(res.numDeletedRows)
}

/**
 * On PostgreSQL, a connection of its own that LISTENs for the feed's NOTIFY (sent by the
 * triggers when their transaction commits) and calls `wake`. Returns how to stop listening.
 * `failed` hears a lost connection (the caller falls back on polling and listens again later).
 */
export async function listenForLive(url: string, wake: () => void, failed: (err: Error) => void): Promise<() => Promise<void>> {
  const pg = await import('pg')
  const client = new pg.default.Client({ connectionString: url })
  let closing = false
  client.on('notification', () => wake())
  client.on('error', (err) => {
    if (!closing) failed(err)
  })
  client.on('end', () => {
    if (!closing) failed(new Error('the LISTEN connection ended'))
  })
  await client.connect()
  await client.query('LISTEN casebridge_live')
  return async () => {
    closing = true
    await client.end().catch(() => {})
  }
}
