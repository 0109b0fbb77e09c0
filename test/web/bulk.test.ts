// Bulk actions of the staff queue: each ticket through its own command, the answer listing what
// was done and what was refused and why. Both databases:
//   npx tap test/web/bulk.test.ts
import t from 'tap'
import { loginAs, testApp, csrfFrom, type Agent, type TestEnv } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'

async function tickets(env: TestEnv, n: number, title = 'Printer') {
  const made = []
  for (let i = 0; i < n; i++) made.push(await makeTicket(env.db, env.ids, { title: `${title} ${i}` }))
  return made
}

async function bulk(agent: Agent, form: Record<string, string | string[]>) {
  const queue = await agent.get('/desk')
  return agent.post('/desk/bulk', { _csrf: csrfFrom(queue.body), next: '/desk?scope=desks', ...form }, { noCsrf: true })
}

const state = (env: TestEnv, ids: number[]) => env.db.selectFrom('ticket').select(['id', 'state', 'status', 'priority', 'assignee_id', 'desk_id']).where('id', 'in', ids).orderBy('id').execute()

t.test('the queue offers a tick per row and the bulk panel', async (t) => {
  const env = await testApp(t)
  const [a] = await tickets(env, 1)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const page = await ana.get('/desk')
  t.match(page.body, `<input type="checkbox" form="bulk" name="tickets" value="${a.number}" aria-label="Tick ticket #${a.number}">`)
  t.match(page.body, 'action="/desk/bulk"')
  t.match(page.body, '<script src="/static/queue.js" defer></script>')
  t.equal((await ana.get('/static/queue.js')).statusCode, 200)
})

t.test('pick up, change the priority, assign: each ticket through its own command', async (t) => {
  const env = await testApp(t)
  const made = await tickets(env, 3)
  const ids = made.map((m) => m.id)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const numbers = made.map((m) => String(m.number))

  const picked = await bulk(ana, { bulk_action: 'pick_up', tickets: numbers })
  t.equal(picked.statusCode, 200)
  t.match(picked.body, '3 done, 0 refused.')
  t.ok((await state(env, ids)).every((r) => r.state === 'in_progress' && r.status === 'analysis'), 'picked up: In Progress / Analysis')
  // All Ana's, so that handing them to Bruno changes each one.
  await env.db.updateTable('ticket').set({ assignee_id: env.ids.staff['ana@casebridge.test'] }).where('id', 'in', ids).execute()
  const assignees = (await state(env, ids)).map((r) => r.assignee_id)

  const prio = await bulk(ana, { bulk_action: 'priority', priority: 'high', tickets: numbers.slice(0, 2) })
  t.match(prio.body, '2 done, 0 refused.')
  t.same((await state(env, ids)).map((r) => r.priority), ['high', 'high', 'medium'])
  const again = await bulk(ana, { bulk_action: 'priority', priority: 'high', tickets: numbers.slice(0, 1) })
  t.match(again.body, 'Already so: nothing changed.', 'a change that changes nothing is said so, per ticket')
  const history = await env.db.selectFrom('ticket_event').select('ticket_id').where('field', '=', 'priority').where('ticket_id', 'in', ids).execute()
  t.equal(history.length, 2, 'each change has its history row')

  const noNote = await bulk(ana, { bulk_action: 'assign', assignee_id: String(env.ids.staff['bruno@casebridge.test']), tickets: numbers })
  t.equal(noNote.statusCode, 422, 'assigning needs the why')
  t.match(noNote.body, 'Say why you hand them on')
  t.match(noNote.body, `name="tickets" value="${made[2].number}"`, 'the form comes back with the same tickets')
  t.same((await state(env, ids)).map((r) => r.assignee_id), assignees, 'nothing changed')

  const assigned = await bulk(ana, { bulk_action: 'assign', assignee_id: String(env.ids.staff['bruno@casebridge.test']), note: 'Bruno covers printers this week.', tickets: numbers })
  t.match(assigned.body, '3 done, 0 refused.')
  t.ok((await state(env, ids)).every((r) => r.assignee_id === env.ids.staff['bruno@casebridge.test']))
  const notes = await env.db.selectFrom('note').select(['ticket_id', 'visibility']).where('body', '=', 'Bruno covers printers this week.').execute()
  t.equal(notes.length, 3, 'the note is kept with each ticket')
  t.ok(notes.every((n) => n.visibility === 'internal'))
})

t.test('close with one refused: the answer says which and why, and the others are closed', async (t) => {
  const env = await testApp(t)
  const made = await tickets(env, 3)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const numbers = made.map((m) => String(m.number))
  await bulk(ana, { bulk_action: 'pick_up', tickets: numbers })
  const resolved = await bulk(ana, { bulk_action: 'resolve', note: 'Driver updated on the print server.', tickets: numbers.slice(0, 2) })
  t.match(resolved.body, '2 done, 0 refused.')
  const closed = await bulk(ana, { bulk_action: 'close', closure_category: 'solved', tickets: numbers })
  t.equal(closed.statusCode, 200)
  t.match(closed.body, '2 done, 1 refused.')
  const refusedRow = new RegExp(`<tr class="bulk-refused">[\\s\\S]*?#${made[2].number}[\\s\\S]*?</tr>`).exec(closed.body)
  t.ok(refusedRow, 'the refused ticket is listed as refused')
  t.match(refusedRow?.[0] ?? '', /requester/i, 'with the reason (closing a ticket being worked waits for the requester)')
  t.same((await state(env, made.map((m) => m.id))).map((r) => r.state), ['closed', 'closed', 'in_progress'])
})

