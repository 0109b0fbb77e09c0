import t from 'tap'
import { loginAs, testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { performerOf, transition } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { registerOccurrence } from '../../src/commands/register-occurrence.js'
import { addNote } from '../../src/commands/add-note.js'

// What the history pages say of notes and occurrences: an occurrence's category and origin in the
// reader's language, staff-only occurrences kept from the client, a visible staff note as a note,
// and a rejected solution passing through Resolved/Rejected.
t.test('history: occurrence category and origin, staff-only occurrences, visible notes, Resolved/Rejected', async (t) => {
  const env = await testApp(t)
  const { db, ids, app } = env
  const ticket = await makeTicket(db, ids, { title: 'Label printer skips lines' })
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const bob = performerOf(await contactActor(db, ids, 'bob@acme.test'))
  const deps = { db, clock: () => new Date(), random: Math.random }
  const occurrence = (visible: boolean, description: string) => registerOccurrence(deps, ana, {
    ticketId: ticket.id, category: 'error', origin: 'phone', description, source: 'portal', visibleToRequester: visible
  })
  unwrap(await occurrence(true, 'The client called: it skipped again.'))
  unwrap(await occurrence(false, 'Checked the driver logs.'))
  unwrap(await addNote(deps, ana, { ticketId: ticket.id, mode: 'note', visibleToRequester: true, body: 'We ordered a new print head.', source: 'portal' }))
  await transition(db, ana, ticket.id, { action: 'pick_up' }, new Date())
  await transition(db, ana, ticket.id, { action: 'resolve', resolution: 'Cleaned the head.' }, new Date())
  await transition(db, bob, ticket.id, { action: 'reject', reason: 'Still skips.' }, new Date())

  const staff = await loginAs(app, 'ana@casebridge.test')
  const desk = (await staff.get(`/desk/tickets/${ticket.number}/history`)).body
  t.match(desk, /Registered an occurrence: Category<\/td>\s*<td>— → Error/, 'the desk: the category, labelled')
  t.match(desk, /Registered an occurrence: Origin<\/td>\s*<td>— → Phone call/, 'and the origin')
  t.match(desk, /Registered an internal occurrence: Category<\/td>\s*<td>— → Error/, 'the internal one too')
  t.match(desk, 'Added a note for the requester', 'a visible staff note is a note')
  t.match(desk, /Reject solution: Status<\/td>\s*<td>Waiting for Closure → Rejected/, 'the rejection is recorded')
  t.match(desk, /Reject solution: Status<\/td>\s*<td>Rejected → Analysis/, 'and the work goes on')

  const client = await loginAs(app, 'bob@acme.test')
  const portal = (await client.get(`/portal/tickets/${ticket.number}/history`)).body
  t.match(portal, /Registered an occurrence: Category<\/td>\s*<td>— → Error/, 'the client sees the visible occurrence, labelled')
  t.notMatch(portal, 'internal occurrence', 'but not the staff-only one')
  t.equal((portal.match(/Registered an occurrence: Category/g) ?? []).length, 1, 'exactly one occurrence row with a category')
  t.match(portal, 'Added a note for the requester')
  t.match(portal, /Waiting for Closure → Rejected/)

  // In Portuguese, the list's Portuguese labels.
  await db.updateTable('staff').set({ locale: 'pt-BR' }).where('id', '=', ids.staff['ana@casebridge.test']).execute()
  const pt = (await (await loginAs(app, 'ana@casebridge.test')).get(`/desk/tickets/${ticket.number}/history`)).body
  t.match(pt, /Registrou uma ocorrência: Categoria<\/td>\s*<td>— → Erro/)
  t.match(pt, /Origem<\/td>\s*<td>— → Ligação telefônica/)
})
