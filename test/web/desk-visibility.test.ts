import t from 'tap'
import { Agent, loginAs, testApp } from '../helpers/app.js'

t.test('staff see only their desks\' tickets', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const ana = await loginAs(app, 'ana@casebridge.test')
  // Ticket #1 belongs to Product Support; put a file on it and note its version.
  const upload = await ana.postMultipart('/desk/tickets/1/notes', { mode: 'reply', body: 'Here is the log.' },
    [{ name: 'attachments', filename: 'console.log', content: 'log lines', type: 'text/plain' }], { csrfFrom: '/desk/tickets/1' })
  t.equal(upload.statusCode, 302)
  const ticket = await db.selectFrom('ticket').selectAll().where('number', '=', 1).executeTakeFirstOrThrow()
  const file = await db.selectFrom('attachment').select('id').where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow()
  const notesBefore = (await db.selectFrom('note').select('id').where('ticket_id', '=', ticket.id).execute()).length
  const eventsBefore = (await db.selectFrom('ticket_event').select('id').where('ticket_id', '=', ticket.id).execute()).length

  // Bruno is in Service Desk only.
  const bruno = await loginAs(app, 'bruno@casebridge.test')
  const page = await bruno.get('/desk/tickets/1')
  t.equal(page.statusCode, 404, 'ticket page')
  t.match(page.body, 'Not found')
  t.notMatch(page.body, 'Cannot log in to the cloud console')
  t.equal((await bruno.get('/desk/tickets/1/history')).statusCode, 404, 'history')
  t.equal((await bruno.get(`/attachments/${file.id}`)).statusCode, 404, 'attachment')
  const note = await bruno.postMultipart('/desk/tickets/1/notes', { mode: 'internal', body: 'sneaky' }, [], { csrfFrom: '/desk' })
  t.equal(note.statusCode, 404, 'note POST')
  const fields = await bruno.post('/desk/tickets/1/actions/categorize', {
    version: String(ticket.version), priority: 'low', category_id: '', product_id: String(ticket.product_id), desk_id: String(ids.desk['Service Desk'])
  }, { csrfFrom: '/desk' })
  t.equal(fields.statusCode, 404, 'categorize POST')
  const transfer = await bruno.post('/desk/tickets/1/transfer', {
    version: String(ticket.version), assignee_id: String(ids.staff['bruno@casebridge.test']), account_id: String(ticket.account_id), product_id: String(ticket.product_id), note: 'mine now'
  }, { csrfFrom: '/desk' })
  t.equal(transfer.statusCode, 404, 'transfer POST')
  t.equal((await bruno.get('/desk/tickets/1/occurrences')).statusCode, 404, 'occurrences tab')
  for (const [path, form] of [
    ['/desk/tickets/1/actions/pick_up', { version: String(ticket.version) }],
    ['/desk/tickets/1/actions/delete', { version: String(ticket.version) }],
    ['/desk/tickets/1/occurrences', { category: 'x', origin: 'y', description: 'z' }],
    ['/desk/tickets/1/checklist', { label: 'sneaky' }],
    ['/desk/tickets/1/costs', { description: 'sneaky', amount: '1' }]
  ] as const) {
    t.equal((await bruno.post(path, form, { csrfFrom: '/desk' })).statusCode, 404, `${path} POST`)
  }
  t.equal((await bruno.get('/desk/tickets/999')).statusCode, 404, 'a missing ticket looks the same')
  const queue = await bruno.get('/desk?situation=all&q=cloud')
  t.notMatch(queue.body, 'href="/desk/tickets/1"', 'not found by search either')

  const unchanged = await db.selectFrom('ticket').selectAll().where('id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same(unchanged, ticket, 'the ticket is untouched')
  t.equal((await db.selectFrom('note').select('id').where('ticket_id', '=', ticket.id).execute()).length, notesBefore)
  t.equal((await db.selectFrom('ticket_event').select('id').where('ticket_id', '=', ticket.id).execute()).length, eventsBefore)

  // A ticket assigned to someone outside its desk is theirs to see.
  await db.updateTable('ticket').set({ assignee_id: ids.staff['bruno@casebridge.test'] }).where('id', '=', ticket.id).execute()
  t.equal((await bruno.get('/desk/tickets/1')).statusCode, 200, 'visible once assigned to him')
  t.match((await bruno.get('/desk?scope=mine')).body, 'href="/desk/tickets/1"')
})

t.test('the admin sees every ticket', async (t) => {
  const { app } = await testApp(t)
  const admin = await loginAs(app, 'admin@casebridge.test')
  for (const number of [1, 2, 3, 4]) {
    t.equal((await admin.get(`/desk/tickets/${number}`)).statusCode, 200, `ticket #${number}`)
    t.equal((await admin.get(`/desk/tickets/${number}/history`)).statusCode, 200)
  }
  const reply = await admin.postMultipart('/desk/tickets/3/notes', { mode: 'internal', body: 'Admin looked at this.' }, [], { csrfFrom: '/desk' })
  t.equal(reply.statusCode, 302)
  t.match((await admin.get('/desk/tickets/3')).body, 'Admin looked at this.')
})

t.test('contacts and visitors cannot reach the desk', async (t) => {
  const { app, db } = await testApp(t)
  const alice = await loginAs(app, 'alice@acme.test')
  for (const url of ['/desk', '/desk/tickets/1', '/desk/tickets/1/history', '/desk/tickets/new', '/desk/tickets/new?q=bob']) {
    const res = await alice.get(url)
    t.equal(res.statusCode, 404, `${url} is not there for a client`)
    t.notMatch(res.body, 'Cannot log in to the cloud console')
  }
  const note = await alice.postMultipart('/desk/tickets/1/notes', { mode: 'reply', body: 'as staff?' }, [], { csrfFrom: '/account' })
  t.equal(note.statusCode, 404)
  const toggle = await alice.post('/desk/availability', { availability: 'available' }, { csrfFrom: '/account' })
  t.equal(toggle.statusCode, 404)
  const create = await alice.postMultipart('/desk/tickets', { contact_id: '1', title: 'x', description: 'y' }, [], { csrfFrom: '/account' })
  t.equal(create.statusCode, 404)
  t.equal((await db.selectFrom('note').select('id').where('body', '=', 'as staff?').execute()).length, 0)

  const visitor = new Agent(app)
  const redirect = await visitor.get('/desk/tickets/1')
  t.equal(redirect.statusCode, 302)
  t.equal(redirect.headers.location, '/login?next=%2Fdesk%2Ftickets%2F1')
  const anonymousPost = await visitor.post('/desk/availability', { availability: 'available' })
  t.equal(anonymousPost.statusCode, 302, 'an anonymous form post goes to the login page')
  t.equal(anonymousPost.headers.location, '/login')
})
