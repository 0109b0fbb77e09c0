import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { apiToken, testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { performerOf, registerOccurrence, transition } from '../helpers/commands.js'

type Json = any

function client(app: FastifyInstance, token: string) {
  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
    return { status: res.statusCode, body: res.json() as Json }
  }
  return { get: (url: string) => call('GET', url), post: (url: string, payload: unknown) => call('POST', url, payload) }
}

const as = async (env: TestEnv, email: string) => client(env.app, await apiToken(env.db, email))

const REFERENCE = ['/api/v1/me', '/api/v1/desks', '/api/v1/products', '/api/v1/catalog', '/api/v1/accounts']

t.test('reference endpoints ask for a token', async (t) => {
  const { app } = await testApp(t)
  for (const url of REFERENCE) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 401, url)
    t.equal(res.json().error.code, 'unauthorized')
    t.equal((await app.inject({ url, headers: { authorization: 'Bearer cb_notARealToken' } })).statusCode, 401, `${url}: unknown token`)
  }
})

t.test('GET /me says who the token belongs to', async (t) => {
  const env = await testApp(t)
  const { ids } = env
  const carol = await (await as(env, 'carol@acme.test')).get('/api/v1/me')
  t.equal(carol.status, 200)
  t.same(carol.body, {
    kind: 'contact', id: ids.contact['carol@acme.test'], name: 'Carol Price', email: 'carol@acme.test', locale: null, role: 'client', desks: [],
    accounts: [
      { id: ids.account['Acme Corporation'], name: 'Acme Corporation', active: true, manager: false },
      { id: ids.account['Globex Industries'], name: 'Globex Industries', active: true, manager: false }
    ]
  })
  const gina = await (await as(env, 'gina@globex.test')).get('/api/v1/me')
  t.match(gina.body, { kind: 'contact', locale: 'pt-BR', role: 'client', accounts: [{ name: 'Globex Industries', manager: true }] })

  const ana = await (await as(env, 'ana@casebridge.test')).get('/api/v1/me')
  t.same(ana.body, {
    kind: 'staff', id: ids.staff['ana@casebridge.test'], name: 'Ana Souza', email: 'ana@casebridge.test', locale: null, role: 'staff',
    desks: [{ id: ids.desk['Product Support'], name: 'Product Support' }, { id: ids.desk['Service Desk'], name: 'Service Desk' }], accounts: []
  })
  const admin = await (await as(env, 'admin@casebridge.test')).get('/api/v1/me')
  t.match(admin.body, { kind: 'staff', role: 'admin', desks: [], accounts: [] })

  const bad = await (await as(env, 'ana@casebridge.test')).get('/api/v1/me?who=else')
  t.equal(bad.status, 400, 'a parameter it does not take')
  t.same(bad.body.error.code, 'validation_error')
  t.ok(bad.body.error.fields.who)
})

t.test('GET /desks, /products, /catalog: the ids a ticket may name', async (t) => {
  const env = await testApp(t)
  const { ids, db } = env
  const bob = await as(env, 'bob@acme.test')

  const desks = await bob.get('/api/v1/desks')
  t.equal(desks.status, 200)
  t.same(desks.body, { items: [{ id: ids.desk['Product Support'], name: 'Product Support' }, { id: ids.desk['Service Desk'], name: 'Service Desk' }] })

  await db.updateTable('product').set({ active: 0 }).where('name', '=', 'Mobile App').execute()
  const products = await bob.get('/api/v1/products')
  t.equal(products.status, 200)
  t.same(products.body.items.map((p: Json) => p.name), ['Billing', 'Casebridge Cloud', 'Casebridge On-Premises'], 'active products only, by name')
  t.same(products.body.items[1], { id: ids.product['Casebridge Cloud'], name: 'Casebridge Cloud', code: 'CB-CLOUD' })

  const catalog = await bob.get('/api/v1/catalog')
  t.equal(catalog.status, 200)
  t.same(catalog.body.areas.map((a: Json) => a.name), ['Access & accounts', 'Hardware', 'Software'])
  const access = catalog.body.areas[0]
  t.equal(access.id, ids.category['Access & accounts'])
  t.same(access.items.map((i: Json) => [i.name, i.type]), [['New user account', 'request'], ['Password reset', 'request']])
  t.match(access.items[0], { id: ids.category['New user account'], requiresApproval: Boolean })
  t.same(catalog.body.areas[1].items[1], { id: ids.category['Printer problem'], name: 'Printer problem', type: 'incident', requiresApproval: false })

  for (const url of ['/api/v1/desks?x=1', '/api/v1/products?page=2', '/api/v1/catalog?q=printer']) {
    const res = await bob.get(url)
    t.equal(res.status, 400, url)
    t.equal(res.body.error.code, 'validation_error')
  }
})

