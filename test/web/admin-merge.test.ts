// Issue 14, "People": merging two contacts that are the same person, and turning a client account
// off. A merge moves the duplicate's tickets, notes, accounts and CRM link to the contact kept,
// leaves the duplicate's address as a second address of that person (mail, login), and is
// recorded once in the audit log and on each ticket. An account turned off keeps its tickets
// readable and takes no new ones, by any channel.
import t from 'tap'
import { testApp, loginAs, apiToken, demoIds, DEMO_PASSWORDS, type TestEnv } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { addTicketNote, performerOf } from '../helpers/commands.js'
import { addContact } from '../../src/commands/client-admin.js'
import { OPERATOR, unwrap } from '../../src/commands/kernel.js'
import { loadContactActor } from '../../src/db/people.js'

async function duplicateOfBob(e: TestEnv) {
  const deps = { db: e.db, clock: () => new Date(), random: Math.random }
  const { id } = unwrap(await addContact(deps, OPERATOR, {
    name: 'Robert Stone', email: 'Robert.Stone@acme.test', locale: null, phone: '',
    memberships: [{ accountId: e.ids.account['Acme Corporation'], manager: false }, { accountId: e.ids.account['Globex Industries'], manager: true }]
  }))
  await e.db.updateTable('contact').set({ crm_id: '003DUPLICATE0001' }).where('id', '=', id).execute()
  const ids = await demoIds(e.db)
  const ticket = await makeTicket(e.db, ids, { contact: 'robert.stone@acme.test', title: 'Badge reader beeps twice' })
  const robert = performerOf((await loadContactActor(e.db, id))!)
  await addTicketNote(deps, robert, ticket.id, { mode: 'reply', body: 'Still beeping this morning.' })
  const token = await apiToken(e.db, 'robert.stone@acme.test')
  return { id, ticket, token }
}

t.test('only admins merge, and a merge is reviewed before it is done', async (t) => {
  const e = await testApp(t)
  const dup = await duplicateOfBob(e)
  const bob = e.ids.contact['bob@acme.test']
  const ana = await loginAs(e.app, 'ana@casebridge.test')
  t.equal((await ana.get(`/admin/contacts/${bob}/merge?email=robert.stone@acme.test`)).statusCode, 404)
  t.equal((await ana.post(`/admin/contacts/${bob}/merge`, { merge_id: String(dup.id) }, { csrfFrom: '/desk' })).statusCode, 404)

  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const page = await admin.get(`/admin/contacts/${bob}`)
  t.match(page.body, `action="/admin/contacts/${bob}/merge"`, 'the contact page offers the merge')
  for (const [email, message] of [['', 'Give the e-mail address'], ['nobody@acme.test', 'No contact that can be merged has the address nobody@acme.test'], ['bob@acme.test', 'this contact’s own address']]) {
    const res = await admin.get(`/admin/contacts/${bob}/merge?email=${encodeURIComponent(email)}`)
    t.equal(res.statusCode, 422, `"${email}"`)
    t.match(res.body, message)
  }
  const preview = await admin.get(`/admin/contacts/${bob}/merge?email=ROBERT.STONE@acme.test`)
  t.equal(preview.statusCode, 200)
  for (const text of ['Robert Stone &lt;robert.stone@acme.test&gt; will be merged into Bob Stone', 'Tickets: 1', 'Notes and replies they wrote: 1', 'Accounts added: Globex Industries']) t.match(preview.body, text)
  t.equal((await e.db.selectFrom('ticket').select('contact_id').where('id', '=', dup.ticket.id).executeTakeFirstOrThrow()).contact_id, dup.id, 'reviewing moves nothing')
  t.equal((await e.db.selectFrom('admin_audit').select('id').where('action', '=', 'merge').execute()).length, 0)
})

