import t from 'tap'
import { testApp } from '../helpers/app.js'
import { makeTicket, staffActor, contactActor, refusal } from '../helpers/tickets.js'
import { listNotes, getTicketForActor } from '../../src/db/ticket.js'
import { listTickets } from '../../src/db/ticket-search.js'
import { listMailForTicket } from '../../src/db/mail-outbox.js'
import { saveSettings } from '../../src/db/settings.js'
import { costSummary, listChecklist } from '../../src/db/ticket-extras.js'
import { addChecklistItem, addCostItem, addTicketNote, deleteTicket, performerOf, rateTicket, registerOccurrence, setChecklistItemDone, transition } from '../helpers/commands.js'


t.test('notes: who is told, what the requester sees', async (t) => {
  const env = await testApp(t)
  const { db, ids } = env
  const deps = { db, clock: () => new Date() }
  const ticket = await makeTicket(db, ids)
  const assignee = (await db.selectFrom('ticket').select('assignee_id').where('id', '=', ticket.id).executeTakeFirstOrThrow()).assignee_id!
  const staffEmail = Object.entries(ids.staff).find(([, id]) => id === assignee)![0]
  const staff = performerOf(await staffActor(db, ids, staffEmail))
  const bobActor = await contactActor(db, ids, 'bob@acme.test')
  const bob = performerOf(bobActor)

  const created = (await listMailForTicket(db, ticket.id)).map((m) => [m.template, m.recipient])
  t.same(created, [['ticket.created', 'bob@acme.test'], ['ticket.created', staffEmail]], 'a new ticket: acknowledgement to the requester, notice to the assignee')
  await addTicketNote(deps, bob, ticket.id, { mode: 'reply', body: 'Any news?' })
  await addTicketNote(deps, staff, ticket.id, { mode: 'internal', body: 'Vendor ticket 42' })
  await addTicketNote(deps, staff, ticket.id, { mode: 'message', body: 'Please restart the printer.' })
  await addTicketNote(deps, staff, ticket.id, { mode: 'note', body: 'Checked cables', visibleToRequester: true, sendEmail: false, minutesSpent: 15, occurredAt: '2026-03-01T10:00:00.000Z' })
  await addTicketNote(deps, staff, ticket.id, { mode: 'note', body: 'Hidden work', visibleToRequester: false, minutesSpent: 30 })

  const seen = (await listNotes(db, bobActor, ticket.id)).notes.map((n) => n.body)
  t.same(seen, ['Any news?', 'Please restart the printer.', 'Checked cables'], 'requester sees public notes only')
  const mails = (await listMailForTicket(db, ticket.id)).filter((m) => m.template.startsWith('note.'))
  t.same(mails.map((m) => [m.template, m.recipient]), [
    ['note.reply', staffEmail],
    ['note.message', 'bob@acme.test']
  ], 'requester reply → assignee; message → requester; notes without send-to-email → nobody')

  const costs = await costSummary(db, ticket.id)
  t.equal(costs.timeMinutes, 45)
  await addCostItem(db, ticket.id, 'Toner', 4599, { actor: staff.ref, now: new Date().toISOString() })
  const after = await costSummary(db, ticket.id)
  t.equal(after.totalCents, after.timeCents + 4599)
  t.equal(after.timeCents, Math.round(45 * 6000 / 60), '45 min at 60.00/h')
})

t.test('a reply to a closed ticket opens a linked child ticket', async (t) => {
  const { db, ids } = await testApp(t)
  const deps = { db, clock: () => new Date() }
  const ticket = await makeTicket(db, ids, { title: 'Printer jams' })
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const bob = performerOf(await contactActor(db, ids, 'bob@acme.test'))
  await transition(db, ana, ticket.id, { action: 'resolve', resolution: 'Fixed' }, new Date())
  await transition(db, bob, ticket.id, { action: 'accept' }, new Date())
  await transition(db, ana, ticket.id, { action: 'close', closureCategory: 'solved' }, new Date())
  const result = await addTicketNote(deps, bob, ticket.id, { mode: 'reply', body: 'It jams again!' })
  t.ok(result.childTicket, 'a child ticket was opened')
  const child = await db.selectFrom('ticket').selectAll().where('id', '=', result.childTicket!.id).executeTakeFirstOrThrow()
  t.same([child.parent_id, child.title, child.description, child.state], [ticket.id, 'Re: Printer jams', 'It jams again!', 'open'])
  const onClosed = (await listNotes(db, await contactActor(db, ids, 'bob@acme.test'), ticket.id)).notes.map((n) => n.body)
  t.same(onClosed, ['Fixed'], 'the closed ticket keeps only its resolution; the reply went to the child')
})

