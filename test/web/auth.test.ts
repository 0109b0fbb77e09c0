import t from 'tap'
import { Agent, loginAs, testApp, DEMO_PASSWORDS } from '../helpers/app.js'

t.test('login, session, logout', async (t) => {
  const { app } = await testApp(t)
  const anon = new Agent(app)
  const redirect = await anon.get('/portal')
  t.equal(redirect.statusCode, 302, 'anonymous visitor is sent to login')
  t.match(redirect.headers.location, /^\/login\?next=%2Fportal/)

  const wrong = await anon.post('/login', { email: 'alice@acme.test', password: 'not-the-password' })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.body, 'Wrong e-mail or password.')
  t.notOk(anon.cookies.has('casebridge_session') && (await anon.get('/portal')).statusCode === 200, 'no session after a wrong password')

  const unknown = await anon.post('/login', { email: 'nobody@nowhere.test', password: 'whatever-123' })
  t.equal(unknown.statusCode, 401, 'unknown e-mail answers like a wrong password')

  const ok = await anon.post('/login', { email: 'Alice@Acme.test', password: DEMO_PASSWORDS.client, next: '/account' })
  t.equal(ok.statusCode, 302)
  t.equal(ok.headers.location, '/account', 'goes back to where the person was going')
  const account = await anon.get('/account')
  t.equal(account.statusCode, 200)
  t.match(account.body, 'Alice Walker')

  const offsite = await new Agent(app).post('/login', { email: 'alice@acme.test', password: DEMO_PASSWORDS.client, next: '//evil.test/x' })
  t.equal(offsite.headers.location, '/portal', 'an off-site next is ignored')

  const out = await anon.post('/logout', {}, { csrfFrom: '/account' })
  t.equal(out.statusCode, 302)
  t.equal((await anon.get('/account')).statusCode, 302, 'logged out')
})

t.test('CSRF: forms without a valid token are refused', async (t) => {
  const { app } = await testApp(t)
  const agent = await loginAs(app, 'alice@acme.test')
  const missing = await agent.post('/account/locale', { locale: 'pt-BR' }, { noCsrf: true })
  t.equal(missing.statusCode, 403)
  t.match(missing.body, 'Your form expired or was sent from another site')
  const forged = await agent.request({ method: 'POST', url: '/account/locale', payload: '_csrf=forged&locale=pt-BR', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(forged.statusCode, 403)
  const page = await agent.get('/account')
  t.notMatch(page.body, 'Idioma salvo', 'nothing changed')
  const loginNoCsrf = await new Agent(app).post('/login', { email: 'alice@acme.test', password: DEMO_PASSWORDS.client }, { noCsrf: true })
  t.equal(loginNoCsrf.statusCode, 403, 'even the login form needs its token')
})

t.test('password change', async (t) => {
  const { app } = await testApp(t)
  const agent = await loginAs(app, 'bob@acme.test')
  const bad = await agent.post('/account/password', { current_password: 'wrong', new_password: 'short', confirm_password: 'short' }, { csrfFrom: '/account' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'The current password is wrong.')
  t.match(bad.body, 'Use at least 10 characters.')
  const mismatch = await agent.post('/account/password', { current_password: DEMO_PASSWORDS.client, new_password: 'a-long-new-pass', confirm_password: 'another-long-pass' }, { csrfFrom: '/account' })
  t.match(mismatch.body, 'The two new passwords differ.')
  const ok = await agent.post('/account/password', { current_password: DEMO_PASSWORDS.client, new_password: 'a-long-new-pass', confirm_password: 'a-long-new-pass' }, { csrfFrom: '/account' })
  t.equal(ok.statusCode, 302)
  t.match((await agent.get('/account')).body, 'Your password has been changed.')
  const old = await new Agent(app).post('/login', { email: 'bob@acme.test', password: DEMO_PASSWORDS.client })
  t.equal(old.statusCode, 401, 'the old password no longer works')
  await loginAs(app, 'bob@acme.test', 'a-long-new-pass')
})

t.test('login attempts are rate limited', async (t) => {
  const { app } = await testApp(t, { env: { LOGIN_RATE_LIMIT: '3' } })
  const agent = new Agent(app)
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await agent.post('/login', { email: 'alice@acme.test', password: 'wrong-password' })).statusCode)
  t.same(statuses, [401, 401, 401, 429])
  const limited = await agent.post('/login', { email: 'alice@acme.test', password: DEMO_PASSWORDS.client })
  t.equal(limited.statusCode, 429, 'even the right password waits')
  t.match(limited.body, 'Too many login attempts')
})

t.test('language: setting, then Accept-Language', async (t) => {
  const { app } = await testApp(t)
  const pt = new Agent(app, { 'accept-language': 'pt-BR,pt;q=0.9,en;q=0.5' })
  t.match((await pt.get('/login')).body, 'Entrar')
  const en = new Agent(app, { 'accept-language': 'en-US' })
  t.match((await en.get('/login')).body, 'Log in')
  const gina = await loginAs(app, 'gina@globex.test')
  t.match((await gina.get('/account')).body, 'Alterar senha', 'a contact whose setting is pt-BR sees Portuguese')
  await gina.post('/account/locale', { locale: 'en' }, { csrfFrom: '/account' })
  t.match((await gina.get('/account')).body, 'Change password')
})

t.test('security headers and health', async (t) => {
  const { app } = await testApp(t)
  const res = await app.inject({ url: '/login' })
  t.match(res.headers['content-security-policy'], /default-src 'self'/)
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.match(String(res.headers['set-cookie']), /HttpOnly/)
  t.match(String(res.headers['set-cookie']), /SameSite=Lax/)
  const health = await app.inject({ url: '/healthz' })
  t.same(health.json(), { status: 'ok' }, 'liveness only (the database is /readyz\'s business)')
  const missing = await app.inject({ url: '/no/such/page' })
  t.equal(missing.statusCode, 404)
  t.match(missing.body, 'Not found')
})
