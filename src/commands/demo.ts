// The demo organisation (`casebridge seed --demo`, and the first start of an empty database):
// its people and catalog, then a few tickets opened and answered through the commands.
import type { Db } from '../db/index.js'
import { insertDemoOrganisation, type DemoSeed } from '../db/seed.js'
import { loadContactActor, loadStaffActor } from '../db/people.js'
import { personWho, unwrap } from './kernel.js'
import { openTicket } from './open-ticket.js'
import { addNote } from './add-note.js'
import { performTransition } from './lifecycle/index.js'
import { rateTicket } from './rate-ticket.js'
import { seedDemoKnowledge } from './demo-kb.js'

export { DEMO_PASSWORDS, isEmpty, type DemoLogin, type DemoSeed } from '../db/seed.js'

/**
 * Tickets of the past weeks the demo can also carry (`ratings`), each resolved, accepted and rated
 * by its requester and closed as Solved, so the dashboard's satisfaction has figures: like the demo ticket `like`
 * (requester, desk, catalog), opened `daysAgo` days before the demo starts.
 */
const RATED_HISTORY = [
  { like: 1, daysAgo: 26, title: 'Toner warning stays on after replacing the cartridge', rating: 4, comment: null },
  { like: 0, daysAgo: 19, title: 'Two-factor codes rejected after a phone change', rating: 5, comment: 'Sorted out within the hour, thank you!' },
  { like: 2, daysAgo: 17, title: 'Credit note missing from the invoice list', rating: 2, comment: 'It took three reminders.' },
  { like: 3, daysAgo: 6, title: 'Password reset for the reception laptop', rating: 5, comment: null },
  { like: 1, daysAgo: 4, title: 'Scanner saves blank pages', rating: 3, comment: null },
  { like: 0, daysAgo: 2, title: 'Cloud console export times out', rating: 4, comment: 'Works now.' }
]

/**
 * Loads the demo organisation into an empty database; returns its logins. `ratings`: with rated
 * tickets of the past weeks too; `knowledge`: with the knowledge base's categories and articles
 * (the demo a person starts; tests keep to the four open tickets and an empty knowledge base).
 */
export async function seedDemo(db: Db, now: Date = new Date(), opts: { ratings?: boolean; knowledge?: boolean } = {}): Promise<DemoSeed> {
  const org = await insertDemoOrganisation(db, now)
  const deps = { db, clock: () => now, random: Math.random }
  if (opts.ratings) {
    for (const h of RATED_HISTORY) {
      const like = org.tickets[h.like]
      const requester = personWho((await loadContactActor(db, like.contactId))!)
      const at = (hours: number) => ({ ...deps, clock: () => new Date(now.getTime() - h.daysAgo * 86_400_000 + hours * 3_600_000) })
      const opened = unwrap(await openTicket(at(0), requester, { ...like, title: h.title, description: h.title, source: 'portal' }))
      if (opened.assigneeId === null) continue
      const staff = personWho((await loadStaffActor(db, opened.assigneeId))!)
      unwrap(await performTransition(at(3), staff, 'resolve', { ticketId: opened.id, resolution: 'Fixed; details in the conversation.' }))
      unwrap(await performTransition(at(20), requester, 'accept', { ticketId: opened.id }))
      unwrap(await rateTicket(at(21), requester, { ticketId: opened.id, rating: h.rating, comment: h.comment }))
      // Accepted tickets rest in Resolved/Accepted until staff close them with a closure category.
      unwrap(await performTransition(at(22), staff, 'close', { ticketId: opened.id, closureCategory: 'solved' }))
    }
  }
  let first: number | null = null
  for (const t of org.tickets) {
    const requester = (await loadContactActor(db, t.contactId))!
    const opened = unwrap(await openTicket(deps, personWho(requester), { ...t, source: 'portal' }))
    first ??= opened.id
  }
  if (first !== null) {
    const staff = (await loadStaffActor(db, org.firstReply.staffId))!
    // A visible note rather than a reply: demo data mails nobody beyond the tickets' acknowledgements.
    unwrap(await addNote(deps, personWho(staff), { ticketId: first, mode: 'note', visibleToRequester: true, body: org.firstReply.body, source: 'portal' }))
  }
  if (opts.knowledge) await seedDemoKnowledge(db, deps, org.firstReply.staffId)
  return { logins: org.logins }
}
