// Linking knowledge-base articles to the tickets they answered: staff press "Link to this ticket"
// beside a suggested article, or send a reply or note that holds an article's client link or text
// they inserted. Linking is idempotent: an article is counted once per ticket. No history row:
// the client reads the ticket's history, and an internal article is none of their business.
import { getTicketForActor } from '../db/ticket.js'
import { existingArticleIds } from '../db/kb-links.js'
import { linkTicket } from '../db/kb.js'
import { articleIdsIn, MAX_LINKED_PER_NOTE } from '../domain/kb-links.js'
import type { StaffActor } from '../domain/permissions.js'
import { Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

function staffPerson(uow: UnitOfWork): StaffActor {
  const person = uow.who.person
  if (person?.kind !== 'staff') throw new Refused('forbidden')
  return person
}

/** The ticket, when the staff member may see it; else not found (they may not know it exists). */
async function seenTicket(uow: UnitOfWork, ticketId: number): Promise<{ id: number }> {
  const ticket = await getTicketForActor(uow.trx, staffPerson(uow), ticketId)
  if (!ticket) throw new Refused('not_found')
  return ticket
}

/** Links one article to a ticket the staff member works; `linked` is false when it already was. */
export async function linkArticleToTicket(deps: Deps, who: Who, input: { ticketId: number; articleId: number }): Promise<Outcome<{ linked: boolean }>> {
  return run(deps, who, async (uow) => {
    const ticket = await seenTicket(uow, input.ticketId)
    if ((await existingArticleIds(uow.trx, [input.articleId])).length === 0) throw new Refused('not_found', { field: 'articleId' })
    return { linked: await linkTicket(uow.trx, input.articleId, ticket.id, uow.at) }
  })
}

/**
 * After a reply or note was sent: the articles it points at (their client links in `text`) and
 * those inserted into it (`articleIds`, as the page posted them) are linked to the ticket. Ids
 * that are no article are passed over: the note is sent already, a stale id is nothing to refuse.
 */
export async function linkArticlesFromNote(deps: Deps, who: Who, input: { ticketId: number; text: string; articleIds: readonly number[] }): Promise<Outcome<{ linked: number[] }>> {
  return run(deps, who, async (uow) => {
    const ticket = await seenTicket(uow, input.ticketId)
    const wanted = [...new Set([...articleIdsIn(input.text), ...input.articleIds])].slice(0, MAX_LINKED_PER_NOTE)
    const linked: number[] = []
    for (const id of await existingArticleIds(uow.trx, wanted)) {
      if (await linkTicket(uow.trx, id, ticket.id, uow.at)) linked.push(id)
    }
    return { linked: linked.sort((a, b) => a - b) }
  })
}
