import t from 'tap'
import { syncEnv, casesByTicket, commentsOf } from './helpers.js'
import { loginAs } from '../helpers/app.js'
import { staffActor } from '../helpers/tickets.js'
import { testClock } from '../emulator/helpers.js'
import { performerOf, transition, updateTicketFields } from '../helpers/commands.js'

async function firstTicket(env: Awaited<ReturnType<typeof syncEnv>>, title = 'Cannot log in to the cloud console') {
  return env.db.selectFrom('ticket').selectAll().where('title', '=', title).executeTakeFirstOrThrow()
}

t.test('a CRM user changes owner, account, product and priority: the ticket follows, with history naming them', async (t) => {
  const env = await syncEnv(t)
  const { db, ids } = env
  await env.drainAll()
  await env.poll()
  const ticket = await firstTicket(env)
  const crmId = async (table: 'account' | 'product', id: number) => (await db.selectFrom(table).select('crm_id').where('id', '=', id).executeTakeFirstOrThrow()).crm_id!
  const diego = (await db.selectFrom('staff').select(['id', 'crm_user_id']).where('email', '=', 'diego@casebridge.test').executeTakeFirstOrThrow())

  // a second jsforce connection, logged in as a CRM user with the password grant
  const crm = await env.crmUser()
  const res = await crm.sobject('Case').update({
    Id: ticket.crm_case_id!, OwnerId: diego.crm_user_id!, AccountId: await crmId('account', ids.account['Globex Industries']),
    ProductId: await crmId('product', ids.product['Billing']), Priority: 'Low'
  })
  t.ok((res as { success: boolean }).success)

  const report = await env.poll()
  t.equal(report.applied, 4, 'four fields applied')
  const after = await firstTicket(env)
  t.equal(after.assignee_id, diego.id, 'the ticket went to Diego')
  t.equal(after.account_id, ids.account['Globex Industries'])
  t.equal(after.product_id, ids.product['Billing'])
  t.equal(after.priority, 'low')

  const events = await db.selectFrom('ticket_event').select(['actor_type', 'actor_name', 'action', 'field', 'from_value', 'to_value'])
    .where('ticket_id', '=', ticket.id).where('actor_type', '=', 'crm').orderBy('id').execute()
  t.same(events.map((e) => e.field).sort(), ['account', 'assignee', 'priority', 'product'])
  t.ok(events.every((e) => e.actor_name === 'Casey Rivera'), 'history rows name the CRM user (LastModifiedBy.Name)')
  t.match(events.find((e) => e.field === 'assignee'), { action: 'transfer', to_value: 'Diego Rocha' })

  const agent = await loginAs(env.app, 'admin@casebridge.test')
  const page = await agent.get(`/desk/tickets/${ticket.number}/history`)
  t.match(page.body, /Casey Rivera/, 'the History tab shows who changed it in the CRM')
  t.match(page.body, /Diego Rocha/)

  t.equal(await db.selectFrom('crm_outbox').select('id').where('ticket_id', '=', ticket.id).where('status', '=', 'pending').executeTakeFirst(), undefined,
    'nothing is owed back to the CRM for changes that came from it')
  const calls = env.crm.emu.calls.total
  await env.drain()
  t.equal(env.crm.emu.calls.total, calls, 'the next drain sends nothing')
  const again = await env.poll()
  t.equal(again.applied, 0, 'a second poll finds nothing new (cursor + dedupe)')
})

t.test('a published CRM comment becomes a staff reply; an unpublished one stays in the CRM', async (t) => {
  const env = await syncEnv(t)
  const { db } = env
  await env.drainAll()
  await env.poll()
  const ticket = await firstTicket(env)
  const crm = await env.crmUser()
  await crm.sobject('CaseComment').create({ ParentId: ticket.crm_case_id!, CommentBody: 'Reset your session cookie and try again, please.', IsPublished: true })
  await crm.sobject('CaseComment').create({ ParentId: ticket.crm_case_id!, CommentBody: 'Internal: customer is on the old plan.', IsPublished: false })
  const report = await env.poll()
  t.equal(report.replies, 1)
  const note = await db.selectFrom('note').selectAll().where('ticket_id', '=', ticket.id).where('source', '=', 'crm').executeTakeFirstOrThrow()
  t.match(note, { kind: 'reply', visibility: 'public', author_name: 'Casey Rivera', body: 'Reset your session cookie and try again, please.' })
  t.ok(note.crm_comment_id, 'the note keeps its comment id')

  const requester = await loginAs(env.app, 'alice@acme.test')
  const page = await requester.get(`/portal/tickets/${ticket.number}`)
  t.match(page.body, /Reset your session cookie and try again, please\./, 'the requester sees the reply')
  t.notMatch(page.body, /old plan/, 'but not the unpublished comment')
  const mail = await db.selectFrom('mail_outbox').select(['recipient', 'template']).where('ticket_id', '=', ticket.id).where('template', '=', 'note.reply').execute()
  t.ok(mail.some((m) => m.recipient === 'alice@acme.test'), 'the requester is notified')

  const before = (await commentsOf(await env.reader(), ticket.crm_case_id!)).length
  await env.drain()
  t.equal((await commentsOf(await env.reader(), ticket.crm_case_id!)).length, before, 'the reply does not go back to the CRM')
  t.equal((await env.poll()).replies, 0, 'and is not imported twice')
})

