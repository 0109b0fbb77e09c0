// The quick actions beside a ticket (queue rows and the ticket's head): the check-mark closes, the
// trash deletes, each shown only when allowed and each confirmed on a page that says what will
// happen. Both databases:
//   npx tap test/web/quick-actions.test.ts
import t from 'tap'
import { loginAs, testApp, csrfFrom, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { transition } from '../helpers/commands.js'
import { personWho } from '../../src/commands/kernel.js'

async function scene(env: TestEnv) {
  const ana = await staffActor(env.db, env.ids, 'ana@casebridge.test')
  const working = await makeTicket(env.db, env.ids, { title: 'Toner low on the 2nd floor' })
  const resolved = await makeTicket(env.db, env.ids, { title: 'Scanner jams on duplex' })
  for (const id of [working.id, resolved.id]) await env.db.updateTable('ticket').set({ assignee_id: ana.id }).where('id', '=', id).execute()
  await transition(env.db, personWho(ana), working.id, { action: 'pick_up' }, new Date())
  await transition(env.db, personWho(ana), resolved.id, { action: 'pick_up' }, new Date())
  await transition(env.db, personWho(ana), resolved.id, { action: 'resolve', resolution: 'Rollers cleaned.' }, new Date())
  return { ana, working, resolved }
}

/** The quick-action links of one queue row, by the ticket's number. */
function quickLinks(html: string, number: number): string[] {
  return [...html.matchAll(new RegExp(`href="/desk/tickets/${number}/confirm/(close|delete)\\?next=[^"]*"`, 'g'))].map((m) => m[1])
}

t.test('the queue offers the check-mark only where the staff member may close, and the trash only to those who may delete', async (t) => {
  const env = await testApp(t)
  const { working, resolved } = await scene(env)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const queue = await ana.get('/desk?scope=mine&situation=all')
  t.equal(queue.statusCode, 200)
  t.same(quickLinks(queue.body, resolved.number), ['close'], 'a resolved ticket: close (Ana may not delete)')
  t.same(quickLinks(queue.body, working.number), [], 'a ticket being worked: nothing (closing waits for the requester)')
  t.match(queue.body, `aria-hidden="true"`, 'the icons are hidden from screen readers')
  t.match(queue.body, `<span class="sr-only">Close ticket #${resolved.number}</span>`, 'and the button says what it does')

  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const all = await admin.get('/desk?scope=desks&situation=all')
  t.same(quickLinks(all.body, working.number), ['delete'], 'the admin may delete any ticket')
  t.same(quickLinks(all.body, resolved.number), ['close', 'delete'])

  const page = await ana.get(`/desk/tickets/${resolved.number}`)
  t.same(quickLinks(page.body, resolved.number), ['close'], 'the same buttons in the ticket head')
})

t.test('closing from the queue: the confirmation says what will happen, asks the closure category, and comes back to the queue', async (t) => {
  const env = await testApp(t)
  const { resolved } = await scene(env)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const next = '/desk?scope=mine&page=1'
  const confirm = await ana.get(`/desk/tickets/${resolved.number}/confirm/close?next=${encodeURIComponent(next)}`)
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, `Close ticket #${resolved.number}?`)
  t.match(confirm.body, 'What will happen')
  t.match(confirm.body, 'bob@acme.test', 'who is told')
  t.match(confirm.body, 'Its case in the CRM is closed too.')
  t.match(confirm.body, `href="${next.replace(/&/g, '&amp;')}"`, 'the way back is the queue page it came from')
  const csrf = csrfFrom(confirm.body)
  const version = /name="version" value="(\d+)"/.exec(confirm.body)![1]
  const post = (form: Record<string, string>) => ana.post(`/desk/tickets/${resolved.number}/actions/close`, { _csrf: csrf, version, from: 'confirm', next, ...form }, { noCsrf: true })

  const missing = await post({ closure_category: '' })
  t.equal(missing.statusCode, 422, 'no closure category: refused')
  t.match(missing.body, `Close ticket #${resolved.number}?`, 'on the confirmation page again')
  t.match(missing.body, 'aria-invalid="true"')
  t.match((await env.db.selectFrom('ticket').select('state').where('id', '=', resolved.id).executeTakeFirstOrThrow()).state, 'resolved', 'nothing changed')

  const done = await post({ closure_category: 'solved', closure_note: 'Confirmed by phone.' })
  t.equal(done.statusCode, 302)
  t.equal(done.headers.location, next, 'back to the queue page')
  const row = await env.db.selectFrom('ticket').select(['state', 'status', 'closure_category', 'closure_note']).where('id', '=', resolved.id).executeTakeFirstOrThrow()
  t.same(row, { state: 'closed', status: 'completed', closure_category: 'solved', closure_note: 'Confirmed by phone.' })
  const mail = await env.db.selectFrom('mail_outbox').select('recipient').where('ticket_id', '=', resolved.id).where('template', 'like', '%close%').execute()
  t.ok(mail.some((m) => m.recipient === 'bob@acme.test'), 'the requester is told')
  t.match((await ana.get(next)).body, `Ticket #${resolved.number} was closed.`, 'and the queue says so')

  const again = await ana.get(`/desk/tickets/${resolved.number}/confirm/close`)
  t.equal(again.statusCode, 409, 'a ticket that can no longer be closed: the page says why, with no form')
  t.notMatch(again.body, 'name="closure_category"')
})

