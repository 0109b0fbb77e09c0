import t from 'tap'
import { loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor, contactActor } from '../helpers/tickets.js'
import { closedPort, startSmtpSink } from './smtp-sink.js'
import { insertMail, listMailForTicket, ticketParties } from '../../src/db/mail-outbox.js'
import { drainMailOutbox, isPermanentFailure, retryDelayMs, smtpTransport, startMailWorker, type MailDeps } from '../../src/mail/deliver.js'
import { mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { threadRootId, tokenFromAddress, tokenFromMessageId, tokensFromBody, verifyToken } from '../../src/domain/thread-token.js'
import { createLogger } from '../../src/log.js'
import { addTicketNote, performerOf, transition } from '../helpers/commands.js'

const T0 = new Date('2026-04-06T08:00:00.000Z')
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)
const MAIL_ENV = {
  MAIL_FROM: 'Casebridge Support <support@help.example.com>',
  REPLY_TO_ADDRESS: 'support@help.example.com',
  PUBLIC_URL: 'https://help.example.com',
  MAIL_MAX_ATTEMPTS: '3'
}
const silent = createLogger('silent')

function depsFor(env: TestEnv, url: string | null, extra: Partial<MailDeps> = {}): MailDeps {
  const transport = url ? smtpTransport(url) : null
  return { db: env.db, settings: mailSettings(env.config), key: mailTokenKey(env.config), transport, log: silent, ...extra }
}

/** A ticket resolved by its assignee: one ticket.resolve mail waits for the requester. */
async function resolvedTicket(env: TestEnv, title = 'Printer jams on page two') {
  const ticket = await makeTicket(env.db, env.ids, { now: T0, title })
  await env.db.deleteFrom('mail_outbox').execute() // only the mail each test queues
  const staff = await env.db.selectFrom('ticket').innerJoin('staff', 'staff.id', 'ticket.assignee_id').select('staff.email').where('ticket.id', '=', ticket.id).executeTakeFirstOrThrow()
  const agent = performerOf(await staffActor(env.db, env.ids, staff.email))
  await transition(env.db, agent, ticket.id, { action: 'resolve', resolution: 'Replaced the pickup roller.' }, T0)
  return { ...ticket, assigneeEmail: staff.email }
}

