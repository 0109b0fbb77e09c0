// Service hours from the administration pages (issue 14): business-hours calendars that desks
// count their SLA targets in, a catalog item's own targets, a desk's own auto-closure days. The
// SLA clock is checked on tickets opened and held through the commands, on a real database.
import t, { type Test } from 'tap'
import { testApp, loginAs, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { transition, whoOf } from '../helpers/commands.js'
import { saveSlaTargets } from '../../src/commands/admin.js'
import { autoCloseJob } from '../../sync/jobs/index.js'
import { personWho } from '../../src/commands/kernel.js'
import { saveSettings } from '../../src/db/settings.js'

const WEEKDAYS_9_TO_6 = { hours_1: '09:00-18:00', hours_2: '09:00-18:00', hours_3: '09:00-18:00', hours_4: '09:00-18:00', hours_5: '09:00-18:00', hours_6: '', hours_7: '' }

async function deskForm(e: TestEnv, deskId: number) {
  const profile = await e.db.selectFrom('desk').selectAll().where('id', '=', deskId).executeTakeFirstOrThrow()
  const members = (await e.db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', deskId).execute()).map((m) => String(m.staff_id))
  const products = (await e.db.selectFrom('desk_product').select('product_id').where('desk_id', '=', deskId).execute()).map((m) => String(m.product_id))
  const items = (await e.db.selectFrom('desk_category').select('category_id').where('desk_id', '=', deskId).execute()).map((m) => String(m.category_id))
  return { name: profile.name, manager: profile.manager_id === null ? '' : String(profile.manager_id), members, products, items }
}

/** A Mon–Fri 9–18 calendar in `zone`, set on the Service Desk through the pages; returns its id. */
async function serviceDeskHours(t: Test, e: TestEnv, zone: string, holidays = ''): Promise<number> {
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const made = await admin.post('/admin/calendars', { name: `Office hours ${zone}`, time_zone: zone, holidays, ...WEEKDAYS_9_TO_6 }, { csrfFrom: '/admin/calendars/new' })
  t.equal(made.statusCode, 302, made.body)
  const calendar = await e.db.selectFrom('business_calendar').select('id').where('name', '=', `Office hours ${zone}`).executeTakeFirstOrThrow()
  const deskId = e.ids.desk['Service Desk']
  const saved = await admin.post(`/admin/desks/${deskId}`, { ...(await deskForm(e, deskId)), calendar: String(calendar.id) }, { csrfFrom: `/admin/desks/${deskId}` })
  t.equal(saved.statusCode, 302, saved.body)
  return calendar.id
}

t.test('only admins reach the business-hours pages', async (t) => {
  const e = await testApp(t)
  const ana = await loginAs(e.app, 'ana@casebridge.test')
  for (const url of ['/admin/calendars', '/admin/calendars/new', '/admin/sla/items']) t.equal((await ana.get(url)).statusCode, 404, url)
  t.equal((await ana.post('/admin/calendars', { name: 'Sneaky', time_zone: 'UTC', holidays: '', ...WEEKDAYS_9_TO_6 }, { csrfFrom: '/desk' })).statusCode, 404)
  t.equal((await e.db.selectFrom('business_calendar').select('id').execute()).length, 0)
})

t.test('a ticket opened Friday 17:55 with a 1-hour response target in Mon–Fri 9–18 is due Monday 09:55', async (t) => {
  const e = await testApp(t)
  await serviceDeskHours(t, e, 'UTC')
  // Critical: 60 minutes to respond, 240 to resolve (the default policy).
  const opened = await makeTicket(e.db, e.ids, { desk: 'Service Desk', priority: 'critical', now: new Date('2027-01-01T17:55:00.000Z') })
  const row = await e.db.selectFrom('ticket').select(['response_due_at', 'resolution_due_at', 'sla_at_risk_at']).where('id', '=', opened.id).executeTakeFirstOrThrow()
  t.same(row, {
    response_due_at: '2027-01-04T09:55:00.000Z',
    resolution_due_at: '2027-01-04T12:55:00.000Z',
    sla_at_risk_at: '2027-01-04T11:55:00.000Z'
  })
  // The other desk has no calendar: calendar time.
  const other = await makeTicket(e.db, e.ids, { desk: 'Product Support', priority: 'critical', now: new Date('2027-01-01T17:55:00.000Z') })
  const otherRow = await e.db.selectFrom('ticket').select(['response_due_at']).where('id', '=', other.id).executeTakeFirstOrThrow()
  t.equal(otherRow.response_due_at, '2027-01-01T18:55:00.000Z')
})

t.test('holidays are skipped and the time zone is the calendar’s', async (t) => {
  const e = await testApp(t)
  await serviceDeskHours(t, e, 'America/Sao_Paulo', '2027-01-04 Recesso\n2027-01-05')
  // Friday 17:55 in São Paulo is 20:55 UTC; Monday and Tuesday are holidays: Wednesday 09:55 there, 12:55 UTC.
  const opened = await makeTicket(e.db, e.ids, { desk: 'Service Desk', priority: 'critical', now: new Date('2027-01-01T20:55:00.000Z') })
  const row = await e.db.selectFrom('ticket').select('response_due_at').where('id', '=', opened.id).executeTakeFirstOrThrow()
  t.equal(row.response_due_at, '2027-01-06T12:55:00.000Z')
})

t.test('a hold gives back only the open time it took; the SLA badge follows the stored instants', async (t) => {
  const e = await testApp(t)
  await serviceDeskHours(t, e, 'UTC')
  // Monday 09:00, critical: resolution due 13:00, at risk from 12:00.
  const opened = await makeTicket(e.db, e.ids, { desk: 'Service Desk', priority: 'critical', now: new Date('2027-01-04T09:00:00.000Z') })
  const ticket = await e.db.selectFrom('ticket').select('assignee_id').where('id', '=', opened.id).executeTakeFirstOrThrow()
  const staff = await e.db.selectFrom('staff').select('email').where('id', '=', ticket.assignee_id!).executeTakeFirstOrThrow()
  const who = whoOf(await staffActor(e.db, e.ids, staff.email))
  await transition(e.db, who, opened.id, { action: 'pick_up' }, new Date('2027-01-04T09:30:00.000Z'))
  await transition(e.db, who, opened.id, { action: 'hold', reason: 'Waiting for the part' }, new Date('2027-01-04T11:00:00.000Z'))
  // Held overnight: Monday 11:00-18:00 and Tuesday 09:00-10:00 are eight open hours.
  await transition(e.db, who, opened.id, { action: 'resume' }, new Date('2027-01-05T10:00:00.000Z'))
  const row = await e.db.selectFrom('ticket').select(['resolution_due_at', 'sla_at_risk_at', 'sla_paused_ms']).where('id', '=', opened.id).executeTakeFirstOrThrow()
  t.same(row, { resolution_due_at: '2027-01-05T12:00:00.000Z', sla_at_risk_at: '2027-01-05T11:00:00.000Z', sla_paused_ms: 23 * 3_600_000 },
    'two open hours were left to resolution and one to at risk; 23 hours on hold in calendar time')
})

t.test('calendar form: bad input is named field by field and nothing is written', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const cases: [string, Record<string, string>, string[], string][] = [
    ['no name, unknown zone', { name: ' ', time_zone: 'Mars/Olympus' }, ['name-error', 'time_zone-error'], 'Enter a time zone'],
    ['unreadable hours', { hours_1: '9 to 6' }, ['hours_1-error'], 'Write the hours as 09:00-18:00'],
    ['hours that end before they start', { hours_2: '18:00-09:00' }, ['hours_2-error'], 'Write the hours'],
    ['overlapping periods', { hours_3: '08:00-12:00, 11:00-17:00' }, ['hours_3-error'], 'Write the hours'],
    ['past midnight', { hours_4: '20:00-25:00' }, ['hours_4-error'], 'Write the hours'],
    ['closed all week', { hours_1: '', hours_2: '', hours_3: '', hours_4: '', hours_5: '' }, ['hours-error'], 'Open at least one day'],
    ['a holiday that is not a date', { holidays: '2027-12-25 Christmas\nNew Year 2028-01-01' }, ['holidays-error'], 'Line 2: start with a date'],
    ['a date that does not exist', { holidays: '2027-02-30 Nope' }, ['holidays-error'], 'Line 1'],
    ['a control character', { name: 'Office\u0007' }, ['name-error'], '']
  ]
  for (const [name, patch, errors, message] of cases) {
    const res = await admin.post('/admin/calendars', { name: 'Office', time_zone: 'UTC', holidays: '', ...WEEKDAYS_9_TO_6, ...patch }, { csrfFrom: '/admin/calendars/new' })
    t.equal(res.statusCode, 422, name)
    for (const id of errors) t.match(res.body, `id="${id}"`, `${name}: ${id}`)
    if (message) t.match(res.body, message, name)
  }
  const array = await admin.post('/admin/calendars', { name: ['a', 'b'], time_zone: 'UTC' }, { csrfFrom: '/admin/calendars/new' })
  t.equal(array.statusCode, 400, 'a malformed body is a plain 400')
  t.equal((await e.db.selectFrom('business_calendar').select('id').execute()).length, 0, 'no calendar')
  t.equal((await e.db.selectFrom('admin_audit').select('id').execute()).length, 0, 'nothing logged')

  const ok = await admin.post('/admin/calendars', { name: 'Office', time_zone: 'Europe/Lisbon', holidays: '2027-12-25 Christmas\n\n2027-12-25 Twice', ...WEEKDAYS_9_TO_6, hours_6: '9:00-13:00' }, { csrfFrom: '/admin/calendars/new' })
  t.equal(ok.statusCode, 302)
  const dup = await admin.post('/admin/calendars', { name: 'OFFICE', time_zone: 'UTC', holidays: '', ...WEEKDAYS_9_TO_6 }, { csrfFrom: '/admin/calendars/new' })
  t.equal(dup.statusCode, 422)
  t.match(dup.body, 'Other business hours already have this name')
  const list = await admin.get('/admin/calendars')
  t.match(list.body, 'Europe/Lisbon')
  t.match(list.body, 'Saturday 09:00-13:00')
  const holidays = await e.db.selectFrom('business_holiday').select(['day', 'name']).execute()
  t.same(holidays, [{ day: '2027-12-25', name: 'Twice' }], 'one row per date, the last name given')
})

t.test('a calendar in use is not deleted; editing and deleting are audited', async (t) => {
  const e = await testApp(t)
  const calendarId = await serviceDeskHours(t, e, 'UTC')
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const edit = await admin.post(`/admin/calendars/${calendarId}`, { name: 'Office hours UTC', time_zone: 'UTC', holidays: '2027-04-02 Good Friday', ...WEEKDAYS_9_TO_6, hours_5: '09:00-17:00' }, { csrfFrom: `/admin/calendars/${calendarId}` })
  t.equal(edit.statusCode, 302)
  const refused = await admin.post(`/admin/calendars/${calendarId}/delete`, {}, { csrfFrom: `/admin/calendars/${calendarId}` })
  t.equal(refused.statusCode, 302)
  const page = await admin.get(`/admin/calendars/${calendarId}`)
  t.match(page.body, 'still used by: Service Desk')
  t.ok(await e.db.selectFrom('business_calendar').select('id').where('id', '=', calendarId).executeTakeFirst(), 'still there')

  const deskId = e.ids.desk['Service Desk']
  t.equal((await admin.post(`/admin/desks/${deskId}`, { ...(await deskForm(e, deskId)), calendar: '' }, { csrfFrom: `/admin/desks/${deskId}` })).statusCode, 302)
  const deleted = await admin.post(`/admin/calendars/${calendarId}/delete`, {}, { csrfFrom: `/admin/calendars/${calendarId}` })
  t.equal(deleted.headers.location, '/admin/calendars')
  t.equal((await e.db.selectFrom('business_holiday').select('id').execute()).length, 0, 'its holidays went with it')
  const log = await e.db.selectFrom('admin_audit').select(['entity', 'action', 'changes']).orderBy('id').execute()
  t.same(log.map((r) => `${r.entity} ${r.action}`), ['calendar create', 'desk update', 'calendar update', 'desk update', 'calendar delete'])
  t.match(JSON.parse(log[2].changes), { 'hours.5': ['09:00-18:00', '09:00-17:00'], holidays: ['', '2027-04-02 Good Friday'] })
  t.match(JSON.parse(log[1].changes), { calendarId: [null, calendarId] })
  const audit = await admin.get('/admin/audit?entity=calendar')
  t.match(audit.body, 'Deleted')
  t.equal((await admin.post('/admin/calendars/999999/delete', {}, { csrfFrom: '/admin/calendars' })).statusCode, 404)
  t.equal((await admin.get('/admin/calendars/abc')).statusCode, 404)
})

t.test('desk form: business hours and auto-closure days are checked', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const deskId = e.ids.desk['Service Desk']
  const form = await deskForm(e, deskId)
  const badCalendar = await admin.post(`/admin/desks/${deskId}`, { ...form, calendar: '999999' }, { csrfFrom: `/admin/desks/${deskId}` })
  t.equal(badCalendar.statusCode, 422)
  t.match(badCalendar.body, 'id="calendar-error"')
  for (const days of ['0', '366', 'abc', '2.5']) {
    const res = await admin.post(`/admin/desks/${deskId}`, { ...form, auto_close_days: days }, { csrfFrom: `/admin/desks/${deskId}` })
    t.equal(res.statusCode, 422, days)
    t.match(res.body, 'id="auto_close_days-error"', days)
  }
  const desk = await e.db.selectFrom('desk').select(['calendar_id', 'auto_close_days']).where('id', '=', deskId).executeTakeFirstOrThrow()
  t.same(desk, { calendar_id: null, auto_close_days: null }, 'unchanged')
})

