// The bundled emulator is not an open door: tokens only for its connected app, the Case browser
// only for a signed-in CRM user, fault control only in test mode. Everything through real HTTP.
import t, { type Test } from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import jsforce from 'jsforce'
import pino from 'pino'
import { API_VERSION, CRM_USER, TEST_CLIENT, browserSession, emulatorFor, failure, http } from './helpers.js'
import { testApp } from '../helpers/app.js'
import { loadConfig, ConfigError } from '../../src/config.js'
import { emulatorCredentials, EMULATOR_CREDENTIALS_FILE } from '../../src/security/emulator-credentials.js'
import { createEmulator, DEFAULT_CRM_USERS } from '../../sync/emulator/index.js'
import { BROWSER_COOKIE, safeNext } from '../../sync/emulator/browser.js'
import { startLocalEmulator, type LocalEmulatorConfig } from '../../sync/crm/local.js'
import { createCrmAdapter } from '../../sync/crm/context.js'

const log = pino({ level: 'silent' })
const form = (body: Record<string, string>): RequestInit => ({
  method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString()
})
const tokenFor = (url: string, clientId: string, clientSecret: string) =>
  http(url, '/services/oauth2/token', form({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }))

/** The product's own emulator (as `npm start` runs it) on the test app's DATA_DIR; closed at teardown. */
async function bundled(t: Test, config: LocalEmulatorConfig, db: Parameters<typeof startLocalEmulator>[0]['db']) {
  const emu = await startLocalEmulator({ config: { ...config, EMULATOR_PORT: 0 }, db, log })
  t.teardown(() => emu.close())
  return { emu, url: emu.url! }
}

t.test('the token endpoint answers only the connected app, as Salesforce does', async (t) => {
  const env = await emulatorFor(t, { testMode: false, clientId: 'cb-app', clientSecret: 'cb-secret' })
  t.equal((await tokenFor(env.url, 'cb-app', 'cb-secret')).status, 200, 'the right id and secret')
  const otherId = await tokenFor(env.url, 'other', 'cb-secret')
  t.same([otherId.status, otherId.body], [400, { error: 'invalid_client_id', error_description: 'client identifier invalid' }], 'another client id')
  const wrongSecret = await tokenFor(env.url, 'cb-app', 'cb-secreT')
  t.same([wrongSecret.status, wrongSecret.body], [400, { error: 'invalid_client', error_description: 'invalid client credentials' }], 'a wrong secret')
  const missing = await http(env.url, '/services/oauth2/token', form({ grant_type: 'client_credentials' }))
  t.same([missing.status, missing.body.error], [400, 'invalid_client_id'], 'no credentials at all')
  const noSecret = await http(env.url, '/services/oauth2/token', form({ grant_type: 'password', client_id: 'cb-app', username: CRM_USER.username, password: CRM_USER.password }))
  t.same([noSecret.status, noSecret.body.error], [400, 'invalid_client'], 'the password grant needs the secret too')
  t.equal((await http(env.url, '/services/data/v62.0/limits')).status, 401, 'the REST API still wants a bearer token')

  t.throws(() => createEmulator({ file: ':memory:', clientId: '', clientSecret: '' }), /needs clientId and clientSecret/, 'there is no open default')
})

t.test('fault control answers 404 unless the emulator runs in test mode', async (t) => {
  const locked = await emulatorFor(t, { testMode: false })
  t.equal((await http(locked.url, '/__emulator/faults')).status, 404)
  const post = await http(locked.url, '/__emulator/faults', { method: 'POST', body: JSON.stringify({ down: '503' }) })
  t.equal(post.status, 404, 'POST too')
  t.equal((await http(locked.url, '/services/data')).status, 200, 'and nothing was taken down')

  const testing = await emulatorFor(t, { testMode: true })
  const on = await http(testing.url, '/__emulator/faults', { method: 'POST', body: JSON.stringify({ failNext: 1 }) })
  t.match(on, { status: 200, body: { failNext: 1 } }, 'in test mode the faults are there')
})

