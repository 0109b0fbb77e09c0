// Live pages: a ticket's stream tells each open page what it may know (staff every change and who
// else is there; the requester only what their page shows), ends when the session or the access
// does, and leaves nothing behind when the page goes; a reply written while the ticket moved on is
// held back once. Both databases (PostgreSQL wakes the streams by NOTIFY, SQLite by polling):
//   npx tap test/web/live.test.ts
import t from 'tap'
import { csrfFrom, loginAs, testApp, type Agent } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { listening, openSse } from '../helpers/sse.js'
import { STREAMS_PER_PERSON } from '../../src/routes/live-stream.js'
import { keepLive } from '../../src/commands/presence.js'
import { collisionSince, parseSeen, seenOf } from '../../src/domain/collision.js'

async function reply(agent: Agent, number: number, body: string, mode = 'reply', extra: Record<string, string> = {}) {
  const page = await agent.get(`/desk/tickets/${number}`)
  return agent.postMultipart(`/desk/tickets/${number}/notes`, { _csrf: csrfFrom(page.body), mode, body, ...extra }, [], { noCsrf: true })
}

async function clientReply(agent: Agent, number: number, body: string) {
  const page = await agent.get(`/portal/tickets/${number}`)
  return agent.postMultipart(`/portal/tickets/${number}/replies`, { _csrf: csrfFrom(page.body), body }, [], { noCsrf: true })
}

