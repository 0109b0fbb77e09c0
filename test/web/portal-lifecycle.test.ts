import t from 'tap'
import { loginAs, testApp, type Agent, type TestEnv } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import type { Who as Performer } from '../../src/commands/kernel.js'
import { saveSettings } from '../../src/db/settings.js'
import { addChecklistItem, addCostItem, addTicketNote, performerOf, setChecklistItemDone, transition } from '../helpers/commands.js'

const TABLES = ['ticket', 'note', 'ticket_event', 'survey', 'attachment', 'mail_outbox'] as const

async function counts(env: TestEnv) {
  const out: Record<string, number> = {}
  for (const table of TABLES) {
    out[table] = Number((await env.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  }
  return out
}

async function row(env: TestEnv, id: number) {
  return env.db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

async function staff(env: TestEnv): Promise<Performer> {
  return performerOf(await staffActor(env.db, env.ids, 'ana@casebridge.test'))
}

/** A ticket of Bob's that staff picked up and resolved: Resolved / Waiting for Closure. */
async function resolvedTicket(env: TestEnv, resolution = 'Replaced the fuser unit; duplex printing works again.') {
  const ticket = await makeTicket(env.db, env.ids, { title: 'Printer jams on duplex' })
  const ana = await staff(env)
  await transition(env.db, ana, ticket.id, { action: 'pick_up' }, new Date())
  await transition(env.db, ana, ticket.id, { action: 'resolve', resolution }, new Date())
  return ticket
}

/** A resolved ticket Bob accepted and staff then closed, Bob logged in, and its page's address. */
async function closedByBob(env: TestEnv) {
  const ticket = await resolvedTicket(env)
  const bob = await loginAs(env.app, 'bob@acme.test')
  const url = `/portal/tickets/${ticket.number}`
  await act(env, bob, ticket.number, 'accept')
  await transition(env.db, await staff(env), ticket.id, { action: 'close', closureCategory: 'solved' }, new Date())
  return { ticket, bob, url }
}

/** Posts a requester action from the ticket page, carrying the version the page was rendered with. */
async function act(env: TestEnv, agent: Agent, number: number, action: string, form: Record<string, string> = {}) {
  const ticket = await env.db.selectFrom('ticket').select(['version']).where('number', '=', number).executeTakeFirstOrThrow()
  return agent.post(`/portal/tickets/${number}/actions/${action}`, { version: String(ticket.version), ...form }, { csrfFrom: `/portal/tickets/${number}` })
}

t.test('accept the solution: Resolved/Accepted, rated once, then closed by staff with a closure category', async (t) => {
  const env = await testApp(t)
  const ticket = await resolvedTicket(env)
  const bob = await loginAs(env.app, 'bob@acme.test')
  const url = `/portal/tickets/${ticket.number}`

  const page = await bob.get(url)
  t.equal(page.statusCode, 200)
  t.match(page.body, /<h2 id="solution-title">Solution<\/h2>\s*<div class="resolution">Replaced the fuser unit; duplex printing works again.<\/div>/, 'the resolution is shown on top')
  t.match(page.body, 'Does this solve your problem?')
  t.match(page.body, `action="${url}/actions/accept"`)
  t.match(page.body, `action="${url}/actions/reject"`)
  t.match(page.body, `action="${url}/actions/reopen"`)
  t.notMatch(page.body, `action="${url}/actions/cancel"`, 'a resolved ticket cannot be cancelled')
  t.notMatch(page.body, `action="${url}/survey"`, 'no survey before closure')

  const res = await act(env, bob, ticket.number, 'accept')
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, url)
  const accepted = await row(env, ticket.id)
  t.same([accepted.state, accepted.status, accepted.closed_at], ['resolved', 'accepted', null], 'it rests in Resolved/Accepted')

  const after = await bob.get(url)
  t.match(after.body, `Thank you. You accepted the solution of ticket #${ticket.number}; the support team will close it.`)
  t.notMatch(after.body, `action="${url}/actions/accept"`, 'no more decision buttons')
  t.match(after.body, 'Register your opinion')
  t.match(after.body, `action="${url}/survey"`)
  const history = await bob.get(`${url}/history`)
  t.match(history.body, /Bob Stone<\/td>\s*<td>Accept solution: Status<\/td>\s*<td>Waiting for Closure → Accepted/)

  const before = await counts(env)
  const noRating = await bob.post(`${url}/survey`, { comment: 'Great' }, { csrfFrom: url })
  t.equal(noRating.statusCode, 422)
  t.match(noRating.body, 'Choose a rating from 1 to 5.')
  t.match(noRating.body, 'Great', 'the comment is kept')
  t.same(await counts(env), before, 'nothing written')

  const rated = await bob.post(`${url}/survey`, { rating: '4', comment: 'Quick and friendly.' }, { csrfFrom: url })
  t.equal(rated.statusCode, 302)
  const survey = await env.db.selectFrom('survey').selectAll().where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same([survey.rating, survey.comment, survey.contact_id], [4, 'Quick and friendly.', env.ids.contact['bob@acme.test']])
  const shown = await bob.get(url)
  t.match(shown.body, 'Thank you for your opinion.')
  t.match(shown.body, 'Your rating: 4 of 5')
  t.match(shown.body, 'Quick and friendly.')
  t.notMatch(shown.body, `action="${url}/survey"`, 'read-only once rated')
  t.match((await bob.get(`${url}/history`)).body, /Rate: rating|Rate/)

  const again = await bob.post(`${url}/survey`, { rating: '1', comment: 'Changed my mind' }, { csrfFrom: url })
  t.equal(again.statusCode, 409)
  t.match(again.body, 'This ticket has already been rated.')
  const still = await env.db.selectFrom('survey').selectAll().where('ticket_id', '=', ticket.id).execute()
  t.same(still.map((s) => s.rating), [4], 'the first rating stays')

  // Staff close it with a closure category: Closed/Completed, and the rating stays.
  await transition(env.db, await staff(env), ticket.id, { action: 'close', closureCategory: 'solved' }, new Date())
  const closed = await row(env, ticket.id)
  t.same([closed.state, closed.status, closed.closure_category], ['closed', 'completed', 'solved'])
  t.ok(closed.closed_at)
  t.match((await bob.get(`${url}/history`)).body, /Close: Status<\/td>\s*<td>Accepted → Completed/)
  t.match((await bob.get(url)).body, 'Your rating: 4 of 5')
})

t.test('reject the solution: a reason is required; the ticket goes back in progress', async (t) => {
  const env = await testApp(t)
  const ticket = await resolvedTicket(env)
  const bob = await loginAs(env.app, 'bob@acme.test')
  const url = `/portal/tickets/${ticket.number}`

  const before = await counts(env)
  const empty = await act(env, bob, ticket.number, 'reject', { reject_reason: '   ' })
  t.equal(empty.statusCode, 422)
  t.match(empty.body, 'Please correct the highlighted fields.')
  t.match(empty.body, /id="reject_reason"[^>]*aria-invalid="true"/)
  t.match(empty.body, '<p class="field-error" id="reject_reason-error">This field is required.</p>')
  t.same(await counts(env), before, 'nothing written')
  t.equal((await row(env, ticket.id)).status, 'waiting_for_closure', 'still waiting for closure')

  const res = await act(env, bob, ticket.number, 'reject', { reject_reason: 'The printer still jams on page 2.' })
  t.equal(res.statusCode, 302)
  const after = await row(env, ticket.id)
  t.same([after.state, after.status, after.reopen_count, after.resolution], ['in_progress', 'analysis', 1, null])
  const page = await bob.get(url)
  t.match(page.body, `You rejected the solution; ticket #${ticket.number} is back in progress.`)
  t.notMatch(page.body, 'id="solution-title"', 'no solution any more')
  t.match(page.body, `action="${url}/actions/cancel"`, 'in progress again: it may be cancelled')
  const history = await bob.get(`${url}/history`)
  t.match(history.body, /Reject solution: State<\/td>\s*<td>Resolved → In Progress<div class="muted">The printer still jams on page 2.<\/div>/)
})

t.test('reopen only from Waiting for Closure', async (t) => {
  const env = await testApp(t)
  const ticket = await resolvedTicket(env)
  const bob = await loginAs(env.app, 'bob@acme.test')
  const url = `/portal/tickets/${ticket.number}`

  const res = await act(env, bob, ticket.number, 'reopen')
  t.equal(res.statusCode, 302)
  const after = await row(env, ticket.id)
  t.same([after.state, after.status, after.reopen_count], ['in_progress', 'analysis', 1])
  t.match((await bob.get(url)).body, `Ticket #${ticket.number} was reopened and is back in progress.`)
  t.match((await bob.get(`${url}/history`)).body, /Reopen: State<\/td>\s*<td>Resolved → In Progress/)

  const before = await counts(env)
  const again = await act(env, bob, ticket.number, 'reopen')
  t.equal(again.statusCode, 409)
  t.match(again.body, 'This action is not available in the ticket&#39;s current status.')
  t.same(await counts(env), before, 'nothing written')
  t.equal((await row(env, ticket.id)).reopen_count, 1)
})

t.test('cancel with a reason while the ticket is open', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids, { title: 'Need a new toner' })
  const bob = await loginAs(env.app, 'bob@acme.test')
  const url = `/portal/tickets/${ticket.number}`

  const page = await bob.get(url)
  t.match(page.body, 'Cancel this ticket')
  t.notMatch(page.body, `action="${url}/actions/accept"`, 'nothing to accept yet')

  const before = await counts(env)
  const empty = await act(env, bob, ticket.number, 'cancel', {})
  t.equal(empty.statusCode, 422)
  t.match(empty.body, '<p class="field-error" id="cancel_reason-error">This field is required.</p>')
  t.same(await counts(env), before, 'nothing written')

  const res = await act(env, bob, ticket.number, 'cancel', { cancel_reason: 'Found a spare toner in the cupboard.' })
  t.equal(res.statusCode, 302)
  const after = await row(env, ticket.id)
  t.same([after.state, after.status, after.cancel_reason], ['cancelled', 'cancelled', 'Found a spare toner in the cupboard.'])
  const shown = await bob.get(url)
  t.match(shown.body, `Ticket #${ticket.number} was cancelled.`)
  t.match(shown.body, /<h2 id="cancelled-title">Cancelled<\/h2>\s*<div class="description">Found a spare toner in the cupboard.<\/div>/)
  t.match(shown.body, 'This ticket was cancelled, so it takes no more replies.')
  t.notMatch(shown.body, `action="${url}/actions/cancel"`)
  t.match((await bob.get(`${url}/history`)).body, /Cancel ticket: State<\/td>\s*<td>Open → Cancelled<div class="muted">Found a spare toner in the cupboard.<\/div>/)

  const beforeReply = await counts(env)
  const reply = await bob.postMultipart(`${url}/replies`, { body: 'Actually, wait' }, [], { csrfFrom: url })
  t.equal(reply.statusCode, 409)
  t.match(reply.body, 'This ticket was cancelled, so it takes no more replies.')
  t.same(await counts(env), beforeReply, 'a cancelled ticket takes no replies')
})

