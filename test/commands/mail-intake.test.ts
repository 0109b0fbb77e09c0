// The mail intake's commands against a real database: a reply by mail (a note, or a follow-up on a
// closed ticket), a new ticket by mail, a quarantined message, and the poller's own position.
// Each records its message in the same transaction as what it wrote, so a failure (or the same
// message twice) leaves neither.
import t from 'tap'
import type { Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { allRows, failsUnchanged, markRows, refusedUnchanged, writtenSince } from '../helpers/failing-writes.js'
import { isUniqueViolation, unwrap } from '../../src/commands/kernel.js'
import { setAvailability } from '../../src/commands/assignment.js'
import {
  openTicketByEmail, quarantineEmail, recordMessagesMoved, replyByEmail, saveMailboxPosition, startMailboxOver, type InboundMessage, type QuarantineFacts
} from '../../src/commands/mail-intake.js'
import { resolveTicket } from '../../src/commands/lifecycle/resolve.js'
import { acceptResolution } from '../../src/commands/lifecycle/accept.js'
import { closeTicket } from '../../src/commands/lifecycle/close.js'
import { cancelTicket } from '../../src/commands/lifecycle/cancel.js'
import { getMailboxState } from '../../src/db/mailbox.js'
import type { StoredFile } from '../../src/storage/attachments.js'
import type { Db } from '../../src/db/index.js'

const T0 = new Date('2026-04-06T09:00:00.000Z')
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)
const PHOTO: StoredFile = { filename: 'jam.jpg', contentType: 'image/jpeg', size: 3, sha256: 'a'.repeat(64) }
const ORIGINAL: StoredFile = { filename: 'message.eml', contentType: 'message/rfc822', size: 120, sha256: 'b'.repeat(64) }

let uid = 100
/** A message as the poller read it: its place in the mailbox and its Message-ID. */
function message(sender: string, messageId = `<m${uid + 1}@mail.test>`): InboundMessage {
  uid++
  return { mailbox: 'INBOX', uidValidity: '7', uid, messageId, sender }
}

/** The demo organisation with Ana away: Service Desk tickets go to Bruno. */
async function scene(t: Test) {
  const env = await testApp(t)
  const { db, ids } = env
  const staff = async (email: string) => performerOf(await staffActor(db, ids, email))
  const contact = async (email: string) => performerOf(await contactActor(db, ids, email))
  const who = { ana: await staff('ana@casebridge.test'), bruno: await staff('bruno@casebridge.test'), bob: await contact('bob@acme.test'), hank: await contact('hank@globex.test') }
  unwrap(await setAvailability(depsAt(db, T0), who.ana, { available: false }))
  const ticket = (opts: Parameters<typeof makeTicket>[2] = {}) => makeTicket(db, ids, { now: T0, ...opts })
  return { ...env, ...who, ticket, deps: (at = later(30)) => depsAt(db, at, () => 0) }
}

const inbound = (db: Db) => db.selectFrom('inbound_message').selectAll().orderBy('id').execute()

