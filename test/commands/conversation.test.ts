// add-note (replies, messages, internal and staff notes, a reply to a closed ticket) and
// register-occurrence against a real database: the note, its history row, the comment owed to
// the Case and who is mailed; every refusal with its field, writing nothing; a stale version; and
// a failure at the last write leaving no note, history, comment or mail.
import t from 'tap'
import type { Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { failsUnchanged, markRows, refusedUnchanged, writtenSince } from '../helpers/failing-writes.js'
import { crmWho, SYSTEM, unwrap } from '../../src/commands/kernel.js'
import { setAvailability } from '../../src/commands/assignment.js'
import { saveServiceSettings } from '../../src/commands/admin.js'
import { addNote, type AddNoteInput } from '../../src/commands/add-note.js'
import { registerOccurrence, type OccurrenceInput } from '../../src/commands/register-occurrence.js'
import { pickUpTicket } from '../../src/commands/lifecycle/pick-up.js'
import { resolveTicket } from '../../src/commands/lifecycle/resolve.js'
import { acceptResolution } from '../../src/commands/lifecycle/accept.js'
import { closeTicket } from '../../src/commands/lifecycle/close.js'
import { cancelTicket } from '../../src/commands/lifecycle/cancel.js'
import type { Db } from '../../src/db/index.js'

const T0 = new Date('2026-04-06T09:00:00.000Z')
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)

/** The demo organisation with Ana away: Service Desk tickets go to Bruno, and Ana is the colleague who is not the assignee. */
async function scene(t: Test) {
  const env = await testApp(t)
  const { db, ids } = env
  const staff = async (email: string) => performerOf(await staffActor(db, ids, email))
  const contact = async (email: string) => performerOf(await contactActor(db, ids, email))
  const who = {
    ana: await staff('ana@casebridge.test'), bruno: await staff('bruno@casebridge.test'), carla: await staff('carla@casebridge.test'),
    admin: await staff('admin@casebridge.test'), bob: await contact('bob@acme.test'), hank: await contact('hank@globex.test')
  }
  unwrap(await setAvailability(depsAt(db, T0), who.ana, { available: false }))
  const ticket = (opts: Parameters<typeof makeTicket>[2] = {}) => makeTicket(db, ids, { now: T0, ...opts })
  return { ...env, ...who, ticket, deps: (at = later(30)) => depsAt(db, at, () => 0) }
}

const ticketRow = (db: Db, id: number) => db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

type Note = Omit<AddNoteInput, 'ticketId' | 'source'> & { source?: AddNoteInput['source'] }

