import t from 'tap'
import { Agent, loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { listNotes } from '../../src/db/ticket.js'
import { loadContactActor } from '../../src/db/people.js'
import { createTicket } from '../helpers/commands.js'

/** Ticket numbers linked from a queue page, in the order shown. */
function numbersOn(html: string): number[] {
  const seen: number[] = []
  for (const m of html.matchAll(/href="\/desk\/tickets\/(\d+)"/g)) {
    const n = Number(m[1])
    if (!seen.includes(n)) seen.push(n)
  }
  return seen
}

function versionOn(html: string, form: 'actions/categorize' | 'transfer'): string {
  const start = html.indexOf(`/${form}"`)
  const m = html.slice(start).match(/name="version" value="(\d+)"/)
  if (!m) throw new Error(`no version in the ${form} form`)
  return m[1]
}

async function ticketRow(env: TestEnv, number: number) {
  return env.db.selectFrom('ticket').selectAll().where('number', '=', number).executeTakeFirstOrThrow()
}

async function events(env: TestEnv, ticketId: number) {
  return env.db.selectFrom('ticket_event').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute()
}

async function ticketCount(env: TestEnv) {
  return Number((await env.db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
}

t.test('queue: scopes, filters, sorting and pages', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const ana = await loginAs(app, 'ana@casebridge.test')
  const bruno = await loginAs(app, 'bruno@casebridge.test')

  const mine = await ana.get('/desk')
  t.equal(mine.statusCode, 200)
  t.match(mine.body, 'Ticket number')
  t.match(mine.body, 'Requester')
  t.match(mine.body, 'Acme Corporation', 'client column')
  t.same(numbersOn(mine.body), [4, 3, 2, 1], 'Ana is in both desks: every open ticket, newest first')

  const brunoQueue = await bruno.get('/desk')
  t.same(numbersOn(brunoQueue.body), [4, 2], 'Bruno sees only Service Desk tickets')
  t.notMatch(brunoQueue.body, 'Invoice shows the wrong VAT rate')

  // Give Bruno ticket #2 and leave #4 without anyone.
  await db.updateTable('ticket').set({ assignee_id: ids.staff['bruno@casebridge.test'] }).where('number', '=', 2).execute()
  await db.updateTable('ticket').set({ assignee_id: null }).where('number', '=', 4).execute()
  t.same(numbersOn((await bruno.get('/desk?scope=mine')).body), [2], 'My tickets: assigned to me')
  const unassigned = await bruno.get('/desk?scope=unassigned')
  t.same(numbersOn(unassigned.body), [4], 'Unassigned')
  t.match(unassigned.body, /aria-current="page">Unassigned/)

  t.same(numbersOn((await ana.get('/desk?q=printer')).body), [2], 'search words')
  t.same(numbersOn((await ana.get('/desk?q=%234')).body), [4], 'search by #number')
  t.same(numbersOn((await ana.get('/desk?q=nothing-like-this')).body), [])
  t.match((await ana.get('/desk?q=nothing-like-this')).body, 'Nothing matches these filters.')
  t.same(numbersOn((await ana.get('/desk?situation=closed')).body), [], 'situation filter')
  t.same(numbersOn((await ana.get('/desk?state=open&status=new')).body), [4, 3, 2, 1], 'state and status filter')
  t.same(numbersOn((await ana.get('/desk?status=analysis')).body), [])
  t.same(numbersOn((await ana.get('/desk?sort=priority&order=desc')).body), [1, 3, 2, 4], 'sorted by priority')
  t.same(numbersOn((await ana.get('/desk?sort=number&order=asc')).body), [1, 2, 3, 4])
  t.equal((await ana.get('/desk?sort=evil&order=sideways&page=x')).statusCode, 200, 'unknown filter values fall back to defaults')

  const admin = await loginAs(app, 'admin@casebridge.test')
  const all = await admin.get('/desk')
  t.same(numbersOn(all.body), [4, 3, 2, 1], 'the admin sees every ticket')
  t.match(all.body, 'All tickets')

  // 26 more Service Desk tickets: two pages of 25.
  for (let i = 0; i < 26; i++) {
    await createTicket(db, {
      title: `Bulk ticket ${i}`, description: 'bulk', url: null, accountId: ids.account['Acme Corporation'], contactId: ids.contact['bob@acme.test'],
      createdByStaffId: null, productId: null, categoryId: ids.category['Laptop problem'], deskId: ids.desk['Service Desk'], priority: 'low',
      ticketType: 'incident', source: 'portal', files: []
    }, { actor: { type: 'contact', id: ids.contact['bob@acme.test'], name: 'Bob Stone' }, now: new Date(Date.now() + 1000 + i).toISOString() })
  }
  // Bruno's last search was the Unassigned tab: a bare /desk would bring it back.
  const page1 = await bruno.get('/desk?reset=1')
  t.equal(numbersOn(page1.body).length, 25)
  t.match(page1.body, '28 results')
  t.match(page1.body, 'Page 1 of 2')
  t.match(page1.body, 'href="/desk?page=2"')
  const page2 = await bruno.get('/desk?page=2')
  t.same(numbersOn(page2.body), [5, 4, 2], 'the oldest on the last page')
  const filteredLink = await bruno.get('/desk?q=bulk&scope=desks')
  t.match(filteredLink.body, 'href="/desk?q=bulk&amp;page=2"', 'the pager keeps the filters')
})

t.test('reply and internal note: both on the desk page, only the reply for the client', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const ana = await loginAs(app, 'ana@casebridge.test')
  const ticket = await ticketRow(env, 1)

  const reply = await ana.postMultipart('/desk/tickets/1/notes', { mode: 'reply', body: 'Please clear your cookies and retry.', minutes_spent: '10' },
    [{ name: 'attachments', filename: 'steps.txt', content: 'step 1, step 2', type: 'text/plain' }], { csrfFrom: '/desk/tickets/1' })
  t.equal(reply.statusCode, 302)
  t.match(reply.headers.location, /^\/desk\/tickets\/1#note-\d+$/)
  const internal = await ana.postMultipart('/desk/tickets/1/notes', { mode: 'internal', body: 'Cookie domain misconfigured on our side.' },
    [{ name: 'attachments', filename: 'trace.log', content: 'secret trace', type: 'text/plain' }], { csrfFrom: '/desk/tickets/1' })
  t.equal(internal.statusCode, 302)

  const page = await ana.get('/desk/tickets/1')
  t.match(page.body, 'Internal note added.', 'flash after the last post')
  t.match(page.body, 'Please clear your cookies and retry.')
  t.match(page.body, 'Cookie domain misconfigured on our side.')
  t.match(page.body, /class="note internal"[\s\S]*Cookie domain misconfigured/, 'the internal note is marked')
  t.match(page.body, /<span class="badge internal">Internal<\/span>/)
  t.match(page.body, '10 min')
  t.match(page.body, 'steps.txt')
  t.match(page.body, 'trace.log')

  const notes = await db.selectFrom('note').selectAll().where('ticket_id', '=', ticket.id).orderBy('id').execute()
  const last2 = notes.slice(-2)
  t.same(last2.map((n) => [n.kind, n.visibility, n.minutes_spent]), [['reply', 'public', 10], ['internal', 'internal', null]])

  const alice = await loadContactActor(db, ids.contact['alice@acme.test'])
  const seen = await listNotes(db, alice!, ticket.id)
  t.ok(seen.notes.some((n) => n.body === 'Please clear your cookies and retry.'), 'the client sees the reply')
  t.notOk(seen.notes.some((n) => n.visibility === 'internal'), 'the client never gets the internal note')

  const client = await loginAs(app, 'alice@acme.test')
  if (app.hasRoute({ method: 'GET', url: '/portal/tickets/:number' })) {
    const portal = await client.get('/portal/tickets/1')
    t.match(portal.body, 'Please clear your cookies and retry.')
    t.notMatch(portal.body, 'Cookie domain misconfigured', 'the portal page does not show internal notes')
  }
  const files = await db.selectFrom('attachment').select(['id', 'filename']).where('ticket_id', '=', ticket.id).execute()
  const trace = files.find((f) => f.filename === 'trace.log')!
  const steps = files.find((f) => f.filename === 'steps.txt')!
  t.equal((await client.get(`/attachments/${trace.id}`)).statusCode, 404, 'internal attachment hidden from the client')
  t.equal((await client.get(`/attachments/${steps.id}`)).body, 'step 1, step 2', 'public attachment downloads for the client')
  t.equal((await ana.get(`/attachments/${trace.id}`)).body, 'secret trace', 'staff download the internal one')

  const history = await ana.get('/desk/tickets/1/history')
  t.match(history.body, 'Replied')
  t.match(history.body, 'Added an internal note')

  const before = notes.length
  const empty = await ana.postMultipart('/desk/tickets/1/notes', { mode: 'internal', body: '   ', minutes_spent: 'lots' }, [], { csrfFrom: '/desk/tickets/1' })
  t.equal(empty.statusCode, 422)
  t.match(empty.body, 'This field is required.')
  t.match(empty.body, 'Enter whole minutes between 0 and 10000.')
  const badKind = await ana.postMultipart('/desk/tickets/1/notes', { mode: 'public-ish', body: 'hello' }, [], { csrfFrom: '/desk/tickets/1' })
  t.equal(badKind.statusCode, 422)
  t.match(badKind.body, 'Choose one of the options.')
  t.match(badKind.body, '>hello</textarea>', 'the form comes back filled in')
  t.equal((await db.selectFrom('note').select('id').where('ticket_id', '=', ticket.id).execute()).length, before, 'nothing was added')

  // A closed ticket takes no more notes; a reply to it opens a follow-up ticket instead.
  await db.updateTable('ticket').set({ state: 'closed', status: 'completed' }).where('id', '=', ticket.id).execute()
  const closedPage = await ana.get('/desk/tickets/1')
  t.match(closedPage.body, 'This ticket is closed: a reply or message opens a new follow-up ticket linked to it.')
  t.notMatch(closedPage.body, 'value="internal"', 'no internal notes on a closed ticket')
  const lateNote = await ana.postMultipart('/desk/tickets/1/notes', { mode: 'internal', body: 'late' }, [], { csrfFrom: '/desk/tickets/1' })
  t.equal(lateNote.statusCode, 409)
  t.match(lateNote.body, 'This ticket is Completed. This action is not available')
  const late = await ana.postMultipart('/desk/tickets/1/notes', { mode: 'reply', body: 'late' }, [], { csrfFrom: '/desk/tickets/1' })
  t.equal(late.statusCode, 302)
  const child = await db.selectFrom('ticket').select(['number', 'description']).where('parent_id', '=', ticket.id).executeTakeFirstOrThrow()
  t.equal(late.headers.location, `/desk/tickets/${child.number}`)
  t.equal(child.description, 'late')
  t.equal((await db.selectFrom('note').select('id').where('ticket_id', '=', ticket.id).execute()).length, before, 'the closed ticket got no note')

  const noteId = String(last2[0].id)
  t.equal((await ana.get(`/desk/tickets/1/notes/${noteId}/edit`)).statusCode, 404, 'no page edits a note')
  t.equal((await ana.post(`/desk/tickets/1/notes/${noteId}`, { body: 'rewritten' }, { csrfFrom: '/desk' })).statusCode, 404, 'no route rewrites a note')
  t.equal((await ana.post('/desk/tickets/1/description', { description: 'rewritten' }, { csrfFrom: '/desk' })).statusCode, 404, 'nor the description')
  t.equal((await db.selectFrom('note').select('body').where('id', '=', last2[0].id).executeTakeFirstOrThrow()).body, 'Please clear your cookies and retry.')
})

t.test('categorize edits write history; a stale version answers 409 and changes nothing', async (t) => {
  const env = await testApp(t)
  const { app, ids } = env
  const ana = await loginAs(app, 'ana@casebridge.test')
  const before = await ticketRow(env, 2)
  const page = await ana.get('/desk/tickets/2')
  const version = versionOn(page.body, 'actions/categorize')
  t.equal(version, String(before.version))

  const ok = await ana.post('/desk/tickets/2/actions/categorize', {
    version, priority: 'critical', category_id: String(ids.category['Laptop problem']),
    product_id: String(ids.product['Mobile App']), desk_id: String(ids.desk['Service Desk'])
  }, { csrfFrom: '/desk/tickets/2' })
  t.equal(ok.statusCode, 302)
  t.equal(ok.headers.location, '/desk/tickets/2')
  const after = await ticketRow(env, 2)
  t.equal(after.priority, 'critical')
  t.equal(after.category_id, ids.category['Laptop problem'])
  t.equal(after.product_id, ids.product['Mobile App'])
  t.equal(after.version, before.version + 1)

  const rows = (await events(env, before.id)).filter((e) => e.action === 'updated')
  t.same(rows.map((e) => [e.field, e.from_value, e.to_value, e.actor_name]), [
    ['priority', 'medium', 'critical', 'Ana Souza'],
    ['category', 'Printer problem', 'Laptop problem', 'Ana Souza'],
    ['product', null, 'Mobile App', 'Ana Souza']
  ])
  t.match((await ana.get('/desk/tickets/2')).body, 'Categorization saved. Priority: Critical.', 'the next page says so')
  const history = await ana.get('/desk/tickets/2/history')
  t.match(history.body, 'Changed: Priority')
  t.match(history.body, 'Medium → Critical')
  t.match(history.body, 'Printer problem → Laptop problem')
  t.match(history.body, '— → Mobile App')

  // Someone else saved meanwhile: the old version is refused.
  const stale = await ana.post('/desk/tickets/2/actions/categorize', {
    version, priority: 'low', category_id: String(ids.category['Laptop problem']), product_id: '', desk_id: String(ids.desk['Service Desk'])
  }, { csrfFrom: '/desk/tickets/2' })
  t.equal(stale.statusCode, 409)
  t.match(stale.body, 'Someone else changed this ticket while you were working on it. Nothing was saved')
  t.match(stale.body, `name="version" value="${after.version}"`, 'the page offers the current version')
  const unchanged = await ticketRow(env, 2)
  t.equal(unchanged.priority, 'critical')
  t.equal(unchanged.product_id, ids.product['Mobile App'])
  t.equal(unchanged.version, after.version)
  t.equal((await events(env, before.id)).filter((e) => e.action === 'updated').length, 3, 'no history for the refused edit')

  const invalid = await ana.post('/desk/tickets/2/actions/categorize', {
    version: String(after.version), priority: 'urgent!', category_id: '', product_id: '', desk_id: '999'
  }, { csrfFrom: '/desk/tickets/2' })
  t.equal(invalid.statusCode, 422)
  t.match(invalid.body, 'Choose one of the options.')
  t.match(invalid.body, 'Choose a product or a service catalog item.')
  t.equal((await ticketRow(env, 2)).version, after.version, 'nothing changed')

  // Moving the ticket to a desk Bruno is not in takes it out of his reach.
  const bruno = await loginAs(app, 'bruno@casebridge.test')
  const moved = await bruno.post('/desk/tickets/2/actions/categorize', {
    version: String(after.version), priority: 'critical', category_id: String(ids.category['Laptop problem']),
    product_id: String(ids.product['Mobile App']), desk_id: String(ids.desk['Product Support'])
  }, { csrfFrom: '/desk/tickets/2' })
  t.equal(moved.statusCode, 302)
  t.equal(moved.headers.location, '/desk', 'back to the queue when the ticket left the desk')
  t.match((await bruno.get('/desk')).body, 'Ticket #2 is no longer in your desks')
  const final = await ticketRow(env, 2)
  t.equal(final.desk_id, ids.desk['Product Support'])
  const deskRow = (await events(env, before.id)).find((e) => e.field === 'desk')!
  t.same([deskRow.from_value, deskRow.to_value], ['Service Desk', 'Product Support'])
})

t.test('transfer: assignee, client and product with an internal note', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const ana = await loginAs(app, 'ana@casebridge.test')
  // Carol belongs to Acme and Globex: her ticket can move between them.
  const created = await createTicket(db, {
    title: 'Export fails', description: 'CSV export times out.', url: null, accountId: ids.account['Acme Corporation'], contactId: ids.contact['carol@acme.test'],
    createdByStaffId: null, productId: ids.product['Casebridge Cloud'], categoryId: null, deskId: ids.desk['Product Support'], priority: 'medium',
    ticketType: 'incident', source: 'portal', files: []
  }, { actor: { type: 'contact', id: ids.contact['carol@acme.test'], name: 'Carol Price' }, now: new Date().toISOString() })
  await db.updateTable('ticket').set({ assignee_id: ids.staff['carla@casebridge.test'] }).where('id', '=', created.id).execute()
  const url = `/desk/tickets/${created.number}`
  const page = await ana.get(url)
  t.match(page.body, 'Carla Mendes')
  t.match(page.body, /<option value="\d+"[^>]*>Globex Industries<\/option>/, 'the requester\'s other account is offered')
  t.notMatch(page.body, />Initech Ltd<\/option>/, 'accounts of others are not')
  const version = versionOn(page.body, 'transfer')

  const bad = await ana.post(`${url}/transfer`, {
    version, assignee_id: String(ids.staff['bruno@casebridge.test']), account_id: String(ids.account['Initech Ltd']), product_id: '', note: ''
  }, { csrfFrom: url })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'Choose one of the options.', 'Bruno is not in Product Support; Initech is not Carol\'s')
  t.match(bad.body, 'Choose a product or a service catalog item.')
  t.match(bad.body, 'This field is required.')
  const nothing = await ana.post(`${url}/transfer`, {
    version, assignee_id: String(ids.staff['carla@casebridge.test']), account_id: String(ids.account['Acme Corporation']),
    product_id: String(ids.product['Casebridge Cloud']), note: 'just a note'
  }, { csrfFrom: url })
  t.equal(nothing.statusCode, 422)
  t.match(nothing.body, 'Choose a new assignee, client or product.')
  t.equal((await events(env, created.id)).filter((e) => e.action === 'transfer').length, 0, 'refused transfers change nothing')

  const ok = await ana.post(`${url}/transfer`, {
    version, assignee_id: String(ids.staff['ana@casebridge.test']), account_id: String(ids.account['Globex Industries']),
    product_id: String(ids.product['Mobile App']), note: 'Globex owns this export; Ana takes over.'
  }, { csrfFrom: url })
  t.equal(ok.statusCode, 302)
  const row = await db.selectFrom('ticket').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow()
  t.equal(row.assignee_id, ids.staff['ana@casebridge.test'])
  t.equal(row.account_id, ids.account['Globex Industries'])
  t.equal(row.product_id, ids.product['Mobile App'])
  const transfers = (await events(env, created.id)).filter((e) => e.action === 'transfer')
  t.same(transfers.map((e) => [e.field, e.from_value, e.to_value, e.note]), [
    ['assignee', 'Carla Mendes', 'Ana Souza', 'Globex owns this export; Ana takes over.'],
    ['account', 'Acme Corporation', 'Globex Industries', 'Globex owns this export; Ana takes over.'],
    ['product', 'Casebridge Cloud', 'Mobile App', 'Globex owns this export; Ana takes over.']
  ])
  const note = await db.selectFrom('note').selectAll().where('ticket_id', '=', created.id).executeTakeFirstOrThrow()
  t.same([note.kind, note.visibility, note.body], ['internal', 'internal', 'Globex owns this export; Ana takes over.'])

  const after = await ana.get(url)
  t.match(after.body, 'Ticket transferred.')
  t.match(after.body, /class="note internal"[\s\S]*Globex owns this export/)
  const history = await ana.get(`${url}/history`)
  t.match(history.body, 'Transferred: Assignee')
  t.match(history.body, 'Carla Mendes → Ana Souza')
  t.match(history.body, 'Acme Corporation → Globex Industries')
  t.match(history.body, 'Casebridge Cloud → Mobile App')

  const carol = await loadContactActor(db, ids.contact['carol@acme.test'])
  t.notOk((await listNotes(db, carol!, created.id)).notes.some((n) => n.body.includes('Globex owns')), 'the transfer note stays internal')

  const stale = await ana.post(`${url}/transfer`, {
    version, assignee_id: String(ids.staff['carla@casebridge.test']), account_id: String(ids.account['Globex Industries']),
    product_id: String(ids.product['Mobile App']), note: 'back to Carla'
  }, { csrfFrom: url })
  t.equal(stale.statusCode, 409, 'a transfer from an old page is refused')
  t.equal((await db.selectFrom('ticket').select('assignee_id').where('id', '=', created.id).executeTakeFirstOrThrow()).assignee_id, ids.staff['ana@casebridge.test'])
})