t.test('the Case browser wants a signed-in CRM user', async (t) => {
  const env = await emulatorFor(t, { testMode: false, loginHint: 'Ask the operator.' })
  const conn = await env.connect()
  const c = (await conn.sobject('Case').create({ Subject: 'Secret printer trouble' })) as { id: string }

  const anon = await http(env.url, '/', { redirect: 'manual' })
  t.equal(anon.status, 302, 'no session: a redirect')
  t.equal(anon.headers.get('location'), '/login?next=%2F')
  t.notMatch(anon.body, 'Secret printer', 'and no Case')
  const caseAnon = await http(env.url, `/cases/${c.id}`, { redirect: 'manual' })
  t.equal(caseAnon.headers.get('location'), `/login?next=${encodeURIComponent(`/cases/${c.id}`)}`, 'back to the Case after signing in')

  const page = await http(env.url, `/login?next=${encodeURIComponent(`/cases/${c.id}`)}`)
  t.equal(page.status, 200)
  t.match(page.body, /<form class="login" method="post" action="\/login">/)
  t.match(page.body, `name="next" value="/cases/${c.id}"`)
  t.match(page.body, 'Ask the operator.', 'the hint says where the password is')

  const wrong = await http(env.url, '/login', form({ username: CRM_USER.username, password: 'not-it', next: '/' }))
  t.equal(wrong.status, 401, 'a wrong password is refused')
  t.match(wrong.body, 'Wrong username or password.')
  t.equal(wrong.headers.get('set-cookie'), null, 'with no session')
  const unknown = await http(env.url, '/login', form({ username: 'nobody@crm.test', password: 'emulator' }))
  t.match([unknown.status, unknown.body], [401, 'Wrong username or password.'], 'an unknown user gets the same answer')
  env.emu.createUser({ username: 'gone@crm.test', password: 'pw-gone', lastName: 'Gone', isActive: false })
  t.equal((await http(env.url, '/login', form({ username: 'gone@crm.test', password: 'pw-gone' }))).status, 401, 'an inactive user cannot sign in')

  const ok = await fetch(`${env.url}/login`, form({ username: CRM_USER.username, password: CRM_USER.password, next: `/cases/${c.id}` }))
  t.equal(ok.status, 303)
  t.equal(ok.headers.get('location'), `/cases/${c.id}`)
  const setCookie = ok.headers.get('set-cookie') ?? ''
  t.match(setCookie, new RegExp(`^${BROWSER_COOKIE}=`), 'its own cookie, apart from the portal\'s')
  t.match(setCookie, /HttpOnly/i)
  t.match(setCookie, /SameSite=Lax/i)
  const cookie = setCookie.split(';')[0]

  const list = await http(env.url, '/', { headers: { cookie } })
  t.equal(list.status, 200, 'signed in: the list')
  t.match(list.body, 'Secret printer trouble')
  t.match(list.body, 'Casey Rivera', 'naming who is signed in')
  t.equal((await http(env.url, `/cases/${c.id}`, { headers: { cookie } })).status, 200, 'and the Case')
  t.equal((await http(env.url, '/login', { headers: { cookie }, redirect: 'manual' })).headers.get('location'), '/', 'the sign-in page sends a signed-in user on')

  const out = await http(env.url, '/logout', { method: 'POST', headers: { cookie }, redirect: 'manual' })
  t.equal(out.status, 303)
  const cleared = (out.headers.get('set-cookie') ?? '').split(';')[0]
  t.equal((await http(env.url, '/', { headers: { cookie: cleared }, redirect: 'manual' })).status, 302, 'signed out: back to the sign-in page')
  t.equal((await http(env.url, '/', { headers: { cookie: `${BROWSER_COOKIE}=forged` }, redirect: 'manual' })).status, 302, 'a forged cookie is no session')
})

t.test('after signing in, only the browser\'s own pages', async (t) => {
  for (const next of ['/', '/?page=2', '/cases/500Em00000000AAAAA']) t.equal(safeNext(next), next)
  for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example', '/%2F%2Fevil.example', ' /', '/cases/x/../../x',
    '/login', '\t//evil.example', '/cases/500Em00000000AAA\r\nSet-Cookie: x=1', undefined, ['/'], 42]) {
    t.equal(safeNext(next), '/', `refuses ${JSON.stringify(next)}`)
  }
  const env = await emulatorFor(t, { testMode: false })
  const res = await http(env.url, '/login', form({ username: CRM_USER.username, password: CRM_USER.password, next: '//evil.example' }))
  t.equal(res.headers.get('location'), '/', 'a hostile next leads home')
})

