// Staff notifications: the bell and its count, the page, mark read, e-mail choices, and each kind
// produced by the command that causes it (never for the person acting), in its transaction.
// The pure rules (mentions, e-mail defaults): test/domain/notifications.test.ts.
// Both databases:
//   npx tap test/web/notifications.test.ts
//   scripts/pg-test.sh test/web/notifications.test.ts
import t from 'tap'
import { loginAs, testApp, csrfFrom, type Agent, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor, contactActor } from '../helpers/tickets.js'
import { depsAt } from '../helpers/commands.js'
import { personWho, Refused, run, SYSTEM } from '../../src/commands/kernel.js'
import { transferTicket } from '../../src/commands/transfer.js'
import { addNote } from '../../src/commands/add-note.js'
import { assignBacklog } from '../../src/commands/assignment.js'
import { escalateTicket } from '../../src/commands/lifecycle/escalate.js'
import { escalateSla } from '../../src/commands/sla-escalation.js'
import { decideApproval } from '../../src/commands/approval.js'
import { pruneOldNotifications } from '../../src/commands/notifications.js'
import { insertNotification } from '../../src/db/notifications.js'
import { composeMail, mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { approvalKey } from '../../src/security/approval-token.js'
import { renderMail } from '../../src/mail/render.js'
import { INJECTED, startFailing, stopFailing } from '../helpers/failing-writes.js'

const ANA = 'ana@casebridge.test'
const BRUNO = 'bruno@casebridge.test'
const ADMIN = 'admin@casebridge.test'

const notes = (env: TestEnv, email: string) =>
  env.db.selectFrom('notification').selectAll().where('staff_id', '=', env.ids.staff[email]).orderBy('id').execute()
const mails = (env: TestEnv, email: string, template: string) =>
  env.db.selectFrom('mail_outbox').selectAll().where('recipient', '=', email).where('template', '=', template).orderBy('id').execute()

/** A Service Desk ticket from Bob, handed to `email` by the admin (so the routing's choice does not matter). */
async function ticketFor(env: TestEnv, email: string, opts: Parameters<typeof makeTicket>[2] = {}) {
  const ticket = await makeTicket(env.db, env.ids, opts)
  if (ticket.assignee_id !== env.ids.staff[email]) {
    const admin = personWho(await staffActor(env.db, env.ids, ADMIN))
    const moved = await transferTicket(depsAt(env.db), admin, { ticketId: ticket.id, assigneeId: env.ids.staff[email], note: 'Yours now.' })
    if (!moved.ok) throw moved.refusal
  }
  return ticket
}

async function setEmail(agent: Agent, kinds: string[]) {
  const page = await agent.get('/desk/notifications')
  return agent.post('/desk/notifications/email', { _csrf: csrfFrom(page.body), email: kinds }, { noCsrf: true })
}

t.test('assigned: routed, transferred or handed out to me, but not when I take it myself', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids)
  const routed = await env.db.selectFrom('notification').selectAll().where('ticket_id', '=', ticket.id).execute()
  t.equal(routed.length, 1, 'the routed assignee is told')
  t.equal(routed[0].staff_id, ticket.assignee_id)
  t.equal(routed[0].kind, 'assigned')
  t.equal(routed[0].actor_name, null, 'by routing, nobody in particular')
  const routedEmail = (await env.db.selectFrom('staff').select('email').where('id', '=', ticket.assignee_id!).executeTakeFirstOrThrow()).email
  t.equal((await mails(env, routedEmail, 'ticket.created')).filter((m) => m.ticket_id === ticket.id).length, 1, 'and mailed, as before (default on)')

  const other = ticket.assignee_id === env.ids.staff[ANA] ? BRUNO : ANA
  const admin = personWho(await staffActor(env.db, env.ids, ADMIN))
  t.ok((await transferTicket(depsAt(env.db), admin, { ticketId: ticket.id, assigneeId: env.ids.staff[other], note: 'Please take this.' })).ok)
  const told = (await notes(env, other)).filter((n) => n.ticket_id === ticket.id)
  t.equal(told.length, 1)
  t.match(told[0], { kind: 'assigned', actor_name: 'Alex Admin', excerpt: 'Please take this.', read_at: null })
  t.equal((await mails(env, other, 'ticket.transfer')).length, 1, 'the transfer mail, as before')

  // Taking a ticket oneself tells nobody.
  const self = ticket.assignee_id === env.ids.staff[ANA] ? ANA : BRUNO
  const me = personWho(await staffActor(env.db, env.ids, self))
  t.ok((await transferTicket(depsAt(env.db), me, { ticketId: ticket.id, assigneeId: env.ids.staff[self], note: 'Mine.' })).ok)
  t.equal((await notes(env, self)).filter((n) => n.ticket_id === ticket.id && n.kind === 'assigned' && n.actor_name !== null).length, 0, 'not told of their own move')

  // An "off" choice stops the mail, never the notification.
  const agent = await loginAs(env.app, other)
  t.equal((await setEmail(agent, ['client_replied'])).statusCode, 302)
  t.ok((await transferTicket(depsAt(env.db), admin, { ticketId: ticket.id, assigneeId: env.ids.staff[other], note: 'Back to you.' })).ok)
  t.equal((await notes(env, other)).filter((n) => n.ticket_id === ticket.id).length, 2, 'told in the app')
  t.equal((await mails(env, other, 'ticket.transfer')).length, 1, 'no second transfer mail')

  // The backlog hand-out (nobody was available) tells whoever gets it.
  const waiting = await makeTicket(env.db, env.ids)
  await env.db.updateTable('ticket').set({ assignee_id: null }).where('id', '=', waiting.id).execute()
  await env.db.deleteFrom('notification').where('ticket_id', '=', waiting.id).execute()
  t.ok(await assignBacklog(depsAt(env.db)) >= 1)
  const handed = await env.db.selectFrom('notification').selectAll().where('ticket_id', '=', waiting.id).execute()
  t.equal(handed.length, 1)
  t.match(handed[0], { kind: 'assigned', actor_name: null })
})