t.test('add-note: each kind of note, who is told, what the Case gets', async (t) => {
  const { db, ana, bob, ticket, deps } = await scene(t)
  const x = await ticket()
  const note = (who: typeof ana, input: Note, at = later(30)) => addNote(deps(at), who, { source: 'portal', ...input, ticketId: x.id })

  const v = (await ticketRow(db, x.id)).version
  let mark = await markRows(db)
  const reply = unwrap(await note(bob, { mode: 'reply', body: 'Any news?', version: v }, later(10)))
  let row = await ticketRow(db, x.id)
  t.same([row.version, row.updated_at, row.first_response_at], [v + 1, later(10).toISOString(), null], 'a note makes a new version; a client\'s reply is no first response')
  let w = await writtenSince(db, mark)
  t.same(w.notes, [{ ticket: x.id, id: reply.noteId, kind: 'reply', visibility: 'public', body: 'Any news?', by: 'Bob Stone' }])
  t.same(w.history, [{ ticket: x.id, by: 'Bob Stone', action: 'reply' }])
  t.same(w.crm, [{ ticket: x.id, kind: 'comment', note: reply.noteId }])
  t.same(w.mail, [{ ticket: x.id, template: 'note.reply', to: 'bruno@casebridge.test' }], 'the requester\'s reply goes to the assignee')

  mark = await markRows(db)
  const message = unwrap(await note(ana, { mode: 'message', body: 'Please restart the printer.' }, later(20)))
  row = await ticketRow(db, x.id)
  t.equal(row.first_response_at, later(20).toISOString(), 'a public staff note is the first response')
  w = await writtenSince(db, mark)
  t.same(w.notes.map((n) => [n.kind, n.visibility, n.by]), [['message', 'public', 'Ana Souza']])
  t.same(w.history.map((h) => [h.by, h.action]), [['Ana Souza', 'message']])
  t.same(w.crm, [{ ticket: x.id, kind: 'comment', note: message.noteId }])
  t.same(w.mail, [{ ticket: x.id, template: 'note.message', to: 'bob@acme.test' }])

  mark = await markRows(db)
  const internal = unwrap(await note(ana, { mode: 'internal', body: 'Vendor ticket 42', minutesSpent: 15 }))
  w = await writtenSince(db, mark)
  t.same(w.notes.map((n) => [n.kind, n.visibility]), [['internal', 'internal']])
  t.same(w.history.map((h) => h.action), ['internal'])
  t.same(w.crm, [{ ticket: x.id, kind: 'comment', note: internal.noteId }], 'internal notes reach the Case too (unpublished)')
  t.same(w.mail, [], 'nobody is mailed an internal note')
  const kept = await db.selectFrom('note').select(['minutes_spent', 'author_staff_id', 'author_contact_id']).where('id', '=', internal.noteId).executeTakeFirstOrThrow()
  t.same(kept, { minutes_spent: 15, author_staff_id: ana.ref.id, author_contact_id: null })

  mark = await markRows(db)
  unwrap(await note(ana, { mode: 'note', body: 'Checked cables', visibleToRequester: true, sendEmail: true, occurredAt: '2026-04-05T10:00:00.000Z' }))
  unwrap(await note(ana, { mode: 'note', body: 'Hidden work', visibleToRequester: false }))
  unwrap(await note(ana, { mode: 'note', body: 'Visible, no mail', visibleToRequester: true, sendEmail: false }))
  w = await writtenSince(db, mark)
  t.same(w.notes.map((n) => [n.body, n.kind, n.visibility]), [['Checked cables', 'note', 'public'], ['Hidden work', 'internal', 'internal'], ['Visible, no mail', 'note', 'public']])
  t.same(w.mail.map((m) => [m.template, m.to]), [['note.reply', 'bob@acme.test']], 'a staff note mails the requester only when asked to')
  t.same(w.crm.map((c) => c.kind), ['comment', 'comment', 'comment'])

  mark = await markRows(db)
  const fromCrm = unwrap(await addNote(deps(), crmWho('Carl Cruz'), { ticketId: x.id, mode: 'reply', body: 'Called the client.', source: 'crm' }))
  w = await writtenSince(db, mark)
  t.same(w.notes, [{ ticket: x.id, id: fromCrm.noteId, kind: 'reply', visibility: 'public', body: 'Called the client.', by: 'Carl Cruz' }])
  t.same(w.crm, [], 'a note from the CRM is not sent back to it')
  t.same(w.mail, [{ ticket: x.id, template: 'note.reply', to: 'bob@acme.test' }])
})