t.test('npm start\'s emulator: generated credentials, required, kept under DATA_DIR and reused', async (t) => {
  const app = await testApp(t)
  const { config, db } = app
  const file = join(app.dir, EMULATOR_CREDENTIALS_FILE)
  const first = await bundled(t, config, db)

  t.equal(statSync(file).mode & 0o777, 0o600, 'generated once, readable by its owner only')
  const creds = JSON.parse(readFileSync(file, 'utf8')) as { clientId: string; clientSecret: string; crmUserPassword: string }
  t.match(creds, { clientId: /^casebridge-/, clientSecret: /^[\w-]{43}$/, crmUserPassword: /^[\w-]{24}$/ })
  t.equal((await tokenFor(first.url, 'casebridge', 'casebridge-local')).status, 400, 'the old fixed credentials get nothing')
  t.equal((await tokenFor(first.url, creds.clientId, 'guess')).status, 400, 'nor a guessed secret')
  t.equal((await tokenFor(first.url, creds.clientId, creds.clientSecret)).status, 200, 'the generated ones get a token')

  // the product's adapter is handed them without being told
  const adapter = createCrmAdapter(config, log, first.url)
  t.equal(await adapter.integrationUserId(), first.emu.integrationUserId, 'the sync\'s adapter gets in')

  // CRM users sign in with the generated password, never the well-known one
  const soap = (username: string, password: string) => new jsforce.Connection({ loginUrl: first.url, version: API_VERSION }).login(username, password)
  t.match((await failure(soap(CRM_USER.username, 'emulator'))).message, 'INVALID_LOGIN', 'not with "emulator"')
  t.ok(await soap(CRM_USER.username, creds.crmUserPassword), 'the default CRM user with the generated password')
  t.ok(await soap('ana@casebridge.test', creds.crmUserPassword), 'so does a staff member\'s CRM user')
  t.match((await failure(soap('integration@casebridge.emulator', 'emulator'))).message, 'INVALID_LOGIN', 'the integration user only through the app')
  t.equal((await http(first.url, '/login', form({ username: CRM_USER.username, password: 'emulator' }))).status, 401)
  const cookie = await browserSession(first.url, CRM_USER.username, creds.crmUserPassword)
  t.equal((await http(first.url, '/', { headers: { cookie } })).status, 200, 'the Case browser after signing in')
  t.match((await http(first.url, '/login')).body, `crmUserPassword from ${file}`, 'its sign-in page says where the password is')
  t.equal((await http(first.url, '/__emulator/faults')).status, 404, 'no fault control')
  await first.emu.close()

  const second = await bundled(t, config, db)
  t.same(JSON.parse(readFileSync(file, 'utf8')), creds, 'a restart on the same DATA_DIR keeps them')
  t.equal((await tokenFor(second.url, creds.clientId, creds.clientSecret)).status, 200, 'and they still get a token')
  t.same(emulatorCredentials(config), { ...creds, file, clientFrom: 'file' })
})

t.test('an emulator file from before the lockdown is locked on start', async (t) => {
  const app = await testApp(t)
  const before = createEmulator({ file: app.config.crm.emulatorFile, ...TEST_CLIENT })
  const oldUrl = await before.listen()
  const integrationToken = (await tokenFor(oldUrl, TEST_CLIENT.clientId, TEST_CLIENT.clientSecret)).body.access_token as string
  const crmSession = new jsforce.Connection({ loginUrl: oldUrl, version: API_VERSION })
  await crmSession.login(CRM_USER.username, 'emulator')
  await before.close()

  const { url } = await bundled(t, app.config, app.db)
  t.equal((await http(url, '/services/data/v62.0/limits', { token: integrationToken })).status, 401, 'tokens of the old client end')
  t.equal((await http(url, '/services/data/v62.0/limits', { token: crmSession.accessToken! })).status, 401, 'so do sessions opened with the old password')
  t.equal((await http(url, '/login', form({ username: CRM_USER.username, password: 'emulator' }))).status, 401, 'the old password is gone')
  const { crmUserPassword } = emulatorCredentials(app.config)
  t.ok(await browserSession(url, DEFAULT_CRM_USERS[0].username, crmUserPassword), 'the generated one works')
})

t.test('SALESFORCE_CLIENT_ID/SECRET set without an org: those are the bundled emulator\'s client', async (t) => {
  const app = await testApp(t, { env: { SALESFORCE_CLIENT_ID: 'my-app', SALESFORCE_CLIENT_SECRET: 'my-app-secret-value' } })
  t.equal(app.config.crm.salesforce, null, 'still no org')
  const { emu, url } = await bundled(t, app.config, app.db)
  const generated = JSON.parse(readFileSync(join(app.dir, EMULATOR_CREDENTIALS_FILE), 'utf8')) as { clientId: string; clientSecret: string }
  t.equal((await tokenFor(url, 'my-app', 'my-app-secret-value')).status, 200, 'the configured client gets a token')
  t.equal((await tokenFor(url, generated.clientId, generated.clientSecret)).status, 400, 'the generated one does not')
  t.equal(await createCrmAdapter(app.config, log, url).integrationUserId(), emu.integrationUserId, 'and the adapter uses the configured one')

  const dir = app.dir
  t.throws(() => emulatorCredentials(loadConfig({ DATA_DIR: dir, SALESFORCE_CLIENT_ID: 'only-the-id' })), ConfigError, 'one without the other stops the start')
  t.throws(() => emulatorCredentials(loadConfig({ DATA_DIR: dir, SALESFORCE_CLIENT_ID: 'only-the-id' })), /SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: set both/)
})

t.test('EMULATOR_TEST_MODE turns the fault control on for the bundled emulator', async (t) => {
  const app = await testApp(t, { env: { EMULATOR_TEST_MODE: '1' } })
  const { url } = await bundled(t, app.config, app.db)
  t.match(await http(url, '/__emulator/faults'), { status: 200, body: { down: false } })
  t.throws(() => loadConfig({ DATA_DIR: app.dir, EMULATOR_TEST_MODE: 'maybe' }), /EMULATOR_TEST_MODE/, 'a bad value stops the start')
})
