import t from 'tap'
import { loginAs, testApp } from '../helpers/app.js'
import { getSettings } from '../../src/db/settings.js'
import { getSlaPolicies } from '../../src/db/sla.js'
import { makeTicket } from '../helpers/tickets.js'

t.test('only admins reach administration', async (t) => {
  const { app } = await testApp(t)
  for (const email of ['ana@casebridge.test', 'alice@acme.test']) {
    const agent = await loginAs(app, email)
    t.equal((await agent.get('/admin/settings')).statusCode, 404, `${email} gets 404`)
  }
  const admin = await loginAs(app, 'admin@casebridge.test')
  t.equal((await admin.get('/admin')).statusCode, 200)
})

t.test('service settings', async (t) => {
  const { app, db } = await testApp(t)
  const admin = await loginAs(app, 'admin@casebridge.test')
  const bad = await admin.post('/admin/settings', { occurrence_via_portal: 'on', auto_close_days: '0' }, { csrfFrom: '/admin/settings' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'Enter a whole number of days from 1 to 365.')
  t.same(await getSettings(db), { occurrenceViaPortal: true, staffMayCloseWithoutRequester: false, autoCloseDays: 7, staffTwoFactorRequired: false, inviteCrmContacts: false }, 'nothing saved')
  const ok = await admin.post('/admin/settings', { staff_may_close_without_requester: 'on', auto_close_days: '10', invite_crm_contacts: 'on' }, { csrfFrom: '/admin/settings' })
  t.equal(ok.statusCode, 302)
  t.same(await getSettings(db), { occurrenceViaPortal: false, staffMayCloseWithoutRequester: true, autoCloseDays: 10, staffTwoFactorRequired: false, inviteCrmContacts: true })
  t.match((await admin.get('/admin/settings')).body, 'Saved.')
})

t.test('SLA policies drive new tickets’ due times', async (t) => {
  const { app, db, ids } = await testApp(t)
  const admin = await loginAs(app, 'admin@casebridge.test')
  const form = { critical_response: '30', critical_resolution: '120', high_response: '60', high_resolution: '600', medium_response: '120', medium_resolution: '1440', low_response: '240', low_resolution: '2880' }
  const bad = await admin.post('/admin/sla', { ...form, high_resolution: '10' }, { csrfFrom: '/admin/sla' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'cannot be shorter than the response target')
  t.equal((await getSlaPolicies(db)).critical.resolutionMinutes, 240, 'nothing saved')
  t.equal((await admin.post('/admin/sla', form, { csrfFrom: '/admin/sla' })).statusCode, 302)
  t.same((await getSlaPolicies(db)).critical, { responseMinutes: 30, resolutionMinutes: 120 })
  const now = new Date('2026-05-01T10:00:00.000Z')
  const ticket = await makeTicket(db, ids, { priority: 'critical', now })
  const row = await db.selectFrom('ticket').select(['response_due_at', 'resolution_due_at']).where('id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same(row, { response_due_at: '2026-05-01T10:30:00.000Z', resolution_due_at: '2026-05-01T12:00:00.000Z' })
})

t.test('a priority change moves the SLA targets', async (t) => {
  const { db, ids } = await testApp(t)
  const { updateTicketFields } = await import('../helpers/commands.js')
  const now = new Date('2026-05-01T10:00:00.000Z')
  const ticket = await makeTicket(db, ids, { priority: 'low', now })
  await updateTicketFields(db, ticket.id, { priority: 'critical' }, { actor: { type: 'staff', id: ids.staff['ana@casebridge.test'], name: 'Ana' }, now: new Date('2026-05-01T10:05:00.000Z').toISOString() })
  const row = await db.selectFrom('ticket').select(['response_due_at', 'resolution_due_at']).where('id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same(row, { response_due_at: '2026-05-01T11:00:00.000Z', resolution_due_at: '2026-05-01T14:00:00.000Z' }, 'critical targets from the ticket start')
})
