// Client accounts and contacts from the administration pages (issue 14): an admin adds an
// account and its contacts (invited to set a password), makes one a manager, moves a contact
// between accounts, turns a login off; bad input names its fields; every change is audited.
import t from 'tap'
import { testApp, loginAs, Agent } from '../helpers/app.js'
import { loadContactActor } from '../../src/db/people.js'

t.test('an admin adds an account with two contacts; the manager sees both contacts’ tickets', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  t.equal((await admin.get('/admin/accounts')).statusCode, 200)
  const added = await admin.post('/admin/accounts', { name: 'Zephyr Logistics' }, { csrfFrom: '/admin/accounts' })
  t.equal(added.statusCode, 302)
  const account = await e.db.selectFrom('account').selectAll().where('name', '=', 'Zephyr Logistics').executeTakeFirstOrThrow()
  t.equal(added.headers.location, `/admin/accounts/${account.id}`)
  const page = `/admin/accounts/${account.id}`
  const one = await admin.post(`${page}/contacts`, { name: 'Yara Pinto', email: 'yara@zephyr.test', locale: 'pt-BR', phone: '+55 11 5555-0101', manager: 'on' }, { csrfFrom: page })
  t.equal(one.statusCode, 302)
  const two = await admin.post(`${page}/contacts`, { name: 'Xavier Reis', email: 'xavier@zephyr.test', locale: '', phone: '' }, { csrfFrom: page })
  t.equal(two.statusCode, 302)
  const yara = await e.db.selectFrom('contact').selectAll().where('email', '=', 'yara@zephyr.test').executeTakeFirstOrThrow()
  t.match(yara, { name: 'Yara Pinto', locale: 'pt-BR', phone: '+55 11 5555-0101', active: 1, password_hash: null })
  const actor = (await loadContactActor(e.db, yara.id))!
  t.same(actor.managerAccountIds, [account.id], 'Yara manages the account')
  const xavier = await e.db.selectFrom('contact').select('id').where('email', '=', 'xavier@zephyr.test').executeTakeFirstOrThrow()
  t.same((await loadContactActor(e.db, xavier.id))!.managerAccountIds, [], 'Xavier does not')
  const mails = await e.db.selectFrom('mail_outbox').select(['recipient', 'template']).where('template', '=', 'account.invitation').orderBy('id').execute()
  t.same(mails.map((m) => m.recipient), ['yara@zephyr.test', 'xavier@zephyr.test'], 'both invited')
  const shown = await admin.get(page)
  t.match(shown.body, 'Yara Pinto')
  t.match(shown.body, 'Account manager')
  const log = await e.db.selectFrom('admin_audit').select(['entity', 'action', 'label']).orderBy('id').execute()
  t.same(log, [
    { entity: 'account', action: 'create', label: 'Zephyr Logistics' },
    { entity: 'contact', action: 'create', label: 'Yara Pinto' },
    { entity: 'contact', action: 'create', label: 'Xavier Reis' }
  ])
})