t.test('assigned by an escalation: told in the app, and the escalation mail follows the choice', async (t) => {
  const env = await testApp(t)
  const admin = personWho(await staffActor(env.db, env.ids, ADMIN))
  const target = env.ids.desk['Product Support']
  // Bruno manages Product Support and is not on it: whoever gets the ticket there is someone else.
  const escalate = async () => {
    const ticket = await ticketFor(env, BRUNO)
    const moved = await escalateTicket(depsAt(env.db), admin, { ticketId: ticket.id, targetDeskId: target, reason: 'Needs the product team.' })
    if (!moved.ok) throw moved.refusal
    const now = await env.db.selectFrom('ticket').innerJoin('staff', 'staff.id', 'ticket.assignee_id').select(['staff.id', 'staff.email']).where('ticket.id', '=', ticket.id).executeTakeFirstOrThrow()
    return { ticket, email: now.email }
  }
  const first = await escalate()
  t.not(first.email, BRUNO)
  // (The ticket's routing may have told the same person once already, on its Service Desk.)
  const told = (await notes(env, first.email)).filter((n) => n.ticket_id === first.ticket.id && n.excerpt === 'Needs the product team.')
  t.equal(told.length, 1)
  t.match(told[0], { kind: 'assigned', actor_name: 'Alex Admin', excerpt: 'Needs the product team.' })
  const mailed = (await mails(env, first.email, 'ticket.escalate')).filter((m) => m.ticket_id === first.ticket.id)
  t.equal(mailed.length, 1, 'mailed as before')
  t.match(renderMail(mailed[0], { publicUrl: 'https://x', defaultLocale: 'en' }).text, 'assigned to you')
  t.equal((await mails(env, BRUNO, 'ticket.escalate')).filter((m) => m.ticket_id === first.ticket.id).length, 1, 'the desk manager too')

  for (const who of [ANA, 'carla@casebridge.test', 'diego@casebridge.test']) {
    await env.db.insertInto('notification_pref').values({ staff_id: env.ids.staff[who], kind: 'assigned', email: 0 }).execute()
  }
  const second = await escalate()
  t.equal((await notes(env, second.email)).filter((n) => n.ticket_id === second.ticket.id && n.excerpt === 'Needs the product team.').length, 1, 'told in the app')
  t.equal((await mails(env, second.email, 'ticket.escalate')).filter((m) => m.ticket_id === second.ticket.id).length, 0, 'no mail once switched off')
  t.equal((await mails(env, BRUNO, 'ticket.escalate')).filter((m) => m.ticket_id === second.ticket.id).length, 1, 'the manager is mailed whatever the assignee chose')
})

