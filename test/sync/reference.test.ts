import t from 'tap'
import { syncEnv, casesByTicket } from './helpers.js'
import { importReference } from '../../sync/reference.js'
import { saveServiceSettings } from '../../src/commands/admin.js'
import { OPERATOR, unwrap } from '../../src/commands/kernel.js'

t.test('reference data: initial import links by name/e-mail/code; later runs take only what changed', async (t) => {
  const env = await syncEnv(t, { mirror: false })
  const { db } = env
  const admin = await env.reader()
  // what the org already has: two of the portal's accounts, a product by code, a staff member's user
  const [acme] = await admin.sobject('Account').create([{ Name: 'ACME Corporation' }]) as unknown as { id: string }[]
  await admin.sobject('Account').create({ Name: 'Umbrella plc' })
  await admin.sobject('Product2').create({ Name: 'Cloud (new name)', ProductCode: 'CB-CLOUD', IsActive: true })
  await admin.sobject('Contact').create({ FirstName: 'Alice', LastName: 'Walker', Email: 'ALICE@acme.test', AccountId: acme.id })
  await admin.sobject('Contact').create({ FirstName: 'Zoe', LastName: 'Zed', Email: 'zoe@umbrella.test' })
  const ana = env.crm.emu.createUser({ username: 'ana.souza@org.example', email: 'ana@casebridge.test', firstName: 'Ana', lastName: 'Souza' })

  const first = await importReference(env.ctx)
  t.match(first.counts, { Account: { linked: 1, created: 1 }, Product2: { linked: 1 }, Contact: { linked: 1, created: 1 }, User: { linked: 1 } })
  t.equal((await db.selectFrom('account').select('crm_id').where('name', '=', 'ACME Corporation').executeTakeFirstOrThrow()).crm_id, acme.id, 'Acme linked by name (and takes the CRM spelling)')
  t.ok(await db.selectFrom('account').select('id').where('name', '=', 'Umbrella plc').executeTakeFirst(), 'a new account is created')
  t.match(await db.selectFrom('product').select(['name', 'code']).where('code', '=', 'CB-CLOUD').executeTakeFirstOrThrow(), { name: 'Cloud (new name)' }, 'products match by code')
  t.equal((await db.selectFrom('staff').select('crm_user_id').where('email', '=', 'ana@casebridge.test').executeTakeFirstOrThrow()).crm_user_id, ana, 'staff map to users by e-mail')
  const zoe = await db.selectFrom('contact').select(['id', 'password_hash']).where('email', '=', 'zoe@umbrella.test').executeTakeFirstOrThrow()
  t.equal(zoe.password_hash, null, 'a new contact cannot log in until they set a password')
  t.equal(await db.selectFrom('staff').select('id').where('email', 'like', '%umbrella%').executeTakeFirst(), undefined, 'no staff is ever created from the CRM')

  const again = await importReference(env.ctx)
  const total = Object.values(again.counts).flatMap((c) => Object.entries(c)).filter(([k]) => k !== 'unchanged' && k !== 'skipped').reduce((n, [, v]) => n + v, 0)
  t.equal(total, 0, 'an incremental run with nothing new changes nothing')

  // a ticket of an account that gets linked later: its Case is sent again, now naming the account
  await env.drainAll()
  const globexTicket = await db.selectFrom('ticket').innerJoin('account', 'account.id', 'ticket.account_id').select('ticket.id').where('account.name', '=', 'Globex Industries').executeTakeFirstOrThrow()
  t.equal((await casesByTicket(admin)).get(String(globexTicket.id))![0].AccountId, null)
  const [globex] = await admin.sobject('Account').create([{ Name: 'Globex Industries' }]) as unknown as { id: string }[]
  await importReference(env.ctx)
  await env.drainAll()
  t.equal((await casesByTicket(admin)).get(String(globexTicket.id))![0].AccountId, globex.id, 'the Case now names the linked account')
})

t.test('new CRM contacts are invited to the portal when the setting asks for it, and only then', async (t) => {
  const env = await syncEnv(t, { mirror: false })
  const { db } = env
  const admin = await env.reader()
  const [umbrella] = await admin.sobject('Account').create([{ Name: 'Umbrella plc' }]) as unknown as { id: string }[]
  await admin.sobject('Contact').create({ FirstName: 'Quiet', LastName: 'Quinn', Email: 'quinn@umbrella.test', AccountId: umbrella.id })
  await importReference(env.ctx)
  const invitations = () => db.selectFrom('mail_outbox').select('recipient').where('template', '=', 'account.invitation').orderBy('id').execute()
  t.same(await invitations(), [], 'off (the default): the contact is created and not mailed')

  const deps = { db, clock: () => new Date(), random: Math.random }
  unwrap(await saveServiceSettings(deps, OPERATOR, { inviteCrmContacts: true }))
  await admin.sobject('Contact').create({ FirstName: 'Rita', LastName: 'Ross', Email: 'rita@umbrella.test', AccountId: umbrella.id })
  await admin.sobject('Contact').create({ FirstName: 'Nobody', LastName: 'Without', Email: 'loose@nowhere.test' })
  await admin.sobject('Contact').create({ FirstName: 'Bob', LastName: 'Stone', Email: 'bob@acme.test' })
  await importReference(env.ctx)
  t.same(await invitations(), [{ recipient: 'rita@umbrella.test' }], 'on: a new contact with an account is invited; one without an account, or one the portal already had, is not')
  const event = await db.selectFrom('security_event').select(['kind', 'detail']).where('kind', '=', 'invitation_sent').executeTakeFirstOrThrow()
  t.match(event.detail, 'CRM import')
  await importReference(env.ctx)
  t.equal((await invitations()).length, 1, 'an import that changes nothing invites nobody again')
})
