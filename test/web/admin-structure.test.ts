// Desks and products from the administration pages (issue 14): a new product served by a new
// desk receives its tickets, assigned to the desk's members; bad input names its fields and
// writes nothing; every change is in the audit log; products are turned off, never deleted.
import t from 'tap'
import { testApp, loginAs, apiToken } from '../helpers/app.js'
import { listProducts } from '../../src/db/catalog.js'

t.test('only admins reach the desk and product pages', async (t) => {
  const e = await testApp(t)
  const ana = await loginAs(e.app, 'ana@casebridge.test')
  for (const url of ['/admin/desks', '/admin/desks/new', '/admin/products', `/admin/desks/${e.ids.desk['Service Desk']}`]) {
    t.equal((await ana.get(url)).statusCode, 404, url)
  }
  t.equal((await ana.post('/admin/products', { name: 'Sneaky', code: '', active: 'on' }, { csrfFrom: '/desk' })).statusCode, 404)
  t.equal((await e.db.selectFrom('product').select('id').where('name', '=', 'Sneaky').execute()).length, 0)
})

t.test('a new product served by a new desk: its tickets go there, to the desk’s members', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const added = await admin.post('/admin/products', { name: 'Zeta Scanner', code: 'ZS-1', active: 'on' }, { csrfFrom: '/admin/products' })
  t.equal(added.statusCode, 302)
  const product = await e.db.selectFrom('product').selectAll().where('name', '=', 'Zeta Scanner').executeTakeFirstOrThrow()
  t.match(product, { code: 'ZS-1', active: 1 })
  const carla = e.ids.staff['carla@casebridge.test']
  const desk = await admin.post('/admin/desks', {
    name: 'Scanner Desk', manager: String(carla), members: [String(carla)], products: [String(product.id)], items: []
  }, { csrfFrom: '/admin/desks/new' })
  t.equal(desk.statusCode, 302)
  t.equal(desk.headers.location, '/admin/desks')
  const deskRow = await e.db.selectFrom('desk').selectAll().where('name', '=', 'Scanner Desk').executeTakeFirstOrThrow()
  t.equal(deskRow.manager_id, carla)
  const list = await admin.get('/admin/desks')
  t.match(list.body, 'Scanner Desk')
  t.match(list.body, 'Zeta Scanner')

  const token = await apiToken(e.db, 'bob@acme.test')
  const res = await e.app.inject({
    method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ title: 'Scanner jams', description: 'Every third page.', productId: product.id })
  })
  t.equal(res.statusCode, 201, res.body)
  const ticket = await e.db.selectFrom('ticket').select(['desk_id', 'assignee_id']).where('title', '=', 'Scanner jams').executeTakeFirstOrThrow()
  t.same(ticket, { desk_id: deskRow.id, assignee_id: carla }, 'on the new desk, with its one member')

  const log = (await e.db.selectFrom('admin_audit').select(['entity', 'action', 'label']).orderBy('id').execute())
  t.same(log, [{ entity: 'product', action: 'create', label: 'Zeta Scanner' }, { entity: 'desk', action: 'create', label: 'Scanner Desk' }])
  const page = await admin.get('/admin/audit')
  t.match(page.body, 'Scanner Desk')
})

t.test('bad desk and product input is refused field by field, and nothing is written', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const desksBefore = (await e.db.selectFrom('desk').select('id').execute()).length
  const bad = await admin.post('/admin/desks', { name: 'service DESK', manager: '999999', members: ['999998'], products: ['999997'], items: [String(e.ids.category['Hardware'] ?? 1)] }, { csrfFrom: '/admin/desks/new' })
  t.equal(bad.statusCode, 422)
  for (const id of ['name-error', 'manager-error', 'members-error', 'products-error']) t.match(bad.body, `id="${id}"`, id)
  t.match(bad.body, 'Another desk already has this name')
  const empty = await admin.post('/admin/desks', { name: '   ' }, { csrfFrom: '/admin/desks/new' })
  t.equal(empty.statusCode, 422)
  const notNumber = await admin.post('/admin/desks', { name: 'X Desk', members: ['abc'] }, { csrfFrom: '/admin/desks/new' })
  t.equal(notNumber.statusCode, 422)
  t.equal((await e.db.selectFrom('desk').select('id').execute()).length, desksBefore, 'no desk added')

  const dup = await admin.post('/admin/products', { name: 'casebridge cloud', code: '', active: 'on' }, { csrfFrom: '/admin/products' })
  t.equal(dup.statusCode, 422)
  t.match(dup.body, 'Another product already has this name')
  const long = await admin.post('/admin/products', { name: 'P', code: 'x'.repeat(41), active: 'on' }, { csrfFrom: '/admin/products' })
  t.equal(long.statusCode, 422)
  t.match(long.body, 'id="code-error"')
  t.equal((await e.db.selectFrom('admin_audit').selectAll().execute()).length, 0, 'nothing logged')
  t.equal((await admin.get('/admin/desks/999999')).statusCode, 404)
  t.equal((await admin.get('/admin/products/abc')).statusCode, 404)
})