t.test('client_replied: the assignee hears of a client reply, by mail too unless they said no', async (t) => {
  const env = await testApp(t)
  const ticket = await ticketFor(env, BRUNO)
  const bob = personWho(await contactActor(env.db, env.ids, 'bob@acme.test'))
  t.ok((await addNote(depsAt(env.db), bob, { ticketId: ticket.id, mode: 'reply', body: 'Still   broken\nafter the restart.', source: 'portal' })).ok)
  const replied = (await notes(env, BRUNO)).filter((n) => n.kind === 'client_replied')
  t.equal(replied.length, 1)
  t.match(replied[0], { actor_name: 'Bob Stone', excerpt: 'Still broken after the restart.', ticket_id: ticket.id })
  t.equal((await mails(env, BRUNO, 'note.reply')).length, 1, 'mailed as before')

  // Staff replying tell nobody in the app.
  const bruno = personWho(await staffActor(env.db, env.ids, BRUNO))
  t.ok((await addNote(depsAt(env.db), bruno, { ticketId: ticket.id, mode: 'reply', body: 'Try again now.', source: 'portal' })).ok)
  t.equal((await notes(env, BRUNO)).filter((n) => n.kind === 'client_replied').length, 1)

  const agent = await loginAs(env.app, BRUNO)
  await setEmail(agent, ['assigned'])
  t.ok((await addNote(depsAt(env.db), bob, { ticketId: ticket.id, mode: 'reply', body: 'Works now.', source: 'email' })).ok)
  t.equal((await notes(env, BRUNO)).filter((n) => n.kind === 'client_replied').length, 2, 'told in the app')
  t.equal((await mails(env, BRUNO, 'note.reply')).length, 1, 'but no mail once switched off')
})

t.test('mentioned: @name in an internal note tells those who can see the ticket, once, never the author', async (t) => {
  const env = await testApp(t)
  const ticket = await ticketFor(env, BRUNO)
  const ana = personWho(await staffActor(env.db, env.ids, ANA))
  const body = '@bruno and @Carla, please check. @ana @bruno @alex — bob@acme.test'
  t.ok((await addNote(depsAt(env.db), ana, { ticketId: ticket.id, mode: 'internal', body, source: 'portal' })).ok)
  const mentioned = await env.db.selectFrom('notification').select(['staff_id']).where('kind', '=', 'mentioned').orderBy('staff_id').execute()
  t.same(mentioned.map((m) => m.staff_id).sort(), [env.ids.staff[BRUNO], env.ids.staff[ADMIN]].sort(), 'Bruno and the admin; not Carla (another desk), not Ana herself')
  t.equal((await mails(env, BRUNO, 'note.mention')).length, 0, 'no mail by default')

  // A public reply mentions nobody.
  t.ok((await addNote(depsAt(env.db), ana, { ticketId: ticket.id, mode: 'reply', body: '@bruno will call you.', source: 'portal' })).ok)
  t.equal((await notes(env, BRUNO)).filter((n) => n.kind === 'mentioned').length, 1)

  const agent = await loginAs(env.app, BRUNO)
  await setEmail(agent, ['assigned', 'client_replied', 'mentioned'])
  t.ok((await addNote(depsAt(env.db), ana, { ticketId: ticket.id, mode: 'internal', body: 'Ping @Bruno.', source: 'portal' })).ok)
  const sent = await mails(env, BRUNO, 'note.mention')
  t.equal(sent.length, 1, 'mailed once asked for')
  const rendered = renderMail(sent[0], { publicUrl: 'https://help.example', defaultLocale: 'en' })
  t.match(rendered.text, 'Ana Souza mentioned you in an internal note on ticket #')
  t.match(rendered.text, `https://help.example/desk/tickets/${ticket.number}`, 'links to the desk')
  const pt = renderMail({ ...sent[0], locale: 'pt-BR' }, { publicUrl: 'https://help.example', defaultLocale: 'en' })
  t.match(pt.text, 'Ana Souza mencionou você em uma nota interna')
})

