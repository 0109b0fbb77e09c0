// A ticket page asks in one statement what the ticket has (survey, checklist, time, costs,
// follow-ups, approvals) and reads only those parts; what it shows must be exactly what reading
// every part would give. Both databases:
//   npx tap test/db/ticket-extras.test.ts
//   scripts/pg-test.sh test/db/ticket-extras.test.ts
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { makeTicket, staffActor, contactActor } from '../helpers/tickets.js'
import { addChecklistRow, addCostRow, costSummary, getSurvey, insertSurvey, listChecklist, ticketExtras, ticketHas } from '../../src/db/ticket-extras.js'
import { linkedTickets } from '../../src/db/ticket.js'
import { insertApproval, ticketApprovalState } from '../../src/db/approval.js'
import { addNote } from '../../src/commands/add-note.js'
import { personWho, unwrap } from '../../src/commands/kernel.js'
import type { Actor } from '../../src/domain/permissions.js'
import type { Db } from '../../src/db/index.js'

/** Every part read in full, as the pages did before. */
async function everyPart(db: Db, actor: Actor, ticket: { id: number; parent_id: number | null; status: string }, now: Date) {
  return {
    survey: await getSurvey(db, ticket.id),
    checklist: await listChecklist(db, ticket.id),
    costs: await costSummary(db, ticket.id),
    links: await linkedTickets(db, actor, ticket),
    approval: await ticketApprovalState(db, ticket, now)
  }
}

t.test('each part is read when the ticket has it, and the page shows what reading every part shows', async (t) => {
  const e = await testApp(t)
  const now = new Date()
  const ana = await staffActor(e.db, e.ids, 'ana@casebridge.test')
  const bob = await contactActor(e.db, e.ids, 'bob@acme.test')
  const { id } = await makeTicket(e.db, e.ids)
  const row = async () => e.db.selectFrom('ticket').select(['id', 'parent_id', 'status']).where('id', '=', id).executeTakeFirstOrThrow()
  const check = async (label: string, expected: Partial<Record<string, boolean>>) => {
    const has = await ticketHas(e.db, id)
    t.same(has, { survey: false, checklist: false, time: false, costItems: false, children: false, approvals: false, ...expected }, `${label}: what the ticket has`)
    for (const actor of [ana, bob]) {
      t.same(await ticketExtras(e.db, actor, await row(), now), await everyPart(e.db, actor, await row(), now), `${label}: the same parts for ${actor.kind}`)
    }
  }
  await check('a new ticket', {})
  const at = now.toISOString()
  await addChecklistRow(e.db, id, 'Check the cable', ana.id, at)
  await check('a checklist row', { checklist: true })
  await addCostRow(e.db, id, 'Toner', 4200, ana.id, at)
  await check('a cost item', { checklist: true, costItems: true })
  const deps = { db: e.db, clock: () => now, random: Math.random }
  unwrap(await addNote(deps, personWho(ana), { ticketId: id, mode: 'note', body: 'Replaced the toner.', minutesSpent: 25, source: 'portal' }))
  await check('a note with time spent', { checklist: true, costItems: true, time: true })
  await makeTicket(e.db, e.ids, { parentId: id, title: 'Follow-up' })
  await check('a follow-up ticket', { checklist: true, costItems: true, time: true, children: true })
  await insertApproval(e.db, { ticket_id: id, approver_contact_id: bob.id, nonce_hash: 'x', expires_at: at, requested_by_staff_id: ana.id, created_at: at })
  await check('an approval', { checklist: true, costItems: true, time: true, children: true, approvals: true })
  await insertSurvey(e.db, { ticket_id: id, contact_id: bob.id, rating: 5, comment: null, created_at: at })
  await check('a survey', { checklist: true, costItems: true, time: true, children: true, approvals: true, survey: true })
  const costs = (await ticketExtras(e.db, ana, await row(), now)).costs
  t.equal(costs.timeMinutes, 25)
  t.equal(costs.itemsCents, 4200)
})

t.test('a note without time spent, or with zero minutes, is not time', async (t) => {
  const e = await testApp(t)
  const ana = await staffActor(e.db, e.ids, 'ana@casebridge.test')
  const { id } = await makeTicket(e.db, e.ids)
  const deps = { db: e.db, clock: () => new Date(), random: Math.random }
  unwrap(await addNote(deps, personWho(ana), { ticketId: id, mode: 'note', body: 'Looked at it.', source: 'portal' }))
  unwrap(await addNote(deps, personWho(ana), { ticketId: id, mode: 'note', body: 'Again.', minutesSpent: 0, source: 'portal' }))
  t.equal((await ticketHas(e.db, id)).time, false)
})