t.test('deleting: the CRM Case is kept, the way back never leads to the deleted page, and only a desk page is followed', async (t) => {
  const env = await testApp(t)
  const { working } = await scene(env)
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const confirm = await admin.get(`/desk/tickets/${working.number}/confirm/delete?next=${encodeURIComponent(`/desk/tickets/${working.number}`)}`)
  t.equal(confirm.statusCode, 200)
  t.match(confirm.body, 'nothing is deleted there')
  const csrf = csrfFrom(confirm.body)
  const version = /name="version" value="(\d+)"/.exec(confirm.body)![1]
  const outboxBefore = await env.db.selectFrom('crm_outbox').select('id').where('ticket_id', '=', working.id).execute()
  const done = await admin.post(`/desk/tickets/${working.number}/actions/delete`, { _csrf: csrf, version, from: 'confirm', next: `/desk/tickets/${working.number}`, reason: 'Duplicate of an older one.' }, { noCsrf: true })
  t.equal(done.statusCode, 302)
  t.equal(done.headers.location, '/desk', 'not the page of the ticket just deleted')
  t.ok((await env.db.selectFrom('ticket').select('deleted_at').where('id', '=', working.id).executeTakeFirstOrThrow()).deleted_at)
  t.same(await env.db.selectFrom('crm_outbox').select('id').where('ticket_id', '=', working.id).execute(), outboxBefore, 'no CRM work: the Case stays as it is')
  t.equal((await admin.get(`/desk/tickets/${working.number}/confirm/delete`)).statusCode, 404, 'gone from the desk')

  const other = await makeTicket(env.db, env.ids, { title: 'Another one' })
  const page = await admin.get(`/desk/tickets/${other.number}/confirm/delete`)
  const version2 = /name="version" value="(\d+)"/.exec(page.body)![1]
  for (const next of ['https://evil.test/', '//evil.test', '/portal', '/\\evil.test']) {
    const res = await admin.post(`/desk/tickets/${other.number}/actions/delete`, { _csrf: csrfFrom(page.body), version: version2, from: 'confirm', next }, { noCsrf: true })
    if (res.statusCode === 302) {
      t.equal(res.headers.location, '/desk', `next ${next} is not followed`)
      break
    }
  }
})

t.test('refused: unknown actions, tickets not on the staff member\'s desks, and clients', async (t) => {
  const env = await testApp(t)
  const { resolved } = await scene(env)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  t.equal((await ana.get(`/desk/tickets/${resolved.number}/confirm/resolve`)).statusCode, 404, 'only the quick actions have a confirmation page')
  t.equal((await ana.get(`/desk/tickets/${resolved.number}/confirm/delete`)).statusCode, 409, 'Ana may not delete: said, no form')
  const elsewhere = await makeTicket(env.db, env.ids, { desk: 'Product Support', title: 'Sync fails' })
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  t.equal((await bruno.get(`/desk/tickets/${elsewhere.number}/confirm/close`)).statusCode, 404, 'a ticket of a desk Bruno is not on')
  const bob = await loginAs(env.app, 'bob@acme.test')
  const res = await bob.get(`/desk/tickets/${resolved.number}/confirm/close`)
  t.ok(res.statusCode === 403 || res.statusCode === 302 || res.statusCode === 404, `a client gets no desk page (${res.statusCode})`)
  t.notMatch(res.body, 'What will happen')
})