t.test('editing a desk logs what changed; a product turned off is offered no more but stays on its tickets', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const deskId = e.ids.desk['Product Support']
  const page = await admin.get(`/admin/desks/${deskId}`)
  t.equal(page.statusCode, 200)
  const profile = await e.db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', deskId).orderBy('staff_id').execute()
  const products = await e.db.selectFrom('desk_product').select('product_id').where('desk_id', '=', deskId).execute()
  const same = {
    name: 'Product Support', manager: String(e.ids.staff['bruno@casebridge.test']),
    members: profile.map((r) => String(r.staff_id)), products: products.map((r) => String(r.product_id)), items: []
  }
  t.equal((await admin.post(`/admin/desks/${deskId}`, same, { csrfFrom: `/admin/desks/${deskId}` })).statusCode, 302)
  t.equal((await e.db.selectFrom('admin_audit').selectAll().execute()).length, 0, 'nothing changed, nothing logged')
  t.equal((await admin.post(`/admin/desks/${deskId}`, { ...same, name: 'Product Help' }, { csrfFrom: `/admin/desks/${deskId}` })).statusCode, 302)
  const rows = await e.db.selectFrom('admin_audit').selectAll().execute()
  t.equal(rows.length, 1)
  t.same(JSON.parse(rows[0].changes), { name: ['Product Support', 'Product Help'] })

  const mobile = e.ids.product['Mobile App']
  const ticket = await e.db.selectFrom('ticket').select('id').where('product_id', '=', mobile).execute()
  const off = await admin.post(`/admin/products/${mobile}`, { name: 'Mobile App', code: '' }, { csrfFrom: `/admin/products/${mobile}` })
  t.equal(off.statusCode, 302)
  t.notOk((await listProducts(e.db)).some((p) => p.id === mobile), 'no longer offered')
  t.same(await e.db.selectFrom('ticket').select('id').where('product_id', '=', mobile).execute(), ticket, 'its tickets keep it')
  t.match((await admin.get('/admin/products')).body, 'Turned off')
})

t.test('catalog areas and items: added, offered on new tickets, renamed, turned off; an area stays an area', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const { listCatalogItems } = await import('../../src/db/catalog.js')
  const page = '/admin/catalog/entries'
  t.equal((await admin.get(page)).statusCode, 200)
  t.equal((await admin.post(page, { area: '', name: 'Facilities', ticket_type: 'request', active: 'on' }, { csrfFrom: page })).statusCode, 302)
  const area = await e.db.selectFrom('category').selectAll().where('name', '=', 'Facilities').executeTakeFirstOrThrow()
  t.equal(area.parent_id, null)
  t.equal((await admin.post(page, { area: String(area.id), name: 'Broken chair', ticket_type: 'incident', active: 'on' }, { csrfFrom: page })).statusCode, 302)
  const item = await e.db.selectFrom('category').selectAll().where('name', '=', 'Broken chair').executeTakeFirstOrThrow()
  t.match(item, { parent_id: area.id, ticket_type: 'incident', active: 1 })
  t.ok((await listCatalogItems(e.db)).some((i) => i.id === item.id && i.area_name === 'Facilities'), 'offered at once')

  const dup = await admin.post(page, { area: String(area.id), name: 'BROKEN CHAIR', ticket_type: 'incident', active: 'on' }, { csrfFrom: page })
  t.equal(dup.statusCode, 422)
  t.match(dup.body, 'already has an entry with this name')
  const badType = await admin.post(page, { area: '', name: 'X', ticket_type: 'problem', active: 'on' }, { csrfFrom: page })
  t.equal(badType.statusCode, 422)
  t.match(badType.body, 'id="ticket_type-error"')
  const underItem = await admin.post(page, { area: String(item.id), name: 'Nested', ticket_type: 'incident', active: 'on' }, { csrfFrom: page })
  t.equal(underItem.statusCode, 422, 'items hang off areas, not off items')
  const areaUnder = await admin.post(`${page}/${area.id}`, { area: String(e.ids.category['Hardware'] ?? area.id), name: 'Facilities', ticket_type: 'request', active: 'on' }, { csrfFrom: `${page}/${area.id}` })
  t.equal(areaUnder.statusCode, 422, 'an area stays an area')
  const itemToArea = await admin.post(`${page}/${item.id}`, { area: '', name: 'Broken chair', ticket_type: 'incident', active: 'on' }, { csrfFrom: `${page}/${item.id}` })
  t.equal(itemToArea.statusCode, 422, 'an item stays an item')

  const off = await admin.post(`${page}/${item.id}`, { area: String(area.id), name: 'Broken chair or desk', ticket_type: 'incident' }, { csrfFrom: `${page}/${item.id}` })
  t.equal(off.statusCode, 302)
  t.notOk((await listCatalogItems(e.db)).some((i) => i.id === item.id), 'turned off: offered no more')
  const changes = await e.db.selectFrom('admin_audit').select(['entity', 'action', 'changes']).where('entity_id', '=', item.id).orderBy('id').execute()
  t.same(changes.map((c) => [c.entity, c.action]), [['catalog_item', 'create'], ['catalog_item', 'update']])
  t.same(JSON.parse(changes[1].changes), { name: ['Broken chair', 'Broken chair or desk'], active: [true, false] })
})

