// Sessions live on the server: a logout, a password change, "log out of all other sessions" or an
// account turned off ends them at once, whatever copy of the cookie is still around. API tokens
// are listed with their last use, can expire and be revoked. Login attempts are counted in the
// database, per address and per account, so every web process refuses the same guesses. Every
// such thing leaves a security event, shown to the person and to admins. Through real HTTP
// (app.inject), on SQLite or PostgreSQL.
import t from 'tap'
import { Agent, DEMO_PASSWORDS, loginAs, testApp } from '../helpers/app.js'
import { buildApp } from '../../src/app.js'
import { setAccountActive } from '../../src/commands/sessions.js'
import { SYSTEM } from '../../src/commands/kernel.js'

const ALICE = 'alice@acme.test'

/** Another browser holding the very same cookies (a copied cookie). */
function copyOf(agent: Agent): Agent {
  const copy = new Agent(agent.app)
  for (const [k, v] of agent.cookies) copy.cookies.set(k, v)
  return copy
}

async function events(env: { db: import('../../src/db/index.js').Db }, kind: string) {
  return env.db.selectFrom('security_event').selectAll().where('kind', '=', kind as never).orderBy('id').execute()
}

t.test('a cookie copied before logout no longer works after it', async (t) => {
  const env = await testApp(t)
  const alice = await loginAs(env.app, ALICE)
  const copied = copyOf(alice)
  t.equal((await copied.get('/portal')).statusCode, 200, 'the copy works while the session lasts')
  const out = await alice.post('/logout', {}, { csrfFrom: '/portal' })
  t.equal(out.statusCode, 302)
  const after = await copied.get('/portal')
  t.equal(after.statusCode, 302, 'the copied cookie is refused')
  t.match(after.headers.location, /^\/login/)
  const row = await env.db.selectFrom('web_session').select(['ended_at', 'ended_reason']).executeTakeFirstOrThrow()
  t.equal(row.ended_reason, 'logout')
  t.equal((await events(env, 'logout')).length, 1, 'the logout is a security event')
})

t.test('a password change ends every other session at once, not this one', async (t) => {
  const env = await testApp(t)
  const here = await loginAs(env.app, ALICE)
  const phone = await loginAs(env.app, ALICE)
  const stolen = copyOf(phone)
  const res = await here.post('/account/password', {
    current_password: DEMO_PASSWORDS.client, new_password: 'a-brand-new-passphrase', confirm_password: 'a-brand-new-passphrase'
  }, { csrfFrom: '/account' })
  t.equal(res.statusCode, 302)
  const page = await here.get('/account')
  t.equal(page.statusCode, 200, 'the session that changed it goes on')
  t.match(page.body, '1 other session(s) have been logged out')
  t.equal((await phone.get('/portal')).statusCode, 302, 'the other browser is logged out')
  t.equal((await stolen.get('/portal')).statusCode, 302, 'and so is any copy of its cookie')
  const [event] = await events(env, 'password_changed')
  t.equal(event.contact_id, env.ids.contact[ALICE])
  t.match(event.detail, '1 other session')
})