t.test('every ticket matching the search, and what the staff member may not see is left out', async (t) => {
  const env = await testApp(t)
  const printers = await tickets(env, 4, 'Toner smudge')
  await tickets(env, 2, 'Laptop battery')
  const elsewhere = await makeTicket(env.db, env.ids, { desk: 'Product Support', title: 'Toner smudge in the cloud' })
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const all = await bulk(bruno, { bulk_action: 'priority', priority: 'low', all: '1', query: 'q=smudge' })
  t.equal(all.statusCode, 200)
  t.match(all.body, '4 done, 0 refused.', 'the four printer tickets of his desk; not the laptop ones, not the other desk\'s')
  t.same((await state(env, printers.map((p) => p.id))).map((r) => r.priority), ['low', 'low', 'low', 'low'])
  t.equal((await state(env, [elsewhere.id]))[0].priority, 'medium')

  const notHis = await bulk(bruno, { bulk_action: 'priority', priority: 'low', tickets: [String(elsewhere.number)] })
  t.equal(notHis.statusCode, 422, 'a ticket of another desk, ticked by hand: as if it were not there')
  t.match(notHis.body, 'No ticket was ticked')
  t.equal((await state(env, [elsewhere.id]))[0].priority, 'medium')
})

t.test('refused: no action chosen, no CSRF token, a client', async (t) => {
  const env = await testApp(t)
  const [a] = await tickets(env, 1)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const none = await bulk(ana, { bulk_action: '', tickets: [String(a.number)] })
  t.equal(none.statusCode, 422)
  t.match(none.body, 'Choose what to do.')
  const badId = await bulk(ana, { bulk_action: 'assign', assignee_id: 'abc', note: 'x', tickets: [String(a.number)] })
  t.equal(badId.statusCode, 422, 'a picker value that is no id')
  const tooMany = await bulk(ana, { bulk_action: 'pick_up', tickets: Array.from({ length: 1001 }, (_, i) => String(i + 1)) })
  t.equal(tooMany.statusCode, 422, 'more ticks than one bulk action takes')
  t.match(tooMany.body, 'at most 1000 tickets')
  const forged = await ana.post('/desk/bulk', { bulk_action: 'pick_up', tickets: String(a.number) }, { noCsrf: true })
  t.equal(forged.statusCode, 403, 'without the CSRF token')
  const bob = await loginAs(env.app, 'bob@acme.test')
  const client = await bob.post('/desk/bulk', { bulk_action: 'pick_up', tickets: String(a.number) }, { csrfFrom: '/portal' })
  t.ok(client.statusCode === 404 || client.statusCode === 403, `a client gets no desk (${client.statusCode})`)
  t.equal((await state(env, [a.id]))[0].state, 'open')
})

t.test('an admin, on no desk, may hand tickets of every desk to their staff', async (t) => {
  const env = await testApp(t)
  const [a] = await tickets(env, 1)
  const elsewhere = await makeTicket(env.db, env.ids, { desk: 'Product Support', title: 'Sync fails' })
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const queue = await admin.get('/desk')
  t.match(queue.body, `<option value="${env.ids.staff['bruno@casebridge.test']}" >Bruno Lima</option>`, 'the staff of every desk are offered')
  await env.db.updateTable('ticket').set({ assignee_id: env.ids.staff['ana@casebridge.test'] }).where('id', 'in', [a.id, elsewhere.id]).execute()
  const res = await bulk(admin, { bulk_action: 'assign', assignee_id: String(env.ids.staff['bruno@casebridge.test']), note: 'Covering.', tickets: [String(a.number), String(elsewhere.number)] })
  t.match(res.body, '1 done, 1 refused.', 'Bruno takes the Service Desk one; the Product Support one is not his desk\'s')
  t.same((await state(env, [a.id, elsewhere.id])).map((r) => r.assignee_id), [env.ids.staff['bruno@casebridge.test'], env.ids.staff['ana@casebridge.test']])
})

t.test('more than the page waits on: the worker runs it and the page follows its progress', async (t) => {
  const env = await testApp(t)
  const { BULK_INLINE } = await import('../../src/domain/bulk.js')
  const { runBulkJobs } = await import('../../sync/jobs/bulk.js')
  const made = await tickets(env, BULK_INLINE + 20, 'Toner')
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const queued = await bulk(ana, { bulk_action: 'priority', priority: 'critical', all: '1', query: 'q=Toner&scope=desks&situation=all' })
  t.equal(queued.statusCode, 303, 'not done while the page waits')
  const where = queued.headers.location as string
  t.match(where, /^\/desk\/bulk\/\d+$/)
  const waiting = await ana.get(where)
  t.equal(waiting.statusCode, 200)
  t.equal(waiting.headers.refresh, '2', 'the page asks again by itself')
  t.match(waiting.body, `Waiting for the worker to start on ${BULK_INLINE + 20} tickets`)
  t.match(waiting.body, `<progress id="bulk-progress" max="${BULK_INLINE + 20}" value="0">`)
  t.equal((await (await loginAs(env.app, 'bruno@casebridge.test')).get(where)).statusCode, 404, 'another person\'s job is not theirs to see')
  t.equal((await ana.get('/desk/bulk/abc')).statusCode, 404)
  t.equal((await ana.get('/desk/bulk/99999999999')).statusCode, 404)
  const untouched = await state(env, made.map((m) => m.id))
  t.ok(untouched.every((r) => r.priority !== 'critical'), 'nothing changed yet')

  t.equal(await runBulkJobs({ db: env.db, holder: 'test', leaseMs: 60_000 }), BULK_INLINE + 20)
  const finished = await ana.get(where)
  t.notOk(finished.headers.refresh, 'done: no more asking')
  t.match(finished.body, `${BULK_INLINE + 20} done, 0 refused.`)
  t.ok((await state(env, made.map((m) => m.id))).every((r) => r.priority === 'critical'), 'every ticket changed')
})
