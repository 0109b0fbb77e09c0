// Staff two-factor authentication (TOTP) through real HTTP: set up from the account page with a
// QR code, confirmed by a first code, asked at every login after the password, recovery codes that
// work once, codes that work once, too many wrong codes ending the login, and an admin setting
// that makes it mandatory for staff.
import t from 'tap'
import { Secret, TOTP } from 'otpauth'
import { Agent, DEMO_PASSWORDS, loginAs, testApp, type TestEnv } from '../helpers/app.js'

const ANA = 'ana@casebridge.test'
const codeAt = (secret: string, at: Date) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: at.getTime() })

async function enrol(env: TestEnv, agent: Agent, now: () => Date): Promise<{ secret: string; codes: string[] }> {
  await agent.post('/account/two-factor/start', {}, { csrfFrom: '/account/two-factor' })
  const page = await agent.get('/account/two-factor')
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page.body)![1]
  t.match(page.body, /<img src="data:image\/png;base64,[^"]+" width="220"/, 'a QR code to scan')
  const done = await agent.post('/account/two-factor/confirm', { code: codeAt(secret, now()) }, { csrfFrom: '/account/two-factor' })
  const codes = [...done.body.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1])
  return { secret, codes }
}

async function passwordStep(env: TestEnv, email = ANA, password = DEMO_PASSWORDS.staff): Promise<Agent> {
  const agent = new Agent(env.app)
  const res = await agent.post('/login', { email, password, next: '/desk/tickets/1' })
  t.equal(res.headers.location, `/login/two-factor?next=${encodeURIComponent('/desk/tickets/1')}`, 'the password leads to the second step')
  return agent
}

t.test('set up, then asked at every login; a code works once; recovery codes work once', async (t) => {
  let now = new Date('2026-12-06T10:00:00Z')
  const env = await testApp(t, { clock: () => now })
  const ana = await loginAs(env.app, ANA)
  t.match((await ana.get('/account')).body, 'Manage two-factor authentication')

  await ana.post('/account/two-factor/start', {}, { csrfFrom: '/account/two-factor' })
  const enrolling = await ana.get('/account/two-factor')
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrolling.body)![1]
  const wrong = await ana.post('/account/two-factor/confirm', { code: '000000' === codeAt(secret, now) ? '111111' : '000000' }, { csrfFrom: '/account/two-factor' })
  t.equal(wrong.statusCode, 422, 'a wrong first code does not turn it on')
  t.match(wrong.body, 'That code is wrong')
  const on = await ana.post('/account/two-factor/confirm', { code: codeAt(secret, now) }, { csrfFrom: '/account/two-factor' })
  t.equal(on.statusCode, 200)
  t.match(on.body, 'Two-factor authentication is on.')
  const codes = [...on.body.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1])
  t.equal(codes.length, 10, 'ten recovery codes, shown once')
  t.notMatch((await ana.get('/account/two-factor')).body, codes[0])
  const stored = await env.db.selectFrom('recovery_code').select('code_hash').execute()
  t.notOk(stored.some((c) => c.code_hash.includes(codes[0].replace('-', ''))), 'only hashes are kept')

  now = new Date(now.getTime() + 60_000)
  const halfway = await passwordStep(env)
  t.equal((await halfway.get('/desk')).statusCode, 302, 'the password alone opens nothing')
  t.equal((await halfway.get('/account')).statusCode, 302)
  t.equal((await env.app.inject({ url: '/login/two-factor' })).statusCode, 302, 'no second step without a first')
  const page = await halfway.get('/login/two-factor?next=%2Fdesk%2Ftickets%2F1')
  t.match(page.body, 'autocomplete="one-time-code"')
  const code = codeAt(secret, now)
  const bad = await halfway.post('/login/two-factor', { code: code === '123456' ? '654321' : '123456', next: '/desk/tickets/1' }, { csrfFrom: '/login/two-factor' })
  t.equal(bad.statusCode, 401)
  const good = await halfway.post('/login/two-factor', { code, next: '/desk/tickets/1' }, { csrfFrom: '/login/two-factor' })
  t.equal(good.statusCode, 302)
  t.equal(good.headers.location, '/desk/tickets/1')
  t.equal((await halfway.get('/desk')).statusCode, 200, 'in after the code')

  const replay = await passwordStep(env)
  t.equal((await replay.post('/login/two-factor', { code, next: '' }, { csrfFrom: '/login/two-factor' })).statusCode, 401, 'the same code does not work twice')
  const recovery = await replay.post('/login/two-factor', { code: codes[3].toUpperCase(), next: '' }, { csrfFrom: '/login/two-factor' })
  t.equal(recovery.statusCode, 302, 'a recovery code works (in any case)')
  t.match((await replay.get('/desk')).body, 'You used a recovery code')
  const again = await passwordStep(env)
  t.equal((await again.post('/login/two-factor', { code: codes[3], next: '' }, { csrfFrom: '/login/two-factor' })).statusCode, 401, 'but only once')

  const kinds = (await env.db.selectFrom('security_event').select('kind').where('staff_id', '=', env.ids.staff[ANA]).execute()).map((e) => e.kind)
  for (const kind of ['two_factor_enabled', 'two_factor_failed', 'recovery_code_used']) t.ok(kinds.includes(kind as never), kind)
})

