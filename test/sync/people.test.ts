// Accounts and contacts both ways (issue 14), through the production jsforce adapter against the
// emulator over HTTP: a contact added in the portal exists once as a Contact and its tickets' Cases
// name it; a Contact added in the CRM appears in the portal; editing either side updates the other
// without echo loops; an outage loses nothing and makes no twin.
import t from 'tap'
import { syncEnv, casesByTicket } from './helpers.js'
import { addAccount, addContact, editAccount, editContact } from '../../src/commands/client-admin.js'
import { personWho } from '../../src/commands/kernel.js'
import { importReference } from '../../sync/reference.js'
import { pushPeople } from '../../sync/people.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import type { SyncEnv } from './helpers.js'
import { loginAs } from '../helpers/app.js'

async function asAdmin(env: SyncEnv) {
  return { deps: { db: env.db, clock: () => new Date(), random: Math.random }, who: personWho(await staffActor(env.db, env.ids, 'admin@casebridge.test')) }
}

async function contactsByEmail(env: SyncEnv, email: string) {
  const conn = await env.reader()
  return (await conn.query<{ Id: string; Name: string; Phone: string | null; AccountId: string | null; Email: string }>(
    `SELECT Id, Name, Email, Phone, AccountId FROM Contact WHERE Email = '${email}'`)).records
}

const pendingPeople = (env: SyncEnv) => env.db.selectFrom('crm_people_outbox').select(['entity', 'entity_id']).where('status', '=', 'pending').execute()

t.test('a contact added in the portal exists once as a Contact, and the Case of its ticket names it', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const { deps, who } = await asAdmin(env)
  const acme = await env.db.selectFrom('account').select(['id', 'crm_id']).where('name', '=', 'Acme Corporation').executeTakeFirstOrThrow()
  t.ok(acme.crm_id, 'the demo account is linked')
  const added = await addContact(deps, who, { name: 'Dora Lima', email: 'dora@acme.test', locale: null, phone: '+55 11 5555-0101', memberships: [{ accountId: acme.id, manager: false }] })
  t.ok(added.ok)
  const contactId = added.ok ? added.value.id : 0
  t.same(await pendingPeople(env), [{ entity: 'contact', entity_id: contactId }], 'the new contact is owed to the CRM')
  env.ids.contact['dora@acme.test'] = contactId
  const ticket = await makeTicket(env.db, env.ids, { contact: 'dora@acme.test', account: 'Acme Corporation' })

  await env.drainAll()
  const crm = await contactsByEmail(env, 'dora@acme.test')
  t.equal(crm.length, 1, 'one Contact')
  t.match(crm[0], { Name: 'Dora Lima', Phone: '+55 11 5555-0101', AccountId: acme.crm_id })
  const local = await env.db.selectFrom('contact').select('crm_id').where('id', '=', contactId).executeTakeFirstOrThrow()
  t.equal(local.crm_id, crm[0].Id, 'the portal keeps the Contact id')
  const reader = await env.reader()
  t.equal((await casesByTicket(reader)).get(String(ticket.id))![0].ContactId, crm[0].Id, 'the Case names the Contact')

  await env.drainAll()
  await importReference(env.ctx, { full: true })
  await env.drainAll()
  t.equal((await contactsByEmail(env, 'dora@acme.test')).length, 1, 'still one after more drains and a full import')
  t.same(await pendingPeople(env), [], 'nothing owed')
})