t.test('GET /accounts: a client their own, staff every active one, a page at a time', async (t) => {
  const env = await testApp(t)
  const { ids, db } = env
  const bob = await (await as(env, 'bob@acme.test')).get('/api/v1/accounts')
  t.equal(bob.status, 200)
  t.same(bob.body, { items: [{ id: ids.account['Acme Corporation'], name: 'Acme Corporation', active: true, manager: false }], total: 1, page: 1, perPage: 50 })
  const gina = await (await as(env, 'gina@globex.test')).get('/api/v1/accounts')
  t.same(gina.body.items, [{ id: ids.account['Globex Industries'], name: 'Globex Industries', active: true, manager: true }], 'the Globex manager sees nothing of Acme')
  const carol = await as(env, 'carol@acme.test')
  t.same((await carol.get('/api/v1/accounts')).body.items.map((a: Json) => a.name), ['Acme Corporation', 'Globex Industries'])
  t.same((await carol.get('/api/v1/accounts?q=glob')).body.items.map((a: Json) => a.name), ['Globex Industries'], 'q narrows by name')
  t.same((await carol.get('/api/v1/accounts?q=initech')).body, { items: [], total: 0, page: 1, perPage: 50 }, 'never another account, even by name')

  await db.updateTable('account').set({ active: 0 }).where('name', '=', 'Initech Ltd').execute()
  await db.updateTable('account').set({ active: 0 }).where('name', '=', 'Globex Industries').execute()
  t.same((await carol.get('/api/v1/accounts')).body.items.map((a: Json) => [a.name, a.active]), [['Acme Corporation', true], ['Globex Industries', false]],
    'a client still sees their account turned off, marked so')

  const bruno = await as(env, 'bruno@casebridge.test')
  const all = await bruno.get('/api/v1/accounts')
  t.same(all.body.items.map((a: Json) => a.name), ['Acme Corporation'], 'staff: active accounts only')
  await db.updateTable('account').set({ active: 1 }).execute()
  const page2 = await bruno.get('/api/v1/accounts?perPage=2&page=2')
  t.same(page2.body, { items: [{ id: ids.account['Initech Ltd'], name: 'Initech Ltd', active: true, manager: false }], total: 3, page: 2, perPage: 2 })
  t.same((await bruno.get('/api/v1/accounts?q=%25')).body.items, [], 'a % is a character, not a wildcard')

  for (const url of ['/api/v1/accounts?perPage=0', '/api/v1/accounts?perPage=101', '/api/v1/accounts?page=x', '/api/v1/accounts?sort=name', `/api/v1/accounts?q=${'a'.repeat(201)}`]) {
    const res = await bruno.get(url)
    t.equal(res.status, 400, url)
    t.equal(res.body.error.code, 'validation_error')
  }
})

t.test('tickets carry their resolution and closure, notes their occurrence category and origin', async (t) => {
  const env = await testApp(t)
  const { db, ids } = env
  const ticket = await makeTicket(db, ids, { title: 'Jammed again' })
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const staff = await as(env, 'ana@casebridge.test')
  const bob = await as(env, 'bob@acme.test')

  const fresh = await bob.get(`/api/v1/tickets/${ticket.id}`)
  t.match(fresh.body, { resolution: null, closureCategory: null, closureNote: null })

  await transition(db, ana, ticket.id, { action: 'pick_up' }, new Date())
  await registerOccurrence({ db, clock: () => new Date() }, ana, ticket.id, {
    category: 'error', origin: 'Phone call', description: 'Called about the jam', occurredAt: '2026-12-01T09:30:00.000Z', visibleToRequester: true
  })
  const resolved = await staff.post(`/api/v1/tickets/${ticket.id}/transitions`, { action: 'resolve', resolution: 'Cleaned the rollers' })
  t.equal(resolved.status, 200)
  t.match(resolved.body, { resolution: 'Cleaned the rollers', closureCategory: null, closureNote: null })
  const closed = await staff.post(`/api/v1/tickets/${ticket.id}/transitions`, { action: 'close', closureCategory: 'workaround', closureNote: 'Rollers to be replaced' })
  t.equal(closed.status, 200)
  t.match(closed.body, { state: 'closed', resolution: 'Cleaned the rollers', closureCategory: 'workaround', closureNote: 'Rollers to be replaced' })

  for (const who of [bob, staff]) {
    const read = await who.get(`/api/v1/tickets/${ticket.id}`)
    t.match(read.body, { resolution: 'Cleaned the rollers', closureCategory: 'workaround', closureNote: 'Rollers to be replaced' })
    const occurrence = read.body.notes.find((n: Json) => n.kind === 'occurrence')
    t.match(occurrence, { body: 'Called about the jam', occurrenceCategory: 'error', occurrenceOrigin: 'phone', occurredAt: '2026-12-01T09:30:00.000Z' })
    for (const note of read.body.notes.filter((n: Json) => n.kind !== 'occurrence')) {
      t.match(note, { occurrenceCategory: null, occurrenceOrigin: null, occurredAt: null }, `a ${note.kind} has no occurrence fields`)
    }
  }
  const list = await bob.get('/api/v1/tickets')
  t.notOk('resolution' in list.body.items[0], 'the list stays a summary')
})