t.test('the account page lists the sessions; one or all others can be ended', async (t) => {
  const env = await testApp(t)
  const laptop = await loginAs(env.app, ALICE)
  const firefox = new Agent(env.app, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' })
  await firefox.login(ALICE, DEMO_PASSWORDS.client)
  const iphone = new Agent(env.app, { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1' })
  await iphone.login(ALICE, DEMO_PASSWORDS.client)
  const bob = await loginAs(env.app, 'bob@acme.test')

  const page = await laptop.get('/account')
  t.match(page.body, 'Firefox, Linux')
  t.match(page.body, 'Safari, iOS')
  t.match(page.body, 'this browser')
  const sessionRows = page.body.match(/<tr(?: class="current")?>\s*<td>[^<]*(?:<span class="badge">this browser<\/span>)?<\/td>\s*<td>[^<]*<\/td>/g) ?? []
  t.equal(sessionRows.length, 3, "three sessions of Alice's, none of Bob's")

  const firefoxId = (await env.db.selectFrom('web_session').select('id').where('user_agent', 'like', '%Firefox%').executeTakeFirstOrThrow()).id
  const ended = await laptop.post(`/account/sessions/${firefoxId}/end`, {}, { csrfFrom: '/account' })
  t.equal(ended.statusCode, 302)
  t.equal((await firefox.get('/portal')).statusCode, 302, 'the session ended from the list is logged out')
  t.equal((await iphone.get('/portal')).statusCode, 200, 'the others go on')

  const bobsId = (await env.db.selectFrom('web_session').select('id').where('contact_id', '=', env.ids.contact['bob@acme.test']).executeTakeFirstOrThrow()).id
  t.equal((await laptop.post(`/account/sessions/${bobsId}/end`, {}, { csrfFrom: '/account' })).statusCode, 404, "someone else's session is not hers to end")
  t.equal((await bob.get('/portal')).statusCode, 200, 'and Bob stays logged in')

  const all = await laptop.post('/account/sessions/end-others', {}, { csrfFrom: '/account' })
  t.equal(all.statusCode, 302)
  t.equal((await iphone.get('/portal')).statusCode, 302, 'every other session is logged out')
  t.equal((await laptop.get('/portal')).statusCode, 200, 'this one stays')
  t.equal((await events(env, 'session_revoked')).length, 1)
  t.equal((await events(env, 'sessions_revoked')).length, 1)
})

t.test('turning an account off ends its sessions and its API access at once', async (t) => {
  const env = await testApp(t)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const deps = { db: env.db, clock: () => new Date(), random: Math.random }
  const token = await ana.post('/account/tokens', { name: 'script' }, { csrfFrom: '/account' })
  const secret = /id="new-token">([^<]+)</.exec(token.body)![1]
  t.equal((await env.app.inject({ url: '/api/v1/tickets', headers: { authorization: `Bearer ${secret}` } })).statusCode, 200)

  t.ok((await setAccountActive(deps, SYSTEM, { email: 'ana@casebridge.test', active: false })).ok)
  t.equal((await ana.get('/desk')).statusCode, 302, 'the open session ends')
  t.equal((await env.app.inject({ url: '/api/v1/tickets', headers: { authorization: `Bearer ${secret}` } })).statusCode, 401, 'the token no longer works')
  t.equal((await new Agent(env.app).post('/login', { email: 'ana@casebridge.test', password: DEMO_PASSWORDS.staff })).statusCode, 401, 'nor does the password')

  t.ok((await setAccountActive(deps, SYSTEM, { email: 'ana@casebridge.test', active: true })).ok)
  t.equal((await ana.get('/desk')).statusCode, 302, 'turning it on again does not bring the old session back')
  t.equal((await env.app.inject({ url: '/api/v1/tickets', headers: { authorization: `Bearer ${secret}` } })).statusCode, 200, 'her token works again')
  t.same((await events(env, 'account_disabled')).map((e) => e.staff_id), [env.ids.staff['ana@casebridge.test']])
  t.equal((await events(env, 'account_enabled')).length, 1)
  const refused = await setAccountActive(deps, SYSTEM, { email: 'nobody@example.test', active: false })
  t.notOk(refused.ok, 'an unknown address is refused')
})

t.test('API tokens: created on the account page, shown once, listed with last use, expiring, revocable', async (t) => {
  let now = new Date('2026-12-06T10:00:00Z')
  const env = await testApp(t, { clock: () => now })
  const alice = await loginAs(env.app, ALICE)

  const created = await alice.post('/account/tokens', { name: 'Nightly report', expires_in_days: '30' }, { csrfFrom: '/account' })
  t.equal(created.statusCode, 200)
  t.match(created.body, 'Copy it now')
  const secret = /id="new-token">([^<]+)</.exec(created.body)![1]
  t.match(secret, /^cb_/)
  const later = await alice.get('/account')
  t.notMatch(later.body, secret, 'the token is shown once only')
  t.match(later.body, 'Nightly report')
  t.match(later.body, 'never', 'not used yet')

  const api = () => env.app.inject({ url: '/api/v1/tickets', headers: { authorization: `Bearer ${secret}` } })
  t.equal((await api()).statusCode, 200)
  const row = await env.db.selectFrom('api_token').select(['id', 'last_used_at', 'expires_at']).where('name', '=', 'Nightly report').executeTakeFirstOrThrow()
  t.equal(row.last_used_at, now.toISOString(), 'its last use is recorded')
  t.equal(row.expires_at, '2027-01-05T10:00:00.000Z')

  now = new Date('2027-01-05T10:00:01Z')
  t.equal((await api()).statusCode, 401, 'an expired token is refused')
  now = new Date('2026-12-07T10:00:00Z')
  t.equal((await api()).statusCode, 200)

  // A day later: her browser session has gone idle meanwhile.
  const again = await loginAs(env.app, ALICE)
  const bad = await again.post('/account/tokens', { name: 'x', expires_in_days: '0' }, { csrfFrom: '/account' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'A number of days from 1 to 3650')
  const unnamed = await again.post('/account/tokens', { name: ' ' }, { csrfFrom: '/account' })
  t.equal(unnamed.statusCode, 422)

  const bob = await loginAs(env.app, 'bob@acme.test')
  t.equal((await bob.post(`/account/tokens/${row.id}/revoke`, {}, { csrfFrom: '/account' })).statusCode, 404, "Bob cannot revoke Alice's token")
  t.equal((await api()).statusCode, 200)
  const revoked = await again.post(`/account/tokens/${row.id}/revoke`, {}, { csrfFrom: '/account' })
  t.equal(revoked.statusCode, 302)
  t.equal((await api()).statusCode, 401, 'a revoked token is refused at once')
  t.match((await again.get('/account')).body, /revoked /)
  t.same((await events(env, 'token_created')).length, 1)
  t.same((await events(env, 'token_revoked')).length, 1)
})

t.test('an unused session ends after 12 hours', async (t) => {
  let now = new Date('2026-12-06T08:00:00Z')
  const env = await testApp(t, { clock: () => now })
  const alice = await loginAs(env.app, ALICE)
  now = new Date('2026-12-06T19:00:00Z')
  t.equal((await alice.get('/portal')).statusCode, 200, 'used after 11 hours: still on, and the use counts')
  now = new Date('2026-12-07T06:59:00Z')
  t.equal((await alice.get('/portal')).statusCode, 200, 'under 12 hours since the last use')
  now = new Date('2026-12-07T19:00:00Z')
  t.equal((await alice.get('/portal')).statusCode, 302, 'over 12 hours idle: logged out')
})

t.test('failed logins are counted per account across addresses and web processes', async (t) => {
  const env = await testApp(t, { env: { LOGIN_ACCOUNT_LIMIT: '3', LOGIN_RATE_LIMIT: '100' } })
  // A second web process on the same database.
  const other = await buildApp({ config: env.config, db: env.db, logger: false })
  await other.ready()
  t.teardown(() => other.close())
  const from = (app: typeof env.app, ip: string) => new Agent(app, { 'x-test-ip': ip })
  const attempt = async (app: typeof env.app, ip: string, email: string, password: string) => {
    const agent = from(app, ip)
    const csrf = await agent.csrf()
    return agent.request({
      method: 'POST', url: '/login', remoteAddress: ip,
      payload: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' }
    })
  }
  const statuses: number[] = []
  statuses.push((await attempt(env.app, '203.0.113.1', ALICE, 'guess-1')).statusCode)
  statuses.push((await attempt(other, '203.0.113.2', ALICE, 'guess-2')).statusCode)
  statuses.push((await attempt(env.app, '203.0.113.3', 'ALICE@acme.test', 'guess-3')).statusCode)
  statuses.push((await attempt(other, '203.0.113.4', ALICE, 'guess-4')).statusCode)
  t.same(statuses, [401, 401, 401, 429], 'three failures from three addresses on two processes, then the account waits')
  const right = await attempt(env.app, '198.51.100.7', ALICE, DEMO_PASSWORDS.client)
  t.equal(right.statusCode, 429, 'even the right password, from a new address')
  t.match(right.body, 'Too many login attempts')
  t.equal((await attempt(other, '203.0.113.1', 'bob@acme.test', DEMO_PASSWORDS.client)).statusCode, 302, 'another account is not held up')
  const unknown = await attempt(env.app, '203.0.113.9', 'nobody@acme.test', 'x')
  t.equal(unknown.statusCode, 401, 'an unknown address answers as a wrong password does')
  t.equal((await events(env, 'login_failed')).length, 4)
  t.equal((await events(env, 'login_throttled')).length, 2)
  const failed = await events(env, 'login_failed')
  t.same(failed.map((e) => e.ip), ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.9'], 'each with its address')
})

t.test('attempts per address are counted in the database too', async (t) => {
  const env = await testApp(t, { env: { LOGIN_RATE_LIMIT: '3' } })
  const other = await buildApp({ config: env.config, db: env.db, logger: false })
  await other.ready()
  t.teardown(() => other.close())
  const statuses: number[] = []
  for (const [i, app] of [env.app, other, env.app, other].entries()) {
    const agent = new Agent(app)
    const csrf = await agent.csrf()
    const res = await agent.request({
      method: 'POST', url: '/login', payload: new URLSearchParams({ _csrf: csrf, email: `x${i}@acme.test`, password: 'x' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' }
    })
    statuses.push(res.statusCode)
  }
  t.same(statuses, [401, 401, 401, 429], 'the fourth attempt in a minute from one address is refused, whichever process gets it')
})

t.test('security events: each person sees their own, admins see everyone\'s', async (t) => {
  const env = await testApp(t)
  await new Agent(env.app).post('/login', { email: ALICE, password: 'wrong-password' })
  const alice = await loginAs(env.app, ALICE)
  const own = await alice.get('/account')
  t.match(own.body, 'Recent activity on your account')
  t.match(own.body, 'Failed login')
  t.match(own.body, 'Logged in')
  const bob = await loginAs(env.app, 'bob@acme.test')
  t.notMatch((await bob.get('/account')).body, 'Failed login', "Bob does not see Alice's events")

  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const all = await admin.get('/admin/security')
  t.equal(all.statusCode, 200)
  t.match(all.body, 'Alice Walker')
  t.match(all.body, 'Failed login')
  const filtered = await admin.get('/admin/security?kind=login_failed')
  t.equal((filtered.body.match(/class="event-login_failed"/g) ?? []).length, 1)
  t.notMatch(filtered.body, 'class="event-login"')
  t.equal((await admin.get('/admin/security?kind=nonsense')).statusCode, 400)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  t.equal((await ana.get('/admin/security')).statusCode, 404, 'not for staff who are not admins')
})