t.test('our own writes do not come back as changes', async (t) => {
  const env = await syncEnv(t)
  const { db, ids } = env
  await env.drainAll()
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const ticket = await firstTicket(env)
  await updateTicketFields(db, ticket.id, { priority: 'low' }, { actor: { type: 'staff', id: ana.id, name: ana.name }, now: new Date().toISOString() })
  await env.drain()
  const events = await db.selectFrom('ticket_event').select('id').where('ticket_id', '=', ticket.id).execute()
  const report = await env.poll()
  t.equal(report.applied, 0, 'nothing applied')
  t.ok(report.echoes > 0, 'our writes were recognised as echoes')
  t.equal(report.replies, 0, 'our own comments are not replies')
  t.equal((await db.selectFrom('ticket_event').select('id').where('ticket_id', '=', ticket.id).execute()).length, events.length, 'no history row added')
  t.equal(await db.selectFrom('crm_outbox').select('id').where('status', '=', 'pending').executeTakeFirst(), undefined, 'and nothing owed')
})

t.test('field-level last writer wins, by change time', async (t) => {
  const crmClock = testClock(new Date(Date.now() - 60_000).toISOString())
  const env = await syncEnv(t, { emulator: { clock: crmClock.clock } })
  const { db, ids } = env
  await env.drainAll()
  await env.poll()
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const ticket = await firstTicket(env)
  const crm = await env.crmUser()

  // the CRM changes priority at T; the portal changes it later, before the drain: the portal wins
  await crm.sobject('Case').update({ Id: ticket.crm_case_id!, Priority: 'Low' })
  await updateTicketFields(db, ticket.id, { priority: 'critical' }, { actor: { type: 'staff', id: ana.id, name: ana.name }, now: new Date().toISOString() })
  let report = await env.poll()
  t.equal(report.overruled, 1, 'the older CRM change loses')
  t.equal((await firstTicket(env)).priority, 'critical')
  await env.drain()
  t.equal((await casesByTicket(await env.reader())).get(String(ticket.id))![0].Priority, 'High', 'and the Case gets the portal value')

  // the portal changes the product; the CRM changes the priority afterwards: both stand
  await updateTicketFields(db, ticket.id, { productId: ids.product['Mobile App'] }, { actor: { type: 'staff', id: ana.id, name: ana.name }, now: new Date().toISOString() })
  crmClock.set(new Date(Date.now() + 30_000).toISOString())
  await crm.sobject('Case').update({ Id: ticket.crm_case_id!, Priority: 'Medium' })
  report = await env.poll()
  t.equal(report.applied, 1, 'the later CRM change wins')
  await env.drain()
  const after = await firstTicket(env)
  t.equal(after.priority, 'medium')
  t.equal(after.product_id, ids.product['Mobile App'], 'the portal change to another field is not undone')
  const c = (await casesByTicket(await env.reader())).get(String(ticket.id))![0]
  t.equal(c.Priority, 'Medium', 'the drain did not overwrite the CRM change with a stale value')
  t.equal(c.ProductId, (await db.selectFrom('product').select('crm_id').where('id', '=', ids.product['Mobile App']).executeTakeFirstOrThrow()).crm_id)
})

t.test('a change the lifecycle refuses (closed ticket) is put back in the CRM', async (t) => {
  const env = await syncEnv(t)
  const { db, ids } = env
  await env.drainAll()
  await env.poll()
  const ticket = await firstTicket(env, 'Printer on 3rd floor jams')
  const admin = await staffActor(db, ids, 'admin@casebridge.test')
  await transition(db, performerOf(admin), ticket.id, { action: 'resolve', resolution: 'Replaced the roller' }, new Date())
  await transition(db, performerOf(admin), ticket.id, { action: 'close', closureCategory: 'solved' }, new Date())
  await env.drainAll()
  await env.poll()
  const before = await firstTicket(env, 'Printer on 3rd floor jams')
  const crm = await env.crmUser()
  const carla = await db.selectFrom('staff').select(['id', 'crm_user_id']).where('email', '=', 'carla@casebridge.test').executeTakeFirstOrThrow()
  t.not(before.assignee_id, carla.id)
  await crm.sobject('Case').update({ Id: ticket.crm_case_id!, OwnerId: carla.crm_user_id! })
  const report = await env.poll()
  t.equal(report.refused, 1)
  t.equal((await firstTicket(env, 'Printer on 3rd floor jams')).assignee_id, before.assignee_id, 'a closed ticket keeps its assignee')
  await env.drain()
  const owner = (await casesByTicket(await env.reader())).get(String(ticket.id))![0].OwnerId
  const assigneeUser = (await db.selectFrom('staff').select('crm_user_id').where('id', '=', before.assignee_id!).executeTakeFirstOrThrow()).crm_user_id
  t.equal(owner, assigneeUser, 'the Case owner is put back')
})
