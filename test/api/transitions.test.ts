import t from 'tap'
import { testApp, apiToken } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { listHistory } from '../../src/db/ticket.js'

t.test('POST /api/v1/tickets/:id/transitions', async (t) => {
  const { app, db, ids } = await testApp(t)
  const staff = await apiToken(db, 'ana@casebridge.test')
  const client = await apiToken(db, 'bob@acme.test')
  const other = await apiToken(db, 'hank@globex.test')
  const ticket = await makeTicket(db, ids)
  const call = (token: string, body: object) => app.inject({ method: 'POST', url: `/api/v1/tickets/${ticket.id}/transitions`, headers: { authorization: `Bearer ${token}` }, payload: body })

  const early = await call(client, { action: 'accept' })
  t.equal(early.statusCode, 409, 'accept on a ticket not waiting for closure')
  t.equal(early.json().error.code, 'not_allowed')
  t.equal(early.json().error.message, "This action is not available in the ticket's current status.")

  // A missing input is the caller's to fix: 422 with the field, as on the desk (the ticket's state answers 409).
  const noResolution = await call(staff, { action: 'resolve' })
  t.equal(noResolution.statusCode, 422)
  t.match(noResolution.json().error.message, /resolution/i)
  t.match(noResolution.json().error.fields, { resolution: 'Please describe the resolution.' })

  const resolved = await call(staff, { action: 'resolve', resolution: 'Cleaned the rollers' })
  t.equal(resolved.statusCode, 200)
  t.same([resolved.json().state, resolved.json().status], ['resolved', 'waiting_for_closure'])
  t.equal(resolved.json().sla.status, 'achieved')

  t.equal((await call(other, { action: 'accept' })).statusCode, 404, 'another account’s client: 404')
  const stale = await call(client, { action: 'accept', version: 1 })
  t.equal(stale.statusCode, 409)
  t.equal(stale.json().error.code, 'conflict')

  const accepted = await call(client, { action: 'accept' })
  t.same([accepted.json().state, accepted.json().status], ['resolved', 'accepted'])
  const cancel = await call(client, { action: 'cancel', reason: 'late' })
  t.equal(cancel.statusCode, 409, 'cancel on an accepted ticket')
  const byClient = await call(client, { action: 'close', closureCategory: 'solved' })
  t.same([byClient.statusCode, byClient.json().error.code], [409, 'not_allowed'], 'the requester does not close it')
  const closed = await call(staff, { action: 'close', closureCategory: 'solved' })
  t.same([closed.json().state, closed.json().status, closed.json().closureCategory], ['closed', 'completed', 'solved'], 'staff close it with a closure category')
  t.equal((await call(staff, { action: 'fly' })).statusCode, 400, 'unknown action is a validation error')
  const events = await listHistory(db, ticket.id)
  t.ok(events.some((e) => e.action === 'accept' && e.actor_type === 'contact'))
})
