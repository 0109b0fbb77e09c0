// Staff administration in the browser's terms (issue 14): an admin lists, adds (with an
// invitation), edits and turns off staff accounts; every change is in the audit log; bad input
// re-renders the form with a message per field and writes nothing.
import t from 'tap'
import { testApp, loginAs, apiToken, Agent } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'

const FORM = { name: 'Fabio Nunes', email: 'Fabio@Casebridge.test', locale: 'pt-BR', role: 'staff', hourly_rate: '52,50', available: 'on' }

t.test('only admins reach the staff pages', async (t) => {
  const e = await testApp(t)
  for (const [email, home] of [['ana@casebridge.test', '/desk'], ['bob@acme.test', '/portal']]) {
    const agent = await loginAs(e.app, email)
    t.equal((await agent.get('/admin/staff')).statusCode, 404, `${email}: not found`)
    t.equal((await agent.get('/admin/audit')).statusCode, 404)
    t.equal((await agent.post('/admin/staff', FORM, { csrfFrom: home })).statusCode, 404, `${email}: cannot add`)
  }
  t.equal((await e.db.selectFrom('staff').select('id').where('email', '=', 'fabio@casebridge.test').execute()).length, 0)
  const anonymous = new Agent(e.app)
  t.equal((await anonymous.get('/admin/staff')).statusCode, 302, 'to the login page')
})

t.test('an admin adds a staff member, who is invited and appears in the list and the log', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const list = await admin.get('/admin/staff')
  t.equal(list.statusCode, 200)
  t.match(list.body, 'Ana Souza')
  t.match(list.body, 'Eva Martins')
  const found = await admin.get('/admin/staff?q=BRUNO')
  t.match(found.body, 'bruno@casebridge.test')
  t.notMatch(found.body, 'ana@casebridge.test', 'the search narrows the list')

  const form = await admin.get('/admin/staff/new')
  t.equal(form.statusCode, 200)
  const res = await admin.post('/admin/staff', { ...FORM, desks: [String(e.ids.desk['Service Desk']), String(e.ids.desk['Product Support'])], products: [String(e.ids.product['Casebridge Cloud'])] }, { csrfFrom: '/admin/staff/new' })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/admin/staff')
  const row = await e.db.selectFrom('staff').selectAll().where('email', '=', 'fabio@casebridge.test').executeTakeFirstOrThrow()
  t.match(row, { name: 'Fabio Nunes', role: 'staff', locale: 'pt-BR', hourly_rate_cents: 5250, available: 1, active: 1, can_delete: 0, password_hash: null })
  const desks = await e.db.selectFrom('desk_member').select('desk_id').where('staff_id', '=', row.id).execute()
  t.equal(desks.length, 2)
  const mail = await e.db.selectFrom('mail_outbox').select(['recipient', 'template']).where('recipient', '=', 'fabio@casebridge.test').execute()
  t.same(mail, [{ recipient: 'fabio@casebridge.test', template: 'account.invitation' }], 'an invitation to set a password')
  const audit = await e.db.selectFrom('admin_audit').selectAll().where('entity_id', '=', row.id).execute()
  t.equal(audit.length, 1)
  t.match(audit[0], { entity: 'staff', action: 'create', actor_type: 'staff', actor_name: 'Alex Admin', label: 'Fabio Nunes' })
  t.match(JSON.parse(audit[0].changes), { email: [null, 'fabio@casebridge.test'], hourlyRateCents: [null, 5250] })
  const after = await admin.get('/admin/staff')
  t.match(after.body, 'Fabio Nunes')
  t.match(after.body, 'Invited, no password yet')
  const log = await admin.get('/admin/audit?entity=staff')
  t.equal(log.statusCode, 200)
  t.match(log.body, 'Fabio Nunes')
  t.match(log.body, 'Alex Admin')
})

t.test('bad input comes back with a message per field and writes nothing', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const before = await e.db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const bad = await admin.post('/admin/staff', { name: '', email: 'not-an-address', locale: 'xx', role: 'owner', hourly_rate: '12.345', desks: ['999999'] }, { csrfFrom: '/admin/staff/new' })
  t.equal(bad.statusCode, 422)
  for (const id of ['name-error', 'email-error', 'locale-error', 'role-error', 'hourly_rate-error', 'desks-error']) t.match(bad.body, `id="${id}"`, id)
  t.match(bad.body, 'value="not-an-address"', 'what was typed is kept')
  const taken = await admin.post('/admin/staff', { ...FORM, email: 'BOB@acme.test' }, { csrfFrom: '/admin/staff/new' })
  t.equal(taken.statusCode, 422)
  t.match(taken.body, 'already belongs to someone', 'an address a client uses')
  const notNumber = await admin.post('/admin/staff', { ...FORM, desks: ['abc'] }, { csrfFrom: '/admin/staff/new' })
  t.equal(notNumber.statusCode, 422, 'a desk that is not a number')
  const control = await admin.post('/admin/staff', { ...FORM, name: 'Fabio\u0000' }, { csrfFrom: '/admin/staff/new' })
  t.equal(control.statusCode, 422, 'a control character')
  const after = await e.db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  t.equal(Number(after.n), Number(before.n), 'no one added')
  t.equal((await e.db.selectFrom('admin_audit').selectAll().execute()).length, 0, 'nothing logged')
  t.equal((await admin.get('/admin/staff/999999')).statusCode, 404)
  t.equal((await admin.get('/admin/staff/abc')).statusCode, 404)
})

