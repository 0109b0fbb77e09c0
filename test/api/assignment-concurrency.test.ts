import t from 'tap'
import { insertContact, insertStaff } from '../../src/db/people.js'
import { staffLoadDrift } from '../../src/db/ticket.js'
import { createApiTokenFor } from '../../src/commands/people.js'
import { OPEN_STATES, type State, type Status } from '../../src/domain/lifecycle.js'
import { testApp } from '../helpers/app.js'

const TICKETS = 200

t.test('200 tickets opened at once spread evenly over the eligible staff', async (t) => {
  const { app, db } = await testApp(t, { demo: false })
  const now = new Date().toISOString()

  const account = await db.insertInto('account').values({ name: 'Load Test Ltd', created_at: now }).returning('id').executeTakeFirstOrThrow()
  const product = await db.insertInto('product').values({ name: 'Widget', created_at: now }).returning('id').executeTakeFirstOrThrow()
  const otherProduct = await db.insertInto('product').values({ name: 'Gadget', created_at: now }).returning('id').executeTakeFirstOrThrow()
  const desk = await db.insertInto('desk').values({ name: 'Widget Desk', created_at: now }).returning('id').executeTakeFirstOrThrow()
  const otherDesk = await db.insertInto('desk').values({ name: 'Elsewhere', created_at: now }).returning('id').executeTakeFirstOrThrow()
  await db.insertInto('desk_product').values({ desk_id: desk.id, product_id: product.id }).execute()

  const staff = (name: string, opts: { available?: boolean; productIds?: number[]; deskIds?: number[] } = {}) => insertStaff(db, {
    name, email: `${name.toLowerCase()}@load.test`, passwordHash: null, role: 'staff',
    available: opts.available, productIds: opts.productIds, deskIds: opts.deskIds ?? [desk.id], now
  })
  // Four eligible staff with different starting loads; "restricted" only serves Gadget.
  const eligible = { zero: await staff('Zero'), three: await staff('Three'), five: await staff('Five'), nine: await staff('Nine') }
  const away = await staff('Away', { available: false })
  const restricted = await staff('Restricted', { productIds: [otherProduct.id] })
  const outsider = await staff('Outsider', { deskIds: [otherDesk.id] })
  const requester = await insertContact(db, { name: 'Rita Requester', email: 'rita@load.test', passwordHash: null, accounts: [{ accountId: account.id, isManager: false }], now })

  let number = 0
  const seedTicket = async (assigneeId: number, state: State, status: Status) => {
    number++
    await db.insertInto('ticket').values({
      number, title: `Earlier ${number}`, description: 'pre-existing load', ticket_type: 'incident', account_id: account.id,
      contact_id: requester, desk_id: desk.id, product_id: product.id, priority: 'medium', source: 'portal', state, status,
      assignee_id: assigneeId, created_at: now, updated_at: now
    }).execute()
  }
  const startingOpen = { zero: 0, three: 3, five: 5, nine: 9 } as const
  const states = [['open', 'new'], ['in_progress', 'analysis'], ['on_hold', 'pending']] as const
  for (const [key, count] of Object.entries(startingOpen) as [keyof typeof eligible, number][]) {
    for (let i = 0; i < count; i++) {
      const [state, status] = states[i % states.length]
      await seedTicket(eligible[key], state, status)
    }
  }
  // Finished work does not count as load: Zero stays the least loaded despite these.
  for (let i = 0; i < 6; i++) await seedTicket(eligible.zero, 'closed', 'completed')
  await seedTicket(eligible.zero, 'cancelled', 'cancelled')
  await db.insertInto('counter').values({ name: 'ticket_number', value: number }).execute()

  const token = await createApiTokenFor({ db, clock: () => new Date(now), random: Math.random }, { kind: 'contact', id: requester }, 'load')
  const responses = await Promise.all(Array.from({ length: TICKETS }, (_, i) => app.inject({
    method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}` },
    payload: { title: `Concurrent ${i}`, description: 'opened at the same moment as 199 others', productId: product.id }
  })))

  const statuses = new Set(responses.map((r) => r.statusCode))
  t.same([...statuses], [201], 'every request created a ticket')
  const created = responses.map((r) => r.json() as { id: number; number: number; source: string; assignee: { id: number } | null })
  t.equal(new Set(created.map((c) => c.number)).size, TICKETS, '200 distinct ticket numbers')
  t.equal(new Set(created.map((c) => c.id)).size, TICKETS)
  t.ok(created.every((c) => c.source === 'api'))
  const eligibleIds = Object.values(eligible)
  t.ok(created.every((c) => c.assignee !== null && eligibleIds.includes(c.assignee.id)), 'every new ticket went to an eligible staff member')

  const rows = await db.selectFrom('ticket').select(['assignee_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', 'in', OPEN_STATES).groupBy('assignee_id').execute()
  const open = new Map(rows.map((r) => [r.assignee_id, Number(r.n)]))
  const counts = eligibleIds.map((id) => open.get(id) ?? 0)
  t.comment(`open tickets per eligible staff member: ${counts.join(', ')}`)
  t.equal(counts.reduce((a, b) => a + b, 0), TICKETS + 17, 'all open tickets are with the four')
  t.ok(Math.max(...counts) - Math.min(...counts) <= 1, `open counts differ by at most 1 (${counts.join(', ')})`)
  t.same(await staffLoadDrift(db), [], 'the counts assignment read are the real ones')
  t.equal(open.get(away) ?? 0, 0, 'the unavailable member got none')
  t.equal(open.get(restricted) ?? 0, 0, 'the member restricted to another product got none')
  t.equal(open.get(outsider) ?? 0, 0, 'staff of another desk got none')
  t.equal(open.get(null) ?? 0, 0, 'nothing was left unassigned')

  const events = await db.selectFrom('ticket_event').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', '=', 'assigned').executeTakeFirstOrThrow()
  t.equal(Number(events.n), TICKETS, 'each assignment is in the history')
})
