// The administration API (issue 14): admins' tokens only; the same commands as the admin pages,
// so the same refusals (422 naming the command's fields, 404, never a 5xx) and the same audit rows.
import t from 'tap'
import { testApp, apiToken, type TestEnv } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'

function client(e: TestEnv, token: string) {
  return (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}) => e.app.inject({
    method, url: `/api/v1/admin${url}`,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    payload: body === undefined ? undefined : JSON.stringify(body)
  })
}

const WEEK = { 1: '09:00-18:00', 2: '09:00-18:00', 3: '09:00-18:00', 4: '09:00-18:00', 5: '09:00-18:00' }

t.test('only an admin token reaches the administration API', async (t) => {
  const e = await testApp(t)
  for (const email of ['ana@casebridge.test', 'bob@acme.test']) {
    const call = client(e, await apiToken(e.db, email))
    const list = await call('GET', '/desks')
    t.equal(list.statusCode, 403, `${email} reads nothing`)
    t.equal(list.json().error.code, 'forbidden')
    t.equal((await call('POST', '/products', { name: 'Sneaky', code: '', active: true })).statusCode, 403, `${email} writes nothing`)
  }
  t.equal((await e.db.selectFrom('product').select('id').where('name', '=', 'Sneaky').execute()).length, 0)
  const anonymous = await e.app.inject({ method: 'GET', url: '/api/v1/admin/desks' })
  t.equal(anonymous.statusCode, 401)
})