t.test('add-note: a reply to a closed ticket opens a linked follow-up instead', async (t) => {
  const { db, bruno, bob, ticket, deps } = await scene(t)
  const x = await ticket({ title: 'Printer jams' })
  unwrap(await resolveTicket(deps(later(10)), bruno, { ticketId: x.id, resolution: 'Fixed' }))
  unwrap(await acceptResolution(deps(later(20)), bob, { ticketId: x.id }))
  unwrap(await closeTicket(deps(later(30)), bruno, { ticketId: x.id, closureCategory: 'solved' }))
  const closed = await ticketRow(db, x.id)
  const mark = await markRows(db)
  const added = unwrap(await addNote(deps(later(60)), bob, { ticketId: x.id, mode: 'reply', body: 'It jams again!', source: 'portal' }))
  t.equal(added.noteId, null)
  const child = await ticketRow(db, added.childTicket!.id)
  t.same([child.parent_id, child.title, child.description, child.state, child.status, child.contact_id, child.desk_id, child.assignee_id],
    [x.id, 'Re: Printer jams', 'It jams again!', 'open', 'new', closed.contact_id, closed.desk_id, bruno.ref.id])
  t.same(await ticketRow(db, x.id).then((r) => [r.state, r.version]), ['closed', closed.version], 'the closed ticket itself is not changed')
  const w = await writtenSince(db, mark)
  t.same(w.notes, [], 'no note on either ticket: the reply is the follow-up\'s description')
  t.same(w.history, [
    { ticket: child.id, by: 'Bob Stone', action: 'created' },
    { ticket: child.id, by: 'system', action: 'assigned', field: 'assignee', to: 'Bruno Lima' },
    { ticket: x.id, by: 'Bob Stone', action: 'child_opened', field: 'child', to: `#${child.number}` }
  ])
  t.same(w.mail, [
    { ticket: child.id, template: 'ticket.created', to: 'bob@acme.test' },
    { ticket: child.id, template: 'ticket.created', to: 'bruno@casebridge.test' }
  ])
  t.same(w.crm, [{ ticket: child.id, kind: 'case' }])
})

t.test('add-note: refusals', async (t) => {
  const { db, ana, bob, carla, hank, ticket, deps } = await scene(t)
  const x = await ticket()
  const v = (await ticketRow(db, x.id)).version
  const note = (who: typeof ana, input: Note, id = x.id) => () => addNote(deps(), who, { source: 'portal', ...input, ticketId: id })
  await refusedUnchanged(t, db, note(bob, { mode: 'internal', body: 'Hidden' }), { code: 'forbidden', field: 'mode' }, 'a client writes only replies')
  await refusedUnchanged(t, db, note(hank, { mode: 'reply', body: 'Hello' }), { code: 'not_found' }, 'another client\'s ticket')
  await refusedUnchanged(t, db, note(carla, { mode: 'internal', body: 'Hello' }), { code: 'not_found' }, 'staff of another desk')
  await refusedUnchanged(t, db, note(ana, { mode: 'internal', body: 'Hello' }, 999_999), { code: 'not_found' }, 'no such ticket')
  await refusedUnchanged(t, db, note(SYSTEM, { mode: 'reply', body: 'Hello' }), { code: 'forbidden_role' }, 'the system writes no notes')
  await refusedUnchanged(t, db, note(ana, { mode: 'message', body: 'Restart it', version: v - 1 }), { code: 'conflict' }, 'the ticket changed since the author read it')
  const fieldCases: [string, Note, Record<string, unknown>][] = [
    ['an empty note', { mode: 'message', body: '  ' }, { body: { problem: 'required' } }],
    ['a note over the limit', { mode: 'message', body: 'x'.repeat(20_001) }, { body: { problem: 'too_long', params: { max: 20_000 } } }],
    ['negative minutes', { mode: 'internal', body: 'Work', minutesSpent: -5 }, { minutesSpent: { problem: 'out_of_range', params: { max: 10_000 } } }],
    ['a fraction of a minute', { mode: 'internal', body: 'Work', minutesSpent: 1.5 }, { minutesSpent: { problem: 'out_of_range', params: { max: 10_000 } } }],
    ['a week of minutes', { mode: 'internal', body: 'Work', minutesSpent: 10_001 }, { minutesSpent: { problem: 'out_of_range', params: { max: 10_000 } } }],
    ['a day that does not exist', { mode: 'note', body: 'Work', occurredAt: '2026-02-31' }, { occurredAt: { problem: 'invalid_choice' } }],
    ['not a date', { mode: 'note', body: 'Work', occurredAt: 'yesterday' }, { occurredAt: { problem: 'invalid_choice' } }],
    ['tomorrow', { mode: 'note', body: 'Work', occurredAt: '2026-04-07T09:00:00.000Z' }, { occurredAt: { problem: 'in_future' } }],
    ['a file cut at the upload limit', { mode: 'message', body: 'See file', files: [{ filename: 'log.zip', contentType: 'application/zip', size: 1, sha256: 'x', tmpPath: '/nonexistent', truncated: true }] },
      { attachments: { problem: 'file_too_large', params: { filename: 'log.zip' } } }],
    ['a mail for a note the requester cannot see', { mode: 'note', body: 'Work', visibleToRequester: false, sendEmail: true }, { sendEmail: { problem: 'needs_visible' } }],
    ['everything wrong at once', { mode: 'note', body: '', minutesSpent: -1, sendEmail: true }, {
      body: { problem: 'required' }, minutesSpent: { problem: 'out_of_range', params: { max: 10_000 } }, sendEmail: { problem: 'needs_visible' }
    }]
  ]
  for (const [what, input, fields] of fieldCases) {
    await refusedUnchanged(t, db, note(ana, input), { code: 'invalid', field: Object.keys(fields)[0], fields }, what)
  }
  unwrap(await cancelTicket(deps(), bob, { ticketId: x.id, reason: 'Fixed itself' }))
  await refusedUnchanged(t, db, note(bob, { mode: 'reply', body: 'Hello?' }), { code: 'not_allowed_in_state' }, 'a cancelled ticket takes no replies')
  await refusedUnchanged(t, db, note(ana, { mode: 'internal', body: 'Late' }), { code: 'not_allowed_in_state' }, 'nor notes')
  await refusedUnchanged(t, db, () => addNote(deps(), crmWho('Carl Cruz'), { ticketId: x.id, mode: 'reply', body: 'Hi', source: 'crm' }), { code: 'not_allowed_in_state' }, 'nor CRM comments')
})

