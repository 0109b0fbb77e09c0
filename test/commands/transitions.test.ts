import t from 'tap'
import { testApp } from '../helpers/app.js'
import { makeTicket, staffActor, contactActor, refusal } from '../helpers/tickets.js'
import { listHistory } from '../../src/db/ticket.js'
import { listMailForTicket } from '../../src/db/mail-outbox.js'
import { performerOf, transition } from '../helpers/commands.js'

const T0 = new Date('2026-03-02T09:00:00.000Z')
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)

t.test('staff works a ticket through to closure by the requester', async (t) => {
  const { db, ids } = await testApp(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const bob = performerOf(await contactActor(db, ids, 'bob@acme.test'))
  const row = () => db.selectFrom('ticket').selectAll().where('id', '=', ticket.id).executeTakeFirstOrThrow()

  t.same(await transition(db, ana, ticket.id, { action: 'pick_up' }, later(5)), { state: 'in_progress', status: 'analysis' })
  await transition(db, ana, ticket.id, { action: 'hold', reason: 'Waiting for the vendor' }, later(60))
  let r = await row()
  t.equal(r.state, 'on_hold')
  t.equal(r.sla_paused_at, later(60).toISOString(), 'SLA clock paused')
  const dueBefore = r.resolution_due_at!
  await transition(db, ana, ticket.id, { action: 'resume' }, later(180))
  r = await row()
  t.equal(r.sla_paused_at, null)
  t.equal(Date.parse(r.resolution_due_at!) - Date.parse(dueBefore), 120 * 60_000, 'due time pushed back by the 2 h on hold')

  await transition(db, ana, ticket.id, { action: 'resolve', resolution: 'Replaced the roller.' }, later(200))
  r = await row()
  t.same([r.state, r.status, r.resolution], ['resolved', 'waiting_for_closure', 'Replaced the roller.'])
  const mails = await listMailForTicket(db, ticket.id)
  t.ok(mails.some((m) => m.recipient === 'bob@acme.test' && m.template === 'ticket.resolve'), 'requester told the resolution waits for acceptance')

  await transition(db, bob, ticket.id, { action: 'reject', reason: 'Still jams on duplex.' }, later(300))
  r = await row()
  t.same([r.state, r.status, r.reopen_count, r.resolution], ['in_progress', 'analysis', 1, null], 'reject reopens and counts')

  await transition(db, ana, ticket.id, { action: 'resolve', resolution: 'New printer installed.' }, later(400))
  await transition(db, bob, ticket.id, { action: 'accept' }, later(420))
  r = await row()
  t.same([r.state, r.status, r.closed_at], ['resolved', 'accepted', null], 'the acceptance rests in Resolved/Accepted')
  await transition(db, ana, ticket.id, { action: 'close', closureCategory: 'solved' }, later(430))
  r = await row()
  t.same([r.state, r.status, r.closure_category], ['closed', 'completed', 'solved'])
  t.equal(r.closed_at, later(430).toISOString())

  const history = await listHistory(db, ticket.id)
  const statusChanges = history.filter((e) => e.field === 'status').map((e) => `${e.from_value}->${e.to_value}`)
  t.same(statusChanges, ['new->analysis', 'analysis->pending', 'pending->analysis', 'analysis->waiting_for_closure', 'waiting_for_closure->rejected', 'rejected->analysis', 'analysis->waiting_for_closure', 'waiting_for_closure->accepted', 'accepted->completed'])
  t.ok(history.some((e) => e.action === 'reject' && e.note === 'Still jams on duplex.' && e.actor_type === 'contact'), 'the reason is in history with the requester as actor')
})

t.test('refused transitions change nothing', async (t) => {
  const { db, ids } = await testApp(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const bob = performerOf(await contactActor(db, ids, 'bob@acme.test'))
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const before = await db.selectFrom('ticket').selectAll().where('id', '=', ticket.id).executeTakeFirstOrThrow()
  const events = (await listHistory(db, ticket.id)).length

  t.equal(await refusal(transition(db, bob, ticket.id, { action: 'accept' }, later(1))), 'not_allowed_in_state', 'accept on a ticket not waiting for closure')
  t.equal(await refusal(transition(db, ana, ticket.id, { action: 'resolve' }, later(1))), 'missing_resolution')
  t.equal(await refusal(transition(db, bob, ticket.id, { action: 'cancel', reason: '  ' }, later(1))), 'missing_reason')
  t.equal(await refusal(transition(db, bob, ticket.id, { action: 'pick_up' }, later(1))), 'forbidden_role')
  t.same(await db.selectFrom('ticket').selectAll().where('id', '=', ticket.id).executeTakeFirstOrThrow(), before, 'ticket row untouched')
  t.equal((await listHistory(db, ticket.id)).length, events, 'no history written')

  await transition(db, bob, ticket.id, { action: 'cancel', reason: 'Opened by mistake' }, later(2))
  t.equal(await refusal(transition(db, bob, ticket.id, { action: 'cancel', reason: 'again' }, later(3))), 'not_allowed_in_state', 'cancel on a cancelled ticket')
})

t.test('escalation moves the ticket to another desk with a least-loaded assignee there', async (t) => {
  const { db, ids } = await testApp(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  await transition(db, ana, ticket.id, { action: 'escalate', targetDeskId: ids.desk['Product Support'], reason: 'Needs product team' }, later(10))
  const r = await db.selectFrom('ticket').selectAll().where('id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same([r.state, r.status, r.desk_id], ['in_progress', 'escalated', ids.desk['Product Support']])
  const members = await db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', ids.desk['Product Support']).execute()
  t.ok(members.some((m) => m.staff_id === r.assignee_id), 'assignee belongs to the new desk')
  const mails = await listMailForTicket(db, ticket.id)
  t.ok(mails.some((m) => m.template === 'ticket.escalate'), 'escalation notification queued')
})

t.test('resolving a parent resolves its open children', async (t) => {
  const { db, ids } = await testApp(t)
  const parent = await makeTicket(db, ids, { now: T0, title: 'Network outage' })
  const child1 = await makeTicket(db, ids, { now: T0, parentId: parent.id, contact: 'alice@acme.test' })
  const child2 = await makeTicket(db, ids, { now: T0, parentId: parent.id })
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const bob = performerOf(await contactActor(db, ids, 'bob@acme.test'))
  await transition(db, bob, child2.id, { action: 'cancel', reason: 'duplicate' }, later(1))
  await transition(db, ana, parent.id, { action: 'resolve', resolution: 'Switch replaced' }, later(30))
  const rows = await db.selectFrom('ticket').select(['id', 'state', 'status', 'resolution']).where('id', 'in', [child1.id, child2.id]).orderBy('id').execute()
  t.same(rows.map((r) => [r.state, r.status]), [['resolved', 'resolved_by_origin'], ['cancelled', 'cancelled']], 'open child resolved, cancelled child left alone')
  t.match(rows[0].resolution, /Switch replaced/)
})