t.test('refused transitions answer 409 with the reason and change nothing', async (t) => {
  const env = await testApp(t)
  const open = await makeTicket(env.db, env.ids, { title: 'Still new' })
  const closed = await resolvedTicket(env)
  await transition(env.db, performerOf(await contactActor(env.db, env.ids, 'bob@acme.test')), closed.id, { action: 'accept' }, new Date())
  await transition(env.db, await staff(env), closed.id, { action: 'close', closureCategory: 'solved' }, new Date())
  const bob = await loginAs(env.app, 'bob@acme.test')

  const before = await counts(env)
  const accept = await act(env, bob, open.number, 'accept')
  t.equal(accept.statusCode, 409, 'accept on a ticket not waiting for closure')
  t.match(accept.body, /<div class="flash flash-error" role="alert">This action is not available in the ticket&#39;s current status.<\/div>/)
  t.match(accept.body, 'Still new', 'the ticket page again')
  t.same([(await row(env, open.id)).state, (await row(env, open.id)).status], ['open', 'new'])

  const cancel = await act(env, bob, closed.number, 'cancel', { cancel_reason: 'Too late' })
  t.equal(cancel.statusCode, 409, 'cancel on a closed ticket')
  t.match(cancel.body, 'This action is not available in the ticket&#39;s current status.')
  t.same([(await row(env, closed.id)).state, (await row(env, closed.id)).cancel_reason], ['closed', null])

  const early = await bob.post(`/portal/tickets/${open.number}/survey`, { rating: '5' }, { csrfFrom: `/portal/tickets/${open.number}` })
  t.equal(early.statusCode, 409, 'rating before closure')
  t.match(early.body, 'This action is not available in the ticket&#39;s current status.')
  t.same(await counts(env), before, 'nothing written by any refusal')

  const stale = await bob.post(`/portal/tickets/${open.number}/actions/cancel`, { version: '0', cancel_reason: 'No longer needed' }, { csrfFrom: `/portal/tickets/${open.number}` })
  t.equal(stale.statusCode, 409, 'a stale version is a conflict')
  t.match(stale.body, 'Someone else changed this ticket meanwhile. Reload and try again.')
  t.equal((await row(env, open.id)).state, 'open')

  const unknown = await act(env, bob, open.number, 'resolve', { resolution: 'I fixed it myself' })
  t.equal(unknown.statusCode, 404, 'staff actions are not portal actions')
  t.same(await counts(env), before)
})

t.test('register an occurrence: only In Progress and only when the setting is on', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids, { title: 'Scanner offline' })
  const bob = await loginAs(env.app, 'bob@acme.test')
  const url = `/portal/tickets/${ticket.number}`

  t.notMatch((await bob.get(url)).body, `action="${url}/occurrences"`, 'not while the ticket is new')
  let before = await counts(env)
  const tooEarly = await bob.postMultipart(`${url}/occurrences`, { occ_description: 'It happened again' }, [], { csrfFrom: url })
  t.equal(tooEarly.statusCode, 409)
  t.same(await counts(env), before)

  await transition(env.db, await staff(env), ticket.id, { action: 'pick_up' }, new Date())
  await saveSettings(env.db, { occurrenceViaPortal: false })
  t.notMatch((await bob.get(url)).body, 'Register occurrence', 'setting off: no form')
  before = await counts(env)
  const off = await bob.postMultipart(`${url}/occurrences`, { occ_category: 'error', occ_origin: 'monitoring', occ_description: 'Offline again' }, [
    { name: 'occ_attachments', filename: 'log.txt', content: 'offline', type: 'text/plain' }
  ], { csrfFrom: url })
  t.equal(off.statusCode, 409)
  t.match(off.body, 'Occurrences cannot be registered through the portal.')
  t.same(await counts(env), before, 'no note, no attachment, no mail')

  await saveSettings(env.db, { occurrenceViaPortal: true })
  const page = await bob.get(url)
  t.match(page.body, `action="${url}/occurrences"`)
  t.match(page.body, 'Notify responsible')

  const empty = await bob.postMultipart(`${url}/occurrences`, { occ_category: 'error', occ_origin: 'monitoring', occ_description: ' ' }, [], { csrfFrom: url })
  t.equal(empty.statusCode, 422)
  t.match(empty.body, 'Describe the occurrence before registering it.')
  t.match(empty.body, '<option value="monitoring" selected>Monitoring</option>', 'the form comes back filled in')
  t.match(empty.body, '<option value="question" >Question</option>', 'the categories offered are the managed list\'s')
  const unknown = await bob.postMultipart(`${url}/occurrences`, { occ_category: 'Printer', occ_origin: '', occ_description: 'Offline' }, [], { csrfFrom: url })
  t.equal(unknown.statusCode, 422, 'a category that is not in the list')
  t.match(unknown.body, /id="occ_category-error">[^<]+</)
  t.same(await counts(env), before)

  const res = await bob.postMultipart(`${url}/occurrences`, {
    occ_category: 'error', occ_origin: '', occ_description: 'Went offline at 10:15 during a batch.', occ_notify: '1'
  }, [{ name: 'occ_attachments', filename: 'scan.log', content: 'E42 offline', type: 'text/plain' }], { csrfFrom: url })
  t.equal(res.statusCode, 302)
  const note = await env.db.selectFrom('note').selectAll().where('ticket_id', '=', ticket.id).where('kind', '=', 'occurrence').executeTakeFirstOrThrow()
  t.equal(res.headers.location, `${url}/occurrences#note-${note.id}`)
  t.same([note.visibility, note.category, note.origin, note.author_contact_id], ['public', 'error', null, env.ids.contact['bob@acme.test']], 'the origin is optional for a client')
  const mail = await env.db.selectFrom('mail_outbox').select('template').where('ticket_id', '=', ticket.id).execute()
  t.ok(mail.some((m) => m.template === 'note.occurrence'), 'the responsible is notified')

  // The tab lists occurrences and the conversation apart; internal notes stay out of both.
  await addTicketNote({ db: env.db, clock: () => new Date() }, await staff(env), ticket.id, { mode: 'internal', body: 'SECRET internal remark' })
  await addTicketNote({ db: env.db, clock: () => new Date() }, await staff(env), ticket.id, { mode: 'message', body: 'We are sending a technician.' })
  const tab = await bob.get(`${url}/occurrences`)
  t.equal(tab.statusCode, 200)
  t.match(tab.body, 'aria-current="page">Occurrences')
  t.match(tab.body, 'Your occurrence was registered.')
  const occurrences = tab.body.slice(tab.body.indexOf('id="occurrences-title"'), tab.body.indexOf('id="conversation-title"'))
  const conversation = tab.body.slice(tab.body.indexOf('id="conversation-title"'))
  t.match(occurrences, 'Went offline at 10:15 during a batch.')
  t.match(occurrences, '<dd>Error</dd>', 'the category reads as its label')
  t.match(occurrences, 'scan.log')
  t.notMatch(occurrences, 'We are sending a technician.')
  t.match(conversation, 'We are sending a technician.')
  t.notMatch(conversation, 'Went offline at 10:15')
  t.notMatch(tab.body, 'SECRET')
})

