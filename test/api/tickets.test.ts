import { createHash } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { apiToken, testApp, type TestEnv } from '../helpers/app.js'

type Json = any

/** A tiny API client: one bearer token, JSON in and out. */
function client(app: FastifyInstance, token: string) {
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await app.inject({
      method, url, headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object })
    })
    return { status: res.statusCode, body: res.json() as Json, headers: res.headers }
  }
  return {
    get: (url: string) => call('GET', url),
    post: (url: string, payload: unknown) => call('POST', url, payload)
  }
}

async function as(env: TestEnv, email: string) {
  return client(env.app, await apiToken(env.db, email))
}

async function ticketId(env: TestEnv, title: string): Promise<number> {
  const row = await env.db.selectFrom('ticket').select('id').where('title', '=', title).executeTakeFirstOrThrow()
  return row.id
}

const CLOUD_LOGIN = 'Cannot log in to the cloud console' // Alice's, Acme, Product Support
const PRINTER = 'Printer on 3rd floor jams' // Bob's, Acme, Service Desk
const VAT = 'Invoice shows the wrong VAT rate' // Hank's, Globex, Product Support
const RESET = 'Password reset for new intern' // Bob's, Acme, Service Desk

t.test('GET /tickets lists only what the caller may see', async (t) => {
  const env = await testApp(t)
  const titles = async (email: string, query = '') => {
    const res = await (await as(env, email)).get(`/api/v1/tickets${query}`)
    t.equal(res.status, 200, `${email} ${query}`)
    return (res.body.items as { title: string }[]).map((i) => i.title).sort()
  }
  t.same(await titles('alice@acme.test'), [CLOUD_LOGIN, RESET, PRINTER].sort(), 'an account manager sees every Acme ticket')
  t.same(await titles('bob@acme.test'), [RESET, PRINTER].sort(), 'a contact sees only their own')
  t.same(await titles('hank@globex.test'), [VAT])
  t.same(await titles('gina@globex.test'), [VAT], 'the Globex manager sees nothing of Acme')
  t.same(await titles('jane@initech.test'), [])
  t.same(await titles('bruno@casebridge.test'), [RESET, PRINTER].sort(), 'staff see their desk (Service Desk)')
  t.same(await titles('carla@casebridge.test'), [CLOUD_LOGIN, VAT].sort(), 'staff see their desk (Product Support)')
  t.same((await titles('admin@casebridge.test')).length, 4, 'admins see all')

  const alice = await as(env, 'alice@acme.test')
  const all = await alice.get('/api/v1/tickets')
  t.equal(all.body.total, 3)
  t.equal(all.body.page, 1)
  t.equal(all.body.perPage, 20)
  t.equal(all.body.totalCapped, false)
  const cloud = all.body.items.find((i: Json) => i.title === CLOUD_LOGIN)
  t.match(cloud, {
    id: Number, number: Number, title: CLOUD_LOGIN, state: 'open', status: 'new', priority: 'high', type: 'incident', source: 'portal',
    account: { id: env.ids.account['Acme Corporation'], name: 'Acme Corporation' },
    contact: { id: env.ids.contact['alice@acme.test'], name: 'Alice Walker', email: 'alice@acme.test' },
    product: { id: env.ids.product['Casebridge Cloud'], name: 'Casebridge Cloud' },
    category: null,
    desk: { id: env.ids.desk['Product Support'], name: 'Product Support' },
    assignee: { id: Number, email: /@casebridge\.test$/, name: String },
    createdAt: /^\d{4}-\d\d-\d\dT/, updatedAt: /^\d{4}-\d\d-\d\dT/
  })
  t.notOk('description' in cloud, 'the list leaves descriptions out')

  t.same(await titles('alice@acme.test', '?q=printer'), [PRINTER], 'search words')
  t.same(await titles('alice@acme.test', '?q=nothing-like-this'), [])
  t.same(await titles('alice@acme.test', '?state=open&status=new'), [CLOUD_LOGIN, RESET, PRINTER].sort())
  t.same(await titles('alice@acme.test', '?situation=closed'), [])
  const sorted = await alice.get('/api/v1/tickets?sort=title&order=asc')
  t.same(sorted.body.items.map((i: Json) => i.title), [CLOUD_LOGIN, RESET, PRINTER])
  const byPriority = await alice.get('/api/v1/tickets?sort=priority&order=desc')
  t.same(byPriority.body.items.map((i: Json) => i.priority), ['high', 'medium', 'low'])
  const page2 = await alice.get('/api/v1/tickets?sort=title&order=asc&perPage=1&page=2')
  t.match(page2.body, { total: 3, page: 2, perPage: 1, items: [{ title: RESET }] })

  const mine = await (await as(env, 'ana@casebridge.test')).get('/api/v1/tickets?scope=mine')
  t.ok(mine.body.items.every((i: Json) => i.assignee?.email === 'ana@casebridge.test'), 'staff scope=mine')

  const bad = await alice.get('/api/v1/tickets?perPage=1000&state=bogus')
  t.equal(bad.status, 400)
  t.equal(bad.body.error.code, 'validation_error')
  t.match(bad.body.error.message, /"(perPage|state)"/)
  const badState = await alice.get('/api/v1/tickets?state=bogus')
  t.match(badState.body.error, { code: 'validation_error', message: /The field "state" must be one of: open, in_progress/, fields: { state: String } })
  const badSort = await alice.get('/api/v1/tickets?sort=password_hash')
  t.match(badSort.body.error, { code: 'validation_error', fields: { sort: /createdAt/ } })
})