t.test('a Contact the CRM already has is linked by e-mail, not created again; an account is matched by name', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const conn = await env.reader()
  // As if an earlier push created them and crashed before it could record their ids.
  const [umbrella] = await conn.sobject('Account').create([{ Name: 'Umbrella plc' }]) as unknown as { id: string }[]
  const [ellen] = await conn.sobject('Contact').create([{ FirstName: 'Ellen', LastName: 'Ripley', Email: 'ELLEN@umbrella.test', AccountId: umbrella.id }]) as unknown as { id: string }[]
  const { deps, who } = await asAdmin(env)
  const account = await addAccount(deps, who, { name: 'umbrella PLC' })
  t.ok(account.ok)
  const accountId = account.ok ? account.value.id : 0
  const contact = await addContact(deps, who, { name: 'Ellen Ripley', email: 'ellen@umbrella.test', locale: null, phone: '', memberships: [{ accountId, manager: true }] })
  t.ok(contact.ok)
  const report = await pushPeople(env.ctx)
  t.match(report, { claimed: 2, linked: 2, created: 0 })
  t.equal((await env.db.selectFrom('account').select('crm_id').where('id', '=', accountId).executeTakeFirstOrThrow()).crm_id, umbrella.id)
  t.equal((await env.db.selectFrom('contact').select('crm_id').where('email', '=', 'ellen@umbrella.test').executeTakeFirstOrThrow()).crm_id, ellen.id)
  t.equal((await conn.query('SELECT Id FROM Account WHERE Name = \'Umbrella plc\'')).totalSize, 1, 'no second Account')
  t.equal((await contactsByEmail(env, 'ellen@umbrella.test')).length, 1, 'no second Contact')
})

t.test('a new account and its contact go out together: the Account first, the Contact naming it', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const { deps, who } = await asAdmin(env)
  const account = await addAccount(deps, who, { name: 'Initrode GmbH' })
  const accountId = account.ok ? account.value.id : 0
  await addContact(deps, who, { name: 'Peter Gibbons', email: 'peter@initrode.test', locale: 'en', phone: '', memberships: [{ accountId, manager: false }] })
  await env.drainAll()
  const conn = await env.reader()
  const crmAccount = (await conn.query<{ Id: string }>('SELECT Id FROM Account WHERE Name = \'Initrode GmbH\'')).records
  t.equal(crmAccount.length, 1)
  const crmContact = await contactsByEmail(env, 'peter@initrode.test')
  t.match(crmContact, [{ Name: 'Peter Gibbons', AccountId: crmAccount[0].Id }])

  await editAccount(deps, who, { accountId, name: 'Initrode AG' })
  await env.drainAll()
  t.equal((await conn.query('SELECT Id FROM Account WHERE Name = \'Initrode AG\'')).totalSize, 1, 'the rename reaches the CRM')
  t.equal((await conn.query('SELECT Id FROM Account WHERE Name = \'Initrode GmbH\'')).totalSize, 0)
})

t.test('editing either side updates the other, without echo loops', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  await importReference(env.ctx)
  const { deps, who } = await asAdmin(env)
  const bob = await env.db.selectFrom('contact').select(['id', 'crm_id', 'name', 'email', 'locale']).where('email', '=', 'bob@acme.test').executeTakeFirstOrThrow()
  t.ok(bob.crm_id)
  const memberships = (await env.db.selectFrom('contact_account').select(['account_id', 'is_manager']).where('contact_id', '=', bob.id).execute())
    .map((m) => ({ accountId: m.account_id, manager: m.is_manager === 1 }))
  const conn = await env.reader()

  // The portal side: name and phone change; the CRM follows; the import that reads the change back changes nothing.
  t.ok((await editContact(deps, who, { contactId: bob.id, name: 'Robert Builder', email: bob.email, locale: bob.locale, phone: '+1 555 0100', memberships })).ok)
  const casesBefore = await env.db.selectFrom('crm_outbox').select('id').execute()
  await env.drainAll()
  const [crmBob] = (await conn.query<{ Name: string; Phone: string }>(`SELECT Name, Phone FROM Contact WHERE Id = '${bob.crm_id}'`)).records
  t.match(crmBob, { Name: 'Robert Builder', Phone: '+1 555 0100' })
  const back = await importReference(env.ctx)
  t.notOk(back.counts.Contact.updated, 'reading our own change back updates nothing')
  t.same(await pendingPeople(env), [], 'and owes the CRM nothing')
  t.equal((await env.db.selectFrom('crm_outbox').select('id').execute()).length, casesBefore.length, 'no Case upsert either')
  const quiet = await env.drain()
  t.equal(quiet.calls, 0, 'the next drain makes no call')

  // The CRM side: a phone change comes in, and nothing goes back out.
  env.now.advance(1000)
  await conn.sobject('Contact').update({ Id: bob.crm_id!, Phone: '+1 555 0199', LastName: 'Builder-Smith' })
  const imported = await importReference(env.ctx)
  t.equal(imported.counts.Contact.updated, 1)
  t.match(await env.db.selectFrom('contact').select(['name', 'phone']).where('id', '=', bob.id).executeTakeFirstOrThrow(), { name: 'Robert Builder-Smith', phone: '+1 555 0199' })
  t.same(await pendingPeople(env), [], 'an imported change is not pushed back')
  t.equal((await env.drain()).calls, 0)
  t.equal((await importReference(env.ctx)).counts.Contact.updated, undefined, 'and the next import finds nothing new to take')
})