t.test('replyByEmail: a reply by mail becomes a note with its files, recorded with its message', async (t) => {
  const { db, bob, bruno, ticket, deps } = await scene(t)
  const x = await ticket()
  let mark = await markRows(db)
  const msg = message('bob@acme.test')
  const applied = unwrap(await replyByEmail(deps(), bob, { ticketId: x.id, internal: false, body: 'Still jams.', files: [PHOTO, ORIGINAL], message: msg }))
  t.same([applied.result, applied.ticketId], ['note', x.id])
  let w = await writtenSince(db, mark)
  t.same(w.notes, [{ ticket: x.id, id: applied.noteId, kind: 'reply', visibility: 'public', body: 'Still jams.', by: 'Bob Stone' }])
  t.equal((await db.selectFrom('note').select('source').where('id', '=', applied.noteId!).executeTakeFirstOrThrow()).source, 'email')
  const files = await db.selectFrom('attachment').select(['filename', 'note_id', 'ticket_id']).where('note_id', '=', applied.noteId!).orderBy('id').execute()
  t.same(files, [{ filename: 'jam.jpg', note_id: applied.noteId, ticket_id: x.id }, { filename: 'message.eml', note_id: applied.noteId, ticket_id: x.id }], 'the attachments and the original message are kept with the note')
  t.same(w.history, [{ ticket: x.id, by: 'Bob Stone', action: 'reply' }])
  t.same(w.crm, [{ ticket: x.id, kind: 'comment', note: applied.noteId }])
  t.same(w.mail, [{ ticket: x.id, template: 'note.reply', to: 'bruno@casebridge.test' }])
  t.same((await inbound(db)).map((r) => [r.id, r.uid, r.message_id, r.result, r.ticket_id, r.note_id, r.sender, r.created_at]),
    [[applied.inboundId, msg.uid, msg.messageId, 'note', x.id, applied.noteId, 'bob@acme.test', later(30).toISOString()]])

  mark = await markRows(db)
  const internal = unwrap(await replyByEmail(deps(), bruno, { ticketId: x.id, internal: true, body: 'x'.repeat(25_000), files: [], message: message('bruno@casebridge.test') }))
  w = await writtenSince(db, mark)
  t.same(w.notes.map((n) => [n.kind, n.visibility, n.body.length]), [['internal', 'internal', 20_000]], 'staff mark a mail internal; a long mail is cut at the note limit')
  t.same(w.mail, [])
  t.equal(internal.result, 'note')

  const before = await allRows(db)
  const twice = await replyByEmail(deps(), bob, { ticketId: x.id, internal: false, body: 'Again', files: [], message: { ...message('bob@acme.test'), messageId: msg.messageId } })
    .then(() => null, (err: unknown) => err)
  t.ok(isUniqueViolation(twice), 'the same message twice fails at its record')
  t.same(await allRows(db), before, 'and its note is not left behind')
})

t.test('replyByEmail: the whole text of the mail is kept beside the note when it differs', async (t) => {
  const { db, bob, ticket, deps } = await scene(t)
  const x = await ticket()
  const reply = async (body: string, originalText: string | null | undefined) => {
    const applied = unwrap(await replyByEmail(deps(), bob, { ticketId: x.id, internal: false, body, originalText, files: [], message: message('bob@acme.test') }))
    return (await db.selectFrom('note').select(['body', 'original_text']).where('id', '=', applied.noteId!).executeTakeFirstOrThrow()).original_text
  }
  const whole = 'Still jams.\n\nOn Mon, Casebridge <support@localhost> wrote:\n> Which tray?'
  t.equal(await reply('Still jams.', whole), whole, 'the quoted history stays with the note')
  t.equal(await reply('Same text.', 'Same text.'), null, 'nothing more to keep')
  t.equal(await reply('No original.', undefined), null, 'a caller without one')
  t.equal(await reply('Blank original.', '  \n '), null, 'a blank one')
  t.equal((await reply('Long.', 'y'.repeat(250_000)))?.length, 200_000, 'a huge mail is cut at its limit')
})