t.test('add-note: a failure at its last write (the mail) leaves no note, version, first response, history or comment', async (t) => {
  const { db, ana, bob, ticket, deps } = await scene(t)
  const x = await ticket()
  await failsUnchanged(t, db, { table: 'mail_outbox', write: 'INSERT' },
    () => addNote(deps(), ana, { ticketId: x.id, mode: 'message', body: 'Please restart the printer.', source: 'portal' }), 'a staff message')
  await failsUnchanged(t, db, { table: 'mail_outbox', write: 'INSERT' },
    () => addNote(deps(), bob, { ticketId: x.id, mode: 'reply', body: 'Any news?', source: 'portal' }), 'a requester\'s reply')
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT' },
    () => addNote(deps(), ana, { ticketId: x.id, mode: 'internal', body: 'Vendor ticket 42', source: 'portal' }), 'an internal note (its last write is the comment)')
})

t.test('register-occurrence: staff classify what happened; the requester may describe it where allowed', async (t) => {
  const { db, ana, bruno, bob, carla, admin, ticket, deps } = await scene(t)
  const x = await ticket()
  const occ = (who: typeof ana, input: Partial<OccurrenceInput>, at = later(30)) => () => registerOccurrence(deps(at), who, {
    category: 'error', origin: 'Phone call', description: 'Jammed at 10:00', source: 'portal', ...input, ticketId: x.id
  })
  const v = (await ticketRow(db, x.id)).version
  let mark = await markRows(db)
  const staffOcc = unwrap(await occ(ana, { visibleToRequester: false, notifyResponsible: true, minutesSpent: 20, occurredAt: '2026-04-06T08:30:00.000Z', version: v })())
  const kept = await db.selectFrom('note').selectAll().where('id', '=', staffOcc.noteId).executeTakeFirstOrThrow()
  t.same([kept.kind, kept.visibility, kept.category, kept.origin, kept.body, kept.minutes_spent, kept.occurred_at, kept.author_name],
    ['occurrence', 'internal', 'error', 'phone', 'Jammed at 10:00', 20, '2026-04-06T08:30:00.000Z', 'Ana Souza'], 'the codes of the managed lists are kept (a label is understood too)')
  let w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: x.id, by: 'Ana Souza', action: 'internal_occurrence', field: 'occurrence_category', to: 'error' },
    { ticket: x.id, by: 'Ana Souza', action: 'internal_occurrence', field: 'occurrence_origin', to: 'phone' }
  ], 'the history names the category and origin; an occurrence the requester may not see is staff-only')
  t.same(w.crm, [{ ticket: x.id, kind: 'comment', note: staffOcc.noteId }])
  t.same(w.mail, [{ ticket: x.id, template: 'note.occurrence', to: 'bruno@casebridge.test' }], 'the responsible is told when asked')
  t.equal((await ticketRow(db, x.id)).first_response_at, null, 'an internal occurrence is no answer to the client')

  const request = { category: '', origin: '', visibleToRequester: false }
  await refusedUnchanged(t, db, occ(bob, request), { code: 'not_allowed_in_state' }, 'a client: not while New')
  unwrap(await pickUpTicket(deps(later(40)), bruno, { ticketId: x.id }))
  mark = await markRows(db)
  const clientOcc = unwrap(await occ(bob, { ...request, description: 'It happened again at 11:00' }, later(50))())
  w = await writtenSince(db, mark)
  t.same(w.notes, [{ ticket: x.id, id: clientOcc.noteId, kind: 'occurrence', visibility: 'public', body: 'It happened again at 11:00', by: 'Bob Stone' }], 'a client\'s occurrence is always public, category and origin optional')
  t.same(w.mail, [], 'nobody is mailed unless asked')
  t.same(w.history, [{ ticket: x.id, by: 'Bob Stone', action: 'occurrence' }], 'without category or origin, one row')
  unwrap(await saveServiceSettings(deps(), admin, { occurrenceViaPortal: false, staffMayCloseWithoutRequester: false, autoCloseDays: 7, staffTwoFactorRequired: false }))
  await refusedUnchanged(t, db, occ(bob, request), { code: 'occurrence_via_portal_disabled' }, 'a client, with the portal setting off')

  const current = (await ticketRow(db, x.id)).version
  await refusedUnchanged(t, db, occ(carla, {}), { code: 'not_found' }, 'staff of another desk')
  await refusedUnchanged(t, db, occ(crmWho('Carl Cruz'), {}), { code: 'forbidden_role' }, 'a CRM user')
  await refusedUnchanged(t, db, occ(ana, { version: current - 1 }), { code: 'conflict' }, 'a stale version')
  const fieldCases: [string, Partial<OccurrenceInput>, Record<string, unknown>][] = [
    ['staff must say the category', { category: ' ' }, { category: { problem: 'required' } }],
    ['and the origin', { origin: '' }, { origin: { problem: 'required' } }],
    ['a category not in the list', { category: 'Printer' }, { category: { problem: 'invalid_choice' } }],
    ['an origin not in the list', { origin: 'x'.repeat(101) }, { origin: { problem: 'invalid_choice' } }],
    ['no description', { description: '' }, { description: { problem: 'required' } }],
    ['too much time', { minutesSpent: 10_001 }, { minutesSpent: { problem: 'out_of_range', params: { max: 10_000 } } }],
    ['tomorrow', { occurredAt: '2026-04-07T12:00:00.000Z' }, { occurredAt: { problem: 'in_future' } }]
  ]
  for (const [what, input, fields] of fieldCases) {
    await refusedUnchanged(t, db, occ(ana, input), { code: 'invalid', field: Object.keys(fields)[0], fields }, what)
  }
  await failsUnchanged(t, db, { table: 'mail_outbox', write: 'INSERT' }, occ(ana, { notifyResponsible: true }), 'an occurrence with its notice')
  unwrap(await resolveTicket(deps(), bruno, { ticketId: x.id, resolution: 'Fixed' }))
  await refusedUnchanged(t, db, occ(ana, {}), { code: 'not_allowed_in_state' }, 'a resolved ticket')
})