t.test('sla_at_risk and approval_decided tell the assignee', async (t) => {
  const env = await testApp(t)
  const ticket = await ticketFor(env, BRUNO)
  const deps = depsAt(env.db)
  t.ok((await escalateSla(deps, { ticketId: ticket.id, number: ticket.number, title: 'Something broke', from: null, to: 'at_risk' })).ok)
  const risk = (await notes(env, BRUNO)).filter((n) => n.kind === 'sla_at_risk')
  t.equal(risk.length, 1)
  t.match(risk[0], { detail: 'at_risk', actor_name: null })
  t.equal((await mails(env, BRUNO, 'ticket.sla_escalation')).length, 0, 'no mail by default')
  t.equal((await mails(env, ANA, 'ticket.sla_escalation')).length, 1, 'the desk manager is mailed as before')

  await setEmail(await loginAs(env.app, BRUNO), ['sla_at_risk'])
  t.ok((await escalateSla(deps, { ticketId: ticket.id, number: ticket.number, title: 'Something broke', from: 'at_risk', to: 'breached' })).ok)
  const breached = await mails(env, BRUNO, 'ticket.sla_escalation')
  t.equal(breached.length, 1, 'mailed once asked for')
  t.match(renderMail(breached[0], { publicUrl: 'https://x', defaultLocale: 'en' }).text, 'because the ticket is assigned to you')

  const request = await ticketFor(env, BRUNO, { category: 'New user account' })
  const row = await env.db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', request.id).where('template', '=', 'ticket.approval_request').executeTakeFirstOrThrow()
  const token = /\/approvals\/([A-Za-z0-9_-]+)#approve/.exec(composeMail(row, mailSettings(env.config), mailTokenKey(env.config), 'x').text)![1]
  await decideApproval(deps, approvalKey(env.config), token, null, { approve: false, reason: 'No budget this quarter' })
  const decided = (await notes(env, BRUNO)).filter((n) => n.kind === 'approval_decided')
  t.equal(decided.length, 1)
  t.match(decided[0], { detail: 'rejected', actor_name: 'Alice Walker', excerpt: 'No budget this quarter', ticket_id: request.id })
  t.equal((await mails(env, BRUNO, 'ticket.reject_approval')).length, 0, 'no mail by default')

  await setEmail(await loginAs(env.app, BRUNO), ['approval_decided'])
  const another = await ticketFor(env, BRUNO, { category: 'New user account' })
  const asked = await env.db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', another.id).where('template', '=', 'ticket.approval_request').executeTakeFirstOrThrow()
  const link = /\/approvals\/([A-Za-z0-9_-]+)#approve/.exec(composeMail(asked, mailSettings(env.config), mailTokenKey(env.config), 'x').text)![1]
  await decideApproval(deps, approvalKey(env.config), link, null, { approve: true })
  const approved = (await mails(env, BRUNO, 'ticket.approve')).filter((m) => m.ticket_id === another.id)
  t.equal(approved.length, 1, 'mailed once asked for')
  t.match(renderMail(approved[0], { publicUrl: 'https://x', defaultLocale: 'en' }).text, `Request #${another.number}, assigned to you, was approved by Alice Walker.`)
  t.match(renderMail({ ...approved[0], locale: 'pt-BR' }, { publicUrl: 'https://x', defaultLocale: 'en' }).text, 'foi aprovada por Alice Walker')
})

