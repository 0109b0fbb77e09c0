// The demo organisation (`casebridge seed --demo`, and the first start of an empty database):
// its people and catalog, then a few tickets opened and answered through the commands.
import type { Db } from '../db/index.js'
import { insertDemoOrganisation, type DemoSeed } from '../db/seed.js'
import { loadContactActor, loadStaffActor } from '../db/people.js'
import { personWho, unwrap } from './kernel.js'
import { openTicket } from './open-ticket.js'
import { addNote } from './add-note.js'

export { DEMO_PASSWORDS, isEmpty, type DemoLogin, type DemoSeed } from '../db/seed.js'

/** Loads the demo organisation into an empty database; returns its logins. */
export async function seedDemo(db: Db, now: Date = new Date()): Promise<DemoSeed> {
  const org = await insertDemoOrganisation(db, now)
  const deps = { db, clock: () => now, random: Math.random }
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
  return { logins: org.logins }
}
