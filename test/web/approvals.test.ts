import t from 'tap'
import { Agent, loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { composeMail, mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { approvalKey, signApprovalToken, verifyApprovalToken } from '../../src/security/approval-token.js'

const T0 = new Date('2026-12-01T09:00:00.000Z')
const DAY = 86_400_000

/** A test app whose clock the test moves. */
async function clockedApp(t: Parameters<typeof testApp>[0]) {
  let now = T0
  const env = await testApp(t, { clock: () => now })
  return { env, setNow: (d: Date) => { now = d } }
}

/** Opens a portal request for a catalog item as a demo contact; returns the ticket row. */
async function openRequest(env: TestEnv, email = 'bob@acme.test', item = 'New user account', title = 'Account for our new hire') {
  const requester = await login(env, email)
  const res = await requester.postMultipart('/portal/tickets', {
    category_id: String(env.ids.category[item]), title, description: 'Maria starts on Monday in Finance; she needs a mailbox and VPN.'
  }, [], { csrfFrom: '/portal/tickets/new' })
  if (res.statusCode !== 302) throw new Error(`opening the request failed: ${res.statusCode}`)
  const ticket = await env.db.selectFrom('ticket').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
  return { ticket, requester }
}

async function ticketRow(env: TestEnv, id: number) {
  return env.db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

async function approvals(env: TestEnv, ticketId: number) {
  return env.db.selectFrom('approval').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute()
}

async function events(env: TestEnv, ticketId: number) {
  return env.db.selectFrom('ticket_event').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute()
}

async function mails(env: TestEnv, ticketId: number, template?: string) {
  let q = env.db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', ticketId)
  if (template) q = q.where('template', '=', template)
  return q.orderBy('id').execute()
}

/** Everything a refused link must leave alone. */
async function snapshot(env: TestEnv) {
  return {
    tickets: await env.db.selectFrom('ticket').selectAll().orderBy('id').execute(),
    approvals: await env.db.selectFrom('approval').selectAll().orderBy('id').execute(),
    outbox: await env.db.selectFrom('mail_outbox').selectAll().orderBy('id').execute(),
    events: await env.db.selectFrom('ticket_event').selectAll().orderBy('id').execute()
  }
}

/** The approval mail as it is sent, and the token of its links. */
function composed(env: TestEnv, row: Awaited<ReturnType<typeof mails>>[number]) {
  const mail = composeMail(row, mailSettings(env.config), mailTokenKey(env.config), 'test')
  const approve = /Approve: (\S+)/.exec(mail.text)?.[1] ?? /Aprovar: (\S+)/.exec(mail.text)?.[1]
  const m = approve ? /\/approvals\/([A-Za-z0-9_-]+)#approve$/.exec(approve) : null
  return { mail, approveUrl: approve ?? null, token: m ? m[1] : '' }
}

/** The token of the newest approval mail of a ticket. */
async function latestToken(env: TestEnv, ticketId: number) {
  const rows = await mails(env, ticketId, 'ticket.approval_request')
  return composed(env, rows[rows.length - 1]).token
}

/** Posts the approval form; the CSRF token comes from a page the agent can open, logged in or not. */
function decide(agent: Agent, token: string, form: Record<string, string>) {
  return agent.post(`/approvals/${token}`, form, { csrfFrom: loggedIn.has(agent) ? '/account' : '/login' })
}

const loggedIn = new WeakSet<Agent>()

async function login(env: TestEnv, email: string): Promise<Agent> {
  const agent = await loginAs(env.app, email)
  loggedIn.add(agent)
  return agent
}

t.test('full flow: request waits, the manager approves by link, the ticket goes on with its assignee', async (t) => {
  const { env } = await clockedApp(t)
  const { ticket, requester } = await openRequest(env)

  t.equal(ticket.state, 'open')
  t.equal(ticket.status, 'awaiting_approval', 'the request waits as Open / Awaiting approval')
  t.ok(ticket.assignee_id, 'it is assigned as usual')

  const [approval] = await approvals(env, ticket.id)
  t.match(approval, { approver_contact_id: env.ids.contact['alice@acme.test'], decided_at: null, decision: null })
  t.equal(approval.expires_at, new Date(T0.getTime() + 7 * DAY).toISOString(), 'links last 7 days by default')
  t.match(approval.nonce_hash, /^[0-9a-f]{64}$/, 'only a hash of the nonce is kept')

  const requestMails = await mails(env, ticket.id, 'ticket.approval_request')
  t.equal(requestMails.length, 1, 'one approval request')
  t.equal(requestMails[0].recipient, 'alice@acme.test', 'to the requester’s manager')
  t.notMatch(requestMails[0].data, /approvals\//, 'the outbox row holds no link: links are signed when the mail is composed')
  const { mail, token, approveUrl } = composed(env, requestMails[0])
  t.equal(mail.subject, `[#${ticket.number}] Account for our new hire`)
  t.match(mail.text, 'Bob Stone asks for your approval of a service request: Access & accounts › New user account.')
  t.match(approveUrl, `${env.config.publicUrl}/approvals/`)
  t.match(mail.text, `Reject: ${env.config.publicUrl}/approvals/${token}#reject`, 'the reject link opens the same page at its form')
  t.match(mail.html, `href="${env.config.publicUrl}/approvals/${token}#approve"`)
  t.notMatch(mail.text, '/portal/tickets/', 'the approver is not sent to a ticket page they may not see')
  t.match(mail.text, 'expire on')
  t.ok(verifyApprovalToken(token, approvalKey(env.config)), 'the link carries a genuine token')

  const history = await events(env, ticket.id)
  t.match(history.map((e) => e.action), ['created', 'assigned', 'approval_requested', 'approval_sent'])
  t.match(history[3], { field: 'approver', to_value: 'Alice Walker' })

  const portal = await requester.get(`/portal/tickets/${ticket.number}`)
  t.match(portal.body, 'Awaiting approval by Alice Walker.', 'the requester sees who must approve')
  const ana = await login(env, 'ana@casebridge.test')
  const desk = await ana.get(`/desk/tickets/${ticket.number}`)
  t.match(desk.body, /Awaiting approval by <strong>Alice Walker<\/strong>/)
  t.match(desk.body, 'Resend approval request')
  t.match(desk.body, 'Alice Walker (the requester’s manager)', 'resending goes to the manager by default')
  t.notMatch(desk.body, '>Pick up<', 'an unapproved request cannot be picked up')

  // Mail scanners open links: GET shows the request and changes nothing.
  const before = await snapshot(env)
  const approver = new Agent(env.app)
  const page = await approver.get(`/approvals/${token}`)
  t.equal(page.statusCode, 200)
  t.match(page.body, `#${ticket.number}`)
  t.match(page.body, 'Account for our new hire')
  t.match(page.body, 'Bob Stone')
  t.match(page.body, 'Maria starts on Monday in Finance')
  t.match(page.body, 'Access &amp; accounts › New user account')
  t.match(page.body, 'Approve the request')
  t.match(page.body, /<textarea id="reason" name="reason"[^>]*required/)
  await approver.get(`/approvals/${token}`)
  t.same(await snapshot(env), before, 'GET changed nothing')

  const done = await decide(approver, token, { decision: 'approve' })
  t.equal(done.statusCode, 200)
  t.match(done.body, 'Request approved')
  t.match(done.body, `You approved request #${ticket.number}`)

  const after = await ticketRow(env, ticket.id)
  t.match(after, { state: 'open', status: 'new', assignee_id: ticket.assignee_id }, 'normal flow, same assignee')
  t.match((await approvals(env, ticket.id))[0], { decision: 'approved', decided_at: T0.toISOString(), reason: null })
  const approved = (await events(env, ticket.id)).find((e) => e.action === 'approve')
  t.match(approved, { actor_type: 'contact', actor_id: env.ids.contact['alice@acme.test'], actor_name: 'Alice Walker', field: 'status', from_value: 'awaiting_approval', to_value: 'new' }, 'history names the manager')
  const told = await mails(env, ticket.id, 'ticket.approve')
  t.equal(told.length, 1)
  t.equal(told[0].recipient, 'bob@acme.test', 'the requester is told')

  const deskAfter = await ana.get(`/desk/tickets/${ticket.number}`)
  t.match(deskAfter.body, 'Approved by Alice Walker')
  t.match(deskAfter.body, 'Pick up', 'staff can work on it now')
  const historyPage = await ana.get(`/desk/tickets/${ticket.number}/history`)
  t.match(historyPage.body, 'Approval required')
  t.match(historyPage.body, 'Approval request sent')
  t.match(historyPage.body, 'Approved the request')

  // Used twice: refused with a clear page; nothing changes.
  const used = await snapshot(env)
  const again = await decide(approver, token, { decision: 'reject', reason: 'Changed my mind' })
  t.equal(again.statusCode, 409)
  t.match(again.body, 'This approval link was already used')
  t.match(again.body, 'It was approved.')
  t.match(again.body, 'Nothing was changed.')
  const reopen = await approver.get(`/approvals/${token}`)
  t.equal(reopen.statusCode, 409)
  t.same(await snapshot(env), used, 'a used link changes nothing')
})

t.test('reject: a reason is required; the request is cancelled with the manager’s reason', async (t) => {
  const { env } = await clockedApp(t)
  const { ticket, requester } = await openRequest(env)
  const token = await latestToken(env, ticket.id)
  // The approver may be logged in to the portal: that is the right person.
  const alice = await login(env, 'alice@acme.test')
  t.equal((await alice.get(`/approvals/${token}`)).statusCode, 200)

  const before = await snapshot(env)
  const empty = await decide(alice, token, { decision: 'reject', reason: '   ' })
  t.equal(empty.statusCode, 422)
  t.match(empty.body, 'Please give the reason for rejecting the request.')
  t.match(empty.body, 'aria-invalid="true"')
  t.same(await snapshot(env), before, 'nothing changed')
  const odd = await decide(alice, token, { decision: 'maybe' })
  t.equal(odd.statusCode, 422, 'an unknown decision decides nothing')
  t.same(await snapshot(env), before)

  const res = await decide(alice, token, { decision: 'reject', reason: 'We are not hiring this quarter.' })
  t.equal(res.statusCode, 200)
  t.match(res.body, 'Request rejected')

  t.match(await ticketRow(env, ticket.id), { state: 'cancelled', status: 'cancelled', cancel_reason: 'We are not hiring this quarter.' })
  t.match((await approvals(env, ticket.id))[0], { decision: 'rejected', reason: 'We are not hiring this quarter.' })
  const rejected = (await events(env, ticket.id)).filter((e) => e.action === 'reject_approval')
  t.ok(rejected.length >= 1)
  t.ok(rejected.every((e) => e.actor_name === 'Alice Walker'), 'history names the manager')
  t.ok(rejected.some((e) => e.note === 'We are not hiring this quarter.'), 'with the reason')
  const told = await mails(env, ticket.id, 'ticket.reject_approval')
  t.equal(told.length, 1)
  t.equal(told[0].recipient, 'bob@acme.test')
  t.match(JSON.parse(told[0].data), { reason: 'We are not hiring this quarter.' })

  const portal = await requester.get(`/portal/tickets/${ticket.number}`)
  t.match(portal.body, 'We are not hiring this quarter.', 'the requester reads the reason')
  const ana = await login(env, 'ana@casebridge.test')
  t.match((await ana.get(`/desk/tickets/${ticket.number}`)).body, 'Rejected by Alice Walker')
})

t.test('expired link: refused with 410, nothing changed', async (t) => {
  const { env, setNow } = await clockedApp(t)
  const { ticket } = await openRequest(env)
  const token = await latestToken(env, ticket.id)
  const approver = new Agent(env.app)

  setNow(new Date(T0.getTime() + 7 * DAY - 1000))
  t.equal((await approver.get(`/approvals/${token}`)).statusCode, 200, 'still valid a second before it expires')

  setNow(new Date(T0.getTime() + 7 * DAY))
  const before = await snapshot(env)
  const page = await approver.get(`/approvals/${token}`)
  t.equal(page.statusCode, 410)
  t.match(page.body, 'This approval link has expired')
  t.match(page.body, `The link for request #${ticket.number} expired`)
  const post = await decide(approver, token, { decision: 'approve' })
  t.equal(post.statusCode, 410)
  t.same(await snapshot(env), before, 'nothing changed')
  t.equal((await ticketRow(env, ticket.id)).status, 'awaiting_approval')

  const ana = await login(env, 'ana@casebridge.test')
  t.match((await ana.get(`/desk/tickets/${ticket.number}`)).body, 'The link expired', 'staff see the link expired')
})

t.test('tampered and forged links: 404, nothing changed', async (t) => {
  const { env } = await clockedApp(t)
  const first = await openRequest(env, 'bob@acme.test', 'New user account', 'First hire')
  const second = await openRequest(env, 'bob@acme.test', 'New user account', 'Second hire')
  const token = await latestToken(env, first.ticket.id)
  const key = approvalKey(env.config)
  const claims = verifyApprovalToken(token, key)!
  const [otherApproval] = await approvals(env, second.ticket.id)

  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
  const forged = {
    'one character changed': flip(token, 10),
    'the last character changed': flip(token, token.length - 1),
    'another approval’s id with this nonce, signed with the real key': signApprovalToken({ ...claims, approvalId: otherApproval.id }, key),
    'a later expiry, signed with the real key': signApprovalToken({ ...claims, expiresAt: new Date(claims.expiresAt.getTime() + 30 * DAY) }, key),
    'signed with another key': signApprovalToken(claims, Buffer.alloc(32, 7)),
    'an approval that does not exist': signApprovalToken({ ...claims, approvalId: 999_999 }, key),
    'not a token at all': 'hello',
    'cut short': token.slice(0, 40)
  }
  const before = await snapshot(env)
  const approver = new Agent(env.app)
  for (const [what, bad] of Object.entries(forged)) {
    const page = await approver.get(`/approvals/${bad}`)
    t.equal(page.statusCode, 404, `${what}: GET 404`)
    t.match(page.body, 'This approval link is not valid', what)
    const post = await decide(approver, bad, { decision: 'approve' })
    t.equal(post.statusCode, 404, `${what}: POST 404`)
  }
  t.same(await snapshot(env), before, 'neither request changed')
  t.equal((await ticketRow(env, first.ticket.id)).status, 'awaiting_approval')
  t.equal((await ticketRow(env, second.ticket.id)).status, 'awaiting_approval')
})

t.test('a browser logged in as someone else is refused with 403', async (t) => {
  const { env } = await clockedApp(t)
  const { ticket, requester } = await openRequest(env)
  const token = await latestToken(env, ticket.id)
  const before = await snapshot(env)
  const people = {
    'another contact of the account': await login(env, 'carol@acme.test'),
    'the requester himself': requester,
    'staff': await login(env, 'ana@casebridge.test'),
    'an admin': await login(env, 'admin@casebridge.test')
  }
  for (const [who, agent] of Object.entries(people)) {
    const page = await agent.get(`/approvals/${token}`)
    t.equal(page.statusCode, 403, `${who}: GET 403`)
    t.match(page.body, 'This approval link is for someone else')
    t.notMatch(page.body, 'Account for our new hire', `${who}: the request is not shown`)
    const post = await decide(agent, token, { decision: 'approve' })
    t.equal(post.statusCode, 403, `${who}: POST 403`)
  }
  t.same(await snapshot(env), before, 'nothing changed')
  const forms = await decide(new Agent(env.app), token, { decision: 'approve' })
  t.equal(forms.statusCode, 200, 'the link still works for the approver')
})

t.test('forms without CSRF token decide nothing', async (t) => {
  const { env } = await clockedApp(t)
  const { ticket } = await openRequest(env)
  const token = await latestToken(env, ticket.id)
  const before = await snapshot(env)
  const res = await new Agent(env.app).post(`/approvals/${token}`, { decision: 'approve' }, { noCsrf: true })
  t.equal(res.statusCode, 403)
  t.same(await snapshot(env), before)
})

t.test('resend: a new link goes out and the old one is refused as replaced', async (t) => {
  const { env, setNow } = await clockedApp(t)
  const { ticket } = await openRequest(env)
  const oldToken = await latestToken(env, ticket.id)
  setNow(new Date(T0.getTime() + DAY))
  // Logged in on the day she resends (a session idle for 12 hours ends).
  const ana = await login(env, 'ana@casebridge.test')
  const res = await ana.post(`/desk/tickets/${ticket.number}/approval/resend`, { approver_id: '' }, { csrfFrom: `/desk/tickets/${ticket.number}` })
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, `/desk/tickets/${ticket.number}#approval`)
  t.match((await ana.get(`/desk/tickets/${ticket.number}`)).body, 'The approval request was sent to Alice Walker.')

  const rows = await approvals(env, ticket.id)
  t.equal(rows.length, 2)
  t.match(rows[0], { decision: 'superseded' })
  t.match(rows[1], { decision: null, decided_at: null, approver_contact_id: env.ids.contact['alice@acme.test'], requested_by_staff_id: env.ids.staff['ana@casebridge.test'] })
  t.equal(rows[1].expires_at, new Date(T0.getTime() + 8 * DAY).toISOString(), 'a fresh expiry')
  t.equal((await mails(env, ticket.id, 'ticket.approval_request')).length, 2)
  const resent = (await events(env, ticket.id)).find((e) => e.action === 'approval_resent')
  t.match(resent, { actor_type: 'staff', actor_name: 'Ana Souza', field: 'approver', to_value: 'Alice Walker' })

  const newToken = await latestToken(env, ticket.id)
  t.not(newToken, oldToken)
  const before = await snapshot(env)
  const approver = new Agent(env.app)
  const old = await approver.get(`/approvals/${oldToken}`)
  t.equal(old.statusCode, 410)
  t.match(old.body, 'This approval link was replaced')
  t.equal((await decide(approver, oldToken, { decision: 'approve' })).statusCode, 410)
  t.same(await snapshot(env), before, 'the replaced link changes nothing')

  t.equal((await decide(approver, newToken, { decision: 'approve' })).statusCode, 200, 'the new link works')
  t.equal((await ticketRow(env, ticket.id)).status, 'new')

  const late = await ana.post(`/desk/tickets/${ticket.number}/approval/resend`, { approver_id: '' }, { csrfFrom: `/desk/tickets/${ticket.number}` })
  t.equal(late.statusCode, 409, 'nothing to resend once decided')
  t.match(late.body, 'This ticket is no longer waiting for approval.')
})

t.test('a request cancelled while waiting: its link is refused', async (t) => {
  const { env } = await clockedApp(t)
  const { ticket, requester } = await openRequest(env)
  const token = await latestToken(env, ticket.id)
  const version = (await ticketRow(env, ticket.id)).version
  const cancel = await requester.post(`/portal/tickets/${ticket.number}/actions/cancel`, { version: String(version), cancel_reason: 'Hired elsewhere' }, { csrfFrom: `/portal/tickets/${ticket.number}` })
  t.equal(cancel.statusCode, 302, 'the requester may cancel a waiting request')
  const before = await snapshot(env)
  const approver = new Agent(env.app)
  const page = await approver.get(`/approvals/${token}`)
  t.equal(page.statusCode, 409)
  t.match(page.body, 'This request is no longer waiting for approval')
  t.equal((await decide(approver, token, { decision: 'approve' })).statusCode, 409)
  t.same(await snapshot(env), before)
  t.equal((await ticketRow(env, ticket.id)).status, 'cancelled')
})

t.test('auto-approved item: no waiting, no mail, a history row', async (t) => {
  const { env } = await clockedApp(t)
  const admin = await login(env, 'admin@casebridge.test')
  const item = env.ids.category['New user account']
  const saved = await admin.post('/admin/catalog', { [`mode_${item}`]: 'auto', approval_link_days: '7' }, { csrfFrom: '/admin/catalog' })
  t.equal(saved.statusCode, 302)
  t.match(await env.db.selectFrom('category').select(['requires_approval', 'auto_approve']).where('id', '=', item).executeTakeFirstOrThrow(), { requires_approval: 1, auto_approve: 1 })

  const { ticket } = await openRequest(env)
  t.match(ticket, { state: 'open', status: 'new' })
  t.same(await approvals(env, ticket.id), [])
  t.same(await mails(env, ticket.id, 'ticket.approval_request'), [], 'no mail to the manager')
  const history = await events(env, ticket.id)
  t.ok(history.some((e) => e.action === 'auto_approved' && e.actor_type === 'system'), 'history says it was approved automatically')
  const ana = await login(env, 'ana@casebridge.test')
  t.match((await ana.get(`/desk/tickets/${ticket.number}/history`)).body, 'Approved automatically (catalog item)')
})

t.test('items without approval and follow-up tickets are not held', async (t) => {
  const { env } = await clockedApp(t)
  const { ticket } = await openRequest(env, 'bob@acme.test', 'Password reset')
  t.equal(ticket.status, 'new')
  t.same(await approvals(env, ticket.id), [])
  t.notOk((await events(env, ticket.id)).some((e) => e.action.startsWith('approval') || e.action === 'auto_approved'))
})

t.test('no reporting manager: another manager of the account approves; with nobody, staff choose', async (t) => {
  const { env } = await clockedApp(t)
  // Hank has no manager: Gina, the manager contact of Globex, approves.
  const hank = await openRequest(env, 'hank@globex.test')
  t.equal(hank.ticket.status, 'awaiting_approval')
  t.match((await approvals(env, hank.ticket.id))[0], { approver_contact_id: env.ids.contact['gina@globex.test'] })
  const [toGina] = await mails(env, hank.ticket.id, 'ticket.approval_request')
  t.equal(toGina.recipient, 'gina@globex.test')
  t.equal(toGina.locale, 'pt-BR', 'in the approver’s language')
  const { mail } = composed(env, toGina)
  t.match(mail.text, 'Hank Hill pede sua aprovação')
  t.match(mail.text, /Aprovar: \S+\/approvals\/\S+#approve/)

  // Gina herself has no manager and is the only manager of Globex: nobody to ask.
  const gina = await openRequest(env, 'gina@globex.test')
  t.equal(gina.ticket.status, 'awaiting_approval', 'the request still waits')
  t.same(await approvals(env, gina.ticket.id), [], 'no link was sent')
  t.same(await mails(env, gina.ticket.id, 'ticket.approval_request'), [])
  t.ok((await events(env, gina.ticket.id)).some((e) => e.action === 'approval_no_approver'))
  const portal = await gina.requester.get(`/portal/tickets/${gina.ticket.number}`)
  t.match(portal.body, 'A equipe de suporte está verificando quem a aprova.')

  const ana = await login(env, 'ana@casebridge.test')
  t.match((await ana.get(`/desk/tickets/${hank.ticket.number}`)).body, 'Gina Gomes (manager contact of the account)')
  const desk = await ana.get(`/desk/tickets/${gina.ticket.number}`)
  t.match(desk.body, 'Needs an approver.')
  t.match(desk.body, 'Gina Gomes has no reporting manager')
  t.match(desk.body, 'Send approval request')
  t.match(desk.body, 'Hank Hill (hank@globex.test)', 'the account’s contacts are offered')

  const before = await snapshot(env)
  const none = await ana.post(`/desk/tickets/${gina.ticket.number}/approval/resend`, { approver_id: '' }, { csrfFrom: `/desk/tickets/${gina.ticket.number}` })
  t.equal(none.statusCode, 422)
  t.match(none.body, 'No approver was found for this requester: choose one.')
  const outsider = await ana.post(`/desk/tickets/${gina.ticket.number}/approval/resend`, { approver_id: String(env.ids.contact['bob@acme.test']) }, { csrfFrom: `/desk/tickets/${gina.ticket.number}` })
  t.equal(outsider.statusCode, 422, 'only contacts of the ticket’s account can approve')
  t.match(outsider.body, 'Choose one of the offered contacts as approver.')
  t.same(await snapshot(env), before, 'nothing changed')

  const chosen = await ana.post(`/desk/tickets/${gina.ticket.number}/approval/resend`, { approver_id: String(env.ids.contact['hank@globex.test']) }, { csrfFrom: `/desk/tickets/${gina.ticket.number}` })
  t.equal(chosen.statusCode, 302)
  t.match((await approvals(env, gina.ticket.id))[0], { approver_contact_id: env.ids.contact['hank@globex.test'] })
  t.equal((await mails(env, gina.ticket.id, 'ticket.approval_request'))[0].recipient, 'hank@globex.test')
  const token = await latestToken(env, gina.ticket.id)
  t.equal((await decide(hank.requester, token, { decision: 'approve' })).statusCode, 200, 'Hank, logged in, approves')
  t.equal((await ticketRow(env, gina.ticket.id)).status, 'new')
})

t.test('/admin/catalog: admins set approval per item and the link lifetime', async (t) => {
  const { env, setNow } = await clockedApp(t)
  const ana = await login(env, 'ana@casebridge.test')
  t.equal((await ana.get('/admin/catalog')).statusCode, 404, 'staff who are not admins get 404')
  const bob = await login(env, 'bob@acme.test')
  t.equal((await bob.get('/admin/catalog')).statusCode, 404)

  const admin = await login(env, 'admin@casebridge.test')
  t.match((await admin.get('/admin')).body, 'href="/admin/catalog"', 'linked from the admin index')
  const page = await admin.get('/admin/catalog')
  t.equal(page.statusCode, 200)
  const item = env.ids.category['Install software']
  t.match(page.body, 'New user account')
  t.match(page.body, new RegExp(`name="mode_${env.ids.category['New user account']}"[^>]*>\\s*<option value="none" >Not required</option><option value="manager" selected>`))

  const before = await snapshot(env)
  const bad = await admin.post('/admin/catalog', { [`mode_${item}`]: 'sometimes', approval_link_days: '0' }, { csrfFrom: '/admin/catalog' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'Enter a whole number of days from 1 to 90.')
  t.match(bad.body, `id="mode_${item}-error">Choose one of the options.`)
  t.same(await snapshot(env), before)
  t.match(await env.db.selectFrom('category').select(['requires_approval']).where('id', '=', item).executeTakeFirstOrThrow(), { requires_approval: 0 })

  const ok = await admin.post('/admin/catalog', { [`mode_${item}`]: 'manager', approval_link_days: '3' }, { csrfFrom: '/admin/catalog' })
  t.equal(ok.statusCode, 302)
  t.match(await env.db.selectFrom('category').select(['requires_approval', 'auto_approve']).where('id', '=', item).executeTakeFirstOrThrow(), { requires_approval: 1, auto_approve: 0 })

  setNow(new Date(T0.getTime() + 60_000))
  const { ticket } = await openRequest(env, 'bob@acme.test', 'Install software')
  t.equal(ticket.status, 'awaiting_approval')
  t.equal((await approvals(env, ticket.id))[0].expires_at, new Date(T0.getTime() + 60_000 + 3 * DAY).toISOString(), 'the configured lifetime')
})