t.test('a portal edit on its way wins over an older CRM value read in the meantime', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const { deps, who } = await asAdmin(env)
  const bob = await env.db.selectFrom('contact').select(['id', 'crm_id', 'email', 'locale']).where('email', '=', 'bob@acme.test').executeTakeFirstOrThrow()
  const memberships = (await env.db.selectFrom('contact_account').select(['account_id', 'is_manager']).where('contact_id', '=', bob.id).execute())
    .map((m) => ({ accountId: m.account_id, manager: m.is_manager === 1 }))
  await editContact(deps, who, { contactId: bob.id, name: 'Bob Portal', email: bob.email, locale: bob.locale, phone: '', memberships })
  // The import runs before the push, and reads the CRM's (older) name.
  await importReference(env.ctx, { full: true })
  t.equal((await env.db.selectFrom('contact').select('name').where('id', '=', bob.id).executeTakeFirstOrThrow()).name, 'Bob Portal', 'the portal edit is kept')
  await env.drainAll()
  const conn = await env.reader()
  t.equal((await conn.query<{ Name: string }>(`SELECT Name FROM Contact WHERE Id = '${bob.crm_id}'`)).records[0].Name, 'Bob Portal', 'and reaches the CRM')
})

t.test('a Contact added in the CRM appears in the portal, and is not pushed back', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const conn = await env.reader()
  const acme = await env.db.selectFrom('account').select(['id', 'crm_id']).where('name', '=', 'Acme Corporation').executeTakeFirstOrThrow()
  await conn.sobject('Contact').create({ FirstName: 'Fay', LastName: 'Wray', Email: 'fay@acme.test', Phone: '555-0123', AccountId: acme.crm_id })
  env.now.advance(1000)
  await importReference(env.ctx)
  const fay = await env.db.selectFrom('contact').select(['id', 'name', 'phone', 'crm_id']).where('email', '=', 'fay@acme.test').executeTakeFirstOrThrow()
  t.match(fay, { name: 'Fay Wray', phone: '555-0123' })
  t.ok(fay.crm_id)
  t.ok(await env.db.selectFrom('contact_account').select('contact_id').where('contact_id', '=', fay.id).where('account_id', '=', acme.id).executeTakeFirst(), 'in her account')
  t.same(await pendingPeople(env), [])
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const page = await admin.get(`/admin/contacts/${fay.id}`)
  t.equal(page.statusCode, 200)
  t.match(page.body, 'fay@acme.test')
})

t.test('a CRM outage while contacts are added: nothing is lost, nothing doubled', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const { deps, who } = await asAdmin(env)
  const acme = await env.db.selectFrom('account').select('id').where('name', '=', 'Acme Corporation').executeTakeFirstOrThrow()
  await env.crm.emu.faults.down('refuse')
  for (let i = 0; i < 5; i++) {
    await addContact(deps, who, { name: `Outage Person ${i}`, email: `outage${i}@acme.test`, locale: null, phone: '', memberships: [{ accountId: acme.id, manager: false }] })
  }
  const first = await env.drain()
  t.ok(first.pausedUntil, 'the push pauses the sync')
  t.equal((await pendingPeople(env)).length, 5, 'every contact still owed')
  const tries = await env.db.selectFrom('crm_people_outbox').select('attempts').execute()
  t.ok(tries.every((r) => r.attempts === 0), 'no try spent on a call that never reached the CRM')
  await env.crm.emu.faults.up()
  env.now.advance(Date.parse(first.pausedUntil!) - env.now.ms() + 1)
  const back = await env.drain()
  t.equal(back.people, 5, 'once the pause is over, the push goes first')
  t.same(await pendingPeople(env), [])
  for (let i = 0; i < 5; i++) t.equal((await contactsByEmail(env, `outage${i}@acme.test`)).length, 1, `outage${i}: one Contact`)
})

