import type { Executor } from './index.js'

/**
 * Owes the CRM an upsert of the ticket's Case. Pending rows coalesce: one waiting row per
 * ticket is enough, because the drainer sends the ticket as it is when it runs.
 */
export async function enqueueCaseSync(db: Executor, ticketId: number, now: string): Promise<void> {
  // Called inside the change's write transaction, so the check and the insert cannot interleave.
  const waiting = await db.selectFrom('crm_outbox').select('id')
    .where('ticket_id', '=', ticketId).where('kind', '=', 'case').where('status', '=', 'pending').where('attempts', '=', 0)
    .executeTakeFirst()
  if (waiting) return
  await db.insertInto('crm_outbox').values({ ticket_id: ticketId, kind: 'case', next_attempt_at: now, created_at: now }).execute()
}

/** Owes the CRM a CaseComment for a note (public notes publish, internal ones do not). */
export async function enqueueCommentSync(db: Executor, ticketId: number, noteId: number, now: string): Promise<void> {
  await db.insertInto('crm_outbox').values({ ticket_id: ticketId, kind: 'comment', note_id: noteId, next_attempt_at: now, created_at: now }).execute()
}
