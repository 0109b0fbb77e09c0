import t from 'tap'
import { Agent, loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { insertMail } from '../../src/db/mail-outbox.js'

const T0 = new Date('2026-04-06T08:00:00.000Z')

/** Queues `count` messages for one ticket; returns their ids, oldest first. */
async function queue(env: TestEnv, count: number, title = 'Printer jams') {
  const ticket = await makeTicket(env.db, env.ids, { now: T0, title })
  // Start from an empty outbox: opening tickets queues acknowledgements of its own.
  await env.db.deleteFrom('mail_outbox').execute()
  for (let i = 1; i <= count; i++) {
    await insertMail(env.db, { ticketId: ticket.id, recipient: `person${i}@acme.test`, locale: 'en', template: 'note.message', data: { number: ticket.number, title, body: `message ${i}`, authorName: 'Ana', recipientRole: 'requester' } }, T0.toISOString())
  }
  const rows = await env.db.selectFrom('mail_outbox').select('id').where('ticket_id', '=', ticket.id).orderBy('id').execute()
  return { ticket, ids: rows.map((r) => r.id) }
}

t.test('only admins see the mail outbox', async (t) => {
  const env = await testApp(t)
  const { ids } = await queue(env, 1)
  for (const email of ['ana@casebridge.test', 'alice@acme.test']) {
    const agent = await loginAs(env.app, email)
    t.equal((await agent.get('/admin/mail')).statusCode, 404, `${email} gets 404`)
    t.equal((await agent.get(`/admin/mail/${ids[0]}`)).statusCode, 404)
  }
  const anonymous = await new Agent(env.app).get('/admin/mail')
  t.equal(anonymous.statusCode, 302)
  t.match(anonymous.headers.location, /^\/login/)
})

t.test('the outbox lists mail by status, page by page', async (t) => {
  const env = await testApp(t)
  const { ticket, ids } = await queue(env, 60)
  await env.db.updateTable('mail_outbox').set({ status: 'sent', sent_at: T0.toISOString(), attempts: 1 }).where('id', 'in', ids.slice(0, 5)).execute()
  await env.db.updateTable('mail_outbox').set({ status: 'dead', attempts: 8, last_error: 'connect ECONNREFUSED 127.0.0.1:25' }).where('id', 'in', ids.slice(5, 7)).execute()
  const admin = await loginAs(env.app, 'admin@casebridge.test')

  const all = await admin.get('/admin/mail')
  t.equal(all.statusCode, 200)
  t.match(all.body, 'Pending (53)')
  t.match(all.body, 'Sent (5)')
  t.match(all.body, 'Failed (2)')
  t.match(all.body, `[#${ticket.number}] Printer jams`, 'rendered subjects')
  t.match(all.body, '60 results')
  t.match(all.body, 'href="/admin/mail?page=2"')

  const dead = await admin.get('/admin/mail?status=dead')
  t.match(dead.body, '2 results')
  t.match(dead.body, 'person6@acme.test')
  t.match(dead.body, 'connect ECONNREFUSED 127.0.0.1:25')
  t.notMatch(dead.body, 'person8@acme.test', 'only dead rows')

  const pending = await admin.get('/admin/mail?status=pending&page=2')
  t.match(pending.body, '53 results')
  t.match(pending.body, 'person8@acme.test', 'the oldest pending are on page 2')
  t.notMatch(pending.body, 'person60@acme.test')
  t.match(pending.body, 'href="/admin/mail?status=pending"', 'link back to page 1 keeps the filter')

  const odd = await admin.get('/admin/mail?status=bogus&page=x')
  t.equal(odd.statusCode, 200, 'unknown filters fall back to everything')
  t.match(odd.body, '60 results')
})

t.test('a mail is readable and only dead mail can be retried', async (t) => {
  const env = await testApp(t)
  const { ids } = await queue(env, 2, 'Scanner <b>offline</b>')
  await env.db.updateTable('mail_outbox').set({ status: 'dead', attempts: 8, last_error: '550 <bad> mailbox' }).where('id', '=', ids[0]).execute()
  const admin = await loginAs(env.app, 'admin@casebridge.test')

  const detail = await admin.get(`/admin/mail/${ids[0]}`)
  t.equal(detail.statusCode, 200)
  t.match(detail.body, 'Scanner &lt;b&gt;offline&lt;/b&gt;')
  t.match(detail.body, '550 &lt;bad&gt; mailbox', 'the error is escaped')
  t.match(detail.body, 'message 1')
  t.match(detail.body, 'Send again')

  const noCsrf = await admin.post(`/admin/mail/${ids[0]}/retry`, {}, { noCsrf: true })
  t.equal(noCsrf.statusCode, 403, 'CSRF required')
  t.equal((await env.db.selectFrom('mail_outbox').select('status').where('id', '=', ids[0]).executeTakeFirstOrThrow()).status, 'dead')

  const pendingDetail = await admin.get(`/admin/mail/${ids[1]}`)
  t.notMatch(pendingDetail.body, 'Send again', 'pending mail has no retry button')
  const refused = await admin.post(`/admin/mail/${ids[1]}/retry`, {}, { csrfFrom: `/admin/mail/${ids[1]}` })
  t.equal(refused.statusCode, 302)
  t.match((await admin.get(`/admin/mail/${ids[1]}`)).body, 'Only failed mail can be sent again.')

  t.equal((await admin.post(`/admin/mail/${ids[0]}/retry`, {}, { csrfFrom: `/admin/mail/${ids[0]}` })).statusCode, 302)
  const row = await env.db.selectFrom('mail_outbox').selectAll().where('id', '=', ids[0]).executeTakeFirstOrThrow()
  t.same([row.status, row.attempts], ['pending', 0])
  t.equal(row.last_error, '550 <bad> mailbox', 'the last error stays for reference')

  t.equal((await admin.get('/admin/mail/999999')).statusCode, 404)
  t.equal((await admin.get('/admin/mail/abc')).statusCode, 400)
  t.equal((await admin.post('/admin/mail/999999/retry', {}, { csrfFrom: `/admin/mail/${ids[0]}` })).statusCode, 404)
})

t.test('a mail that cannot be rendered still shows, with the reason', async (t) => {
  const env = await testApp(t)
  const { ids } = await queue(env, 1)
  await env.db.updateTable('mail_outbox').set({ data: '{not json' }).where('id', '=', ids[0]).execute()
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const list = await admin.get('/admin/mail')
  t.equal(list.statusCode, 200)
  t.match(list.body, 'note.message', 'the template name stands in for the subject')
  const detail = await admin.get(`/admin/mail/${ids[0]}`)
  t.equal(detail.statusCode, 200)
  t.match(detail.body, 'This mail cannot be rendered')
})
