import t from 'tap'
import { syncEnv, casesByTicket, commentsOf } from './helpers.js'
import { loginAs } from '../helpers/app.js'
import { staffActor } from '../helpers/tickets.js'
import { crmSyncBadge } from '../../src/db/sync-overview.js'
import { addTicketNote, createTicket, deleteTicket, performerOf, transferTicket, transition, updateTicketFields } from '../helpers/commands.js'

t.test('a new ticket becomes a Case with every mapped field, upserted by its external id', async (t) => {
  // the emulator's "assignment rule" would hand every Case to this user unless we send Sforce-Auto-Assign: FALSE
  const env = await syncEnv(t, { emulator: { autoAssignTo: 'crm.user@casebridge.emulator' } })
  const { db, ids } = env
  const crmIds = async (table: 'account' | 'contact' | 'product', id: number) =>
    (await db.selectFrom(table).select('crm_id').where('id', '=', id).executeTakeFirstOrThrow()).crm_id
  const carlaUser = (await db.selectFrom('staff').select('crm_user_id').where('email', '=', 'carla@casebridge.test').executeTakeFirstOrThrow()).crm_user_id
  t.ok(carlaUser, 'the reference import mapped staff to CRM users by e-mail')

  const now = new Date().toISOString()
  const ticket = await createTicket(db, {
    title: 'Console says "invalid session"', description: 'Since this morning nobody can log in.', url: 'https://status.example.com/incident/42',
    accountId: ids.account['Acme Corporation'], contactId: ids.contact['alice@acme.test'], createdByStaffId: null,
    productId: ids.product['Casebridge Cloud'], categoryId: null, deskId: ids.desk['Product Support'], priority: 'high',
    ticketType: 'incident', source: 'portal', files: [{ filename: 'screenshot.png', contentType: 'image/png', size: 10, sha256: 'a'.repeat(64) }]
  }, { actor: { type: 'contact', id: ids.contact['alice@acme.test'], name: 'Alice Walker' }, now, random: () => 0.99 })
  const report = await env.drain()
  t.equal(report.skipped, null)
  t.ok(report.casesCreated >= 1, 'Cases were created')

  const cases = await casesByTicket(await env.reader())
  const c = cases.get(String(ticket.id))
  t.equal(c?.length, 1, 'exactly one Case for the ticket')
  const k = c![0]
  t.equal(k.Subject, 'Console says "invalid session"')
  t.match(k.Description, /^Since this morning nobody can log in\./)
  t.match(k.Description, /URL: https:\/\/status\.example\.com\/incident\/42/, 'the URL field is in the Description')
  t.match(k.Description, /screenshot\.png: https:\/\/support\.example\.com\/attachments\/\d+/, 'attachment links are in the Description')
  t.match(k.Description, new RegExp(`Ticket #${ticket.number} in Casebridge: https://support\\.example\\.com/desk/tickets/${ticket.number}`))
  t.equal(k.Status, 'New')
  t.equal(k.Priority, 'High')
  t.equal(k.Origin, 'Web')
  t.equal(k.AccountId, await crmIds('account', ids.account['Acme Corporation']))
  t.equal(k.ContactId, await crmIds('contact', ids.contact['alice@acme.test']))
  t.equal(k.ProductId, await crmIds('product', ids.product['Casebridge Cloud']))
  const assignee = (await db.selectFrom('ticket').innerJoin('staff', 'staff.id', 'ticket.assignee_id').select('staff.crm_user_id').where('ticket.id', '=', ticket.id).executeTakeFirstOrThrow()).crm_user_id
  t.equal(k.OwnerId, assignee, 'the owner is the assignee\'s CRM user (no assignment rule took over)')

  const row = await db.selectFrom('ticket').select(['crm_case_id', 'crm_case_number']).where('id', '=', ticket.id).executeTakeFirstOrThrow()
  t.equal(row.crm_case_id, k.Id, 'the ticket keeps its Case id')
  t.equal(row.crm_case_number, k.CaseNumber, 'and its Case number')
  const badge = await crmSyncBadge(db, ticket.id)
  t.match(badge, { caseNumber: k.CaseNumber, state: 'synced' })
  t.ok((env.crm.emu.calls.byClient.casebridge ?? 0) > 0, 'calls carry Sforce-Call-Options: client=casebridge')
  t.ok(env.crm.emu.calls.byEndpoint['PATCH /services/data/:v/composite/sobjects/:type/:field'] >= 1, 'Cases go through the sObject Collections upsert')

  // a second drain with nothing new makes no call
  const before = env.crm.emu.calls.total
  const again = await env.drain()
  t.equal(again.claimed, 0)
  t.equal(env.crm.emu.calls.total, before, 'nothing owed, nothing sent')
})