t.test('editing records only what changed; the last admin keeps the role', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const bruno = e.ids.staff['bruno@casebridge.test']
  const page = await admin.get(`/admin/staff/${bruno}`)
  t.equal(page.statusCode, 200)
  t.match(page.body, 'value="Bruno Lima"')
  const same = { name: 'Bruno Lima', email: 'bruno@casebridge.test', locale: '', role: 'staff', hourly_rate: '60.00', available: 'on', desks: [String(e.ids.desk['Service Desk'])] }
  const unchanged = await admin.post(`/admin/staff/${bruno}`, same, { csrfFrom: `/admin/staff/${bruno}` })
  t.equal(unchanged.statusCode, 302)
  t.equal((await e.db.selectFrom('admin_audit').selectAll().execute()).length, 0, 'nothing changed, nothing logged')
  const moved = await admin.post(`/admin/staff/${bruno}`, { ...same, desks: [String(e.ids.desk['Product Support'])], can_delete: 'on' }, { csrfFrom: `/admin/staff/${bruno}` })
  t.equal(moved.statusCode, 302)
  const rows = await e.db.selectFrom('admin_audit').selectAll().execute()
  t.equal(rows.length, 1)
  t.same(JSON.parse(rows[0].changes), { canDelete: [false, true], deskIds: [[e.ids.desk['Service Desk']], [e.ids.desk['Product Support']]] }, 'the two fields that changed, before and after')
  const staff = await e.db.selectFrom('desk_member').select('desk_id').where('staff_id', '=', bruno).execute()
  t.same(staff.map((r) => r.desk_id), [e.ids.desk['Product Support']])

  const me = e.ids.staff['admin@casebridge.test']
  const demote = await admin.post(`/admin/staff/${me}`, { name: 'Alex Admin', email: 'admin@casebridge.test', locale: '', role: 'staff', hourly_rate: '0', can_delete: 'on' }, { csrfFrom: `/admin/staff/${me}` })
  t.equal(demote.statusCode, 422)
  t.match(demote.body, 'last active administrator')
  t.equal((await e.db.selectFrom('staff').select('role').where('id', '=', me).executeTakeFirstOrThrow()).role, 'admin')
  const off = await admin.post(`/admin/staff/${me}/active`, { active: 'off' }, { csrfFrom: `/admin/staff/${me}` })
  t.equal(off.statusCode, 302)
  t.equal((await e.db.selectFrom('staff').select('active').where('id', '=', me).executeTakeFirstOrThrow()).active, 1, 'not one’s own account')
})

t.test('a staff member turned off cannot log in, loses their sessions and gets no new tickets; turned on again, they can', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const bruno = e.ids.staff['bruno@casebridge.test']
  const brunoAgent = await loginAs(e.app, 'bruno@casebridge.test')
  t.equal((await brunoAgent.get('/desk')).statusCode, 200)
  await makeTicket(e.db, e.ids, { desk: 'Service Desk' })
  const open = Number((await e.db.selectFrom('staff').select('open_tickets').where('id', '=', bruno).executeTakeFirstOrThrow()).open_tickets)

  const off = await admin.post(`/admin/staff/${bruno}/active`, { active: 'off' }, { csrfFrom: `/admin/staff/${bruno}` })
  t.equal(off.statusCode, 302)
  const page = await admin.get(`/admin/staff/${bruno}`)
  t.match(page.body, 'turned off')
  t.equal((await brunoAgent.get('/desk')).statusCode, 302, 'the open session ended')
  const again = new Agent(e.app)
  const login = await again.post('/login', { email: 'bruno@casebridge.test', password: 'staff-demo-pass' })
  t.not(login.statusCode, 302, 'no login')
  for (let i = 0; i < 6; i++) {
    const ticket = await makeTicket(e.db, e.ids, { desk: 'Service Desk' })
    t.not(ticket.assignee_id, bruno, `ticket ${i + 1} goes to someone else`)
  }
  t.equal(Number((await e.db.selectFrom('staff').select('open_tickets').where('id', '=', bruno).executeTakeFirstOrThrow()).open_tickets), open, 'their tickets stay with them')

  const on = await admin.post(`/admin/staff/${bruno}/active`, { active: 'on' }, { csrfFrom: `/admin/staff/${bruno}` })
  t.equal(on.statusCode, 302)
  await loginAs(e.app, 'bruno@casebridge.test')
  const actions = (await e.db.selectFrom('admin_audit').select('action').where('entity_id', '=', bruno).orderBy('id').execute()).map((r) => r.action)
  t.same(actions, ['disable', 'enable'])
  const events = (await e.db.selectFrom('security_event').select('kind').where('staff_id', '=', bruno).where('kind', 'in', ['account_disabled', 'account_enabled']).orderBy('id').execute()).map((r) => r.kind)
  t.same(events, ['account_disabled', 'account_enabled'])
})