t.test('replyByEmail: a reply to a closed ticket opens a follow-up; refusals write nothing, not even the message record', async (t) => {
  const { db, bob, bruno, hank, ticket, deps } = await scene(t)
  const x = await ticket({ title: 'Printer jams' })
  const reply = (who: typeof bob, input: { internal?: boolean; body?: string }, id = x.id) => () =>
    replyByEmail(deps(later(90)), who, { ticketId: id, internal: input.internal ?? false, body: input.body ?? 'Hello', files: [], message: message(who.person?.email ?? 'x') })
  await refusedUnchanged(t, db, reply(hank, {}), { code: 'not_found' }, 'someone not on the ticket')
  await refusedUnchanged(t, db, reply(bob, { internal: true }), { code: 'forbidden', field: 'mode' }, 'a client cannot write an internal note')
  await refusedUnchanged(t, db, reply(bob, { body: '  ' }), { code: 'invalid', field: 'body', fields: { body: { problem: 'required' } } }, 'an empty mail')
  await failsUnchanged(t, db, { table: 'inbound_message', write: 'INSERT' }, reply(bob, { body: 'Any news?' }), 'recording the message is the last write')

  unwrap(await resolveTicket(deps(later(10)), bruno, { ticketId: x.id, resolution: 'Fixed' }))
  unwrap(await acceptResolution(deps(later(20)), bob, { ticketId: x.id }))
  unwrap(await closeTicket(deps(later(25)), bruno, { ticketId: x.id, closureCategory: 'solved' }))
  const mark = await markRows(db)
  const applied = unwrap(await reply(bob, { body: 'It jams again!' })())
  t.same([applied.result, applied.noteId], ['ticket', null])
  const child = await db.selectFrom('ticket').selectAll().where('id', '=', applied.ticketId).executeTakeFirstOrThrow()
  t.same([child.parent_id, child.title, child.description, child.source], [x.id, 'Re: Printer jams', 'It jams again!', 'email'])
  const w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.ticket, h.action]), [[child.id, 'created'], [child.id, 'assigned'], [x.id, 'child_opened']])
  t.same(w.mail.map((m) => [m.template, m.to]), [['ticket.created', 'bob@acme.test'], ['ticket.created', 'bruno@casebridge.test']])
  t.same((await inbound(db)).map((r) => [r.result, r.ticket_id, r.note_id]), [['ticket', child.id, null]])

  const cancelled = await ticket()
  unwrap(await cancelTicket(deps(), bob, { ticketId: cancelled.id, reason: 'Fixed itself' }))
  await refusedUnchanged(t, db, reply(bob, {}, cancelled.id), { code: 'not_allowed_in_state' }, 'a cancelled ticket')
})

t.test('openTicketByEmail: a new ticket on the inbound desk, recorded with its message', async (t) => {
  const { db, ids, bob, deps } = await scene(t)
  const input = (over: Partial<Parameters<typeof openTicketByEmail>[2]> = {}) => ({
    accountId: ids.account['Acme Corporation'], deskId: ids.desk['Service Desk'], title: 'Scanner offline', description: 'Since Monday.', files: [ORIGINAL], message: message('bob@acme.test'), ...over
  })
  const mark = await markRows(db)
  const applied = unwrap(await openTicketByEmail(deps(), bob, input({ title: 'T'.repeat(250) })))
  t.same([applied.result, applied.noteId], ['ticket', null])
  const row = await db.selectFrom('ticket').selectAll().where('id', '=', applied.ticketId).executeTakeFirstOrThrow()
  t.same([row.title.length, row.source, row.category_id, row.product_id, row.desk_id, row.assignee_id, row.contact_id],
    [200, 'email', null, null, ids.desk['Service Desk'], ids.staff['bruno@casebridge.test'], ids.contact['bob@acme.test']], 'the subject is cut to a title; staff categorize it later')
  const w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.by, h.action]), [['Bob Stone', 'created'], ['system', 'assigned']])
  t.same(w.mail.map((m) => [m.template, m.to]), [['ticket.created', 'bob@acme.test'], ['ticket.created', 'bruno@casebridge.test']])
  t.same(w.crm, [{ ticket: row.id, kind: 'case' }])
  t.same((await inbound(db)).map((r) => [r.result, r.ticket_id]), [['ticket', row.id]])
  t.equal((await db.selectFrom('attachment').select('filename').where('ticket_id', '=', row.id).execute()).length, 1)

  const cases: [string, Partial<Parameters<typeof openTicketByEmail>[2]>, Record<string, unknown>][] = [
    ['an account the sender is not in', { accountId: ids.account['Globex Industries'] }, { accountId: { problem: 'invalid_choice' } }],
    ['an inbound desk that is gone', { deskId: 999_999 }, { deskId: { problem: 'invalid_choice' } }],
    ['no subject', { title: '' }, { title: { problem: 'required' } }],
    ['no text', { description: ' ' }, { description: { problem: 'required' } }]
  ]
  for (const [what, over, fields] of cases) {
    await refusedUnchanged(t, db, () => openTicketByEmail(deps(), bob, input(over)), { code: 'invalid', field: Object.keys(fields)[0], fields }, what)
  }
  await failsUnchanged(t, db, { table: 'inbound_message', write: 'INSERT' }, () => openTicketByEmail(deps(), bob, input()), 'recording the message is the last write')
})