t.test('a desk’s own auto-closure days close its tickets sooner; other desks keep the setting', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  await saveSettings(e.db, { autoCloseDays: 7 })
  const deskId = e.ids.desk['Service Desk']
  t.equal((await admin.post(`/admin/desks/${deskId}`, { ...(await deskForm(e, deskId)), auto_close_days: '2' }, { csrfFrom: `/admin/desks/${deskId}` })).statusCode, 302)
  const resolvedAt = '2027-01-04T12:00:00.000Z'
  const mine = await makeTicket(e.db, e.ids, { desk: 'Service Desk' })
  const other = await makeTicket(e.db, e.ids, { desk: 'Product Support' })
  await e.db.updateTable('ticket').set({ state: 'resolved', status: 'waiting_for_closure', resolved_at: resolvedAt }).where('id', 'in', [mine.id, other.id]).execute()
  const day = (n: number) => new Date(Date.parse(resolvedAt) + n * 86_400_000)
  t.equal(await autoCloseJob(e.db, day(1.9)), 0, 'not before two days')
  t.equal(await autoCloseJob(e.db, day(2)), 1, 'the Service Desk ticket closes at two days')
  t.equal((await e.db.selectFrom('ticket').select('state').where('id', '=', mine.id).executeTakeFirstOrThrow()).state, 'closed')
  t.equal(await autoCloseJob(e.db, day(6.9)), 0, 'the other waits for the setting')
  t.equal(await autoCloseJob(e.db, day(7)), 1)
})