t.test('occurrences: requester only In Progress and only when the setting is on', async (t) => {
  const { db, ids } = await testApp(t)
  const deps = { db, clock: () => new Date() }
  const ticket = await makeTicket(db, ids)
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const bob = performerOf(await contactActor(db, ids, 'bob@acme.test'))
  const occ = { category: 'Error', origin: 'monitoring', description: 'Jammed at 10:00', notifyResponsible: true }
  t.equal(await refusal(registerOccurrence(deps, bob, ticket.id, occ)), 'not_allowed_in_state', 'not while New')
  await transition(db, ana, ticket.id, { action: 'pick_up' }, new Date())
  await saveSettings(db, { occurrenceViaPortal: false })
  t.equal(await refusal(registerOccurrence(deps, bob, ticket.id, occ)), 'occurrence_via_portal_disabled')
  t.equal((await db.selectFrom('note').select('id').where('ticket_id', '=', ticket.id).execute()).length, 0, 'nothing written')
  await saveSettings(db, { occurrenceViaPortal: true })
  await registerOccurrence(deps, bob, ticket.id, occ)
  const note = await db.selectFrom('note').selectAll().where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same([note.kind, note.visibility, note.category, note.origin], ['occurrence', 'public', 'error', 'monitoring'])
  t.ok((await listMailForTicket(db, ticket.id)).some((m) => m.template === 'note.occurrence'), 'responsible notified')
})

t.test('survey once after closure; delete hides the ticket everywhere', async (t) => {
  const { db, ids } = await testApp(t)
  const ticket = await makeTicket(db, ids)
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const bobActor = await contactActor(db, ids, 'bob@acme.test')
  const bob = performerOf(bobActor)
  // Checklists are worked on while the ticket still takes notes, so before it is closed.
  await addChecklistItem(db, ticket.id, 'Check toner', { actor: ana.ref, now: new Date().toISOString() })
  const [item] = await listChecklist(db, ticket.id)
  t.ok(await setChecklistItemDone(db, ticket.id, item.id, true, { actor: ana.ref, now: new Date().toISOString() }))
  t.notOk(await setChecklistItemDone(db, ticket.id + 999, item.id, true, { actor: ana.ref, now: new Date().toISOString() }), 'item of another ticket refused')

  t.equal(await refusal(rateTicket(db, bob, ticket.id, 5, null, new Date())), 'not_allowed_in_state', 'no rating before closure')
  await transition(db, ana, ticket.id, { action: 'resolve', resolution: 'Fixed' }, new Date())
  await transition(db, bob, ticket.id, { action: 'accept' }, new Date())
  // The command refuses a wrong value as `invalid` naming the field (it was `invalid_rating`).
  t.equal(await refusal(rateTicket(db, bob, ticket.id, 9, null, new Date())), 'invalid')
  await rateTicket(db, bob, ticket.id, 4, 'Quick, thanks', new Date())
  t.equal(await refusal(rateTicket(db, bob, ticket.id, 5, null, new Date())), 'already_rated')

  const bruno = performerOf(await staffActor(db, ids, 'bruno@casebridge.test'))
  t.equal(await refusal(deleteTicket(db, bruno, ticket.id, 'spam', new Date())), 'missing_permission', 'staff without permission cannot delete')
  const admin = performerOf(await staffActor(db, ids, 'admin@casebridge.test'))
  t.ok(await deleteTicket(db, admin, ticket.id, 'spam', new Date()))
  t.equal(await getTicketForActor(db, bobActor, ticket.id), undefined, 'hidden from the requester')
  t.equal(await getTicketForActor(db, await staffActor(db, ids, 'admin@casebridge.test'), ticket.id), undefined, 'hidden from admins too')
  const list = await listTickets(db, await staffActor(db, ids, 'admin@casebridge.test'), {})
  t.notOk(list.items.some((i) => i.id === ticket.id), 'not in lists')
  t.ok(await db.selectFrom('ticket').select('id').where('id', '=', ticket.id).executeTakeFirst(), 'row kept')
})