async function mailRow(env: TestEnv, id: number) {
  return env.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

t.test('retry delays grow exponentially with jitter and are capped', async (t) => {
  t.equal(retryDelayMs(1, () => 0), 60_000, 'first retry: 1-2 minutes')
  t.equal(retryDelayMs(1, () => 1), 120_000)
  t.equal(retryDelayMs(4, () => 1), 16 * 60_000)
  t.equal(retryDelayMs(30, () => 1), 6 * 60 * 60_000, 'capped at 6 hours')
  for (let n = 1; n < 8; n++) t.ok(retryDelayMs(n + 1, () => 0) >= retryDelayMs(n, () => 1), `attempt ${n + 1} never waits less than attempt ${n}`)
  t.ok(isPermanentFailure({ responseCode: 550 }))
  t.notOk(isPermanentFailure({ responseCode: 451 }))
  t.notOk(isPermanentFailure({ code: 'ECONNECTION' }))
})

t.test('a notification arrives over SMTP with its thread token and headers', async (t) => {
  const env = await testApp(t, { env: MAIL_ENV })
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const ticket = await resolvedTicket(env)
  const deps = depsFor(env, sink.url)

  t.same(await drainMailOutbox(deps, at(1)), { sent: 1, retried: 0, dead: 0 })
  t.equal(sink.received.length, 1)
  const mail = sink.received[0]
  t.same(mail.envelopeTo, ['bob@acme.test'])
  t.equal(mail.header('subject'), `[#${ticket.number}] Printer jams on page two`)
  t.match(mail.header('from'), 'support@help.example.com')
  t.equal(mail.header('auto-submitted'), 'auto-generated')
  t.equal(mail.header('x-auto-response-suppress'), 'All')
  t.equal(mail.header('x-casebridge-ticket'), String(ticket.number))

  const messageId = mail.header('message-id')!
  t.match(messageId, /^<cb\.[a-z2-7]+\.[a-z2-7]+@help\.example\.com>$/)
  const token = tokenFromMessageId(messageId)!
  t.same(verifyToken(token, deps.key), { ticketId: ticket.id, recipient: 'requester' }, 'the Message-ID token names the ticket')
  t.equal(mail.header('reply-to'), `support+${token}@help.example.com`, 'replies come back plus-addressed')
  t.equal(tokenFromAddress(mail.header('reply-to')!), token)
  const root = threadRootId(ticket.id, deps.key, 'help.example.com')
  t.equal(mail.header('in-reply-to'), root, 'answers the ticket’s thread root')
  t.equal(mail.header('references'), root)

  t.match(mail.text, 'resolved your ticket.')
  t.match(mail.text, 'Replaced the pickup roller.')
  t.match(mail.text, `Accept the solution: https://help.example.com/portal/tickets/${ticket.number}#accept`)
  t.same(tokensFromBody(mail.text), [token], 'body marker')
  t.match(mail.html, 'Accept the solution</a>')

  const row = (await listMailForTicket(env.db, ticket.id))[0]
  t.same([row.status, row.attempts, row.sent_at, row.last_error], ['sent', 1, at(1).toISOString(), null])
  t.same(await drainMailOutbox(deps, at(2)), { sent: 0, retried: 0, dead: 0 }, 'sent once, never again')

  // The requester's answer notifies the assignee: same thread, new Message-ID, staff link.
  const bob = performerOf(await contactActor(env.db, env.ids, 'bob@acme.test'))
  await transition(env.db, bob, ticket.id, { action: 'reject', reason: 'Still jams.' }, at(3))
  await addTicketNote({ db: env.db, clock: () => at(4) }, bob, ticket.id, { mode: 'reply', body: 'Here is a photo of the jam.' })
  t.same(await drainMailOutbox(deps, at(5)), { sent: 2, retried: 0, dead: 0 })
  // Sent side by side (the drain delivers a few at a time): told apart by what they say, not by which arrived first.
  const later = sink.received.slice(1)
  const rejected = later.find((m) => m.text.includes('rejected the solution'))!
  const replied = later.find((m) => m.text.includes('Here is a photo of the jam.'))!
  t.ok(rejected && replied && rejected !== replied, 'the rejection and the reply, one mail each')
  t.same(rejected.envelopeTo, [ticket.assigneeEmail])
  t.match(rejected.text, 'rejected the solution')
  t.match(rejected.text, `https://help.example.com/desk/tickets/${ticket.number}`)
  t.match(replied.text, 'Here is a photo of the jam.')
  t.equal(replied.header('in-reply-to'), root, 'every mail of the ticket answers the same root')
  t.not(replied.header('message-id'), messageId)
  const noteId = (await listMailForTicket(env.db, ticket.id)).find((m) => m.template === 'note.reply')!
  t.match(verifyToken(tokenFromMessageId(replied.header('message-id')!)!, deps.key), { ticketId: ticket.id, recipient: 'assignee', noteId: JSON.parse(noteId.data).noteId })
})

t.test('Portuguese recipients get Portuguese mail', async (t) => {
  const env = await testApp(t, { env: MAIL_ENV })
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const ticket = await makeTicket(env.db, env.ids, { now: T0, title: 'Impressora' })
  await env.db.deleteFrom('mail_outbox').execute() // only the mail each test queues
  const parties = await ticketParties(env.db, ticket.id)
  await insertMail(env.db, { ticketId: ticket.id, recipient: parties.requester!.email, locale: 'pt-BR', template: 'ticket.hold', data: { number: ticket.number, title: 'Impressora', reason: 'Aguardando peça', actorName: 'Ana', recipientRole: 'requester' } }, T0.toISOString())
  await drainMailOutbox(depsFor(env, sink.url), at(1))
  t.match(sink.received[0].text, 'Ana colocou seu chamado em espera.')
  t.match(sink.received[0].text, 'Aguardando peça')
})

t.test('SMTP down: retried later with backoff, dead after the last attempt, retried from /admin/mail', async (t) => {
  let now = at(0)
  const env = await testApp(t, { env: MAIL_ENV, clock: () => now })
  const ticket = await resolvedTicket(env)
  const down = depsFor(env, `smtp://127.0.0.1:${await closedPort()}`, { random: () => 0.5 })
  const [{ id }] = await listMailForTicket(env.db, ticket.id)

  t.same(await drainMailOutbox(down, at(1)), { sent: 0, retried: 1, dead: 0 })
  let row = await mailRow(env, id)
  t.equal(row.status, 'pending')
  t.equal(row.attempts, 1)
  t.match(row.last_error, /ECONNREFUSED|connect/i)
  t.equal(row.next_attempt_at, new Date(at(1).getTime() + retryDelayMs(1, () => 0.5)).toISOString(), 'next attempt after the backoff')
  t.same(await drainMailOutbox(down, at(1.5)), { sent: 0, retried: 0, dead: 0 }, 'not due yet: left alone')

  const second = new Date(row.next_attempt_at)
  t.same(await drainMailOutbox(down, second), { sent: 0, retried: 1, dead: 0 })
  row = await mailRow(env, id)
  t.equal(row.attempts, 2)
  t.equal(Date.parse(row.next_attempt_at) - second.getTime(), retryDelayMs(2, () => 0.5), 'the wait doubled')

  t.same(await drainMailOutbox(down, new Date(row.next_attempt_at)), { sent: 0, retried: 0, dead: 1 }, 'MAIL_MAX_ATTEMPTS=3 reached')
  row = await mailRow(env, id)
  t.same([row.status, row.attempts], ['dead', 3])
  t.same(await drainMailOutbox(down, at(60 * 24)), { sent: 0, retried: 0, dead: 0 }, 'dead rows are never picked up')

  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const list = await admin.get('/admin/mail?status=dead')
  t.equal(list.statusCode, 200)
  t.match(list.body, `[#${ticket.number}] Printer jams on page two`)
  const detail = await admin.get(`/admin/mail/${id}`)
  t.match(detail.body, /ECONNREFUSED|connect/i, 'the last error is shown')
  t.match(detail.body, 'Replaced the pickup roller.', 'the mail is readable')
  now = at(60 * 25)
  // A day later: the admin's session idled out meanwhile; they log in again.
  const later = await loginAs(env.app, 'admin@casebridge.test')
  const retried = await later.post(`/admin/mail/${id}/retry`, {}, { csrfFrom: `/admin/mail/${id}` })
  t.equal(retried.statusCode, 302)
  t.match((await later.get(`/admin/mail/${id}`)).body, 'The mail is queued to be sent again.')
  row = await mailRow(env, id)
  t.same([row.status, row.attempts, row.next_attempt_at], ['pending', 0, now.toISOString()], 'pending again with fresh attempts')

  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  t.same(await drainMailOutbox(depsFor(env, sink.url), now), { sent: 1, retried: 0, dead: 0 }, 'the server is back: delivered')
  t.equal(sink.received.length, 1)
})

t.test('a permanent refusal parks the mail at once', async (t) => {
  const env = await testApp(t, { env: MAIL_ENV })
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  sink.refuse.add('bob@acme.test')
  const ticket = await resolvedTicket(env)
  t.same(await drainMailOutbox(depsFor(env, sink.url), at(1)), { sent: 0, retried: 0, dead: 1 })
  const [row] = await listMailForTicket(env.db, ticket.id)
  t.same([row.status, row.attempts], ['dead', 1])
  t.match(row.last_error, '550')
})

t.test('two drainers at once send each mail exactly once', async (t) => {
  const env = await testApp(t, { env: MAIL_ENV })
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const ticket = await makeTicket(env.db, env.ids, { now: T0 })
  await env.db.deleteFrom('mail_outbox').execute() // only the mail each test queues
  for (let i = 1; i <= 15; i++) {
    await insertMail(env.db, { ticketId: ticket.id, recipient: `person${i}@acme.test`, locale: 'en', template: 'note.message', data: { number: ticket.number, title: 'Bulk', body: `message number ${i}`, authorName: 'Ana', recipientRole: 'requester' } }, T0.toISOString())
  }
  const a = depsFor(env, sink.url, { batchSize: 3 })
  const b = depsFor(env, sink.url, { batchSize: 3 })
  const [ra, rb] = await Promise.all([drainMailOutbox(a, at(1)), drainMailOutbox(b, at(1))])
  t.equal(ra.sent + rb.sent, 15, `${ra.sent} + ${rb.sent} sent`)
  t.equal(sink.received.length, 15, 'the server got 15 messages')
  const recipients = new Set(sink.received.flatMap((m) => m.envelopeTo))
  t.equal(recipients.size, 15, 'one per recipient, none twice')
  const rows = await listMailForTicket(env.db, ticket.id)
  t.ok(rows.every((r) => r.status === 'sent' && r.attempts === 1), 'each row sent on its first attempt')
})

t.test('with no SMTP configured nothing is sent and the mail is readable at /admin/mail', async (t) => {
  const env = await testApp(t, { env: { PUBLIC_URL: 'https://help.example.com' } })
  const ticket = await resolvedTicket(env, 'Toner <script>alert(1)</script>')
  const worker = startMailWorker({ config: env.config, db: env.db, log: silent, clock: () => at(1) })
  t.same(await worker.drainNow(), { sent: 0, retried: 0, dead: 0 })
  await worker.stop()
  const [row] = await listMailForTicket(env.db, ticket.id)
  t.same([row.status, row.attempts, row.last_error], ['pending', 0, null], 'untouched')

  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const list = await admin.get('/admin/mail')
  t.equal(list.statusCode, 200)
  t.match(list.body, 'No SMTP server is configured')
  t.match(list.body, `[#${ticket.number}] Toner &lt;script&gt;alert(1)&lt;/script&gt;`)
  t.notMatch(list.body, '<script>alert(1)')
  const detail = await admin.get(`/admin/mail/${row.id}`)
  t.match(detail.body, 'bob@acme.test')
  t.match(detail.body, 'Replaced the pickup roller.')
  t.match(detail.body, `https://help.example.com/portal/tickets/${ticket.number}#accept`)
})

t.test('the mail worker drains on its own schedule and stops cleanly', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const env = await testApp(t, { env: { ...MAIL_ENV, SMTP_URL: sink.url } })
  await resolvedTicket(env)
  const worker = startMailWorker({ config: env.config, db: env.db, log: silent, clock: () => at(1), intervalMs: 20 })
  for (let i = 0; i < 250 && sink.received.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
  await worker.stop()
  t.equal(sink.received.length, 1, 'delivered without being asked')
})
