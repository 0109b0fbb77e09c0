// A note that came by e-mail shows what its author wrote; the whole message (the history their
// mail client quoted) is one click away in a <details> toggle, and the original .eml stays
// downloadable. A client sees the toggle on a client's mail only: a staff member's mail client
// may have quoted a notification meant for staff.
//   npx tap test/web/quoted-text.test.ts
import t from 'tap'
import { Agent, DEMO_PASSWORDS, loginAs, testApp } from '../helpers/app.js'
import { contactActor, staffActor } from '../helpers/tickets.js'
import { personWho, unwrap } from '../../src/commands/kernel.js'
import { replyByEmail } from '../../src/commands/mail-intake.js'

const ORIGINAL = [
  'Chrome 131 <b>on macOS</b>.',
  '',
  'On Mon, Nov 23, 2026 at 10:00 AM Casebridge <support@localhost> wrote:',
  '',
  '> ##- Please type your reply above this line -##',
  '>',
  '> Which browser do you use?'
].join('\n')

const STAFF_ORIGINAL = 'Please clear the cache.\n\n> Ticket #1 was transferred to you by Bruno.\n> Message: the customer is on a legacy plan (internal).'

t.test('the ticket page shows the cleaned text, with the quoted text behind a toggle', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const ticket = await db.selectFrom('ticket').select(['id', 'number']).where('id', '=', 1).executeTakeFirstOrThrow()
  const deps = { db, clock: () => new Date(), random: Math.random, store: app.store }
  const eml = await app.store.keepBuffer('original-message.eml', 'message/rfc822', Buffer.from(`From: alice@acme.test\r\nSubject: Re: [#${ticket.number}]\r\n\r\n${ORIGINAL}\r\n`))
  const message = (uid: number) => ({ mailbox: 'INBOX', uidValidity: '1', uid, messageId: `<quoted-${uid}@acme.test>`, sender: 'alice@acme.test' })
  const alice = personWho(await contactActor(db, ids, 'alice@acme.test'))
  const fromClient = unwrap(await replyByEmail(deps, alice, { ticketId: ticket.id, internal: false, body: 'Chrome 131 <b>on macOS</b>.', originalText: ORIGINAL, files: [eml], message: message(1) }))
  const ana = personWho(await staffActor(db, ids, 'ana@casebridge.test'))
  const fromStaff = unwrap(await replyByEmail(deps, ana, { ticketId: ticket.id, internal: false, body: 'Please clear the cache.', originalText: STAFF_ORIGINAL, files: [], message: { ...message(2), sender: 'ana@casebridge.test' } }))
  const same = unwrap(await replyByEmail(deps, alice, { ticketId: ticket.id, internal: false, body: 'Nothing quoted.', originalText: 'Nothing quoted.', files: [], message: message(3) }))

  const stored = await db.selectFrom('note').select(['id', 'original_text']).where('id', 'in', [fromClient.noteId!, same.noteId!]).orderBy('id').execute()
  t.same(stored.map((n) => n.original_text), [ORIGINAL, null], 'the whole text is stored only when it differs from the note')

  const escaped = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  /** The article of one note on a page. */
  const article = (html: string, noteId: number | null) => {
    const m = new RegExp(`<article class="note[^"]*" id="note-${noteId}"[^>]*>([\\s\\S]*?)</article>`).exec(html)
    return m ? m[1] : ''
  }

  const portal = await (await loginAs(app, 'alice@acme.test')).get(`/portal/tickets/${ticket.number}`)
  t.equal(portal.statusCode, 200)
  const mine = article(portal.body, fromClient.noteId)
  t.match(mine, `<div class="body">${escaped('Chrome 131 <b>on macOS</b>.')}</div>`, 'the portal shows the cleaned text, escaped')
  t.match(mine, /<details class="quoted-text">\s*<summary>Show quoted text<\/summary>/, 'with a toggle (closed by default)')
  t.notMatch(mine, /<details class="quoted-text" open/, 'closed')
  t.ok(mine.includes(escaped('> Which browser do you use?')), 'revealing the quoted text')
  t.notOk(portal.body.includes('<b>on macOS</b>'), 'never as HTML')
  t.match(mine, /<a href="\/attachments\/\d+">original-message\.eml<\/a>/, 'the original .eml is listed with the note')
  const staffNote = article(portal.body, fromStaff.noteId)
  t.match(staffNote, 'Please clear the cache.', 'a staff reply by mail is shown')
  t.notMatch(staffNote, 'quoted-text', 'without its mail client\'s quote: a client never sees what staff were sent')
  t.notOk(portal.body.includes('legacy plan'), 'the staff notification it quoted is nowhere on the page')
  t.notMatch(article(portal.body, same.noteId), 'quoted-text', 'nothing to show: no toggle')

  const staff = await loginAs(app, 'ana@casebridge.test')
  const desk = await staff.get(`/desk/tickets/${ticket.number}`)
  t.equal(desk.statusCode, 200)
  t.match(article(desk.body, fromClient.noteId), /<summary>Show quoted text<\/summary>[\s\S]*Which browser do you use\?/, 'the desk shows the toggle too')
  t.match(article(desk.body, fromStaff.noteId), /<summary>Show quoted text<\/summary>[\s\S]*legacy plan/, 'staff see a staff mail\'s quote')

  const link = /<a href="(\/attachments\/\d+)">original-message\.eml<\/a>/.exec(article(desk.body, fromClient.noteId))![1]
  const download = await staff.get(link)
  t.equal(download.statusCode, 200, 'the original message downloads')
  t.equal(download.headers['content-type'], 'message/rfc822')
  t.ok(download.body.includes('Which browser do you use?'), 'whole')

  const pt = new Agent(app, { 'accept-language': 'pt-BR' })
  await pt.login('alice@acme.test', DEMO_PASSWORDS.client)
  const portalPt = await pt.get(`/portal/tickets/${ticket.number}`)
  t.match(article(portalPt.body, fromClient.noteId), '<summary>Mostrar texto citado</summary>', 'in Portuguese')
})
