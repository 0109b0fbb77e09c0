import t from 'tap'
import { testApp } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { addTicketNote, performerOf, transferTicket, updateTicketFields } from '../helpers/commands.js'

t.test('changes owe the CRM a Case upsert (coalesced) and notes a comment each', async (t) => {
  const { db, ids } = await testApp(t)
  await db.deleteFrom('crm_outbox').execute()
  const ticket = await makeTicket(db, ids)
  const rows = () => db.selectFrom('crm_outbox').select(['kind', 'note_id', 'status']).where('ticket_id', '=', ticket.id).orderBy('id').execute()
  t.same((await rows()).map((r) => r.kind), ['case'], 'creation: one case row (created + assigned coalesce)')
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  await updateTicketFields(db, ticket.id, { priority: 'high' }, { actor: { type: 'staff', id: ana.id, name: ana.name }, now: new Date().toISOString() })
  t.same((await rows()).map((r) => r.kind), ['case'], 'a change while a case row waits adds nothing')
  await addTicketNote({ db, clock: () => new Date() }, performerOf(ana), ticket.id, { mode: 'reply', body: 'On it' })
  await addTicketNote({ db, clock: () => new Date() }, performerOf(ana), ticket.id, { mode: 'internal', body: 'Vendor' })
  t.same((await rows()).map((r) => r.kind), ['case', 'comment', 'comment'], 'one comment row per note')
  await db.updateTable('crm_outbox').set({ status: 'done' }).execute()
  await transferTicket(db, ticket.id, { productId: ids.product['Billing'], note: 'Billing question' }, { actor: { type: 'staff', id: ana.id, name: ana.name }, now: new Date().toISOString() })
  const after = (await rows()).filter((r) => r.status === 'pending').map((r) => r.kind)
  t.same(after, ['case', 'comment'], 'a transfer updates the Case and adds the internal transfer comment')
  await updateTicketFields(db, ticket.id, { priority: 'low' }, { actor: { type: 'crm', id: null, name: 'CRM user' }, now: new Date().toISOString() })
  t.equal((await rows()).filter((r) => r.status === 'pending').length, 2, 'changes that came from the CRM are not sent back')
})