t.test('a command that is refused leaves no notification; old ones are pruned', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids)
  const before = (await notes(env, BRUNO)).length
  const outcome = await run(depsAt(env.db), SYSTEM, async (uow) => {
    t.equal(await uow.alert(env.ids.staff[BRUNO], 'mentioned', ticket.id), true)
    throw new Refused('conflict')
  })
  t.equal(outcome.ok, false)
  t.equal((await notes(env, BRUNO)).length, before, 'rolled back with its command')

  // A real command failing after its notification was written: a client's reply whose mail cannot be queued.
  const mine = await ticketFor(env, BRUNO)
  const bob = personWho(await contactActor(env.db, env.ids, 'bob@acme.test'))
  const count = (await notes(env, BRUNO)).length
  await startFailing(env.db, { table: 'mail_outbox', write: 'INSERT' })
  await t.rejects(addNote(depsAt(env.db), bob, { ticketId: mine.id, mode: 'reply', body: 'Hello?', source: 'portal' }), { message: INJECTED })
  await stopFailing(env.db, { table: 'mail_outbox', write: 'INSERT' })
  t.equal((await notes(env, BRUNO)).length, count, 'the reply failed: no notification of it')

  const now = new Date()
  const ago = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString()
  const staffId = env.ids.staff[BRUNO]
  const add = (created: string, read: string | null) => env.db.insertInto('notification').values({
    staff_id: staffId, kind: 'assigned', ticket_id: ticket.id, actor_name: null, detail: null, excerpt: 'keep?', created_at: created, read_at: read
  }).returning('id').executeTakeFirstOrThrow()
  const old = await add(ago(91), null)
  const readLongAgo = await add(ago(40), ago(31))
  const unreadRecent = await add(ago(40), null)
  const readRecently = await add(ago(40), ago(2))
  t.equal(await pruneOldNotifications(depsAt(env.db, now)), 2)
  const left = (await notes(env, BRUNO)).map((n) => n.id)
  t.notOk(left.includes(old.id))
  t.notOk(left.includes(readLongAgo.id))
  t.ok(left.includes(unreadRecent.id) && left.includes(readRecently.id))
})

