import type { Db } from '../db/index.js'
import { getSurvey, saveSurvey, softDeleteTicket } from '../db/ticket-extras.js'
import { assertAllowed, TransitionRefused, type Performer } from './transitions.js'

/** The requester's satisfaction rating (1–5), once per closed ticket. */
export async function rateTicket(db: Db, performer: Performer, ticketId: number, rating: number, comment: string | null, now: Date) {
  if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new TransitionRefused('invalid_rating', 'survey.invalidRating')
  const { ticket } = await assertAllowed(db, performer, ticketId, 'rate')
  if (await getSurvey(db, ticketId)) throw new TransitionRefused('already_rated', 'lifecycle.refused.already_rated')
  await saveSurvey(db, ticketId, ticket.contact_id, rating, comment?.trim() || null, { actor: performer.ref, now: now.toISOString() })
}

/** Soft-deletes a ticket for staff allowed to delete; history keeps who and why. */
export async function deleteTicket(db: Db, performer: Performer, ticketId: number, reason: string | null, now: Date) {
  await assertAllowed(db, performer, ticketId, 'delete')
  return softDeleteTicket(db, ticketId, reason?.trim() || null, { actor: performer.ref, now: now.toISOString() })
}
