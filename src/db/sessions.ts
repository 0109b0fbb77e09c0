// Login sessions kept on the server (`web_session`): the cookie holds a random token, a row holds
// its SHA-256, who it belongs to, and whether it has ended.
import type { Executor } from './index.js'
import { prepared } from './prepared.js'
import type { PersonKind } from './people.js'

export interface PersonRef {
  kind: PersonKind
  id: number
}

export interface LiveSession {
  id: number
  person: PersonRef
  lastSeenAt: string
  secondFactorPending: boolean
}

export interface SessionRow {
  id: number
  createdAt: string
  lastSeenAt: string
  userAgent: string | null
  ip: string | null
}

const owner = (person: PersonRef) => ({
  staff_id: person.kind === 'staff' ? person.id : null,
  contact_id: person.kind === 'contact' ? person.id : null
})

export async function insertSession(db: Executor, row: { tokenHash: string; person: PersonRef; now: string; userAgent: string | null; ip: string | null; secondFactorPending: boolean }): Promise<number> {
  const { id } = await db.insertInto('web_session').values({
    token_hash: row.tokenHash, ...owner(row.person), created_at: row.now, last_seen_at: row.now,
    user_agent: row.userAgent, ip: row.ip, second_factor_pending: row.secondFactorPending ? 1 : 0
  }).returning('id').executeTakeFirstOrThrow()
  return id
}

// Read on every request of a logged-in browser: compiled once (src/db/prepared.ts).
const liveSessionRows = prepared(2, (db, tokenHash: string, idleSince: string) => db.selectFrom('web_session')
  .select(['id', 'staff_id', 'contact_id', 'last_seen_at', 'second_factor_pending'])
  .where('token_hash', '=', tokenHash).where('ended_at', 'is', null).where('last_seen_at', '>=', idleSince))

/** The session this token opened, when it has not ended and was used since `idleSince`: one look-up by a unique index. */
export async function findLiveSession(db: Executor, tokenHash: string, idleSince: string): Promise<LiveSession | undefined> {
  const [row] = await liveSessionRows(db, tokenHash, idleSince)
  if (!row) return undefined
  const person: PersonRef | null = row.staff_id !== null ? { kind: 'staff', id: row.staff_id } : row.contact_id !== null ? { kind: 'contact', id: row.contact_id } : null
  if (!person) return undefined
  return { id: row.id, person, lastSeenAt: row.last_seen_at, secondFactorPending: row.second_factor_pending === 1 }
}

export async function touchSession(db: Executor, id: number, now: string): Promise<void> {
  await db.updateTable('web_session').set({ last_seen_at: now }).where('id', '=', id).where('ended_at', 'is', null).execute()
}

export async function completeSecondFactor(db: Executor, id: number, now: string): Promise<void> {
  await db.updateTable('web_session').set({ second_factor_pending: 0, last_seen_at: now }).where('id', '=', id).execute()
}

/** Ends one session; false when it had already ended. */
export async function endSession(db: Executor, id: number, now: string, reason: string, person?: PersonRef): Promise<boolean> {
  let q = db.updateTable('web_session').set({ ended_at: now, ended_reason: reason }).where('id', '=', id).where('ended_at', 'is', null)
  if (person) q = person.kind === 'staff' ? q.where('staff_id', '=', person.id) : q.where('contact_id', '=', person.id)
  const result = await q.executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Ends every open session of the person (but `exceptId`); returns how many. */
export async function endSessionsOf(db: Executor, person: PersonRef, now: string, reason: string, exceptId?: number): Promise<number> {
  let q = db.updateTable('web_session').set({ ended_at: now, ended_reason: reason }).where('ended_at', 'is', null)
  q = person.kind === 'staff' ? q.where('staff_id', '=', person.id) : q.where('contact_id', '=', person.id)
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId)
  const result = await q.executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** The person's sessions still open (used since `idleSince`), the most recently used first. */
export async function openSessions(db: Executor, person: PersonRef, idleSince: string): Promise<SessionRow[]> {
  let q = db.selectFrom('web_session').select(['id', 'created_at', 'last_seen_at', 'user_agent', 'ip'])
    .where('ended_at', 'is', null).where('last_seen_at', '>=', idleSince).where('second_factor_pending', '=', 0)
  q = person.kind === 'staff' ? q.where('staff_id', '=', person.id) : q.where('contact_id', '=', person.id)
  const rows = await q.orderBy('last_seen_at', 'desc').orderBy('id', 'desc').limit(100).execute()
  return rows.map((r) => ({ id: r.id, createdAt: r.created_at, lastSeenAt: r.last_seen_at, userAgent: r.user_agent, ip: r.ip }))
}

/** Deletes sessions not used since `before` (ended ones stop being used when they end); how many went. */
export async function deleteStaleSessions(db: Executor, before: string): Promise<number> {
  const result = await db.deleteFrom('web_session').where('last_seen_at', '<', before).executeTakeFirst()
  return Number(result.numDeletedRows)
}