t.test('a desk with business hours, a product and a catalog item through the API; the SLA clock uses them', async (t) => {
  const e = await testApp(t)
  const call = client(e, await apiToken(e.db, 'admin@casebridge.test'))
  const calendar = await call('POST', '/calendars', { name: 'Lisbon office', timeZone: 'Europe/Lisbon', hours: WEEK, holidays: [{ day: '2027-01-04', name: 'Closed' }] })
  t.equal(calendar.statusCode, 201, calendar.body)
  t.match(calendar.json(), { name: 'Lisbon office', timeZone: 'Europe/Lisbon', hours: { 1: '09:00-18:00', 6: '' }, holidays: [{ day: '2027-01-04', name: 'Closed' }] })
  const product = await call('POST', '/products', { name: 'Scanner', code: 'SC-1', active: true })
  t.equal(product.statusCode, 201)
  const area = await call('POST', '/catalog', { areaId: null, name: 'Devices', ticketType: 'incident', active: true })
  const item = await call('POST', '/catalog', { areaId: area.json().id, name: 'Scanner jam', ticketType: 'incident', active: true })
  t.equal(item.statusCode, 201)
  const carla = e.ids.staff['carla@casebridge.test']
  const desk = await call('POST', '/desks', {
    name: 'Device Desk', managerId: carla, memberIds: [carla], productIds: [product.json().id], categoryIds: [item.json().id],
    calendarId: calendar.json().id, autoCloseDays: 3
  })
  t.equal(desk.statusCode, 201, desk.body)
  t.match(desk.json(), { name: 'Device Desk', calendarId: calendar.json().id, autoCloseDays: 3, memberIds: [carla] })
  const targets = await call('PUT', `/catalog/${item.json().id}/sla`, { critical: { responseMinutes: 30, resolutionMinutes: 120 } })
  t.same(targets.json(), { changed: true })
  t.same((await call('GET', `/catalog/${item.json().id}/sla`)).json(), { critical: { responseMinutes: 30, resolutionMinutes: 120 } })

  // Friday 17:50 in Lisbon (UTC in winter), Monday a holiday: 10 minutes on Friday, 20 on Tuesday.
  e.ids.desk['Device Desk'] = desk.json().id
  e.ids.category['Scanner jam'] = item.json().id
  const ticket = await makeTicket(e.db, e.ids, { desk: 'Device Desk', category: 'Scanner jam', product: null, priority: 'critical', now: new Date('2027-01-01T17:50:00.000Z') })
  const row = await e.db.selectFrom('ticket').select(['response_due_at', 'assignee_id']).where('id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same(row, { response_due_at: '2027-01-05T09:20:00.000Z', assignee_id: carla })

  const audit = await e.db.selectFrom('admin_audit').select(['entity', 'action']).orderBy('id').execute()
  t.same(audit.map((a) => `${a.entity} ${a.action}`), ['calendar create', 'product create', 'catalog_area create', 'catalog_item create', 'desk create', 'catalog_item sla_targets'])
  t.equal((await call('GET', '/desks')).json().length, 3)
  t.ok((await call('GET', '/catalog')).json().some((c: { name: string }) => c.name === 'Scanner jam'))
})

t.test('bad input: a 4xx naming the field, nothing written', async (t) => {
  const e = await testApp(t)
  const call = client(e, await apiToken(e.db, 'admin@casebridge.test'))
  const cases: [string, 'POST' | 'PUT' | 'DELETE', string, unknown, number, string][] = [
    ['a desk name taken', 'POST', '/desks', { name: 'service desk', managerId: null, memberIds: [], productIds: [], categoryIds: [], calendarId: null, autoCloseDays: null }, 422, 'name'],
    ['an unknown calendar', 'POST', '/desks', { name: 'X', managerId: null, memberIds: [], productIds: [], categoryIds: [], calendarId: 999999, autoCloseDays: null }, 422, 'calendarId'],
    ['auto-close days out of range', 'POST', '/desks', { name: 'X', managerId: null, memberIds: [], productIds: [], categoryIds: [], calendarId: null, autoCloseDays: 0 }, 422, 'autoCloseDays'],
    ['a field missing', 'POST', '/desks', { name: 'X' }, 400, 'managerId'],
    ['an unknown field', 'POST', '/products', { name: 'X', code: '', active: true, colour: 'red' }, 400, 'colour'],
    ['a string for a boolean', 'POST', '/products', { name: 'X', code: '', active: 'yes' }, 400, 'active'],
    ['hours that cannot be read', 'POST', '/calendars', { name: 'C', timeZone: 'UTC', hours: { 1: 'nine to six' }, holidays: [] }, 422, 'hours.1'],
    ['an unknown zone', 'POST', '/calendars', { name: 'C', timeZone: 'Mars/Base', hours: WEEK, holidays: [] }, 422, 'timeZone'],
    ['a holiday that is no date', 'POST', '/calendars', { name: 'C', timeZone: 'UTC', hours: WEEK, holidays: [{ day: '2027-13-01', name: 'x' }] }, 422, 'holidays'],
    ['a weekday that does not exist', 'POST', '/calendars', { name: 'C', timeZone: 'UTC', hours: { 8: '09:00-10:00' }, holidays: [] }, 400, 'hours'],
    ['resolution before response', 'PUT', `/catalog/${e.ids.category['Printer problem']}/sla`, { low: { responseMinutes: 60, resolutionMinutes: 30 } }, 422, 'low.resolutionMinutes'],
    ['targets for an area', 'PUT', `/catalog/${e.ids.category['Hardware']}/sla`, {}, 404, ''],
    ['a contact without an account', 'POST', '/contacts', { name: 'N', email: 'n@acme.test', locale: null, phone: '', memberships: [] }, 422, 'memberships'],
    ['an address in use', 'POST', '/contacts', { name: 'N', email: 'BOB@acme.test', locale: null, phone: '', memberships: [{ accountId: e.ids.account['Acme Corporation'], manager: false }] }, 422, 'email'],
    ['an account that does not exist', 'PUT', '/accounts/999999', { name: 'Nope' }, 404, ''],
    ['a calendar that does not exist', 'DELETE', '/calendars/999999', undefined, 404, '']
  ]
  for (const [name, method, url, body, status, field] of cases) {
    const res = await call(method, url, body)
    t.equal(res.statusCode, status, `${name}: ${res.body}`)
    if (field) t.match(JSON.stringify(res.json().error), field, `${name} names ${field}`)
  }
  t.equal((await e.db.selectFrom('admin_audit').select('id').execute()).length, 0, 'nothing written')
  t.equal((await e.db.selectFrom('business_calendar').select('id').execute()).length, 0)
})

t.test('accounts and contacts: created, changed, owed to the CRM; a calendar in use is refused on delete', async (t) => {
  const e = await testApp(t)
  const call = client(e, await apiToken(e.db, 'admin@casebridge.test'))
  const account = await call('POST', '/accounts', { name: 'Hooli' })
  t.equal(account.statusCode, 201)
  const contact = await call('POST', '/contacts', { name: 'Gavin Belson', email: 'gavin@hooli.test', locale: 'en', phone: '+1 555 0111', memberships: [{ accountId: account.json().id, manager: true }] })
  t.equal(contact.statusCode, 201, contact.body)
  t.match(contact.json(), { email: 'gavin@hooli.test', invited: true, memberships: [{ accountId: account.json().id, manager: true }] })
  const changed = await call('PUT', `/contacts/${contact.json().id}`, { name: 'Gavin B.', email: 'gavin@hooli.test', locale: 'en', phone: '', memberships: [{ accountId: account.json().id, manager: true }] })
  t.same(changed.json(), { changed: true })
  t.same((await call('PUT', `/accounts/${account.json().id}`, { name: 'Hooli' })).json(), { changed: false }, 'the same name changes nothing')
  const owed = await e.db.selectFrom('crm_people_outbox').select(['entity', 'entity_id']).where('status', '=', 'pending').orderBy('id').execute()
  t.same(owed, [{ entity: 'account', entity_id: account.json().id }, { entity: 'contact', entity_id: contact.json().id }], 'one row each (the edit joins the waiting one)')
  t.ok((await call('GET', '/accounts?q=hoo')).json().some((a: { name: string; active: boolean }) => a.name === 'Hooli' && a.active))
  t.same((await call('PUT', `/accounts/${account.json().id}`, { name: 'Hooli', active: false })).json(), { changed: true }, 'turned off')
  t.ok((await call('GET', '/accounts?q=hoo')).json().some((a: { name: string; active: boolean }) => a.name === 'Hooli' && !a.active))
  t.equal((await e.db.selectFrom('crm_people_outbox').select('id').where('status', '=', 'pending').execute()).length, 2, 'turning an account off owes the CRM nothing')
  const accountLog = await e.db.selectFrom('admin_audit').select(['action', 'changes']).where('entity', '=', 'account').where('entity_id', '=', account.json().id).orderBy('id').execute()
  t.same(accountLog.map((r) => r.action), ['create', 'disable'], 'turned off through the API: the same audit row as on its page (the unchanged name wrote none)')

  // A duplicate of Gavin merged into him through the API.
  const twin = await call('POST', '/contacts', { name: 'G. Belson', email: 'g.belson@hooli.test', locale: null, phone: '', memberships: [{ accountId: e.ids.account['Acme Corporation'], manager: false }] })
  const merged = await call('POST', `/contacts/${contact.json().id}/merge`, { mergeId: twin.json().id })
  t.same(merged.json(), { tickets: 0 }, merged.body)
  t.match((await call('GET', `/contacts/${twin.json().id}`)).json(), { active: false, mergedIntoId: contact.json().id })
  t.match((await call('GET', `/contacts/${contact.json().id}`)).json().memberships, [{ accountId: e.ids.account['Acme Corporation'] }, { accountId: account.json().id }].sort((x, y) => x.accountId - y.accountId))
  const self = await call('POST', `/contacts/${contact.json().id}/merge`, { mergeId: contact.json().id })
  t.equal(self.statusCode, 422, 'not into itself')

  const calendar = await call('POST', '/calendars', { name: 'HQ', timeZone: 'America/Los_Angeles', hours: WEEK, holidays: [] })
  const deskId = e.ids.desk['Service Desk']
  const desk = (await call('GET', `/desks/${deskId}`)).json()
  t.equal((await call('PUT', `/desks/${deskId}`, { ...desk, calendarId: calendar.json().id })).statusCode, 400, 'the id is not a field to send')
  const { id: _id, ...fields } = desk
  t.same((await call('PUT', `/desks/${deskId}`, { ...fields, calendarId: calendar.json().id })).json(), { changed: true })
  const refused = await call('DELETE', `/calendars/${calendar.json().id}`)
  t.equal(refused.statusCode, 422)
  t.match(refused.json().error.fields.calendarId, 'Service Desk')
  await call('PUT', `/desks/${deskId}`, { ...fields, calendarId: null })
  t.equal((await call('DELETE', `/calendars/${calendar.json().id}`)).statusCode, 204)
})

t.test('staff through the API: added with an invitation, changed, turned off; the same refusals as the pages', async (t) => {
  const e = await testApp(t)
  const call = client(e, await apiToken(e.db, 'admin@casebridge.test'))
  t.equal((await client(e, await apiToken(e.db, 'ana@casebridge.test'))('GET', '/staff')).statusCode, 403, 'a staff token reads no staff list')
  const desk = e.ids.desk['Service Desk']
  const fields = { name: 'Dora Diaz', email: 'Dora@casebridge.test', locale: 'pt-BR', role: 'staff', canDelete: false, hourlyRateCents: 9000, available: true, deskIds: [desk], productIds: [] }
  const added = await call('POST', '/staff', fields)
  t.equal(added.statusCode, 201, added.body)
  t.match(added.json(), { name: 'Dora Diaz', email: 'dora@casebridge.test', role: 'staff', active: true, deskIds: [desk], openTickets: 0, crmUserId: null })
  const dora = added.json().id
  t.equal(added.headers.location, `/api/v1/admin/staff/${dora}`)
  t.ok(await e.db.selectFrom('mail_outbox').select('id').where('recipient', '=', 'dora@casebridge.test').where('template', '=', 'account.invitation').executeTakeFirst(), 'invited to set a password')
  t.ok((await call('GET', '/staff?q=dora')).json().some((s: { id: number; invited: boolean; desks: string[] }) => s.id === dora && s.invited && s.desks.includes('Service Desk')))

  const bad = await call('POST', '/staff', { ...fields, email: 'ana@casebridge.test', role: 'boss', hourlyRateCents: -1, deskIds: [999999] })
  t.equal(bad.statusCode, 422)
  t.same(Object.keys(bad.json().error.fields).sort(), ['deskIds', 'email', 'hourlyRateCents', 'role'], 'each field named')
  t.equal((await call('POST', '/staff', { ...fields, email: 'x@casebridge.test', extra: 1 })).statusCode, 400, 'a field the endpoint does not take')

  t.same((await call('PUT', `/staff/${dora}`, { ...fields, role: 'admin' })).json(), { changed: true })
  t.match((await call('GET', `/staff/${dora}`)).json(), { role: 'admin', canDelete: true }, 'an admin may always delete')
  t.same((await call('PUT', `/staff/${dora}`, { ...fields, role: 'admin' })).json(), { changed: false }, 'the same fields change nothing')
  const off = await call('POST', `/staff/${dora}/active`, { active: false })
  t.same(off.json(), { changed: true, openTickets: 0 })
  t.match((await call('GET', `/staff/${dora}`)).json(), { active: false })
  const me = e.ids.staff['admin@casebridge.test']
  const self = await call('POST', `/staff/${me}/active`, { active: false })
  t.equal(self.statusCode, 422, 'not one’s own account')
  t.ok(self.json().error.fields.active)
  t.equal((await call('GET', '/staff/999999')).statusCode, 404)
  const log = await e.db.selectFrom('admin_audit').select(['entity', 'action']).where('entity', '=', 'staff').orderBy('id').execute()
  t.same(log.map((r) => r.action), ['create', 'update', 'disable'], 'audited like the pages')
})