t.test('staff ↔ CRM user: shown and changed on the staff page; their Cases follow; the import keeps the choice', async (t) => {
  const env = await syncEnv(t)
  const ana = await env.db.selectFrom('staff').select(['id', 'crm_user_id']).where('email', '=', 'ana@casebridge.test').executeTakeFirstOrThrow()
  t.ok(ana.crm_user_id, 'linked by e-mail by the import')
  const other = env.crm.emu.createUser({ username: 'ana.s@org.example', email: 'ana.souza@elsewhere.example', firstName: 'Ana', lastName: 'S', password: 'emulator' })
  const ticket = await makeTicket(env.db, env.ids, { desk: 'Service Desk' })
  await env.db.updateTable('ticket').set({ assignee_id: ana.id }).where('id', '=', ticket.id).execute()
  await env.drainAll()
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const page = await admin.get(`/admin/staff/${ana.id}`)
  t.match(page.body, `value="${ana.crm_user_id}"`, 'the mapping is on the staff page')
  const form = (crmUser: string) => ({ name: 'Ana Souza', email: 'ana@casebridge.test', locale: '', role: 'staff', hourly_rate: '0.00', available: 'on', crm_user: crmUser,
    desks: [String(env.ids.desk['Service Desk'])] })
  for (const bad of ['abc', '001000000000001', 'x'.repeat(18)]) {
    const res = await admin.post(`/admin/staff/${ana.id}`, form(bad), { csrfFrom: `/admin/staff/${ana.id}` })
    t.equal(res.statusCode, 422, bad)
    t.match(res.body, 'id="crm_user-error"')
  }
  const carla = await env.db.selectFrom('staff').select('crm_user_id').where('email', '=', 'carla@casebridge.test').executeTakeFirstOrThrow()
  const taken = await admin.post(`/admin/staff/${ana.id}`, form(carla.crm_user_id!), { csrfFrom: `/admin/staff/${ana.id}` })
  t.match(taken.body, 'Another staff member is linked to this CRM user')
  const saved = await admin.post(`/admin/staff/${ana.id}`, form(other), { csrfFrom: `/admin/staff/${ana.id}` })
  t.equal(saved.statusCode, 302, saved.body)
  await env.drainAll()
  const reader = await env.reader()
  t.equal((await casesByTicket(reader)).get(String(ticket.id))![0].OwnerId, other, 'her Case is owned by the user chosen')
  await importReference(env.ctx, { full: true })
  t.equal((await env.db.selectFrom('staff').select('crm_user_id').where('id', '=', ana.id).executeTakeFirstOrThrow()).crm_user_id, other, 'a full import keeps the admin’s choice')
})

t.test('a contact the CRM refuses is parked, shown on the sync page, and sent again from there', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const { deps, who } = await asAdmin(env)
  const acme = await env.db.selectFrom('account').select('id').where('name', '=', 'Acme Corporation').executeTakeFirstOrThrow()
  // One word of 90 letters: the CRM's LastName holds 80.
  const added = await addContact(deps, who, { name: 'W'.repeat(90), email: 'long@acme.test', locale: null, phone: '', memberships: [{ accountId: acme.id, manager: false }] })
  t.ok(added.ok)
  const report = await pushPeople(env.ctx)
  t.match(report, { claimed: 1, created: 0, dead: 1 })
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const page = await admin.get('/admin/sync')
  t.match(page.body, 'Accounts and contacts the CRM refused')
  t.match(page.body, 'long@acme.test')
  t.match(page.body, /STRING_TOO_LONG/)
  // Fixed in the portal, then sent again from the page.
  const contactId = added.ok ? added.value.id : 0
  await env.db.updateTable('contact').set({ name: 'Long Name' }).where('id', '=', contactId).execute()
  const retried = await admin.post('/admin/sync/retry-all', {}, { csrfFrom: '/admin/sync' })
  t.equal(retried.statusCode, 302)
  await env.drain()
  t.match(await contactsByEmail(env, 'long@acme.test'), [{ Name: 'Long Name' }])
  t.same(await pendingPeople(env), [])
})