t.test('a staff page hears every change of its ticket, and who else is on it', async (t) => {
  const env = await testApp(t)
  const base = await listening(env.app)
  const ticket = await makeTicket(env.db, env.ids, { title: 'Paper jam' })
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')

  const anaStream = await openSse(base, `/desk/tickets/${ticket.number}/live`, ana)
  t.equal(anaStream.status, 200)
  const hello = await anaStream.next('hello')
  t.ok(hello.data.presence > 0, 'the page gets its presence')
  t.same((await anaStream.next('presence')).data.people, [], 'nobody else yet')

  const brunoStream = await openSse(base, `/desk/tickets/${ticket.number}/live`, bruno)
  const brunoHello = await brunoStream.next('hello')
  t.same((await anaStream.next('presence')).data.people, [{ name: 'Bruno Lima', activity: 'viewing' }], 'Bruno is viewing')
  t.same((await brunoStream.next('presence')).data.people, [{ name: 'Ana Souza', activity: 'viewing' }], 'and sees Ana')

  const page = await bruno.get(`/desk/tickets/${ticket.number}`)
  const typing = await bruno.post(`/desk/tickets/${ticket.number}/presence`, { _csrf: csrfFrom(page.body), presence: String(brunoHello.data.presence), activity: 'replying' }, { noCsrf: true })
  t.equal(typing.statusCode, 204)
  t.same((await anaStream.next('presence')).data.people, [{ name: 'Bruno Lima', activity: 'replying' }], 'Bruno is replying')
  const notHis = await ana.post(`/desk/tickets/${ticket.number}/presence`, { _csrf: csrfFrom((await ana.get(`/desk/tickets/${ticket.number}`)).body), presence: String(brunoHello.data.presence), activity: 'viewing' }, { noCsrf: true })
  t.equal(notHis.statusCode, 404, 'nobody sets another person\'s presence')

  const started = Date.now()
  t.equal((await reply(bruno, ticket.number, 'Try the rear tray.')).statusCode, 302)
  const changed = await anaStream.next('changed', 2_000)
  t.ok(changed.data.version > hello.data.version, 'the new version comes with it')
  t.ok(Date.now() - started < 2_000, `within 2 s (${Date.now() - started} ms)`)
  t.equal((await reply(bruno, ticket.number, 'Checked the logs.', 'internal')).statusCode, 302)
  await anaStream.next('changed', 2_000)
  t.pass('an internal note too')

  brunoStream.close()
  t.same((await anaStream.next('presence')).data.people, [], 'Bruno left')
  for (let i = 0; i < 50 && (await env.db.selectFrom('ticket_presence').select('id').where('staff_id', '=', env.ids.staff['bruno@casebridge.test']).execute()).length > 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal((await env.db.selectFrom('ticket_presence').select('id').where('staff_id', '=', env.ids.staff['bruno@casebridge.test']).execute()).length, 0, 'his presence row is gone')
  anaStream.close()
  await anaStream.closed
  for (let i = 0; i < 50 && env.app.live.listening > 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(env.app.live.listening, 0, 'no listener left once the pages closed')
  t.equal(env.app.live.streams.size, 0, 'no stream left')
  t.equal(env.app.live.perPerson.size, 0, 'no count left')
  t.equal((await env.db.selectFrom('ticket_presence').select('id').execute()).length, 0, 'no presence left')
})

t.test('a requester hears only what their page shows, only on tickets they may see', async (t) => {
  const env = await testApp(t)
  const base = await listening(env.app)
  const ticket = await makeTicket(env.db, env.ids, { title: 'Printer offline' })
  const bob = await loginAs(env.app, 'bob@acme.test')
  const gina = await loginAs(env.app, 'gina@globex.test')
  const ana = await loginAs(env.app, 'ana@casebridge.test')

  t.equal((await gina.get(`/portal/tickets/${ticket.number}/live`)).statusCode, 404, 'another client\'s ticket: 404, no stream')
  t.equal((await bob.get(`/desk/tickets/${ticket.number}/live`)).statusCode, 404, 'the desk\'s stream is not for clients')
  const anonymous = await env.app.inject({ method: 'GET', url: `/portal/tickets/${ticket.number}/live` })
  t.equal(anonymous.statusCode, 302, 'nobody logged in: to the login page')
  t.equal((await ana.get(`/portal/tickets/${ticket.number}/live`)).statusCode, 404, 'the portal\'s stream is not for staff')
  t.equal((await bob.get('/portal/tickets/99999/live')).statusCode, 404)

  const bobStream = await openSse(base, `/portal/tickets/${ticket.number}/live`, bob)
  await bobStream.next('hello')
  t.equal((await reply(ana, ticket.number, 'Only for the team.', 'internal')).statusCode, 302)
  t.ok(await bobStream.none('changed', 1_000), 'an internal note: nothing for the requester')
  t.equal((await reply(ana, ticket.number, 'We are on it.')).statusCode, 302)
  await bobStream.next('changed', 2_000)
  t.pass('a reply: the requester\'s page is told')
  t.notOk(bobStream.events.some((e) => e.event === 'presence'), 'no word of who at the desk has it open')

  // The session ends (logout): the next change closes the stream instead of telling it.
  const portal = await bob.get('/portal')
  t.equal((await bob.post('/logout', { _csrf: csrfFrom(portal.body) }, { noCsrf: true })).statusCode, 302)
  t.equal((await reply(ana, ticket.number, 'Still there?')).statusCode, 302)
  t.same((await bobStream.next('gone', 2_000)).data, { reason: 'session' })
  await bobStream.closed
  t.equal(bobStream.events.filter((e) => e.event === 'changed').length, 1, 'nothing after the logout')
})

t.test('a page whose ticket moves out of reach is told so and closed', async (t) => {
  const env = await testApp(t)
  const base = await listening(env.app)
  const ticket = await makeTicket(env.db, env.ids, { title: 'VPN' })
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const stream = await openSse(base, `/desk/tickets/${ticket.number}/live`, bruno)
  await stream.next('hello')
  // Moved to a desk Bruno is not on (and not assigned to him).
  await env.db.updateTable('ticket').set((eb) => ({ desk_id: env.ids.desk['Product Support'], assignee_id: null, version: eb('version', '+', 1) })).where('id', '=', ticket.id).execute()
  t.same((await stream.next('gone', 2_000)).data, { reason: 'ticket' })
  await stream.closed
  t.ok(admin, 'the admin still sees it')
})

t.test('the queue hears changes to its desks\' tickets, not to other desks\'', async (t) => {
  const env = await testApp(t)
  const base = await listening(env.app)
  const carla = await loginAs(env.app, 'carla@casebridge.test')
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const carlaQueue = await openSse(base, '/desk/live', carla)
  const brunoQueue = await openSse(base, '/desk/live', bruno)
  await carlaQueue.next('hello')
  await brunoQueue.next('hello')
  await makeTicket(env.db, env.ids, { title: 'New on the Service Desk' })
  t.equal((await brunoQueue.next('queue', 3_000)).data.tickets, 1)
  t.ok(await carlaQueue.none('queue', 1_500), 'Carla, on Product Support only, hears nothing')
  t.equal((await (await loginAs(env.app, 'bob@acme.test')).get('/desk/live')).statusCode, 404, 'no queue stream for clients')
})

t.test('one person holds at most so many streams at once', async (t) => {
  const env = await testApp(t)
  const base = await listening(env.app)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const streams = []
  for (let i = 0; i < STREAMS_PER_PERSON; i++) streams.push(await openSse(base, '/desk/live', ana))
  for (const s of streams) await s.next('hello')
  const refused = await ana.get('/desk/live')
  t.equal(refused.statusCode, 429, 'one more is refused')
  streams[0].close()
  await streams[0].closed
  for (let i = 0; i < 50 && env.app.live.streams.size >= STREAMS_PER_PERSON; i++) await new Promise((r) => setTimeout(r, 50))
  const again = await openSse(base, '/desk/live', ana)
  t.equal(again.status, 200, 'and taken again once one closes')
  for (const s of [...streams, again]) s.close()
})

t.test('presence rows of a process that died go; the feed forgets what everyone read', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids)
  const deps = { db: env.db, clock: () => new Date(), random: Math.random }
  const old = new Date(Date.now() - 10 * 60_000).toISOString()
  await env.db.insertInto('ticket_presence').values({ ticket_id: ticket.id, staff_id: env.ids.staff['ana@casebridge.test'], staff_name: 'Ana Souza', activity: 'viewing', process: 'dead', seen_at: old }).execute()
  await env.db.insertInto('ticket_presence').values({ ticket_id: ticket.id, staff_id: env.ids.staff['bruno@casebridge.test'], staff_name: 'Bruno Lima', activity: 'viewing', process: 'alive', seen_at: old }).execute()
  const before = await env.db.selectFrom('live_event').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow()
  const kept = await keepLive(deps, { process: 'alive', hasRows: true, staleBefore: new Date(Date.now() - 90_000).toISOString(), pruneThrough: Number(before.id) })
  t.ok(kept.ok)
  const left = await env.db.selectFrom('ticket_presence').select('process').execute()
  t.same(left.map((r) => r.process), ['alive'], 'the living process refreshed its row; the dead one\'s went')
  const events = await env.db.selectFrom('live_event').select(['id', 'kind']).execute()
  t.same(events.map((e) => e.kind), ['presence'], 'the old changes are forgotten; the dead row\'s leaving is told')
})