t.test('POST /tickets opens a ticket, assigned by least load', async (t) => {
  const env = await testApp(t)
  const alice = await as(env, 'alice@acme.test')
  const res = await alice.post('/api/v1/tickets', {
    title: '  Export to CSV fails ', description: 'The export button answers 500.', url: 'https://cloud.example/export',
    productId: env.ids.product['Casebridge Cloud'], priority: 'critical'
  })
  t.equal(res.status, 201)
  t.match(res.body, {
    title: 'Export to CSV fails', description: 'The export button answers 500.', url: 'https://cloud.example/export',
    state: 'open', status: 'new', priority: 'critical', source: 'api', type: 'incident',
    account: { name: 'Acme Corporation' }, contact: { email: 'alice@acme.test' },
    desk: { name: 'Product Support' }, product: { name: 'Casebridge Cloud' }, category: null,
    assignee: { email: /^(ana|carla)@casebridge\.test$/ }, version: Number, attachments: []
  })
  t.equal(res.headers.location, `/api/v1/tickets/${res.body.id}`)
  const again = await alice.get(`/api/v1/tickets/${res.body.id}`)
  t.equal(again.status, 200)
  t.equal(again.body.number, res.body.number)
  const row = await env.db.selectFrom('ticket').select(['source', 'created_by_staff_id']).where('id', '=', res.body.id).executeTakeFirstOrThrow()
  t.same(row, { source: 'api', created_by_staff_id: null })

  const defaults = await alice.post('/api/v1/tickets', { title: 'Need a laptop check', description: 'It overheats.', categoryId: env.ids.category['Laptop problem'] })
  t.match(defaults.body, { priority: 'medium', desk: { name: 'Service Desk' }, category: { name: 'Laptop problem' }, product: null })

  const count = async () => Number((await env.db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  const before = await count()

  const carol = await as(env, 'carol@acme.test')
  const noAccount = await carol.post('/api/v1/tickets', { title: 'Two accounts', description: 'Which one?', productId: env.ids.product.Billing })
  t.equal(noAccount.status, 422, 'a contact of several accounts must say which')
  t.match(noAccount.body.error, { code: 'invalid', message: /accountId/, fields: { accountId: 'This field is required.' } })
  const foreignAccount = await alice.post('/api/v1/tickets', { title: 'x', description: 'y', productId: env.ids.product.Billing, accountId: env.ids.account['Initech Ltd'] })
  t.match(foreignAccount.body.error, { code: 'invalid', fields: { accountId: 'Choose one of the options.' } })
  const noCatalog = await alice.post('/api/v1/tickets', { title: 'x', description: 'y', url: 'javascript:alert(1)' })
  t.equal(noCatalog.status, 422)
  t.match(noCatalog.body.error.fields, { productId: 'Choose a product or a service catalog item.', url: /http:\/\// })
  const blank = await alice.post('/api/v1/tickets', { title: '   ', description: 'y', productId: env.ids.product.Billing })
  t.match(blank.body.error, { code: 'invalid', fields: { title: 'This field is required.' } })
  const unknownDesk = await alice.post('/api/v1/tickets', { title: 'x', description: 'y', productId: env.ids.product.Billing, deskId: 99999 })
  t.match(unknownDesk.body.error.fields, { deskId: 'Choose one of the options.' })

  const missing = await alice.post('/api/v1/tickets', { description: 'no title', productId: 1 })
  t.equal(missing.status, 400)
  t.same(missing.body, { error: { code: 'validation_error', message: 'The field "title" is required.', fields: { title: 'The field "title" is required.' } } })
  const wrongType = await alice.post('/api/v1/tickets', { title: 'x', description: 'y', productId: 'cloud' })
  t.match(wrongType.body.error, { code: 'validation_error', message: 'The field "productId" must be a whole number.' })
  const badPriority = await alice.post('/api/v1/tickets', { title: 'x', description: 'y', productId: 1, priority: 'urgent' })
  t.match(badPriority.body.error, { code: 'validation_error', fields: { priority: 'The field "priority" must be one of: low, medium, high, critical.' } })
  const tooLong = await alice.post('/api/v1/tickets', { title: 'x'.repeat(201), description: 'y', productId: 1 })
  t.match(tooLong.body.error, { code: 'validation_error', fields: { title: 'The field "title" must have at most 200 characters.' } })
  const emptyDescription = await alice.post('/api/v1/tickets', { title: 'x', description: '', productId: 1 })
  t.match(emptyDescription.body.error.fields, { description: 'The field "description" must not be empty.' })

  const onBehalf = await alice.post('/api/v1/tickets', { title: 'For Hank', description: 'y', productId: 1, contactId: env.ids.contact['hank@globex.test'] })
  t.equal(onBehalf.status, 403, 'a client cannot open for someone else')
  t.match(onBehalf.body.error, { code: 'forbidden', message: /Only staff/ })
  t.equal(await count(), before, 'no refused request created anything')

  const bruno = await as(env, 'bruno@casebridge.test')
  const noContact = await bruno.post('/api/v1/tickets', { title: 'Phone call', description: 'y', productId: env.ids.product.Billing })
  t.match(noContact.body.error, { code: 'invalid', fields: { contactId: 'This field is required.' } })
  const forHank = await bruno.post('/api/v1/tickets', {
    title: 'Called about VAT again', description: 'Hank phoned.', productId: env.ids.product.Billing, contactId: env.ids.contact['hank@globex.test']
  })
  t.equal(forHank.status, 201, 'staff open on behalf of a client')
  t.match(forHank.body, { contact: { email: 'hank@globex.test' }, account: { name: 'Globex Industries' }, desk: { name: 'Product Support' }, assignee: { email: /^(ana|carla|diego)@/ } })
  const createdBy = await env.db.selectFrom('ticket').select('created_by_staff_id').where('id', '=', forHank.body.id).executeTakeFirstOrThrow()
  t.equal(createdBy.created_by_staff_id, env.ids.staff['bruno@casebridge.test'])
  t.equal((await bruno.get(`/api/v1/tickets/${forHank.body.id}`)).status, 404, 'Bruno is not on Product Support: he got a receipt but may not read it later')
  const hank = await as(env, 'hank@globex.test')
  t.equal((await hank.get(`/api/v1/tickets/${forHank.body.id}`)).status, 200, 'the client sees the ticket opened for him')
})

t.test('GET /tickets/:id with the notes the caller may see; POST notes', async (t) => {
  const env = await testApp(t)
  const id = await ticketId(env, CLOUD_LOGIN)
  const alice = await as(env, 'alice@acme.test')
  const ana = await as(env, 'ana@casebridge.test')

  const first = await alice.get(`/api/v1/tickets/${id}`)
  t.equal(first.status, 200)
  t.match(first.body, { id, title: CLOUD_LOGIN, description: /invalid session/, attachments: [] })
  t.match(first.body.notes, [{ id: Number, kind: 'note', visibility: 'public', body: /Which browser/, author: { type: 'staff', name: 'Ana Souza' }, createdAt: String, attachments: [] }])

  const internal = await ana.post(`/api/v1/tickets/${id}/notes`, { body: 'Looks like the session cookie domain.', visibility: 'internal' })
  t.equal(internal.status, 201)
  t.match(internal.body, { kind: 'internal', visibility: 'internal', body: 'Looks like the session cookie domain.', author: { type: 'staff', name: 'Ana Souza' } })
  const reply = await alice.post(`/api/v1/tickets/${id}/notes`, { body: 'Firefox 140.' })
  t.equal(reply.status, 201)
  t.match(reply.body, { kind: 'reply', visibility: 'public', body: 'Firefox 140.', author: { type: 'contact', name: 'Alice Walker' }, attachments: [] })
  const staffReply = await ana.post(`/api/v1/tickets/${id}/notes`, { body: 'Please clear cookies.', visibility: 'public' })
  t.match(staffReply.body, { kind: 'reply', visibility: 'public' })

  const clientView = await alice.get(`/api/v1/tickets/${id}`)
  t.same(clientView.body.notes.map((n: Json) => n.body), ['Thanks, we are looking into it. Which browser do you use?', 'Firefox 140.', 'Please clear cookies.'], 'the client never sees internal notes')
  const staffView = await ana.get(`/api/v1/tickets/${id}`)
  t.same(staffView.body.notes.map((n: Json) => n.visibility), ['public', 'internal', 'public', 'public'], 'staff see everything, oldest first')

  const askInternal = await alice.post(`/api/v1/tickets/${id}/notes`, { body: 'secret', visibility: 'internal' })
  t.equal(askInternal.status, 403)
  t.match(askInternal.body.error, { code: 'forbidden', message: /Only staff may write internal notes/ })
  const blank = await alice.post(`/api/v1/tickets/${id}/notes`, { body: '   ' })
  t.match(blank, { status: 422, body: { error: { code: 'invalid', fields: { body: 'The field "body" must not be blank.' } } } })
  const badVisibility = await alice.post(`/api/v1/tickets/${id}/notes`, { body: 'x', visibility: 'everyone' })
  t.match(badVisibility, { status: 400, body: { error: { code: 'validation_error', fields: { visibility: /public, internal/ } } } })

  // Another account's ticket, a colleague's ticket and a missing one all answer the same 404.
  const nothing = { status: 404, body: { error: { code: 'not_found', message: 'No such ticket.' } } }
  const hank = await as(env, 'hank@globex.test')
  const bob = await as(env, 'bob@acme.test')
  const bruno = await as(env, 'bruno@casebridge.test')
  t.match(await hank.get(`/api/v1/tickets/${id}`), nothing, 'another account')
  t.match(await bob.get(`/api/v1/tickets/${id}`), nothing, 'a colleague who is not the manager')
  t.match(await bruno.get(`/api/v1/tickets/${id}`), nothing, 'staff of another desk')
  t.match(await alice.get('/api/v1/tickets/999999'), nothing, 'a missing ticket looks the same')
  t.match(await hank.post(`/api/v1/tickets/${id}/notes`, { body: 'hello?' }), nothing)
  t.match(await bruno.post(`/api/v1/tickets/${id}/notes`, { body: 'hello?', visibility: 'internal' }), nothing)
  t.match(await hank.post(`/api/v1/tickets/${id}/notes`, { body: 'x', visibility: 'internal' }), nothing, '404 before 403: nothing is learnt')
  const notes = await env.db.selectFrom('note').select('body').where('ticket_id', '=', id).execute()
  t.equal(notes.length, 4, 'refused notes were not written')

  const mail = await env.db.selectFrom('mail_outbox').select(['recipient', 'template']).where('ticket_id', '=', id).where('template', 'like', 'note.%').orderBy('id').execute()
  const assignee = (await ana.get(`/api/v1/tickets/${id}`)).body.assignee.email
  t.same(mail.map((m) => m.recipient), [assignee, 'alice@acme.test'],
    'the client\'s reply notifies the assignee, the staff reply notifies the client, the internal note nobody')

  await env.db.updateTable('ticket').set({ state: 'closed', status: 'completed' }).where('id', '=', id).execute()
  const closed = await alice.post(`/api/v1/tickets/${id}/notes`, { body: 'It is back again since the update.' })
  t.equal(closed.status, 201, 'a reply to a closed ticket opens a new linked ticket')
  t.match(closed.body, { openedTicket: { id: Number, title: `Re: ${CLOUD_LOGIN}`, description: 'It is back again since the update.', state: 'open', contact: { email: 'alice@acme.test' } } })
  t.equal(closed.headers.location, `/api/v1/tickets/${closed.body.openedTicket.id}`)
  const child = await env.db.selectFrom('ticket').select(['parent_id', 'source']).where('id', '=', closed.body.openedTicket.id).executeTakeFirstOrThrow()
  t.same(child, { parent_id: id, source: 'api' })
  t.equal((await env.db.selectFrom('note').select('id').where('ticket_id', '=', id).execute()).length, 4, 'the closed ticket itself is untouched')
  const closedInternal = await ana.post(`/api/v1/tickets/${id}/notes`, { body: 'post mortem', visibility: 'internal' })
  t.match(closedInternal, { status: 409, body: { error: { code: 'not_allowed', message: "This action is not available in the ticket's current status." } } })
})

t.test('attachments are listed with a download URL that obeys the same permissions', async (t) => {
  const env = await testApp(t)
  const id = await ticketId(env, PRINTER)
  const content = Buffer.from('jam at tray 2\n')
  const sha256 = createHash('sha256').update(content).digest('hex')
  t.equal((await env.app.store.keepBuffer('printer log.txt', 'text/plain', content)).sha256, sha256)
  const now = new Date().toISOString()
  const note = await env.db.insertInto('note').values({ ticket_id: id, kind: 'internal', visibility: 'internal', body: 'log attached', author_name: 'Bruno Lima', source: 'portal', created_at: now }).returning('id').executeTakeFirstOrThrow()
  const onTicket = await env.db.insertInto('attachment').values({ ticket_id: id, note_id: null, filename: 'printer log.txt', content_type: 'text/plain', size: content.length, sha256, created_at: now }).returning('id').executeTakeFirstOrThrow()
  const onInternal = await env.db.insertInto('attachment').values({ ticket_id: id, note_id: note.id, filename: 'secret.txt', content_type: 'text/plain', size: content.length, sha256, created_at: now }).returning('id').executeTakeFirstOrThrow()

  const bob = await as(env, 'bob@acme.test')
  const detail = await bob.get(`/api/v1/tickets/${id}`)
  t.same(detail.body.attachments, [{ id: onTicket.id, filename: 'printer log.txt', contentType: 'text/plain', size: content.length, url: `/api/v1/attachments/${onTicket.id}` }])
  t.same(detail.body.notes, [], 'the internal note and its file stay hidden')
  const bruno = await as(env, 'bruno@casebridge.test')
  t.match((await bruno.get(`/api/v1/tickets/${id}`)).body.notes, [{ body: 'log attached', attachments: [{ filename: 'secret.txt', url: `/api/v1/attachments/${onInternal.id}` }] }])

  const token = await apiToken(env.db, 'bob@acme.test')
  const download = await env.app.inject({ url: `/api/v1/attachments/${onTicket.id}`, headers: { authorization: `Bearer ${token}` } })
  t.equal(download.statusCode, 200)
  t.equal(download.body, 'jam at tray 2\n')
  t.equal(download.headers['content-type'], 'text/plain')
  t.match(download.headers['content-disposition'], "filename*=UTF-8''printer%20log.txt")
  const hidden = await env.app.inject({ url: `/api/v1/attachments/${onInternal.id}`, headers: { authorization: `Bearer ${token}` } })
  t.equal(hidden.statusCode, 404, 'a client cannot fetch an internal note\'s file')
  const hank = await apiToken(env.db, 'hank@globex.test')
  const foreign = await env.app.inject({ url: `/api/v1/attachments/${onTicket.id}`, headers: { authorization: `Bearer ${hank}` } })
  t.match(foreign.json(), { error: { code: 'not_found' } })
  t.equal((await env.app.inject({ url: `/api/v1/attachments/${onTicket.id}` })).statusCode, 401)
})

t.test('POST /tickets/:id/transfer', async (t) => {
  const env = await testApp(t)
  const id = await ticketId(env, CLOUD_LOGIN)
  const ana = await as(env, 'ana@casebridge.test')
  const alice = await as(env, 'alice@acme.test')
  // The transfer goes to whichever of Ana and Carla does not have the ticket (assignment is random).
  const current = (await ana.get(`/api/v1/tickets/${id}`)).body.assignee.email
  const target = current === 'carla@casebridge.test' ? 'ana@casebridge.test' : 'carla@casebridge.test'
  const carla = env.ids.staff[target]

  const moved = await ana.post(`/api/v1/tickets/${id}/transfer`, { assigneeId: carla, productId: env.ids.product['Mobile App'], note: 'Carla knows the mobile login flow.' })
  t.equal(moved.status, 200)
  t.match(moved.body, { id, assignee: { id: carla, email: target }, product: { name: 'Mobile App' } })
  const staffNotes = (await ana.get(`/api/v1/tickets/${id}`)).body.notes
  t.match(staffNotes[staffNotes.length - 1], { kind: 'internal', visibility: 'internal', body: 'Carla knows the mobile login flow.' })
  t.notOk((await alice.get(`/api/v1/tickets/${id}`)).body.notes.some((n: Json) => n.body.includes('Carla knows')), 'the transfer note is internal')
  const events = await env.db.selectFrom('ticket_event').select(['field', 'to_value']).where('ticket_id', '=', id).where('action', '=', 'transfer').execute()
  t.same(events.map((e) => e.field).sort(), ['assignee', 'product'], 'one history row per changed field')

  // A transfer hands a ticket on; it never leaves it without anyone (the desk's rule, now the API's too).
  const unassign = await ana.post(`/api/v1/tickets/${id}/transfer`, { assigneeId: null })
  t.match(unassign, { status: 422, body: { error: { code: 'invalid', fields: { assigneeId: 'This field is required.' } } } })

  const wrongDesk = await ana.post(`/api/v1/tickets/${id}/transfer`, { assigneeId: env.ids.staff['bruno@casebridge.test'] })
  t.match(wrongDesk, { status: 422, body: { error: { code: 'invalid', fields: { assigneeId: "The assignee must be a staff member of the ticket's desk (Product Support)." } } } })
  const wrongAccount = await ana.post(`/api/v1/tickets/${id}/transfer`, { accountId: env.ids.account['Globex Industries'] })
  t.match(wrongAccount, { status: 422, body: { error: { fields: { accountId: "The account must be one of the requester's accounts." } } } })
  const noProduct = await ana.post(`/api/v1/tickets/${id}/transfer`, { productId: 999999 })
  t.match(noProduct, { status: 422, body: { error: { fields: { productId: 'There is no such product.' } } } })
  const clearProduct = await ana.post(`/api/v1/tickets/${id}/transfer`, { productId: null })
  t.match(clearProduct, { status: 422, body: { error: { fields: { productId: /product or a service catalog item/ } } } }, 'a ticket without a catalog item keeps a product')
  const badBody = await ana.post(`/api/v1/tickets/${id}/transfer`, { assigneeId: 'carla' })
  t.match(badBody, { status: 400, body: { error: { code: 'validation_error', fields: { assigneeId: 'The field "assigneeId" must be a whole number or null.' } } } })

  // Carol belongs to Acme and Globex: her ticket may move between them.
  const carol = await as(env, 'carol@acme.test')
  const hers = await carol.post('/api/v1/tickets', { title: 'Billing question', description: 'y', productId: env.ids.product.Billing, accountId: env.ids.account['Acme Corporation'] })
  const toGlobex = await ana.post(`/api/v1/tickets/${hers.body.id}/transfer`, { accountId: env.ids.account['Globex Industries'], note: 'Globex pays for this.' })
  t.match(toGlobex, { status: 200, body: { account: { name: 'Globex Industries' } } })
  t.equal((await (await as(env, 'gina@globex.test')).get(`/api/v1/tickets/${hers.body.id}`)).status, 200, 'the Globex manager now sees it')

  const version = (await ana.get(`/api/v1/tickets/${id}`)).body.version
  const stale = await ana.post(`/api/v1/tickets/${id}/transfer`, { assigneeId: carla, version: version - 1 })
  t.match(stale, { status: 409, body: { error: { code: 'conflict', message: /changed this ticket/ } } })
  const fresh = await ana.post(`/api/v1/tickets/${id}/transfer`, { assigneeId: env.ids.staff[current], version, note: 'Back to where it started.' })
  t.equal(fresh.status, 200)

  const byClient = await alice.post(`/api/v1/tickets/${id}/transfer`, { assigneeId: carla })
  t.match(byClient, { status: 403, body: { error: { code: 'forbidden', message: 'Only staff may transfer tickets.' } } })
  const nothing = { status: 404, body: { error: { code: 'not_found' } } }
  t.match(await (await as(env, 'hank@globex.test')).post(`/api/v1/tickets/${id}/transfer`, { assigneeId: carla }), nothing, 'another account\'s ticket')
  t.match(await (await as(env, 'bruno@casebridge.test')).post(`/api/v1/tickets/${id}/transfer`, { assigneeId: carla }), nothing, 'staff of another desk')

  await env.db.updateTable('ticket').set({ state: 'cancelled', status: 'cancelled' }).where('id', '=', id).execute()
  const cancelled = await ana.post(`/api/v1/tickets/${id}/transfer`, { assigneeId: env.ids.staff['ana@casebridge.test'] })
  t.match(cancelled, { status: 409, body: { error: { code: 'not_allowed', message: /not available in the ticket's current status/ } } })
})