t.test('a desk’s e-mail address: an address, not another desk’s or a person’s; one desk takes mail that names none', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const post = (form: Record<string, string>) => admin.post('/admin/desks', { name: 'Billing', manager: '', calendar: '', auto_close_days: '', ...form }, { csrfFrom: '/admin/desks/new' })
  for (const [alias, message] of [['not an address', 'Enter a valid e-mail address'], ['ana@casebridge.test', 'Another desk or a person already has this address.']]) {
    const res = await post({ email_alias: alias })
    t.equal(res.statusCode, 422, alias)
    t.match(res.body, new RegExp(`id="email_alias-error">[^<]*${message.split(' ')[0]}`), message)
  }
  t.equal((await e.db.selectFrom('desk').select('id').where('name', '=', 'Billing').execute()).length, 0, 'nothing written')
  t.equal((await post({ email_alias: 'Billing@Example.com', inbound_default: 'on' })).statusCode, 302)
  t.equal((await admin.post('/admin/desks', { name: 'Billing 2', manager: '', calendar: '', auto_close_days: '', email_alias: 'billing@example.com' }, { csrfFrom: '/admin/desks/new' })).statusCode, 422, 'another desk’s address')
  t.equal((await admin.post('/admin/desks', { name: 'Front', manager: '', calendar: '', auto_close_days: '', email_alias: '', inbound_default: 'on' }, { csrfFrom: '/admin/desks/new' })).statusCode, 302)
  const desks = await e.db.selectFrom('desk').select(['name', 'email_alias', 'inbound_default']).where('name', 'in', ['Billing', 'Front']).orderBy('name').execute()
  t.same(desks, [{ name: 'Billing', email_alias: 'billing@example.com', inbound_default: 0 }, { name: 'Front', email_alias: null, inbound_default: 1 }], 'the last desk marked takes it from the one before')
})

t.test('a catalog item’s usual priority: its tickets get it when nobody chooses, and a choice still wins', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const item = e.ids.category['Printer problem']
  const area = (await e.db.selectFrom('category').select('parent_id').where('id', '=', item).executeTakeFirstOrThrow()).parent_id!
  const bad = await admin.post(`/admin/catalog/entries/${area}`, { area: '', name: 'Hardware', ticket_type: 'incident', active: 'on', default_priority: 'high' }, { csrfFrom: '/admin/catalog/entries' })
  t.equal(bad.statusCode, 422, 'an area has no priority of its own')
  t.equal((await admin.post(`/admin/catalog/entries/${item}`, { area: String(area), name: 'Printer problem', ticket_type: 'incident', active: 'on', default_priority: 'urgent' }, { csrfFrom: '/admin/catalog/entries' })).statusCode, 422, 'not a priority')
  t.equal((await admin.post(`/admin/catalog/entries/${item}`, { area: String(area), name: 'Printer problem', ticket_type: 'incident', active: 'on', default_priority: 'high' }, { csrfFrom: '/admin/catalog/entries' })).statusCode, 302)
  t.match((await admin.get(`/admin/catalog/entries/${item}`)).body, '<option value="high" selected>')

  const bob = await loginAs(e.app, 'bob@acme.test')
  const form = await bob.get('/portal/tickets/new')
  t.match(form.body, /<option value="" selected>Usual for the service<\/option>/, 'the portal offers the usual priority first')
  const open = (priority: string, title: string) => bob.postMultipart('/portal/tickets', { title, description: 'Streaks on every page.', category_id: String(item), priority }, [], { csrfFrom: '/portal/tickets/new' })
  t.equal((await open('', 'Streaks')).statusCode, 302)
  t.equal((await open('low', 'Streaks again')).statusCode, 302)
  const rows = await e.db.selectFrom('ticket').select(['title', 'priority']).where('title', 'like', 'Streaks%').orderBy('id').execute()
  t.same(rows, [{ title: 'Streaks', priority: 'high' }, { title: 'Streaks again', priority: 'low' }])
})