t.test('a merge moves everything to the contact kept, and the old address reaches that person', async (t) => {
  const e = await testApp(t)
  const dup = await duplicateOfBob(e)
  const bob = e.ids.contact['bob@acme.test']
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const merged = await admin.post(`/admin/contacts/${bob}/merge`, { merge_id: String(dup.id) }, { csrfFrom: `/admin/contacts/${bob}` })
  t.equal(merged.statusCode, 302)
  t.match((await admin.get(`/admin/contacts/${bob}`)).body, 'Merged: 1 tickets moved.')

  t.equal((await e.db.selectFrom('ticket').select('contact_id').where('id', '=', dup.ticket.id).executeTakeFirstOrThrow()).contact_id, bob, 'the ticket is Bob’s')
  t.same((await e.db.selectFrom('note').select('author_contact_id').where('ticket_id', '=', dup.ticket.id).where('author_contact_id', 'is not', null).execute()).map((n) => n.author_contact_id), [bob], 'and what Robert wrote')
  const memberships = await e.db.selectFrom('contact_account').select(['account_id', 'is_manager']).where('contact_id', '=', bob).orderBy('account_id').execute()
  t.same(memberships.map((m) => [m.account_id, m.is_manager]).sort(), [[e.ids.account['Acme Corporation'], 0], [e.ids.account['Globex Industries'], 1]].sort(), 'Globex added, as its manager')
  const rows = await e.db.selectFrom('contact').select(['id', 'active', 'merged_into_id', 'password_hash', 'crm_id']).where('id', 'in', [bob, dup.id]).orderBy('id').execute()
  t.match(rows.find((r) => r.id === dup.id), { active: 0, merged_into_id: bob, password_hash: null, crm_id: null }, 'the duplicate stays, turned off, pointing at Bob')
  t.equal(rows.find((r) => r.id === bob)?.crm_id, '003DUPLICATE0001', 'Bob had no CRM contact: he takes the duplicate’s')
  t.ok((await e.db.selectFrom('api_token').select('revoked_at').where('contact_id', '=', dup.id).executeTakeFirstOrThrow()).revoked_at, 'the duplicate’s API token is revoked')
  const api = await e.app.inject({ method: 'GET', url: '/api/v1/tickets', headers: { authorization: `Bearer ${dup.token}` } })
  t.equal(api.statusCode, 401)

  const history = await e.db.selectFrom('ticket_event').select(['action', 'field', 'from_value', 'to_value']).where('ticket_id', '=', dup.ticket.id).where('action', '=', 'contact_merged').execute()
  t.same(history, [{ action: 'contact_merged', field: 'contact', from_value: 'Robert Stone <robert.stone@acme.test>', to_value: 'Bob Stone <bob@acme.test>' }])
  t.ok(await e.db.selectFrom('crm_outbox').select('id').where('ticket_id', '=', dup.ticket.id).where('kind', '=', 'case').executeTakeFirst(), 'the Case is updated in the CRM')
  const audit = await e.db.selectFrom('admin_audit').select(['entity', 'entity_id', 'action']).where('action', '=', 'merge').execute()
  t.same(audit, [{ entity: 'contact', entity_id: bob, action: 'merge' }])

  // The old address is Bob's second address: a login with it is Bob.
  const asRobert = await loginAs(e.app, 'robert.stone@acme.test', DEMO_PASSWORDS.client)
  const mine = await asRobert.get(`/portal/tickets/${dup.ticket.number}`)
  t.equal(mine.statusCode, 200)
  t.match(mine.body, 'Bob Stone')

  // The duplicate's page says where it went, and offers nothing to change.
  const page = await admin.get(`/admin/contacts/${dup.id}`)
  t.match(page.body, 'was merged into')
  t.match(page.body, `href="/admin/contacts/${bob}"`)
  t.notMatch(page.body, `action="/admin/contacts/${dup.id}"`)
  t.equal((await admin.post(`/admin/contacts/${dup.id}/active`, { active: 'on' }, { csrfFrom: `/admin/contacts/${bob}` })).statusCode, 403, 'it cannot be turned on again')
  const again = await admin.get(`/admin/contacts/${bob}/merge?email=robert.stone@acme.test`)
  t.equal(again.statusCode, 422, 'nor merged twice')
})

t.test('a client account turned off keeps its tickets readable and takes no new ones', async (t) => {
  const e = await testApp(t)
  const globex = e.ids.account['Globex Industries']
  const old = await makeTicket(e.db, e.ids, { contact: 'gina@globex.test', account: 'Globex Industries', title: 'Old request' })
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  t.equal((await admin.post(`/admin/accounts/${globex}/active`, { active: 'off' }, { csrfFrom: `/admin/accounts/${globex}` })).statusCode, 302)
  t.match((await admin.get(`/admin/accounts/${globex}`)).body, 'This account is turned off')
  t.match((await admin.get('/admin/accounts')).body, /Globex Industries<\/a>[^\n]*Turned off/)
  t.same(await e.db.selectFrom('admin_audit').select(['entity', 'action']).execute(), [{ entity: 'account', action: 'disable' }])

  const gina = await loginAs(e.app, 'gina@globex.test')
  t.equal((await gina.get(`/portal/tickets/${old.number}`)).statusCode, 200, 'her tickets stay readable')
  t.match((await gina.get('/portal/tickets/new')).body, 'está desativada', 'the form says why, in her language')
  const before = (await e.db.selectFrom('ticket').select('id').execute()).length
  const posted = await gina.postMultipart('/portal/tickets', { title: 'New badge', description: 'Please.', priority: 'medium' }, [], { csrfFrom: '/portal/tickets/new' })
  t.equal(posted.statusCode, 422)
  const token = await apiToken(e.db, 'gina@globex.test')
  const api = await e.app.inject({
    method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ title: 'New badge', description: 'Please.', accountId: globex, productId: e.ids.product['Casebridge Cloud'] })
  })
  t.ok(api.statusCode >= 400 && api.statusCode < 500, `the API refuses (${api.statusCode})`)
  t.match(api.json(), { error: { fields: { accountId: /desativada/ } } }, 'naming the field, in her language')
  t.equal((await e.db.selectFrom('ticket').select('id').execute()).length, before, 'nothing opened')

  t.equal((await admin.post(`/admin/accounts/${globex}/active`, { active: 'on' }, { csrfFrom: `/admin/accounts/${globex}` })).statusCode, 302)
  const reopened = await e.app.inject({
    method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ title: 'New badge', description: 'Please.', accountId: globex, productId: e.ids.product['Casebridge Cloud'] })
  })
  t.equal(reopened.statusCode, 201, `turned on again, it takes tickets: ${reopened.body}`)
})