t.test('a reply written while the ticket moved on is held back once, and sent the second time', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids, { title: 'Scanner' })
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const anaPage = await ana.get(`/desk/tickets/${ticket.number}`)
  const seen = /name="seen" value="([^"]+)"/.exec(anaPage.body)![1]
  t.ok(parseSeen(seen), 'the page carries what it showed')

  t.equal((await reply(bruno, ticket.number, 'I will take this one.')).statusCode, 302)
  const held = await ana.postMultipart(`/desk/tickets/${ticket.number}/notes`, { _csrf: csrfFrom(anaPage.body), mode: 'reply', body: 'Please restart it.', seen }, [], { noCsrf: true })
  t.equal(held.statusCode, 409)
  t.match(held.body, 'Your reply was not sent yet: while you were writing, Bruno Lima added to the conversation')
  t.match(held.body, 'Please restart it.', 'what Ana wrote is kept')
  t.match(held.body, 'I will take this one.', 'and Bruno\'s reply is on the page')
  const notes = await env.db.selectFrom('note').select('body').where('ticket_id', '=', ticket.id).execute()
  t.notOk(notes.some((n) => n.body === 'Please restart it.'), 'nothing sent yet')
  const again = /name="seen" value="([^"]+)"/.exec(held.body)![1]
  const sent = await ana.postMultipart(`/desk/tickets/${ticket.number}/notes`, { _csrf: csrfFrom(held.body), mode: 'reply', body: 'Please restart it.', seen: again }, [], { noCsrf: true })
  t.equal(sent.statusCode, 302, 'sent once she has seen it')

  // Her own changes never hold her back; nor does a form without `seen` (an old page, a script).
  const mine = await ana.get(`/desk/tickets/${ticket.number}`)
  const mySeen = /name="seen" value="([^"]+)"/.exec(mine.body)![1]
  t.equal((await reply(ana, ticket.number, 'A note for later.', 'internal')).statusCode, 302)
  t.equal((await ana.postMultipart(`/desk/tickets/${ticket.number}/notes`, { _csrf: csrfFrom(mine.body), mode: 'reply', body: 'And one more.', seen: mySeen }, [], { noCsrf: true })).statusCode, 302)
  t.equal((await ana.postMultipart(`/desk/tickets/${ticket.number}/notes`, { _csrf: csrfFrom(mine.body), mode: 'reply', body: 'No seen.', seen: 'garbage' }, [], { noCsrf: true })).statusCode, 302)
})