t.test('ticket changes update the Case; notes become comments (public published, internal not)', async (t) => {
  const env = await syncEnv(t)
  const { db, ids } = env
  await env.drainAll()
  const ticketId = (await db.selectFrom('ticket').select('id').where('title', '=', 'Cannot log in to the cloud console').executeTakeFirstOrThrow()).id
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const bruno = await staffActor(db, ids, 'bruno@casebridge.test')
  const deps = { db, clock: () => new Date() }
  const read = async () => (await casesByTicket(await env.reader())).get(String(ticketId))![0]

  await transition(db, performerOf(ana), ticketId, { action: 'pick_up' }, new Date())
  await env.drain()
  t.equal((await read()).Status, 'Working', 'picked up: Working')

  await updateTicketFields(db, ticketId, { priority: 'critical' }, { actor: { type: 'staff', id: ana.id, name: ana.name }, now: new Date().toISOString() })
  await transition(db, performerOf(ana), ticketId, { action: 'hold', reason: 'Waiting for the customer' }, new Date())
  await env.drain()
  let c = await read()
  t.equal(c.Priority, 'High', 'critical maps to High by default')
  t.equal(c.Status, 'On Hold')

  const earlier = (await commentsOf(await env.reader(), c.Id)).length
  await transition(db, performerOf(ana), ticketId, { action: 'resume' }, new Date())
  // Staff hand tickets to colleagues of the ticket's desk: Bruno joins Product Support for this one.
  await db.insertInto('desk_member').values({ desk_id: ids.desk['Product Support'], staff_id: bruno.id }).execute()
  await transferTicket(db, ticketId, { assigneeId: bruno.id, productId: ids.product['Billing'], note: 'Looks like a billing lock, Bruno knows it' }, { actor: { type: 'staff', id: ana.id, name: ana.name }, now: new Date().toISOString() })
  await addTicketNote(deps, performerOf(ana), ticketId, { mode: 'reply', body: 'We are on it.' })
  await addTicketNote(deps, performerOf(ana), ticketId, { mode: 'internal', body: 'Vendor ticket VX-1 opened.' })
  const report = await env.drain()
  t.equal(report.commentsCreated, 3, 'the transfer note, the reply and the internal note')
  c = await read()
  const brunoUser = (await db.selectFrom('staff').select('crm_user_id').where('id', '=', bruno.id).executeTakeFirstOrThrow()).crm_user_id
  const billing = (await db.selectFrom('product').select('crm_id').where('id', '=', ids.product['Billing']).executeTakeFirstOrThrow()).crm_id
  t.equal(c.OwnerId, brunoUser, 'the transfer moved the Case to Bruno')
  t.equal(c.ProductId, billing, 'and to the Billing product')
  const all = await commentsOf(await env.reader(), c.Id)
  t.equal(all.length, earlier + 3)
  const comments = all.slice(earlier)
  t.match(comments[0], { IsPublished: false, CommentBody: /Ana Souza \(internal note, Portal\)\n\nLooks like a billing lock, Bruno knows it/ }, 'the transfer adds an internal comment with its note')
  t.match(comments[1], { IsPublished: true, CommentBody: /Ana Souza \(reply, Portal\)\n\nWe are on it\./ }, 'a public reply is published')
  t.match(comments[2], { IsPublished: false, CommentBody: /Vendor ticket VX-1 opened\./ }, 'an internal note is not')
  const notes = await db.selectFrom('note').select(['crm_comment_id']).where('ticket_id', '=', ticketId).where('crm_comment_id', 'is not', null).execute()
  t.equal(notes.length, all.length, 'each note keeps its comment id')

  await transition(db, performerOf(bruno), ticketId, { action: 'resolve', resolution: 'Unlocked the account' }, new Date())
  await env.drain()
  t.equal((await read()).Status, 'On Hold', 'resolved (waiting for the requester) maps to On Hold by default')
  await transition(db, performerOf(bruno), ticketId, { action: 'close', closureCategory: 'solved' }, new Date())
  await env.drain()
  t.equal((await read()).Status, 'Closed')
})

t.test('status and priority maps are configurable', async (t) => {
  const env = await syncEnv(t, { env: { CRM_STATUS_MAP: '{"new":"Escalated","open":"Working"}', CRM_PRIORITY_MAP: '{"medium":"Low"}' } })
  await env.drainAll()
  const cases = await casesByTicket(await env.reader())
  const medium = await env.db.selectFrom('ticket').select('id').where('priority', '=', 'medium').where('status', '=', 'new').execute()
  t.ok(medium.length > 0)
  for (const m of medium) t.match(cases.get(String(m.id))![0], { Status: 'Escalated', Priority: 'Low' }, 'the status entry wins over the state entry')
})

t.test('deleting a ticket leaves its Case in the CRM', async (t) => {
  const env = await syncEnv(t)
  const { db, ids } = env
  await env.drainAll()
  const ticket = await db.selectFrom('ticket').select(['id', 'number', 'crm_case_id']).orderBy('id').executeTakeFirstOrThrow()
  const admin = await staffActor(db, ids, 'admin@casebridge.test')
  t.ok(await deleteTicket(db, performerOf(admin), ticket.id, 'duplicate', new Date()))
  await env.drainAll()
  const reader = await env.reader()
  const res = await reader.query<{ Id: string; IsDeleted: boolean }>(`SELECT Id, IsDeleted FROM Case WHERE Id = '${ticket.crm_case_id}'`)
  t.equal(res.totalSize, 1, 'the Case is still there')
  t.equal(res.records[0].IsDeleted, false, 'and not in the recycle bin')
  const deletes = Object.entries(env.crm.emu.calls.byEndpoint).filter(([k]) => k.startsWith('DELETE'))
  t.same(deletes, [], 'the sync never issued a DELETE')
  const agent = await loginAs(env.app, 'admin@casebridge.test')
  t.equal((await agent.get(`/desk/tickets/${ticket.number}`)).statusCode, 404, 'while the portal hides the ticket')
})