t.test('a reply to a closed ticket of an account turned off opens nothing: it is refused, saying why', async (t) => {
  const env = await testApp(t)
  const { ticket, bob, url } = await closedByBob(env)
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const acme = env.ids.account['Acme Corporation']
  t.equal((await admin.post(`/admin/accounts/${acme}/active`, { active: 'off' }, { csrfFrom: `/admin/accounts/${acme}` })).statusCode, 302)
  const page = await bob.get(url)
  t.match(page.body, 'This client account is turned off: no new tickets are opened for it.', 'the page says so up front')
  t.notMatch(page.body, 'Send and open follow-up ticket', 'and offers no reply that would open one')
  const before = (await env.db.selectFrom('ticket').select('id').execute()).length
  // Sent from a page loaded before the account was turned off:
  const res = await bob.postMultipart(`${url}/replies`, { body: 'It jams again since Monday.' }, [], { csrfFrom: '/portal' })
  t.equal(res.statusCode, 422)
  t.match(res.body, 'This client account is turned off: no new tickets are opened for it.')
  t.equal((await env.db.selectFrom('ticket').select('id').execute()).length, before, 'no follow-up opened')
  t.equal((await row(env, ticket.id)).state, 'closed')
})

t.test('a reply to a closed ticket opens a linked follow-up ticket', async (t) => {
  const env = await testApp(t)
  const { ticket, bob, url } = await closedByBob(env)

  const page = await bob.get(url)
  t.match(page.body, 'This ticket is closed. Your reply will open a new follow-up ticket linked to this one.')
  t.match(page.body, 'Send and open follow-up ticket')

  const res = await bob.postMultipart(`${url}/replies`, { body: 'It jams again since Monday.' }, [
    { name: 'attachments', filename: 'photo.txt', content: 'jam', type: 'text/plain' }
  ], { csrfFrom: url })
  t.equal(res.statusCode, 302)
  const child = await env.db.selectFrom('ticket').selectAll().where('parent_id', '=', ticket.id).executeTakeFirstOrThrow()
  t.equal(res.headers.location, `/portal/tickets/${child.number}`)
  t.same([child.state, child.contact_id, child.description, child.title], ['open', env.ids.contact['bob@acme.test'], 'It jams again since Monday.', 'Re: Printer jams on duplex'])
  t.equal((await row(env, ticket.id)).state, 'closed', 'the original stays closed')

  const childPage = await bob.get(res.headers.location as string)
  t.match(childPage.body, `Ticket #${ticket.number} was already closed, so your reply opened this follow-up ticket #${child.number}.`)
  t.match(childPage.body, /<dt>Origin ticket<\/dt><dd><a href="\/portal\/tickets\/\d+">#\d+<\/a> Printer jams on duplex<\/dd>/)
  t.match(childPage.body, `href="/portal/tickets/${ticket.number}"`)
  t.match(childPage.body, 'photo.txt')
  const original = await bob.get(url)
  t.match(original.body, 'Follow-up tickets')
  t.match(original.body, `<a href="/portal/tickets/${child.number}">#${child.number}</a>`)
  t.match((await bob.get(`${url}/history`)).body, /Opened a follow-up ticket: Follow-up ticket<\/td>\s*<td>— → #\d+/)
})

t.test('My requests and the ticket page show the SLA', async (t) => {
  const T0 = new Date('2026-05-04T12:00:00.000Z')
  const env = await testApp(t, { clock: () => T0 })
  const fresh = await makeTicket(env.db, env.ids, { title: 'Fresh ticket', now: new Date(T0.getTime() - 60 * 60_000) })
  const late = await makeTicket(env.db, env.ids, { title: 'Late ticket', now: new Date(T0.getTime() - 4 * 24 * 60 * 60_000) })
  const bob = await loginAs(env.app, 'bob@acme.test')

  const list = await bob.get('/portal')
  t.match(list.body, /<th scope="col"(?: class="[^"]*")?>SLA<\/th>\s*<th scope="col"(?: class="[^"]*")?>Time limit<\/th>\s*<th scope="col"(?: class="[^"]*")?>SLA status<\/th>/, 'the three SLA columns')
  const rowOf = (number: number) => list.body.slice(list.body.indexOf(`<a href="/portal/tickets/${number}">`), list.body.indexOf('</tr>', list.body.indexOf(`<a href="/portal/tickets/${number}">`)))
  t.match(rowOf(fresh.number), '<span class="badge sla-on_track">On track</span>')
  t.match(rowOf(fresh.number), '2 d 23 h left', 'medium: 3 days to resolve, one hour gone')
  t.match(rowOf(fresh.number), 'May 7, 2026', 'the time limit')
  t.match(rowOf(late.number), '<span class="badge sla-breached">Breached</span>')
  t.match(rowOf(late.number), 'Overdue by 1 d')

  const page = await bob.get(`/portal/tickets/${late.number}`)
  t.match(page.body, /<dt>SLA status<\/dt>\s*<dd><span class="badge sla-breached">Breached<\/span><div class="muted small">Overdue by 1 d<\/div><\/dd>/)
  t.match(page.body, /<dt>Time limit<\/dt><dd>May 3, 2026/)

  const gina = await loginAs(env.app, 'gina@globex.test')
  const pt = await gina.get('/portal')
  t.match(pt.body, /<th scope="col"(?: class="[^"]*")?>SLA<\/th>\s*<th scope="col"(?: class="[^"]*")?>Prazo limite<\/th>\s*<th scope="col"(?: class="[^"]*")?>Situação do SLA<\/th>/, 'Portuguese headers')
})

t.test('checklist and cost lines are read-only for the client; no rates or names shown', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids, { title: 'New laptop setup' })
  const ana = { type: 'staff' as const, id: env.ids.staff['ana@casebridge.test'], name: 'Ana Souza' }
  const ctx = { actor: ana, now: new Date().toISOString() }
  const bob = await loginAs(env.app, 'bob@acme.test')
  const url = `/portal/tickets/${ticket.number}`

  const bare = await bob.get(url)
  t.notMatch(bare.body, 'id="checklist-title"', 'no checklist card without items')
  t.notMatch(bare.body, 'id="costs-title"', 'no costs card without costs')

  const first = await addChecklistItem(env.db, ticket.id, 'Install the VPN client', ctx)
  await addChecklistItem(env.db, ticket.id, 'Copy the old profile', ctx)
  await setChecklistItemDone(env.db, ticket.id, first, true, ctx)
  await addTicketNote({ db: env.db, clock: () => new Date() }, await staff(env), ticket.id, { mode: 'internal', body: 'Imaging', minutesSpent: 90 })
  await addCostItem(env.db, ticket.id, 'USB-C dock', 2550, ctx)

  const page = await bob.get(url)
  t.match(page.body, 'Checklist')
  t.match(page.body, '1 of 2 done')
  t.match(page.body, /<li class="done">.*Install the VPN client.*\(done\)/)
  t.match(page.body, /<li class="todo">.*Copy the old profile.*\(to do\)/)
  t.notMatch(page.body, /checklist[^"]*" method="post"|name="done"/, 'nothing to tick')
  t.match(page.body, 'Total time: 1 h 30 min')
  t.match(page.body, /<tr><td>Time spent \(1 h 30 min\)<\/td><td class="num nowrap">\$90\.00<\/td><\/tr>/, 'the time as one line, in the currency')
  t.match(page.body, /<tr><td>USB-C dock<\/td><td class="num nowrap">\$25\.50<\/td><\/tr>/, 'each cost item, read-only')
  t.match(page.body, /Total amount<\/th><td class="num nowrap"><strong>\$115\.50<\/strong>/, '90 min at 60.00/h plus the dock')
  t.notMatch(page.body, '60.00', 'no hourly rate')
  t.notMatch(page.body, 'Ana Souza</td>', 'nor who spent the time')
  t.notMatch(page.body, 'Imaging', 'the internal note stays internal')
})

t.test('a contact cannot act on another account\'s ticket (404, nothing written)', async (t) => {
  const env = await testApp(t)
  const ticket = await resolvedTicket(env)
  const hank = await loginAs(env.app, 'hank@globex.test')
  const url = `/portal/tickets/${ticket.number}`
  const before = await counts(env)
  const version = String((await row(env, ticket.id)).version)
  for (const action of ['accept', 'reject', 'reopen', 'cancel']) {
    const res = await hank.post(`${url}/actions/${action}`, { version, reject_reason: 'x', cancel_reason: 'x' }, { csrfFrom: '/portal' })
    t.equal(res.statusCode, 404, `${action}: 404`)
  }
  t.equal((await hank.postMultipart(`${url}/occurrences`, { occ_description: 'x' }, [], { csrfFrom: '/portal' })).statusCode, 404)
  t.equal((await hank.post(`${url}/survey`, { rating: '1' }, { csrfFrom: '/portal' })).statusCode, 404)
  t.equal((await hank.get(`${url}/occurrences`)).statusCode, 404)
  t.same(await counts(env), before, 'nothing written')
  t.equal((await row(env, ticket.id)).status, 'waiting_for_closure')

  // The account manager of the ticket's own account may act on a colleague's ticket.
  const alice = await loginAs(env.app, 'alice@acme.test')
  t.match((await alice.get(url)).body, `action="${url}/actions/accept"`)
})

t.test('the lifecycle screens speak Brazilian Portuguese', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids, { contact: 'gina@globex.test', account: 'Globex Industries' })
  const ana = await staff(env)
  await transition(env.db, ana, ticket.id, { action: 'pick_up' }, new Date())
  await transition(env.db, ana, ticket.id, { action: 'resolve', resolution: 'Feito.' }, new Date())
  const gina = await loginAs(env.app, 'gina@globex.test')
  const page = await gina.get(`/portal/tickets/${ticket.number}`)
  t.match(page.body, 'Solução')
  t.match(page.body, 'Isto resolve o seu problema?')
  t.match(page.body, 'Aceitar solução')
  t.match(page.body, 'Rejeitar solução')
  const refused = await act(env, gina, ticket.number, 'cancel', { cancel_reason: 'x' })
  t.equal(refused.statusCode, 409)
  t.match(refused.body, 'Esta ação não está disponível no status atual do chamado.')
})

t.test('a staff note shown to the requester says when it happened', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids, { title: 'Site visit' })
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const page = await ana.get(`/desk/tickets/${ticket.number}`)
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]
  const added = await ana.postMultipart(`/desk/tickets/${ticket.number}/notes`, {
    _csrf: csrf, mode: 'note', body: 'Technician on site, replaced the fuser.', visible_to_requester: '1', occurred_at: '2026-12-01T10:30'
  }, [], { noCsrf: true })
  t.equal(added.statusCode, 302)
  const client = await (await loginAs(env.app, 'bob@acme.test')).get(`/portal/tickets/${ticket.number}`)
  t.match(client.body, 'Technician on site, replaced the fuser.')
  t.match(client.body, /happened on Dec 1, 2026, 10:30\s*AM UTC/, 'with the date it happened')
})