t.test('open a ticket on behalf of a client', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const ana = await loginAs(app, 'ana@casebridge.test')

  const picker = await ana.get('/desk/tickets/new')
  t.equal(picker.statusCode, 200)
  t.match(picker.body, 'First, find the client contact')
  const found = await ana.get('/desk/tickets/new?q=carol')
  t.match(found.body, 'Carol Price')
  t.match(found.body, 'Acme Corporation, Globex Industries')
  t.match(found.body, `href="/desk/tickets/new?contact=${ids.contact['carol@acme.test']}"`)
  t.notMatch(found.body, 'Bob Stone')
  t.match((await ana.get('/desk/tickets/new?q=zzzz')).body, 'No contact matches “zzzz”.')
  const missing = await ana.get('/desk/tickets/new?contact=9999')
  t.equal(missing.statusCode, 404)
  t.match(missing.body, 'That contact does not exist')

  const carolId = ids.contact['carol@acme.test']
  const form = await ana.get(`/desk/tickets/new?contact=${carolId}`)
  t.equal(form.statusCode, 200)
  t.match(form.body, 'Carol Price')
  t.match(form.body, />Globex Industries<\/option>/)
  t.match(form.body, />Phone<\/option>/)
  const from = `/desk/tickets/new?contact=${carolId}`
  const count = await ticketCount(env)

  const invalid = await ana.postMultipart('/desk/tickets', {
    contact_id: String(carolId), account_id: String(ids.account['Initech Ltd']), product_id: '', category_id: '', desk_id: '', priority: 'medium',
    source: 'fax', title: '', description: 'Laptop will not boot', url: 'ftp://example.test'
  }, [], { csrfFrom: from })
  t.equal(invalid.statusCode, 422)
  t.match(invalid.body, 'Please correct the highlighted fields.')
  t.match(invalid.body, /id="account_id-error">Choose one of the options./)
  t.match(invalid.body, /id="source-error">Choose one of the options./)
  t.match(invalid.body, /id="title-error">This field is required./)
  t.match(invalid.body, 'Choose a product or a service catalog item.')
  t.match(invalid.body, 'Enter a full web address')
  t.match(invalid.body, '>Laptop will not boot</textarea>', 're-rendered filled in')
  const noContact = await ana.postMultipart('/desk/tickets', { contact_id: '', title: 'x', description: 'y' }, [], { csrfFrom: from })
  t.equal(noContact.statusCode, 422)
  t.match(noContact.body, 'That contact does not exist')
  t.equal(await ticketCount(env), count, 'invalid forms create nothing')

  const ok = await ana.postMultipart('/desk/tickets', {
    contact_id: String(carolId), account_id: String(ids.account['Globex Industries']), product_id: '', category_id: String(ids.category['Laptop problem']),
    desk_id: '', priority: 'high', source: 'phone', title: 'Laptop will not boot', description: 'Carol called: black screen after the update.', url: 'https://globex.test/asset/42'
  }, [{ name: 'attachments', filename: 'photo.png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47]), type: 'image/png' }], { csrfFrom: from })
  t.equal(ok.statusCode, 302)
  const number = Number(ok.headers.location!.replace('/desk/tickets/', ''))
  const row = await ticketRow(env, number)
  t.same(
    [row.contact_id, row.account_id, row.created_by_staff_id, row.source, row.desk_id, row.priority, row.ticket_type],
    [carolId, ids.account['Globex Industries'], ids.staff['ana@casebridge.test'], 'phone', ids.desk['Service Desk'], 'high', 'incident']
  )
  t.equal((await db.selectFrom('attachment').select('filename').where('ticket_id', '=', row.id).execute())[0]?.filename, 'photo.png')

  const page = await ana.get(`/desk/tickets/${number}`)
  t.match(page.body, `Ticket #${number} was opened for Carol Price.`)
  t.match(page.body, 'Opened by Ana Souza on behalf of Carol Price')
  t.match(page.body, 'photo.png')
  t.match(page.body, 'https://globex.test/asset/42')
  const history = await ana.get(`/desk/tickets/${number}/history`)
  t.match(history.body, /Ana Souza<\/td>\s*<td>Created the ticket/)
  t.match(history.body, 'Opened by Ana Souza on behalf of Carol Price')
  const created = (await events(env, row.id))[0]
  t.same([created.action, created.actor_type, created.actor_id], ['created', 'staff', ids.staff['ana@casebridge.test']])

  // Bruno opens one for a desk he is not in: created, and he is told where it went.
  const bruno = await loginAs(app, 'bruno@casebridge.test')
  const elsewhere = await bruno.postMultipart('/desk/tickets', {
    contact_id: String(ids.contact['hank@globex.test']), product_id: String(ids.product['Billing']), priority: 'medium', source: 'email',
    title: 'Refund request', description: 'Hank wants a refund for March.'
  }, [], { csrfFrom: '/desk/tickets/new' })
  t.equal(elsewhere.statusCode, 302)
  t.equal(elsewhere.headers.location, '/desk')
  t.match((await bruno.get('/desk')).body, 'it went to a desk you are not in')
  const refund = await db.selectFrom('ticket').selectAll().where('title', '=', 'Refund request').executeTakeFirstOrThrow()
  t.same([refund.account_id, refund.desk_id, refund.source], [ids.account['Globex Industries'], ids.desk['Product Support'], 'email'], 'single account and serving desk chosen')
})

t.test('on behalf: an over-size attachment re-renders the form and creates nothing', async (t) => {
  const env = await testApp(t, { env: { MAX_ATTACHMENT_MB: '0.01' } })
  const { app, ids } = env
  const ana = await loginAs(app, 'ana@casebridge.test')
  const count = await ticketCount(env)
  const res = await ana.postMultipart('/desk/tickets', {
    contact_id: String(ids.contact['bob@acme.test']), category_id: String(ids.category['Printer problem']), priority: 'low', source: 'phone',
    title: 'Scan of the jam', description: 'Photo attached.'
  }, [{ name: 'attachments', filename: 'huge.bin', content: Buffer.alloc(64 * 1024, 1) }], { csrfFrom: '/desk/tickets/new' })
  t.equal(res.statusCode, 422)
  t.match(res.body, 'The file huge.bin is larger than the 0.01 MB limit; nothing was saved.')
  t.match(res.body, 'value="Scan of the jam"')
  t.equal(await ticketCount(env), count)

  const note = await ana.postMultipart('/desk/tickets/1/notes', { mode: 'reply', body: 'see file' },
    [{ name: 'attachments', filename: 'huge.bin', content: Buffer.alloc(64 * 1024, 1) }], { csrfFrom: '/desk/tickets/1' })
  t.equal(note.statusCode, 422)
  t.match(note.body, 'larger than the 0.01 MB limit')
})

t.test('availability toggle hands out the backlog', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const ana = await loginAs(app, 'ana@casebridge.test')
  const bruno = await loginAs(app, 'bruno@casebridge.test')

  t.match((await bruno.get('/desk')).body, /Availability: <strong>Available<\/strong>/)
  for (const agent of [ana, bruno]) {
    const res = await agent.post('/desk/availability', { availability: 'unavailable' }, { csrfFrom: '/desk' })
    t.equal(res.statusCode, 302)
  }
  const away = await bruno.get('/desk')
  t.match(away.body, 'You are away: no new tickets will be assigned to you.')
  t.match(away.body, /Availability: <strong>Away<\/strong>/)
  t.match(away.body, 'Become available')

  // Every Service Desk member is away now (Eva already was): new tickets wait.
  const waiting: number[] = []
  for (const title of ['Monitor flickers', 'Keyboard missing keys']) {
    const res = await ana.postMultipart('/desk/tickets', {
      contact_id: String(ids.contact['bob@acme.test']), category_id: String(ids.category['Laptop problem']), priority: 'medium', source: 'phone',
      title, description: 'Reported by phone.'
    }, [], { csrfFrom: '/desk/tickets/new' })
    t.equal(res.statusCode, 302)
    const row = await db.selectFrom('ticket').select(['id', 'number', 'assignee_id']).where('title', '=', title).executeTakeFirstOrThrow()
    t.equal(row.assignee_id, null, `${title}: nobody available`)
    waiting.push(row.number)
  }
  const unassigned = await bruno.get('/desk?scope=unassigned')
  t.same(numbersOn(unassigned.body).sort(), [...waiting].sort())
  const staffBefore = await db.selectFrom('staff').select(['id', 'available']).orderBy('id').execute()

  const back = await bruno.post('/desk/availability', { availability: 'available' }, { csrfFrom: '/desk' })
  t.equal(back.statusCode, 302)
  t.equal(back.headers.location, '/desk')
  const after = await bruno.get('/desk')
  t.match(after.body, 'You are available. 2 waiting ticket(s) were handed out.')
  for (const number of waiting) {
    const row = await ticketRow(env, number)
    t.equal(row.assignee_id, ids.staff['bruno@casebridge.test'], `#${number} went to Bruno, the only one available`)
    const assigned = (await events(env, row.id)).filter((e) => e.action === 'assigned')
    t.same(assigned.map((e) => [e.actor_type, e.field, e.from_value, e.to_value]), [['system', 'assignee', null, 'Bruno Lima']])
    t.match((await bruno.get(`/desk/tickets/${number}/history`)).body, 'Assigned: Assignee')
  }
  t.same(numbersOn((await bruno.get('/desk?scope=unassigned')).body), [])
  const staffAfter = await db.selectFrom('staff').select(['id', 'available']).orderBy('id').execute()
  t.same(staffAfter, staffBefore.map((s) => (s.id === ids.staff['bruno@casebridge.test'] ? { ...s, available: 1 } : s)), 'only Bruno\'s flag changed')

  const again = await bruno.post('/desk/availability', { availability: 'available' }, { csrfFrom: '/desk' })
  t.equal(again.statusCode, 302)
  t.match((await bruno.get('/desk')).body, 'You are available: new tickets can be assigned to you.')
  const bogus = await bruno.post('/desk/availability', { availability: 'maybe' }, { csrfFrom: '/desk' })
  t.equal(bogus.statusCode, 302)
  t.match((await bruno.get('/desk')).body, 'The request was not understood.')
  const noCsrf = await bruno.post('/desk/availability', { availability: 'unavailable' }, { noCsrf: true })
  t.equal(noCsrf.statusCode, 403)
  t.equal((await db.selectFrom('staff').select('available').where('id', '=', ids.staff['bruno@casebridge.test']).executeTakeFirstOrThrow()).available, 1)
})

t.test('Portuguese desk', async (t) => {
  const { app } = await testApp(t)
  const ana = new Agent(app, { 'accept-language': 'pt-BR' })
  await ana.login('ana@casebridge.test', 'staff-demo-pass')
  const queue = await ana.get('/desk')
  t.match(queue.body, 'Minhas mesas')
  t.match(queue.body, 'Sem responsável')
  const page = await ana.get('/desk/tickets/1')
  t.match(page.body, 'Nota interna — só a equipe')
  t.match(page.body, 'Transferir')
})