t.test('collision rules', async (t) => {
  const ticket = { version: 3, state: 'in_progress', status: 'in_progress', assignee_id: 7 }
  const seen = parseSeen(seenOf(ticket, [{ id: 10 }, { id: 12 }]))!
  t.same(seen, { version: 3, note: 12, state: 'in_progress', status: 'in_progress', assignee: 7 })
  t.equal(parseSeen(''), null)
  t.equal(parseSeen('1:2:x:y:z'), null)
  const notes = [{ id: 12, author_staff_id: 8, author_name: 'Old' }, { id: 13, author_staff_id: 7, author_name: 'Me' }, { id: 14, author_staff_id: null, author_name: 'Bob' }]
  t.equal(collisionSince(seen, ticket, notes, 7, '?'), null, 'same version: nothing')
  t.same(collisionSince(seen, { ...ticket, version: 5 }, notes, 7, '?'), { authors: ['Bob'], state: null, assignee: null }, 'someone else wrote')
  t.equal(collisionSince(seen, { ...ticket, version: 5 }, notes.slice(0, 2), 7, '?'), null, 'only my own note')
  t.same(collisionSince(seen, { ...ticket, version: 4, state: 'resolved', status: 'resolved', assignee_id: null }, [], 7, '?'),
    { authors: [], state: { state: 'resolved', status: 'resolved' }, assignee: { id: null } })
})

t.test('a live page fetching itself again leaves the flash for the page it is meant for', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids, { title: 'Flash' })
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  t.equal((await reply(ana, ticket.number, 'Done.')).statusCode, 302)
  const refetch = await ana.request({ method: 'GET', url: `/desk/tickets/${ticket.number}`, headers: { 'x-live-refresh': '1' } })
  t.notMatch(refetch.body, 'flash-success', 'the refresh shows no flash')
  t.match((await ana.get(`/desk/tickets/${ticket.number}`)).body, 'flash-success', 'the page after the redirect still does')
})

t.test('the bell follows on the open desk pages: a notification for me, and one I read', async (t) => {
  const env = await testApp(t)
  const base = await listening(env.app)
  const ticket = await makeTicket(env.db, env.ids, { title: 'Bell' })
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  // Ana has read what she was told about the ticket (opening it does that) before the pages open.
  t.equal((await ana.get(`/desk/tickets/${ticket.number}`)).statusCode, 200)
  const queue = await openSse(base, '/desk/live', bruno)
  const page = await openSse(base, `/desk/tickets/${ticket.number}/live`, bruno)
  const anaQueue = await openSse(base, '/desk/live', ana)
  await queue.next('hello')
  await page.next('hello')
  await anaQueue.next('hello')
  // Ana mentions Bruno in an internal note: his bell rings on both his pages, not on hers.
  t.equal((await reply(ana, ticket.number, 'Could @bruno have a look?', 'internal')).statusCode, 302)
  const rung = await queue.next('bell', 3_000)
  t.ok(rung.data.count >= 1, `his queue's bell: ${rung.data.count}`)
  t.match(rung.data.label, String(rung.data.count))
  t.equal((await page.next('bell', 3_000)).data.count, rung.data.count, 'and his ticket page\'s')
  t.ok(await anaQueue.none('bell', 800), 'not Ana\'s')
  // He opens the ticket: what the bell said about it is read, and the count drops.
  t.equal((await bruno.get(`/desk/tickets/${ticket.number}`)).statusCode, 200)
  const read = await queue.next('bell', 3_000)
  t.ok(read.data.count < rung.data.count, `down to ${read.data.count}`)
  for (const s of [queue, page, anaQueue]) s.close()
})
