// The requester's satisfaction rating (1–5, with an optional comment), once per closed ticket.
import { insertSurvey } from '../db/ticket-extras.js'
import { LIMITS } from '../domain/ticket.js'
import { FieldCheck, isUniqueViolation, Refused, run, type Deps, type Outcome, type Who } from './kernel.js'
import { beginChange } from './ticket-access.js'

export async function rateTicket(deps: Deps, who: Who, input: { ticketId: number; rating: number; comment?: string | null }): Promise<Outcome<void>> {
  const outcome = await run(deps, who, async (uow) => {
    const { ticket, decision } = await beginChange(uow, input.ticketId, 'rate')
    const check = new FieldCheck()
    if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) check.add('rating', 'out_of_range', { min: 1, max: 5 })
    check.text('comment', input.comment ?? '', LIMITS.comment, false)
    check.refuse()
    const comment = input.comment?.trim() || null
    await insertSurvey(uow.trx, { ticket_id: ticket.id, contact_id: ticket.contact_id, rating: input.rating, comment, created_at: uow.at })
    await uow.history(ticket.id, { action: 'rate', field: 'rating', to: String(input.rating), note: comment })
    // The lifecycle tells the assignee how their work was rated.
    await uow.notify(ticket.id, decision.effects.notify ?? [], 'ticket.rate', { number: ticket.number, title: ticket.title, rating: input.rating, comment, actorName: uow.who.ref.name })
  }).catch((err: unknown) => {
    // Two submissions at once: the survey's primary key lets only one through.
    if (isUniqueViolation(err)) return { ok: false as const, refusal: new Refused('already_rated') }
    throw err
  })
  return outcome
}