t.test('a manager and the reach of a supervisor: every desk’s tickets without being an admin', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const bruno = e.ids.staff['bruno@casebridge.test']
  const other = await makeTicket(e.db, e.ids, { desk: 'Product Support', title: 'Billing export fails' })
  const asBruno = await loginAs(e.app, 'bruno@casebridge.test')
  t.equal((await asBruno.get(`/desk/tickets/${other.number}`)).statusCode, 404, 'Bruno works the Service Desk only')

  const same = { name: 'Bruno Lima', email: 'bruno@casebridge.test', locale: '', role: 'staff', hourly_rate: '60.00', available: 'on', desks: [String(e.ids.desk['Service Desk'])] }
  const self = await admin.post(`/admin/staff/${bruno}`, { ...same, manager: String(bruno) }, { csrfFrom: `/admin/staff/${bruno}` })
  t.equal(self.statusCode, 422, 'not their own manager')
  t.match(self.body, /id="manager-error">/)
  const carla = e.ids.staff['carla@casebridge.test']
  t.equal((await admin.post(`/admin/staff/${bruno}`, { ...same, manager: String(carla), all_desks: 'on' }, { csrfFrom: `/admin/staff/${bruno}` })).statusCode, 302)
  t.match(await e.db.selectFrom('staff').select(['manager_id', 'all_desks', 'role']).where('id', '=', bruno).executeTakeFirstOrThrow(), { manager_id: carla, all_desks: 1, role: 'staff' })
  const page = await admin.get(`/admin/staff/${bruno}`)
  t.match(page.body, `<option value="${carla}" selected>Carla Mendes</option>`)
  t.match(page.body, /name="all_desks" value="on" checked/)
  t.equal((await asBruno.get(`/desk/tickets/${other.number}`)).statusCode, 200, 'now he reaches the other desk’s tickets, at his next request')
  t.equal((await asBruno.get('/admin')).statusCode, 404, 'and is still no admin')
  const log = await e.db.selectFrom('admin_audit').select('changes').where('entity', '=', 'staff').where('entity_id', '=', bruno).executeTakeFirstOrThrow()
  t.match(JSON.parse(log.changes), { managerId: [null, carla], allDesks: [false, true] }, 'audited before and after')
})

t.test('the catalog areas a staff member serves: assignment gives them only tickets of items in those areas', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const area = async (name: string) => String((await e.db.selectFrom('category').select('id').where('name', '=', name).where('parent_id', 'is', null).executeTakeFirstOrThrow()).id)
  const serviceDesk = String(e.ids.desk['Service Desk'])
  const bruno = e.ids.staff['bruno@casebridge.test']
  const ana = e.ids.staff['ana@casebridge.test']
  const save = (id: number, form: Record<string, string | string[]>) => admin.post(`/admin/staff/${id}`, { locale: '', role: 'staff', hourly_rate: '60.00', available: 'on', ...form }, { csrfFrom: `/admin/staff/${id}` })
  const bad = await save(bruno, { name: 'Bruno Lima', email: 'bruno@casebridge.test', desks: [serviceDesk], areas: [String(e.ids.category['Printer problem'])] })
  t.equal(bad.statusCode, 422, 'an item is not an area')
  t.match(bad.body, /id="areas-error">/)
  t.equal((await save(bruno, { name: 'Bruno Lima', email: 'bruno@casebridge.test', desks: [serviceDesk], areas: [await area('Hardware')] })).statusCode, 302)
  t.equal((await save(ana, { name: 'Ana Souza', email: 'ana@casebridge.test', desks: [serviceDesk, String(e.ids.desk['Product Support'])], areas: [await area('Software')] })).statusCode, 302)
  t.match((await admin.get(`/admin/staff/${bruno}`)).body, new RegExp(`name="areas" value="${await area('Hardware')}" checked`))

  const token = await apiToken(e.db, 'bob@acme.test')
  const open = async (item: string) => {
    const res = await e.app.inject({
      method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ title: `About ${item}`, description: 'Details.', categoryId: e.ids.category[item] })
    })
    t.equal(res.statusCode, 201, res.body)
    return (await e.db.selectFrom('ticket').select('assignee_id').where('id', '=', res.json().id).executeTakeFirstOrThrow()).assignee_id
  }
  for (let i = 0; i < 3; i++) t.equal(await open('Printer problem'), bruno, 'Hardware: Bruno, however many he has')
  t.equal(await open('Install software'), ana, 'Software: Ana')
  t.equal(await open('Password reset'), null, 'an area nobody available serves waits in the queue for someone to pick it up')
})