t.test('bad account and contact input is refused field by field; nothing is written', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const dup = await admin.post('/admin/accounts', { name: 'acme corporation' }, { csrfFrom: '/admin/accounts' })
  t.equal(dup.statusCode, 422)
  t.match(dup.body, 'Another account already has this name')
  const empty = await admin.post('/admin/accounts', { name: '  ' }, { csrfFrom: '/admin/accounts' })
  t.equal(empty.statusCode, 422)
  const acme = e.ids.account['Acme Corporation']
  const page = `/admin/accounts/${acme}`
  const bad = await admin.post(`${page}/contacts`, { name: '', email: 'ana@casebridge.test', locale: 'fr', phone: 'call me' }, { csrfFrom: page })
  t.equal(bad.statusCode, 422)
  for (const id of ['name-error', 'email-error', 'locale-error', 'phone-error']) t.match(bad.body, `id="${id}"`, id)
  t.match(bad.body, 'already belongs to someone', 'a staff member’s address')
  const bob = e.ids.contact['bob@acme.test']
  const none = await admin.post(`/admin/contacts/${bob}`, { name: 'Bob', email: 'bob@acme.test', locale: '', phone: '' }, { csrfFrom: `/admin/contacts/${bob}` })
  t.equal(none.statusCode, 422, 'no account left')
  t.match(none.body, 'at least one account')
  const unknown = await admin.post(`/admin/contacts/${bob}`, { name: 'Bob', email: 'bob@acme.test', locale: '', phone: '', add_account: '999999' }, { csrfFrom: `/admin/contacts/${bob}` })
  t.equal(unknown.statusCode, 422, 'an account that does not exist')
  t.equal((await e.db.selectFrom('admin_audit').selectAll().execute()).length, 0, 'nothing logged')
  t.equal((await e.db.selectFrom('contact_account').select('account_id').where('contact_id', '=', bob).execute()).length, 1, 'memberships unchanged')
  t.equal((await admin.get('/admin/contacts/999999')).statusCode, 404)
  t.equal((await admin.get('/admin/accounts/x')).statusCode, 404)
  const ana = await loginAs(e.app, 'ana@casebridge.test')
  t.equal((await ana.get(page)).statusCode, 404, 'staff who are not admins')
})

t.test('a contact moved to another account and made its manager; a login turned off and on', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const bob = e.ids.contact['bob@acme.test']
  const acme = e.ids.account['Acme Corporation']
  const other = Object.entries(e.ids.account).find(([name]) => name !== 'Acme Corporation')![1]
  const page = `/admin/contacts/${bob}`
  t.equal((await admin.get(page)).statusCode, 200)
  const bobAgent = await loginAs(e.app, 'bob@acme.test')
  const profile = await e.db.selectFrom('contact').select(['name', 'phone', 'locale']).where('id', '=', bob).executeTakeFirstOrThrow()
  const moved = await admin.post(page, {
    name: profile.name, email: 'bob@acme.test', locale: profile.locale ?? '', phone: profile.phone ?? '',
    accounts: [String(acme)], add_account: String(other), add_manager: 'on'
  }, { csrfFrom: page })
  t.equal(moved.statusCode, 302)
  const actor = (await loadContactActor(e.db, bob))!
  t.same([...actor.accountIds].sort(), [acme, other].sort())
  t.same(actor.managerAccountIds, [other])
  const change = await e.db.selectFrom('admin_audit').select('changes').where('entity', '=', 'contact').executeTakeFirstOrThrow()
  t.same(Object.keys(JSON.parse(change.changes)), ['memberships'], 'only the memberships changed')

  t.equal((await admin.post(`${page}/active`, { active: 'off' }, { csrfFrom: page })).statusCode, 302)
  t.equal((await bobAgent.get('/portal')).statusCode, 302, 'the session ended')
  const login = await new Agent(e.app).post('/login', { email: 'bob@acme.test', password: 'client-demo-pass' })
  t.not(login.statusCode, 302, 'no login')
  t.equal((await admin.post(`${page}/invite`, {}, { csrfFrom: page })).statusCode, 302)
  t.equal((await e.db.selectFrom('mail_outbox').select('id').where('recipient', '=', 'bob@acme.test').where('template', '=', 'account.invitation').execute()).length, 0, 'no invitation to a login that is off')
  t.equal((await admin.post(`${page}/active`, { active: 'on' }, { csrfFrom: page })).statusCode, 302)
  await loginAs(e.app, 'bob@acme.test')
  t.equal((await admin.post(`${page}/invite`, {}, { csrfFrom: page })).statusCode, 302)
  t.equal((await e.db.selectFrom('mail_outbox').select('id').where('recipient', '=', 'bob@acme.test').where('template', '=', 'account.invitation').execute()).length, 1, 'invited again')
})