t.test('the bell, the page, mark read and mark all read: each person only their own', async (t) => {
  const env = await testApp(t)
  const ticket = await ticketFor(env, BRUNO)
  const brunoId = env.ids.staff[BRUNO]
  await env.db.deleteFrom('notification').execute()
  const at = (i: number) => new Date(Date.UTC(2026, 11, 1, 9, 0, i)).toISOString()
  for (let i = 0; i < 3; i++) {
    await insertNotification(env.db, { staffId: brunoId, kind: 'client_replied', ticketId: ticket.id, actorName: 'Bob Stone', detail: null, excerpt: `reply <${i}>`, }, at(i))
  }
  const anaNote = await insertNotification(env.db, { staffId: env.ids.staff[ANA], kind: 'mentioned', ticketId: ticket.id, actorName: 'Bruno Lima', detail: null, excerpt: null }, at(9))

  const bruno = await loginAs(env.app, BRUNO)
  const queue = await bruno.get('/desk')
  t.equal(queue.statusCode, 200)
  t.match(queue.body, 'href="/desk/notifications" class="bell has-unread" aria-label="Notifications, 3 unread"')

  const page = await bruno.get('/desk/notifications')
  t.equal(page.statusCode, 200)
  t.match(page.body, `<a href="/desk/tickets/${ticket.number}">Bob Stone replied on ticket #${ticket.number}</a>`)
  t.match(page.body, 'reply &lt;2&gt;', 'escaped')
  t.ok(page.body.indexOf('reply &lt;2&gt;') < page.body.indexOf('reply &lt;0&gt;'), 'newest first')
  t.equal((page.body.match(/class="badge notification-unread"/g) ?? []).length, 3)
  t.notMatch(page.body, 'Bruno Lima mentioned', 'not Ana\'s')

  const mine = (await notes(env, BRUNO))[0].id
  const csrf = csrfFrom(page.body)
  t.equal((await bruno.post(`/desk/notifications/${mine}/read`, { _csrf: csrf }, { noCsrf: true })).statusCode, 302)
  t.match((await bruno.get('/desk')).body, 'aria-label="Notifications, 2 unread"')
  t.equal((await bruno.post(`/desk/notifications/${anaNote}/read`, { _csrf: csrf }, { noCsrf: true })).statusCode, 404, 'someone else\'s: not found')
  t.equal((await bruno.post('/desk/notifications/999999/read', { _csrf: csrf }, { noCsrf: true })).statusCode, 404)
  t.equal((await bruno.post('/desk/notifications/abc/read', { _csrf: csrf }, { noCsrf: true })).statusCode, 404)
  t.equal((await env.db.selectFrom('notification').select('read_at').where('id', '=', anaNote).executeTakeFirstOrThrow()).read_at, null, 'Ana\'s stays unread')

  // Mark all read: up to the newest shown; one arriving meanwhile stays unread.
  const shown = await bruno.get('/desk/notifications')
  const upTo = /name="up_to" value="(\d+)"/.exec(shown.body)![1]
  await insertNotification(env.db, { staffId: brunoId, kind: 'assigned', ticketId: ticket.id, actorName: null, detail: null, excerpt: null }, at(20))
  const all = await bruno.post('/desk/notifications/read-all', { _csrf: csrfFrom(shown.body), up_to: upTo }, { noCsrf: true })
  t.equal(all.statusCode, 302)
  const after = await bruno.get('/desk/notifications')
  t.match(after.body, '2 notification(s) marked read.')
  t.match(after.body, 'aria-label="Notifications, 1 unread"')
  t.equal((await env.db.selectFrom('notification').select('id').where('read_at', 'is', null).where('staff_id', '=', brunoId).execute()).length, 1)

  // 99+ and paging.
  for (let i = 0; i < 120; i++) await insertNotification(env.db, { staffId: brunoId, kind: 'assigned', ticketId: ticket.id, actorName: null, detail: null, excerpt: null }, at(30))
  const busy = await bruno.get('/desk/notifications')
  t.match(busy.body, 'aria-label="Notifications, 99+ unread"')
  t.match(busy.body, 'href="/desk/notifications?page=2" rel="next"')
  t.equal((busy.body.match(/<li class="notification/g) ?? []).length, 25)
  const two = await bruno.get('/desk/notifications?page=2')
  t.match(two.body, 'href="/desk/notifications?page=1" rel="prev"')

  // Bad input and the wrong people.
  t.equal((await bruno.get('/desk/notifications?page=0')).statusCode, 400)
  t.equal((await bruno.get('/desk/notifications?page=x')).statusCode, 400)
  t.equal((await bruno.post('/desk/notifications/email', { _csrf: csrf, email: ['assigned', 'spam'] }, { noCsrf: true })).statusCode, 400)
  t.equal((await bruno.post('/desk/notifications/read-all', { _csrf: csrf, up_to: 'x' }, { noCsrf: true })).statusCode, 400)
  const bob = await loginAs(env.app, 'bob@acme.test')
  t.equal((await bob.get('/desk/notifications')).statusCode, 404, 'clients have none')
  t.notMatch((await bob.get('/portal')).body, 'class="bell', 'nor a bell')

  // The e-mail choices: defaults, then saved.
  t.match(busy.body, 'name="email" value="assigned" checked')
  t.match(busy.body, 'name="email" value="mentioned">')
  t.equal((await setEmail(bruno, ['mentioned'])).statusCode, 302)
  const saved = await bruno.get('/desk/notifications')
  t.match(saved.body, 'name="email" value="assigned">')
  t.match(saved.body, 'name="email" value="mentioned" checked')
  t.match(saved.body, '@bruno', 'the mention rule names their handle')

  // Portuguese.
  await env.db.updateTable('staff').set({ locale: 'pt-BR' }).where('id', '=', brunoId).execute()
  const pt = await (await loginAs(env.app, BRUNO)).get('/desk/notifications')
  t.match(pt.body, 'Notificações, 99+ não lidas')
  t.match(pt.body, 'Marcar todas como lidas')
})

t.test('opening a ticket reads what the bell said about it, and only about it', async (t) => {
  const env = await testApp(t)
  const first = await ticketFor(env, ANA, { title: 'First' })
  const second = await ticketFor(env, ANA, { title: 'Second' })
  const unread = async () => (await notes(env, ANA)).filter((n) => n.read_at === null && [first.id, second.id].includes(n.ticket_id)).map((n) => n.ticket_id)
  t.same((await unread()).sort(), [first.id, second.id].sort(), 'told about both')
  const ana = await loginAs(env.app, ANA)
  t.equal((await ana.get(`/desk/tickets/${first.number}`)).statusCode, 200)
  t.same(await unread(), [second.id], 'the one she opened is read; the other is not')
  const writes = await env.db.selectFrom('notification').select('read_at').where('ticket_id', '=', first.id).execute()
  t.equal((await ana.get(`/desk/tickets/${first.number}`)).statusCode, 200)
  t.same(await env.db.selectFrom('notification').select('read_at').where('ticket_id', '=', first.id).execute(), writes, 'opening it again changes nothing')
})
