import t from 'tap'
import { Agent, loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket, contactActor } from '../helpers/tickets.js'
import { listNotes } from '../../src/db/ticket.js'
import { listMailForTicket } from '../../src/db/mail-outbox.js'
import { saveSettings } from '../../src/db/settings.js'

type Form = Record<string, string>

function versionOn(html: string): string {
  const m = html.match(/name="version" value="(\d+)"/)
  if (!m) throw new Error('no version on the page')
  return m[1]
}

async function row(env: TestEnv, id: number) {
  return env.db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

async function events(env: TestEnv, id: number) {
  return env.db.selectFrom('ticket_event').selectAll().where('ticket_id', '=', id).orderBy('id').execute()
}

/** Mails queued for a ticket, leaving out the `skip` first ones (those of its creation). */
async function mails(env: TestEnv, id: number, skip = 0) {
  return (await listMailForTicket(env.db, id)).slice(skip).map((m) => [m.template, m.recipient])
}

/** Posts an action form the way the page does: its CSRF token and the version it shows. */
async function act(agent: Agent, number: number, action: string, form: Form = {}, version?: string) {
  const url = `/desk/tickets/${number}`
  const page = await agent.get(url)
  return agent.post(`${url}/actions/${action}`, { version: version ?? versionOn(page.body), ...form }, { csrfFrom: url })
}

/** The text of the panel's action buttons and disclosure labels. */
function offered(html: string): string[] {
  const start = html.indexOf('id="actions"')
  const panel = html.slice(start, html.indexOf('</section>', start))
  return [...panel.matchAll(/<summary>([^<]+)<\/summary>|class="action-now">[\s\S]*?<button type="submit" class="primary">([^<]+)</g)]
    .map((m) => (m[1] ?? m[2]).trim())
}

/** Everything the SLA columns of one queue row show. */
function queueRow(html: string, number: number): string {
  const m = html.match(new RegExp(`<tr>\\s*(?:<td class="pick">[\\s\\S]*?</td>\\s*)?<td class="num"><a href="/desk/tickets/${number}">[\\s\\S]*?</tr>`))
  if (!m) throw new Error(`#${number} is not in the queue`)
  return m[0]
}

t.test('the lifecycle through the desk: pick up, hold, resume, escalate, resolve, close', async (t) => {
  const env = await testApp(t)
  const { app, ids } = env
  const ticket = await makeTicket(env.db, ids, { title: 'Toner smears every page' })
  const n = ticket.number
  const created = (await mails(env, ticket.id)).length
  const ana = await loginAs(app, 'ana@casebridge.test')

  const fresh = await ana.get(`/desk/tickets/${n}`)
  t.equal(fresh.statusCode, 200)
  t.same(offered(fresh.body), ['Pick up', 'Escalate', 'Resolve', 'Cancel ticket'], 'only what the lifecycle allows on a New ticket')
  t.notMatch(fresh.body, '/actions/hold"', 'no hold form while New')
  t.notMatch(fresh.body, '/actions/close"', 'no close while the policy asks for the requester')
  t.notMatch(fresh.body, '/actions/delete"', 'Ana may not delete')

  const pick = await act(ana, n, 'pick_up')
  t.equal(pick.statusCode, 302)
  t.equal(pick.headers.location, `/desk/tickets/${n}`)
  t.match((await row(env, ticket.id)), { state: 'in_progress', status: 'analysis' })
  const picked = await ana.get(`/desk/tickets/${n}`)
  t.match(picked.body, `You picked up ticket #${n}.`)
  t.same(offered(picked.body), ['Escalate', 'Put on hold', 'Resolve', 'Cancel ticket'])

  // Missing reason: a field message, nothing changed.
  const before = await row(env, ticket.id)
  const eventCount = (await events(env, ticket.id)).length
  const noReason = await act(ana, n, 'hold', { reason: '  ' })
  t.equal(noReason.statusCode, 422)
  t.match(noReason.body, /id="reason-error">This field is required./)
  t.match(noReason.body, /<details class="action action-hold" open>/, 'the failed form is open')
  t.same(await row(env, ticket.id), before, 'nothing changed')
  t.equal((await events(env, ticket.id)).length, eventCount)

  const hold = await act(ana, n, 'hold', { reason: 'Waiting for the spare drum' })
  t.equal(hold.statusCode, 302)
  const held = await row(env, ticket.id)
  t.match(held, { state: 'on_hold', status: 'pending', sla_paused_at: String })
  const heldPage = await ana.get(`/desk/tickets/${n}`)
  t.match(heldPage.body, 'the SLA clock is paused')
  t.match(heldPage.body, 'Paused since')
  t.match(heldPage.body, /class="sla sla-paused">Paused/)
  t.same(offered(heldPage.body), ['Resume', 'Resolve', 'Cancel ticket'])

  t.equal((await act(ana, n, 'resume')).statusCode, 302)
  t.match(await row(env, ticket.id), { state: 'in_progress', status: 'analysis', sla_paused_at: null })

  const noDesk = await act(ana, n, 'escalate', { target_desk_id: String(ids.desk['Service Desk']), reason: 'x' })
  t.equal(noDesk.statusCode, 422, 'escalating to the same desk is not an escalation')
  t.match(noDesk.body, 'Choose another desk.')
  const escalate = await act(ana, n, 'escalate', { target_desk_id: String(ids.desk['Product Support']), reason: 'Looks like a driver bug' })
  t.equal(escalate.statusCode, 302)
  const escalated = await row(env, ticket.id)
  t.match(escalated, { state: 'in_progress', status: 'escalated', desk_id: ids.desk['Product Support'] })
  t.ok([ids.staff['ana@casebridge.test'], ids.staff['carla@casebridge.test']].includes(escalated.assignee_id!), 'an available Product Support member took it')
  t.match((await ana.get(`/desk/tickets/${n}`)).body, /was escalated to Product Support and assigned to (Ana Souza|Carla Mendes)\./)

  const noResolution = await act(ana, n, 'resolve', { resolution: '' })
  t.equal(noResolution.statusCode, 422)
  t.match(noResolution.body, /id="resolution-error">This field is required./)
  t.equal((await row(env, ticket.id)).status, 'escalated')
  t.equal((await act(ana, n, 'resolve', { resolution: 'Installed driver 4.2; smears gone.' })).statusCode, 302)
  const resolved = await row(env, ticket.id)
  t.match(resolved, { state: 'resolved', status: 'waiting_for_closure', resolution: 'Installed driver 4.2; smears gone.', resolved_at: String })
  const resolvedPage = await ana.get(`/desk/tickets/${n}`)
  t.same(offered(resolvedPage.body), ['Close'], 'a resolved ticket can be closed by staff whatever the policy')
  t.match(resolvedPage.body, 'Installed driver 4.2; smears gone.')

  const noCategory = await act(ana, n, 'close', { closure_category: 'whatever' })
  t.equal(noCategory.statusCode, 422)
  t.match(noCategory.body, 'Please choose a closure category.')
  t.equal((await act(ana, n, 'close', { closure_category: 'workaround', closure_note: 'Driver pinned until the vendor fix.' })).statusCode, 302)
  t.match(await row(env, ticket.id), { state: 'closed', status: 'completed', closure_category: 'workaround', closure_note: 'Driver pinned until the vendor fix.' })
  const closedPage = await ana.get(`/desk/tickets/${n}`)
  t.match(closedPage.body, 'Workaround provided')
  t.match(closedPage.body, 'No lifecycle actions are available while the ticket is Completed.')

  const rows = (await events(env, ticket.id)).filter((e) => e.field === 'status' || e.field === 'state' || e.action === 'escalate')
  t.same(rows.map((e) => [e.action, e.field, e.from_value, e.to_value, e.note, e.actor_name]), [
    ['pick_up', 'state', 'open', 'in_progress', null, 'Ana Souza'],
    ['pick_up', 'status', 'new', 'analysis', null, 'Ana Souza'],
    ['hold', 'state', 'in_progress', 'on_hold', 'Waiting for the spare drum', 'Ana Souza'],
    ['hold', 'status', 'analysis', 'pending', null, 'Ana Souza'],
    ['resume', 'state', 'on_hold', 'in_progress', null, 'Ana Souza'],
    ['resume', 'status', 'pending', 'analysis', null, 'Ana Souza'],
    ['escalate', 'desk', 'Service Desk', 'Product Support', 'Looks like a driver bug', 'Ana Souza'],
    ['escalate', 'status', 'analysis', 'escalated', 'Looks like a driver bug', 'Ana Souza'],
    ['resolve', 'state', 'in_progress', 'resolved', 'Installed driver 4.2; smears gone.', 'Ana Souza'],
    ['resolve', 'status', 'escalated', 'waiting_for_closure', null, 'Ana Souza'],
    ['close', 'state', 'resolved', 'closed', 'Driver pinned until the vendor fix.', 'Ana Souza'],
    ['close', 'status', 'waiting_for_closure', 'completed', null, 'Ana Souza']
  ], 'one history row per change, with who and why')
  const history = await ana.get(`/desk/tickets/${n}/history`)
  t.match(history.body, 'Put on hold: State')
  t.match(history.body, 'Service Desk → Product Support')
  t.match(history.body, 'Waiting for the spare drum')

  const queued = await mails(env, ticket.id, created)
  t.same(queued.filter(([, to]) => to === 'bob@acme.test').map(([tpl]) => tpl),
    ['ticket.pick_up', 'ticket.hold', 'ticket.resume', 'ticket.resolve', 'ticket.close'], 'the requester is told of each step')
  t.ok(queued.some(([tpl, to]) => tpl === 'ticket.escalate' && to === 'bruno@casebridge.test'), 'the manager of the new desk hears of the escalation')
  t.notOk(queued.some(([, to]) => to === 'ana@casebridge.test'), 'nobody is mailed about their own action')

  // A reply to the closed ticket opens a follow-up ticket linked to it.
  const replied = await ana.postMultipart(`/desk/tickets/${n}/notes`, { mode: 'reply', body: 'Vendor fix is out: please update.' }, [], { csrfFrom: `/desk/tickets/${n}` })
  t.equal(replied.statusCode, 302)
  const child = await env.db.selectFrom('ticket').selectAll().where('parent_id', '=', ticket.id).executeTakeFirstOrThrow()
  t.equal(replied.headers.location, `/desk/tickets/${child.number}`)
  const childPage = await ana.get(`/desk/tickets/${child.number}`)
  t.match(childPage.body, `Ticket #${n} is closed, so your reply opened follow-up ticket #${child.number}.`)
  t.match(childPage.body, `<a href="/desk/tickets/${n}">#${n} Toner smears every page</a>`, 'the follow-up links to its origin')
  t.match((await ana.get(`/desk/tickets/${n}`)).body, `<a href="/desk/tickets/${child.number}">#${child.number}</a>`, 'and the origin to its follow-up')
  t.equal((await row(env, ticket.id)).status, 'completed', 'the closed ticket stays closed')

  // Its account turned off: the page says a reply would open nothing, and one sent anyway is refused.
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const acme = env.ids.account['Acme Corporation']
  t.equal((await admin.post(`/admin/accounts/${acme}/active`, { active: 'off' }, { csrfFrom: `/admin/accounts/${acme}` })).statusCode, 302)
  const offPage = await ana.get(`/desk/tickets/${n}`)
  t.match(offPage.body, 'This client account is turned off: no new tickets are opened for it.')
  t.notMatch(offPage.body, 'a reply or message opens a new follow-up ticket', 'no follow-up offered')
  const tickets = (await env.db.selectFrom('ticket').select('id').execute()).length
  const refused = await ana.postMultipart(`/desk/tickets/${n}/notes`, { mode: 'reply', body: 'One more thing.' }, [], { csrfFrom: '/desk' })
  t.ok(refused.statusCode >= 400 && refused.statusCode < 500, `refused (${refused.statusCode})`)
  t.equal((await env.db.selectFrom('ticket').select('id').execute()).length, tickets, 'no second follow-up')
})

t.test('refused actions answer 409 with the reason and change nothing', async (t) => {
  const env = await testApp(t)
  const { app, ids, db } = env
  const ticket = await makeTicket(db, ids, { title: 'Scanner offline' })
  const n = ticket.number
  const ana = await loginAs(app, 'ana@casebridge.test')
  await act(ana, n, 'pick_up')
  const before = await row(env, ticket.id)
  const eventCount = (await events(env, ticket.id)).length
  const mailCount = (await mails(env, ticket.id)).length
  const unchanged = async (what: string) => {
    t.same(await row(env, ticket.id), before, `${what}: the ticket is unchanged`)
    t.equal((await events(env, ticket.id)).length, eventCount, `${what}: no history row`)
    t.equal((await mails(env, ticket.id)).length, mailCount, `${what}: no mail queued`)
  }

  const close = await act(ana, n, 'close', { closure_category: 'solved' })
  t.equal(close.statusCode, 409, 'close while the policy wants the requester')
  t.match(close.body, 'This ticket must be resolved first; the requester then accepts the solution or it closes automatically.')
  await unchanged('close')

  const del = await act(ana, n, 'delete', { reason: 'spam' })
  t.equal(del.statusCode, 409, 'delete without the permission')
  t.match(del.body, 'Your account does not have the permission this action needs.')
  await unchanged('delete')

  const stale = await act(ana, n, 'hold', { reason: 'later' }, String(before.version - 1))
  t.equal(stale.statusCode, 409, 'a stale page')
  t.match(stale.body, 'Someone else changed this ticket while you were working on it. Nothing was saved')
  t.match(stale.body, `name="version" value="${before.version}"`, 'the page now carries the current version')
  t.match(stale.body, '>later</textarea>', 'what was typed is kept')
  await unchanged('stale')

  const pickAgain = await act(ana, n, 'pick_up')
  t.equal(pickAgain.statusCode, 409)
  t.match(pickAgain.body, 'This action is not available in the ticket&#39;s current status.')
  await unchanged('pick up twice')

  t.equal((await act(ana, n, 'teleport')).statusCode, 404, 'an unknown action')
  const noCsrf = await ana.post(`/desk/tickets/${n}/actions/hold`, { version: String(before.version), reason: 'x' }, { noCsrf: true })
  t.equal(noCsrf.statusCode, 403)
  const carla = await loginAs(app, 'carla@casebridge.test')
  const foreign = await carla.post(`/desk/tickets/${n}/actions/hold`, { version: String(before.version), reason: 'x' }, { csrfFrom: '/desk' })
  t.equal(foreign.statusCode, 404, 'a ticket outside her desks')
  await unchanged('foreign')

  // Once the setting allows it, staff close without the requester.
  await saveSettings(db, { staffMayCloseWithoutRequester: true })
  const page = await ana.get(`/desk/tickets/${n}`)
  t.ok(offered(page.body).includes('Close'), 'close is offered now')
  t.equal((await act(ana, n, 'close', { closure_category: 'no_response' })).statusCode, 302)
  t.match(await row(env, ticket.id), { state: 'closed', status: 'completed', closure_category: 'no_response', closure_note: null })

  // Cancel: with a reason; afterwards nothing more is offered.
  const other = await makeTicket(db, ids, { title: 'Duplicate of the scanner one' })
  const otherCreated = (await mails(env, other.id)).length
  t.equal((await act(ana, other.number, 'cancel', { reason: '' })).statusCode, 422)
  t.equal((await act(ana, other.number, 'cancel', { reason: 'Same as #' + n })).statusCode, 302)
  t.match(await row(env, other.id), { state: 'cancelled', status: 'cancelled', cancel_reason: 'Same as #' + n })
  t.same(await mails(env, other.id, otherCreated), [['ticket.cancel', 'bob@acme.test']])
  const cancelled = await ana.get(`/desk/tickets/${other.number}`)
  t.same(offered(cancelled.body), [])
  t.match(cancelled.body, 'Same as #' + n)
  t.equal((await act(ana, other.number, 'resolve', { resolution: 'x' })).statusCode, 409)
})

t.test('delete: admins and staff with the permission; the ticket disappears', async (t) => {
  const env = await testApp(t)
  const { app, ids, db } = env
  const ticket = await makeTicket(db, ids, { title: 'Test ticket, please ignore' })
  const n = ticket.number
  const admin = await loginAs(app, 'admin@casebridge.test')
  const page = await admin.get(`/desk/tickets/${n}`)
  t.ok(offered(page.body).includes('Delete'), 'offered to the admin')
  const res = await act(admin, n, 'delete', { reason: 'Opened by mistake' })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/desk')
  const queue = await admin.get('/desk')
  t.match(queue.body, `Ticket #${n} was deleted.`)
  t.notMatch(queue.body, `href="/desk/tickets/${n}"`, 'gone from the queue')
  t.equal((await admin.get(`/desk/tickets/${n}`)).statusCode, 404, 'and its page')
  const deleted = await row(env, ticket.id)
  t.ok(deleted.deleted_at, 'kept in the database, marked deleted')
  const last = (await events(env, ticket.id)).pop()!
  t.same([last.action, last.note, last.actor_name], ['delete', 'Opened by mistake', 'Alex Admin'])

  // A staff member given the permission sees the action too.
  await db.updateTable('staff').set({ can_delete: 1 }).where('id', '=', ids.staff['bruno@casebridge.test']).execute()
  const second = await makeTicket(db, ids, { title: 'Another mistake' })
  const bruno = await loginAs(app, 'bruno@casebridge.test')
  t.ok(offered((await bruno.get(`/desk/tickets/${second.number}`)).body).includes('Delete'))
  t.equal((await act(bruno, second.number, 'delete')).statusCode, 302, 'the reason is optional')
  t.equal((await bruno.get(`/desk/tickets/${second.number}`)).statusCode, 404)
})

t.test('categorize: impact × urgency gives the priority, with history rows', async (t) => {
  const env = await testApp(t)
  const { app, ids, db } = env
  const ticket = await makeTicket(db, ids, { title: 'Laptop fan loud', priority: 'low' })
  const n = ticket.number
  const ana = await loginAs(app, 'ana@casebridge.test')
  const base = { category_id: String(ids.category['Laptop problem']), product_id: '', desk_id: String(ids.desk['Service Desk']) }

  const res = await act(ana, n, 'categorize', { ...base, impact: 'high', urgency: 'medium', priority: '', source: 'phone' })
  t.equal(res.statusCode, 302)
  t.match(await row(env, ticket.id), { impact: 'high', urgency: 'medium', priority: 'high', source: 'phone', category_id: ids.category['Laptop problem'] })
  const page = await ana.get(`/desk/tickets/${n}`)
  t.match(page.body, 'Categorization saved. Priority: High (impact High × urgency Medium).', 'the resulting priority is shown')
  t.match(page.body, /<span class="badge prio prio-high">High<\/span>/)
  t.notMatch(page.body.slice(page.body.indexOf('id="f-priority"'), page.body.indexOf('</select>', page.body.indexOf('id="f-priority"'))), 'selected', 'the priority select stays on "From impact × urgency"')

  const updates = (await events(env, ticket.id)).filter((e) => e.action === 'updated')
  t.same(updates.map((e) => [e.field, e.from_value, e.to_value]), [
    ['impact', null, 'high'], ['urgency', null, 'medium'], ['source', 'portal', 'phone'], ['priority', 'low', 'high'],
    ['category', 'Printer problem', 'Laptop problem']
  ])
  const history = await ana.get(`/desk/tickets/${n}/history`)
  t.match(history.body, 'Changed: Impact')
  t.match(history.body, '— → High')
  t.match(history.body, 'Portal → Phone')
  t.match(history.body, 'Low → High')

  // Low × low is low; an explicit priority overrides the matrix.
  t.equal((await act(ana, n, 'categorize', { ...base, impact: 'low', urgency: 'low', priority: '', source: 'phone' })).statusCode, 302)
  t.equal((await row(env, ticket.id)).priority, 'low')
  t.equal((await act(ana, n, 'categorize', { ...base, impact: 'low', urgency: 'low', priority: 'critical', source: 'phone' })).statusCode, 302)
  t.equal((await row(env, ticket.id)).priority, 'critical')
  t.match((await ana.get(`/desk/tickets/${n}`)).body, 'Categorization saved. Priority: Critical.')
  t.equal((await act(ana, n, 'categorize', { ...base, impact: 'low', urgency: 'low', priority: 'critical', source: 'phone' })).statusCode, 302)
  t.match((await ana.get(`/desk/tickets/${n}`)).body, 'Nothing was changed.')

  const version = (await row(env, ticket.id)).version
  const bad = await act(ana, n, 'categorize', { ...base, impact: 'huge', urgency: 'low', priority: '', source: 'carrier-pigeon' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, /id="impact-error">Choose one of the options./)
  t.match(bad.body, /id="source-error">Choose one of the options./)
  t.equal((await row(env, ticket.id)).version, version, 'nothing changed')

  // Resolved tickets are no longer categorized.
  await act(ana, n, 'resolve', { resolution: 'Cleaned the fan.' })
  const late = await act(ana, n, 'categorize', { ...base, impact: 'high', urgency: 'high', priority: '', source: 'phone' })
  t.equal(late.statusCode, 409)
  t.match(late.body, 'This action is not available in the ticket&#39;s current status.')
  t.equal((await row(env, ticket.id)).priority, 'critical')
})

t.test('notes: reply, message, note and internal note; what the client sees and who is mailed', async (t) => {
  const env = await testApp(t)
  const { app, ids, db } = env
  const ticket = await makeTicket(db, ids, { title: 'VPN drops hourly' })
  const n = ticket.number
  const url = `/desk/tickets/${n}`
  // Bruno is responsible: Ana's occurrences can notify him.
  await db.updateTable('ticket').set({ assignee_id: ids.staff['bruno@casebridge.test'] }).where('id', '=', ticket.id).execute()
  const created = (await mails(env, ticket.id)).length
  const ana = await loginAs(app, 'ana@casebridge.test')
  const post = (form: Form) => ana.postMultipart(`${url}/notes`, form, [], { csrfFrom: url })

  t.equal((await post({ mode: 'reply', body: 'Which VPN client version?' })).statusCode, 302)
  t.match((await ana.get(url)).body, 'Reply sent to the client.')
  t.equal((await post({ mode: 'message', body: 'We will restart the VPN gateway at 18:00.' })).statusCode, 302)
  t.match((await ana.get(url)).body, 'Message sent to the requester.')
  const visible = await ana.postMultipart(`${url}/notes`, {
    mode: 'note', body: 'Checked the gateway logs with the client.', occurred_at: '2026-03-01T10:15', minutes_spent: '25',
    visible_to_requester: '1', send_email: '1'
  }, [{ name: 'attachments', filename: 'gateway.log', content: 'log', type: 'text/plain' }], { csrfFrom: url })
  t.equal(visible.statusCode, 302)
  t.match((await ana.get(url)).body, 'Note added; the requester can see it.')
  t.equal((await post({ mode: 'note', body: 'Suspect the ISP.', minutes_spent: '10' })).statusCode, 302)
  t.equal((await post({ mode: 'internal', body: 'Ticket with the ISP: #8841' })).statusCode, 302)
  t.match((await ana.get(url)).body, 'Internal note added.')

  const badEmail = await post({ mode: 'note', body: 'secret', send_email: '1' })
  t.equal(badEmail.statusCode, 422)
  t.match(badEmail.body, 'Only a note visible to the requester can be e-mailed to them.')
  const badDate = await post({ mode: 'note', body: 'when?', occurred_at: '2026-02-31T10:00' })
  t.equal(badDate.statusCode, 422)
  t.match(badDate.body, 'Enter a valid date and time.')
  const future = await post({ mode: 'note', body: 'when?', occurred_at: '2999-01-01T00:00' })
  t.equal(future.statusCode, 422)
  t.match(future.body, 'The date cannot be in the future.')
  t.match(future.body, '>when?</textarea>')
  const badMode = await post({ mode: 'shout', body: 'hello' })
  t.equal(badMode.statusCode, 422)

  const notes = await db.selectFrom('note').selectAll().where('ticket_id', '=', ticket.id).orderBy('id').execute()
  t.same(notes.map((x) => [x.kind, x.visibility, x.send_email, x.minutes_spent, x.occurred_at]), [
    ['reply', 'public', 1, null, null],
    ['message', 'public', 1, null, null],
    ['note', 'public', 1, 25, '2026-03-01T10:15:00.000Z'],
    ['internal', 'internal', 0, 10, null],
    ['internal', 'internal', 0, null, null]
  ], 'five notes, none from the refused posts')
  t.same(await mails(env, ticket.id, created), [
    ['note.reply', 'bob@acme.test'], ['note.message', 'bob@acme.test'], ['note.reply', 'bob@acme.test']
  ], 'the requester is mailed the reply, the message and the note sent to e-mail; internal notes mail nobody')

  const bob = await contactActor(db, ids, 'bob@acme.test')
  t.same((await listNotes(db, bob, ticket.id)).notes.map((x) => x.body), [
    'Which VPN client version?', 'We will restart the VPN gateway at 18:00.', 'Checked the gateway logs with the client.'
  ], 'the client sees the reply, the message and the visible note only')

  const page = await ana.get(url)
  t.match(page.body, /class="note internal"[\s\S]*Suspect the ISP\./)
  t.match(page.body, 'When it happened')
  t.match(page.body, 'Mar 1, 2026, 10:15 AM UTC')
  t.match(page.body, 'gateway.log')

  const client = await loginAs(app, 'bob@acme.test')
  if (app.hasRoute({ method: 'GET', url: '/portal/tickets/:number' })) {
    const portal = await client.get(`/portal/tickets/${n}`)
    t.match(portal.body, 'We will restart the VPN gateway at 18:00.')
    t.notMatch(portal.body, 'Suspect the ISP')
    t.notMatch(portal.body, 'Ticket with the ISP')
  }

  // Occurrences registered by staff.
  const occ = (form: Form) => ana.postMultipart(`${url}/occurrences`, form, [], { csrfFrom: url })
  const missing = await occ({ category: '', origin: 'phone', description: '' })
  t.equal(missing.statusCode, 422)
  t.match(missing.body, /id="category-error">This field is required./)
  t.match(missing.body, /id="description-error">This field is required./)
  t.equal((await occ({
    category: 'error', origin: 'monitoring', description: 'Gateway CPU at 100% at 09:58', occurred_at: '2026-03-02T09:58', minutes_spent: '15', notify_responsible: '1'
  })).statusCode, 302)
  t.equal((await occ({ category: 'information', origin: 'phone', description: 'Client confirms drops stopped', visible_to_requester: '1' })).statusCode, 302)
  t.match((await ana.get(url)).body, 'Occurrence registered.')
  const occurrences = await db.selectFrom('note').selectAll().where('ticket_id', '=', ticket.id).where('kind', '=', 'occurrence').orderBy('id').execute()
  t.same(occurrences.map((x) => [x.visibility, x.category, x.origin, x.minutes_spent, x.occurred_at]), [
    ['internal', 'error', 'monitoring', 15, '2026-03-02T09:58:00.000Z'],
    ['public', 'information', 'phone', null, null]
  ])
  t.same(await mails(env, ticket.id, created + 3), [['note.occurrence', 'bruno@casebridge.test']], 'notify responsible mails the assignee')
  t.same((await listNotes(db, bob, ticket.id)).notes.filter((x) => x.kind === 'occurrence').map((x) => x.body), ['Client confirms drops stopped'])

  const tab = await ana.get(`${url}/occurrences`)
  t.equal(tab.statusCode, 200)
  t.match(tab.body, 'Occurrence history')
  t.match(tab.body, /class="note internal"[\s\S]*Gateway CPU at 100%/, 'internal occurrence marked')
  t.match(tab.body, /<span class="badge public">Visible to the requester<\/span>[\s\S]*Client confirms drops stopped/)
  t.match(tab.body, '<dd>Monitoring</dd>', 'a code reads as its label')
  t.match(tab.body, 'Ticket with the ISP: #8841', 'the conversation, every visibility')
  t.match((await ana.get(`${url}/history`)).body, 'Registered an occurrence')
})

t.test('checklist and costs', async (t) => {
  const env = await testApp(t)
  const { app, ids, db } = env
  const ticket = await makeTicket(db, ids, { desk: 'Product Support', product: 'Billing', title: 'Invoice PDF blank' })
  const n = ticket.number
  const url = `/desk/tickets/${n}`
  const ana = await loginAs(app, 'ana@casebridge.test')
  const diego = await loginAs(app, 'diego@casebridge.test')

  t.equal((await ana.post(`${url}/checklist`, { label: ' ' }, { csrfFrom: url })).statusCode, 422)
  for (const label of ['Reproduce with the client file', 'Patch the PDF renderer']) {
    const res = await ana.post(`${url}/checklist`, { label }, { csrfFrom: url })
    t.equal(res.statusCode, 302)
    t.equal(res.headers.location, `${url}#checklist`)
  }
  const items = await db.selectFrom('checklist_item').selectAll().where('ticket_id', '=', ticket.id).orderBy('position').execute()
  t.match((await ana.get(url)).body, '0 of 2 done')
  t.equal((await ana.post(`${url}/checklist/${items[0].id}`, { done: '1' }, { csrfFrom: url })).statusCode, 302)
  const ticked = await ana.get(url)
  t.match(ticked.body, 'Checklist item done.')
  t.match(ticked.body, '1 of 2 done')
  t.match(ticked.body, /<li class="done">[\s\S]*Reproduce with the client file/)
  t.equal((await ana.post(`${url}/checklist/${items[0].id}`, { done: '0' }, { csrfFrom: url })).statusCode, 302)
  t.match((await ana.get(url)).body, '0 of 2 done')
  const other = await makeTicket(db, ids, { desk: 'Product Support', title: 'Other' })
  t.equal((await ana.post(`/desk/tickets/${other.number}/checklist/${items[1].id}`, { done: '1' }, { csrfFrom: url })).statusCode, 404, 'an item of another ticket')
  t.same((await events(env, ticket.id)).filter((e) => e.field === 'checklist').map((e) => [e.action, e.to_value]), [
    ['checklist_added', 'Reproduce with the client file'], ['checklist_added', 'Patch the PDF renderer'],
    ['checklist_done', 'Reproduce with the client file'], ['checklist_undone', 'Reproduce with the client file']
  ])
  t.match((await ana.get(`${url}/history`)).body, 'Ticked a checklist item')

  // Time: Ana 30 min at 60.00/h, Diego 45 min at 75.00/h; plus a courier.
  await ana.postMultipart(`${url}/notes`, { mode: 'internal', body: 'Reproduced.', minutes_spent: '30' }, [], { csrfFrom: url })
  await diego.postMultipart(`${url}/notes`, { mode: 'note', body: 'Patched.', minutes_spent: '45' }, [], { csrfFrom: url })
  const badAmount = await ana.post(`${url}/costs`, { description: 'Courier', amount: '12,5x' }, { csrfFrom: url })
  t.equal(badAmount.statusCode, 422)
  t.match(badAmount.body, 'Enter an amount greater than zero, such as 45.90.')
  t.equal((await ana.post(`${url}/costs`, { description: 'Courier', amount: '0' }, { csrfFrom: url })).statusCode, 422)
  t.equal((await ana.post(`${url}/costs`, { description: 'Courier', amount: '12,50' }, { csrfFrom: url })).statusCode, 302)
  const item = await db.selectFrom('cost_item').selectAll().where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow()
  t.equal(item.amount_cents, 1250)

  const rates = await db.selectFrom('staff').select(['email', 'hourly_rate_cents']).where('email', 'in', ['ana@casebridge.test', 'diego@casebridge.test']).execute()
  const rate = Object.fromEntries(rates.map((r) => [r.email, r.hourly_rate_cents]))
  const anaCents = Math.round(30 * rate['ana@casebridge.test'] / 60)
  const diegoCents = Math.round(45 * rate['diego@casebridge.test'] / 60)
  t.same([anaCents, diegoCents], [3000, 5625])
  const money = (c: number) => (c / 100).toFixed(2)
  const page = await ana.get(url)
  const costs = page.body.slice(page.body.indexOf('id="costs"'))
  t.match(costs, new RegExp(`Ana Souza</td><td class="right">30</td><td class="right">60.00</td><td class="right">${money(anaCents)}</td>`))
  t.match(costs, new RegExp(`Diego Rocha</td><td class="right">45</td><td class="right">75.00</td><td class="right">${money(diegoCents)}</td>`))
  t.match(costs, 'Courier')
  t.match(costs, 'Time (75 min)')
  t.match(costs, `<strong class="cost-total">${money(anaCents + diegoCents + 1250)}</strong>`)
  t.match((await ana.get(`${url}/history`)).body, 'Added a cost')

  const pt = new Agent(app, { 'accept-language': 'pt-BR' })
  await pt.login('ana@casebridge.test', 'staff-demo-pass')
  t.match((await pt.get(url)).body, '<strong class="cost-total">98,75</strong>', 'amounts in the reader\'s locale')

  // Once closed, the checklist and costs are frozen.
  await act(ana, n, 'resolve', { resolution: 'Renderer patched.' })
  await act(ana, n, 'close', { closure_category: 'solved' })
  const frozen = await ana.post(`${url}/checklist`, { label: 'late' }, { csrfFrom: url })
  t.equal(frozen.statusCode, 409)
  t.match(frozen.body, 'This ticket is Completed: its checklist and costs can no longer be changed.')
  t.equal((await ana.post(`${url}/costs`, { description: 'late', amount: '1' }, { csrfFrom: url })).statusCode, 409)
})

t.test('SLA columns in the queue and the SLA block on the ticket', async (t) => {
  let offset = 0
  const clock = () => new Date(Date.now() + offset)
  const env = await testApp(t, { clock })
  const { app, ids, db } = env
  const HOUR = 3_600_000
  const ana = await loginAs(app, 'ana@casebridge.test')
  // Critical: respond within 1 h, resolve within 4 h.
  const urgent = await makeTicket(db, ids, { title: 'Payroll run blocked', priority: 'critical', now: clock() })
  const held = await makeTicket(db, ids, { title: 'Badge reader flaky', priority: 'critical', now: clock() })
  const done = await makeTicket(db, ids, { title: 'Mouse replaced', priority: 'critical', now: clock() })
  for (const tk of [urgent, held, done]) {
    await ana.postMultipart(`/desk/tickets/${tk.number}/notes`, { mode: 'reply', body: 'On it.' }, [], { csrfFrom: '/desk' })
  }

  const start = await ana.get('/desk')
  t.match(start.body, /<th scope="col"(?: class="[^"]*")?>SLA<\/th>/)
  t.match(start.body, /<th scope="col"(?: class="[^"]*")?>Time limit<\/th>/)
  t.match(start.body, /<th scope="col"(?: class="[^"]*")?>SLA status<\/th>/)
  const due = (await row(env, urgent.id)).resolution_due_at!
  t.match(queueRow(start.body, urgent.number), /class="sla sla-on_track">On track/)
  t.match(queueRow(start.body, urgent.number), 'UTC')
  t.match(queueRow(start.body, urgent.number), /4 h left|3 h 59 min left/)

  await act(ana, held.number, 'pick_up')
  await act(ana, held.number, 'hold', { reason: 'Vendor visit on Monday' })
  await act(ana, done.number, 'resolve', { resolution: 'New mouse.' })

  offset = 3.5 * HOUR
  const later = await ana.get('/desk?situation=all')
  t.match(queueRow(later.body, urgent.number), /class="sla sla-at_risk">At risk/)
  t.match(queueRow(later.body, urgent.number), /(30|29) min left/)
  t.match(queueRow(later.body, held.number), /class="sla sla-paused">Paused/)
  t.match(queueRow(later.body, held.number), /Paused with (4 h|3 h 59 min) left/)
  t.match(queueRow(later.body, done.number), /class="sla sla-achieved">Achieved/)

  offset = 5 * HOUR
  const breached = await ana.get('/desk')
  t.match(queueRow(breached.body, urgent.number), /class="sla sla-breached">Breached/)
  t.match(queueRow(breached.body, urgent.number), /Overdue by (1 h|59 min)/)

  const page = await ana.get(`/desk/tickets/${held.number}`)
  const block = page.body.slice(page.body.indexOf('id="sla"'), page.body.indexOf('</section>', page.body.indexOf('id="sla"')))
  t.match(block, 'Response due')
  t.match(block, 'Time limit')
  t.match(block, 'Paused since')
  t.match(block, /class="sla sla-paused">Paused/)
  const urgentPage = await ana.get(`/desk/tickets/${urgent.number}`)
  t.match(urgentPage.body, /<span class="badge sla sla-breached">SLA: Breached<\/span>/)
  t.ok(due, 'the ticket has a time limit')
})

t.test('staff see the client’s rating on the ticket page', async (t) => {
  const { app, db, ids } = await testApp(t)
  const { staffActor } = await import('../helpers/tickets.js')
  const { transition, performerOf, rateTicket } = await import('../helpers/commands.js')
  const ticket = await makeTicket(db, ids)
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const bob = performerOf(await contactActor(db, ids, 'bob@acme.test'))
  await transition(db, ana, ticket.id, { action: 'resolve', resolution: 'Fixed' }, new Date())
  await transition(db, bob, ticket.id, { action: 'accept' }, new Date())
  await rateTicket(db, bob, ticket.id, 5, 'Great & fast <b>', new Date())
  const page = await (await loginAs(app, 'ana@casebridge.test')).get(`/desk/tickets/${ticket.number}`)
  t.match(page.body, 'The client’s opinion')
  t.match(page.body, '<strong>5/5</strong> · Very satisfied')
  t.match(page.body, 'Great &amp; fast &lt;b&gt;', 'the comment is escaped')
})

t.test('the desk\'s ticket page shows the CRM Case badge; the client\'s never does', async (t) => {
  const { app, db, ids } = await testApp(t)
  const ticket = await makeTicket(db, ids)
  const desk = await (await loginAs(app, 'ana@casebridge.test')).get(`/desk/tickets/${ticket.number}`)
  t.match(desk.body, /class="crm-badge"[\s\S]*No Case yet[\s\S]*sync pending/, 'badge on the desk page')
  await db.updateTable('ticket').set({ crm_case_number: '00001234', crm_case_id: '500000000000001AAA' }).where('id', '=', ticket.id).execute()
  await db.updateTable('crm_outbox').set({ status: 'done', done_at: new Date().toISOString() }).where('ticket_id', '=', ticket.id).execute()
  const portal = await (await loginAs(app, 'bob@acme.test')).get(`/portal/tickets/${ticket.number}`)
  t.notMatch(portal.body, 'crm-badge', 'no CRM badge for the requester')
  t.notMatch(portal.body, '00001234', 'nor the Case number')
  t.notMatch(portal.body, /sync pending|synced/i, 'nor any sync state')
})