t.test('a catalog item’s own targets replace its priority’s', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const itemId = e.ids.category['Printer problem']
  const list = await admin.get('/admin/sla/items')
  t.equal(list.statusCode, 200)
  t.match(list.body, 'Printer problem')
  const bad = await admin.post(`/admin/sla/items/${itemId}`, { high_response: '120', high_resolution: '60', low_response: '30' }, { csrfFrom: `/admin/sla/items/${itemId}` })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'id="high_resolution-error"')
  t.match(bad.body, 'id="low_resolution-error"', 'one field of a pair left empty')
  const notNumber = await admin.post(`/admin/sla/items/${itemId}`, { high_response: 'soon' }, { csrfFrom: `/admin/sla/items/${itemId}` })
  t.equal(notNumber.statusCode, 422)
  t.equal((await e.db.selectFrom('sla_item_policy').select('category_id').execute()).length, 0)

  const ok = await admin.post(`/admin/sla/items/${itemId}`, { high_response: '15', high_resolution: '90' }, { csrfFrom: `/admin/sla/items/${itemId}` })
  t.equal(ok.statusCode, 302)
  const at = new Date('2027-01-04T10:00:00.000Z')
  const printer = await makeTicket(e.db, e.ids, { desk: 'Service Desk', category: 'Printer problem', priority: 'high', now: at })
  const plain = await makeTicket(e.db, e.ids, { desk: 'Service Desk', category: 'Printer problem', priority: 'low', now: at })
  const rows = await e.db.selectFrom('ticket').select(['id', 'response_due_at', 'resolution_due_at']).where('id', 'in', [printer.id, plain.id]).orderBy('id').execute()
  t.same(rows[0], { id: printer.id, response_due_at: '2027-01-04T10:15:00.000Z', resolution_due_at: '2027-01-04T11:30:00.000Z' }, 'the item’s high targets')
  t.equal(rows[1].response_due_at, '2027-01-05T10:00:00.000Z', 'low keeps the priority’s 24 hours')
  t.match((await admin.get('/admin/sla/items')).body, '15 / 90 min')
  t.equal((await admin.get('/admin/sla/items/999999')).statusCode, 404)
  t.equal((await admin.get(`/admin/sla/items/${e.ids.category['Hardware'] ?? 999998}`)).statusCode, 404, 'an area has no targets of its own')
})

t.test('settings and SLA policy changes are audited too', async (t) => {
  const e = await testApp(t)
  const admin = personWho(await staffActor(e.db, e.ids, 'admin@casebridge.test'))
  const saved = await saveSlaTargets({ db: e.db, clock: () => new Date(), random: Math.random }, admin, [{ priority: 'critical', responseMinutes: 30, resolutionMinutes: 120 }])
  t.ok(saved.ok)
  const log = await e.db.selectFrom('admin_audit').select(['entity', 'action', 'changes']).execute()
  t.equal(log.length, 1)
  t.match(log[0], { entity: 'sla_policy', action: 'update' })
  t.same(JSON.parse(log[0].changes), { critical: ['60/240', '30/120'] })
})