/** The action menu of one row of My requests, as link texts → targets. */
function rowMenu(html: string, number: number): Record<string, string> {
  const row = new RegExp(`<tr>\\s*<td class="nowrap"><a href="/portal/tickets/${number}">[\\s\\S]*?</tr>`).exec(html)
  if (!row) return {}
  const menu: Record<string, string> = {}
  for (const m of row[0].matchAll(/<li><a href="([^"]+)">([^<]+)<\/a><\/li>/g)) menu[m[2]] = m[1]
  return menu
}

t.test("My requests: each row's menu offers what the client may do with that ticket, and leads where it is done", async (t) => {
  const env = await testApp(t)
  const { ana, working, resolved } = await scene(env)
  const closed = await makeTicket(env.db, env.ids, { title: 'Monitor flickers' })
  const rated = await makeTicket(env.db, env.ids, { title: 'Keyboard missing keys' })
  for (const tk of [closed, rated]) {
    await env.db.updateTable('ticket').set({ assignee_id: ana.id }).where('id', '=', tk.id).execute()
    await transition(env.db, personWho(ana), tk.id, { action: 'pick_up' }, new Date())
    await transition(env.db, personWho(ana), tk.id, { action: 'resolve', resolution: 'Replaced.' }, new Date())
    await transition(env.db, personWho(ana), tk.id, { action: 'close', closureCategory: 'solved' }, new Date())
  }
  const bobId = env.ids.contact['bob@acme.test']
  await env.db.insertInto('survey').values({ ticket_id: rated.id, contact_id: bobId, rating: 5, comment: null, created_at: new Date().toISOString() }).execute()
  await env.db.insertInto('attachment').values({ ticket_id: working.id, note_id: null, filename: 'photo.jpg', content_type: 'image/jpeg', size: 10, sha256: 'x'.repeat(64), created_at: new Date().toISOString() }).execute()

  const bob = await loginAs(env.app, 'bob@acme.test')
  const page = (await bob.get('/portal')).body
  const p = (n: number) => `/portal/tickets/${n}`
  t.same(rowMenu(page, working.number), {
    Description: `${p(working.number)}#description`, 'Attachments (1)': `${p(working.number)}#attachments`,
    'Register an occurrence': `${p(working.number)}#occurrence`, 'Cancel the ticket': `${p(working.number)}#cancel`, 'Send a message': `${p(working.number)}#reply`
  }, 'a ticket being worked on')
  t.match(rowMenu(page, resolved.number), { 'Accept or reject the solution': `${p(resolved.number)}#solution`, Reopen: `${p(resolved.number)}#solution` }, 'a resolved ticket: the opinion on the solution')
  t.notOk('Cancel the ticket' in rowMenu(page, resolved.number))
  t.match(rowMenu(page, closed.number), { 'Satisfaction survey': `${p(closed.number)}#survey`, 'Reply (opens a follow-up ticket)': `${p(closed.number)}#reply` }, 'closed, not rated yet')
  t.notOk('Satisfaction survey' in rowMenu(page, rated.number), 'closed and rated: no survey again')

  // Every link leads to a place that is on the ticket's page for this client.
  for (const [label, href] of Object.entries(rowMenu(page, working.number))) {
    const [path, anchor] = href.split('#')
    const target = await bob.get(path)
    t.equal(target.statusCode, 200, `${label}: the page answers`)
    if (anchor) t.match(target.body, `id="${anchor}"`, `${label}: #${anchor} is on it`)
  }

  // An account turned off takes no follow-up: the menu does not offer one.
  await env.db.updateTable('account').set({ active: 0 }).where('id', '=', env.ids.account['Acme Corporation']).execute()
  const off = (await bob.get('/portal')).body
  t.notOk('Reply (opens a follow-up ticket)' in rowMenu(off, closed.number))
})