t.test('quarantineEmail: the message is kept with its reason; an unknown sender may get a pointer to the portal', async (t) => {
  const { db, deps } = await scene(t)
  const facts = (over: Partial<QuarantineFacts> = {}): QuarantineFacts => {
    const m = message('stranger@elsewhere.test')
    return {
      mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, messageId: m.messageId, reason: 'unknown_sender', detail: 'no such contact',
      from: 'stranger@elsewhere.test', subject: 'Help', ticketId: null, rawSha256: 'c'.repeat(64), rawSize: 512, ...over
    }
  }
  const first = facts()
  const done = await quarantineEmail(deps(), first)
  const q = await db.selectFrom('mail_quarantine').selectAll().where('id', '=', done.quarantineId).executeTakeFirstOrThrow()
  t.same([q.uid, q.reason_code, q.reason_text, q.from_address, q.subject, q.raw_size, q.released_at], [first.uid, 'unknown_sender', 'no such contact', 'stranger@elsewhere.test', 'Help', 512, null])
  t.same((await inbound(db)).map((r) => [r.id, r.result, r.quarantine_id, r.sender]), [[done.inboundId, 'quarantined', done.quarantineId, 'stranger@elsewhere.test']])
  t.equal((await db.selectFrom('mail_outbox').select('id').where('recipient', '=', 'stranger@elsewhere.test').execute()).length, 0, 'no answer unless asked')

  const mark = await markRows(db)
  const answer = { recipient: 'stranger@elsewhere.test', locale: 'en', title: 'Please use the portal', body: 'https://help.test/login', template: 'inbound.unknown_sender' }
  await quarantineEmail(deps(), facts({ answer }))
  t.same((await writtenSince(db, mark)).mail, [{ ticket: null, template: 'inbound.unknown_sender', to: 'stranger@elsewhere.test' }])

  await failsUnchanged(t, db, { table: 'mail_outbox', write: 'INSERT' }, () => quarantineEmail(deps(), facts({ answer })), 'the answer is the last write')
  const before = await allRows(db)
  const again = await quarantineEmail(deps(), { ...facts(), uid: first.uid }).then(() => null, (err: unknown) => err)
  t.ok(isUniqueViolation(again), 'a message already decided fails at its record')
  t.same(await allRows(db), before, 'leaves no second quarantine row')
})

t.test('the poller\'s position: messages moved, the mailbox state, a renumbered mailbox', async (t) => {
  const { db, bob, ticket, deps } = await scene(t)
  const x = await ticket()
  const a = unwrap(await replyByEmail(deps(), bob, { ticketId: x.id, internal: false, body: 'One', files: [], message: message('bob@acme.test') }))
  const b = unwrap(await replyByEmail(deps(), bob, { ticketId: x.id, internal: false, body: 'Two', files: [], message: message('bob@acme.test') }))
  await recordMessagesMoved(deps(later(31)), [a.inboundId])
  t.same((await inbound(db)).map((r) => [r.id, r.moved_at]), [[a.inboundId, later(31).toISOString()], [b.inboundId, null]])
  await startMailboxOver(deps(later(40)), 'INBOX', '8')
  t.same((await inbound(db)).map((r) => [r.id, r.moved_at]), [[a.inboundId, later(31).toISOString()], [b.inboundId, later(40).toISOString()]], 'messages of the old numbering are closed')

  await saveMailboxPosition(deps(later(41)), { mailbox: 'INBOX', uidValidity: '8', nextUid: 12, highestModseq: '9001' })
  await saveMailboxPosition(deps(later(42)), { mailbox: 'INBOX', uidValidity: '8', nextUid: 15, highestModseq: '9050' })
  t.same(await getMailboxState(db, 'INBOX'), { mailbox: 'INBOX', uidValidity: '8', nextUid: 15, highestModseq: '9050' })
  const state = await db.selectFrom('mailbox_state').select(['last_run_at']).where('mailbox', '=', 'INBOX').executeTakeFirstOrThrow()
  t.equal(state.last_run_at, later(42).toISOString())
})