t.test('five wrong codes end the login; turning it off needs the password and a code', async (t) => {
  let now = new Date('2026-12-06T10:00:00Z')
  const env = await testApp(t, { clock: () => now })
  const ana = await loginAs(env.app, ANA)
  const { secret } = await enrol(env, ana, () => now)
  const guesser = await passwordStep(env)
  for (let i = 0; i < 4; i++) t.equal((await guesser.post('/login/two-factor', { code: `00000${i}`, next: '' }, { csrfFrom: '/login/two-factor' })).statusCode, 401)
  const fifth = await guesser.post('/login/two-factor', { code: '000009', next: '' }, { csrfFrom: '/login/two-factor' })
  t.equal(fifth.statusCode, 302)
  t.equal(fifth.headers.location, '/login')
  now = new Date(now.getTime() + 30_000)
  t.equal((await guesser.post('/login/two-factor', { code: codeAt(secret, now), next: '' }, { csrfFrom: '/login' })).statusCode, 302, 'even the right code now only leads back to the login')
  t.equal((await guesser.get('/desk')).statusCode, 302)

  now = new Date(now.getTime() + 30_000)
  const noPassword = await ana.post('/account/two-factor/disable', { password: 'wrong-password', code: codeAt(secret, now) }, { csrfFrom: '/account/two-factor' })
  t.equal(noPassword.statusCode, 422)
  const off = await ana.post('/account/two-factor/disable', { password: DEMO_PASSWORDS.staff, code: codeAt(secret, now) }, { csrfFrom: '/account/two-factor' })
  t.equal(off.statusCode, 302)
  const plain = await new Agent(env.app).post('/login', { email: ANA, password: DEMO_PASSWORDS.staff })
  t.equal(plain.headers.location, '/desk', 'no second step any more')
})

t.test('admins can require it: staff without it reach only the setup until they have it', async (t) => {
  let now = new Date('2026-12-06T10:00:00Z')
  const env = await testApp(t, { clock: () => now })
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const saved = await admin.post('/admin/settings', { occurrence_via_portal: 'on', auto_close_days: '7', staff_two_factor_required: 'on' }, { csrfFrom: '/admin/settings' })
  t.equal(saved.statusCode, 302)
  t.equal((await admin.get('/admin')).headers.location, '/account/two-factor', 'the admin too is sent to set it up')

  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const desk = await bruno.get('/desk')
  t.equal(desk.statusCode, 302)
  t.equal(desk.headers.location, '/account/two-factor')
  t.match((await bruno.get('/account/two-factor')).body, 'Your administrators require two-factor authentication')
  t.equal((await bruno.post('/desk/availability', { available: '0' }, { csrfFrom: '/account/two-factor' })).statusCode, 403, 'no desk action meanwhile')
  const alice = await loginAs(env.app, 'alice@acme.test')
  t.equal((await alice.get('/portal')).statusCode, 200, 'clients are not concerned')

  const { secret } = await enrol(env, bruno, () => now)
  t.equal((await bruno.get('/desk')).statusCode, 200, 'set up: the desk opens')
  now = new Date(now.getTime() + 60_000)
  const page = await bruno.get('/account/two-factor')
  t.notMatch(page.body, 'Turn off two-factor authentication', 'no way to turn it off while required')
  const off = await bruno.post('/account/two-factor/disable', { password: DEMO_PASSWORDS.staff, code: codeAt(secret, now) }, { csrfFrom: '/account/two-factor' })
  t.equal(off.statusCode, 403)
})
