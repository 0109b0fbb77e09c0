import t from 'tap'
import { generateKeyPairSync, sign } from 'node:crypto'
import jsforce from 'jsforce'
import { API_VERSION, CRM_USER, TEST_CLIENT, clientCredentialsConnection, emulatorFor, failure, http, testClock } from './helpers.js'

const form = (body: Record<string, string>) => ({
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString()
})

t.test('client credentials: the connected app gets a token that runs as the integration user', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  t.equal(conn.instanceUrl, env.url, 'instance_url is the emulator itself')
  t.equal(conn.userInfo?.id, env.emu.integrationUserId)
  t.match(conn.accessToken, /^00D\w{12}!AQ/, 'a Salesforce-looking session id')
  const me = await conn.identity()
  t.equal(me.username, 'integration@casebridge.emulator')

  const raw = await http(env.url, '/services/oauth2/token', form({ grant_type: 'client_credentials', client_id: TEST_CLIENT.clientId, client_secret: TEST_CLIENT.clientSecret }))
  t.equal(raw.status, 200)
  t.strictSame(Object.keys(raw.body).sort(), ['access_token', 'id', 'instance_url', 'issued_at', 'scope', 'signature', 'token_type'])
  t.equal(raw.body.token_type, 'Bearer')
  t.match(raw.body.id, `${env.url}/id/`)
  t.notOk(raw.body.refresh_token, 'client credentials never give a refresh token')

  const noSecret = await http(env.url, '/services/oauth2/token', form({ grant_type: 'client_credentials', client_id: TEST_CLIENT.clientId }))
  t.equal(noSecret.status, 400)
  t.equal(noSecret.body.error, 'invalid_client')
  const stranger = await http(env.url, '/services/oauth2/token', form({ grant_type: 'client_credentials', client_id: 'whoever', client_secret: 'whatever' }))
  t.same([stranger.status, stranger.body], [400, { error: 'invalid_client_id', error_description: 'client identifier invalid' }], 'no token for any other client')

  const badGrant = await http(env.url, '/services/oauth2/token', form({ grant_type: 'magic', client_id: TEST_CLIENT.clientId }))
  t.same(badGrant.body, { error: 'unsupported_grant_type', error_description: 'grant type not supported' })
})

t.test('client credentials: a configured client id and secret are enforced', async (t) => {
  const env = await emulatorFor(t, { clientId: 'cb-app', clientSecret: 's3cret' })
  t.ok(await env.connect({ clientId: 'cb-app', clientSecret: 's3cret' }))
  const wrongId = await failure(env.connect({ clientId: 'other', clientSecret: 's3cret' }))
  t.equal(wrongId.errorCode, 'invalid_client_id')
  const wrongSecret = await failure(env.connect({ clientId: 'cb-app', clientSecret: 'nope' }))
  t.equal(wrongSecret.errorCode, 'invalid_client')
  t.equal(wrongSecret.message, 'invalid client credentials')
})

t.test('password grant and SOAP login act as a specific CRM user', async (t) => {
  const env = await emulatorFor(t)
  const crmId = env.emu.userId(CRM_USER.username)!
  const oauth = await env.crmConnection()
  t.equal(oauth.userInfo?.id, crmId, 'OAuth username-password flow')
  const wrong = await failure(env.crmConnection(CRM_USER.username, 'wrong-password'))
  t.equal(wrong.errorCode, 'invalid_grant')
  t.equal(wrong.message, 'authentication failure')

  // without a client secret jsforce falls back to the SOAP login call
  const soap = new jsforce.Connection({ loginUrl: env.url, version: API_VERSION })
  const info = await soap.login(CRM_USER.username, CRM_USER.password)
  t.equal(info.id, crmId)
  t.equal(soap.instanceUrl, env.url)
  const badSoap = await failure(new jsforce.Connection({ loginUrl: env.url, version: API_VERSION }).login(CRM_USER.username, 'x'))
  t.match(badSoap.message, 'INVALID_LOGIN')

  // a user added by a test can log in too; an inactive one cannot
  env.emu.createUser({ username: 'dana@crm.test', password: 'pw-dana', firstName: 'Dana', lastName: 'Lee' })
  const dana = await env.crmConnection('dana@crm.test', 'pw-dana')
  const created = await dana.sobject('Case').create({ Subject: 'Made by Dana' })
  const rec = await oauth.sobject('Case').retrieve((created as { id: string }).id)
  t.equal(rec.LastModifiedById, env.emu.userId('dana@crm.test'), 'LastModifiedById is the user the token belongs to')
  t.equal(rec.OwnerId, env.emu.userId('dana@crm.test'), 'the creator owns a new Case')
  env.emu.createUser({ username: 'gone@crm.test', password: 'pw-gone', lastName: 'Gone', isActive: false })
  t.equal((await failure(env.crmConnection('gone@crm.test', 'pw-gone'))).errorCode, 'invalid_grant')

  const session = soap.accessToken!
  t.equal((await http(env.url, '/services/data/v62.0/limits', { token: session })).status, 200)
  await soap.logout()
  t.equal((await http(env.url, '/services/data/v62.0/limits', { token: session })).status, 401, 'logged-out session is gone')
})

t.test('expired tokens answer INVALID_SESSION_ID and jsforce refreshes transparently', async (t) => {
  const clock = testClock()
  const env = await emulatorFor(t, { clock: clock.clock, tokenTtlSeconds: 60 })
  const conn = await env.connect()
  const first = conn.accessToken!
  await conn.sobject('Account').create({ Name: 'Before expiry' })

  clock.advance(61_000)
  const raw = await http(env.url, '/services/data/v62.0/limits', { token: first })
  t.equal(raw.status, 401)
  t.same(raw.body, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }])

  let refreshed = 0
  conn.on('refresh', () => { refreshed++ })
  const res = await conn.query<{ Name: string }>('SELECT Name FROM Account')
  t.equal(res.records[0].Name, 'Before expiry', 'the query went through after a refresh')
  t.equal(refreshed, 1)
  t.not(conn.accessToken, first, 'a new token')

  // the password-grant connection re-logs in by itself
  const crm = await env.crmConnection()
  clock.advance(61_000)
  t.equal((await crm.query('SELECT Id FROM Account')).totalSize, 1)

  // an unknown token is refused the same way
  t.equal((await http(env.url, '/services/data/v62.0/limits', { token: 'bogus' })).status, 401)
  t.equal((await http(env.url, '/services/data/v62.0/limits')).status, 401, 'no token at all')
})

t.test('authorization code and refresh token grants', async (t) => {
  const clock = testClock()
  const env = await emulatorFor(t, { clock: clock.clock, tokenTtlSeconds: 60 })
  const conn = new jsforce.Connection({
    oauth2: { loginUrl: env.url, ...TEST_CLIENT, redirectUri: 'http://localhost/callback' },
    version: API_VERSION
  })
  const authorizeUrl = conn.oauth2.getAuthorizationUrl({ login_hint: CRM_USER.username, state: 'xyz' })
  const redirect = await fetch(authorizeUrl, { redirect: 'manual' })
  t.equal(redirect.status, 302)
  const location = new URL(redirect.headers.get('location')!)
  t.equal(location.searchParams.get('state'), 'xyz')
  await conn.authorize(location.searchParams.get('code')!)
  t.ok(conn.refreshToken, 'a refresh token comes with the code flow')
  t.equal(conn.userInfo?.id, env.emu.userId(CRM_USER.username))
  const reused = await failure(conn.oauth2.requestToken(location.searchParams.get('code')!))
  t.equal(reused.errorCode, 'invalid_grant', 'a code works once')

  clock.advance(120_000)
  // jsforce's built-in refresh uses grant_type=refresh_token
  t.equal((await conn.query('SELECT Id FROM Case')).totalSize, 0)
  const bad = await failure(conn.oauth2.refreshToken('not-a-refresh-token'))
  t.equal(bad.errorCode, 'invalid_grant')

  // a code is worth nothing without the app's secret
  const again = new URL((await fetch(authorizeUrl, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!
  const noSecret = await http(env.url, '/services/oauth2/token', form({ grant_type: 'authorization_code', code: again, client_id: TEST_CLIENT.clientId, redirect_uri: 'http://localhost/callback' }))
  t.same([noSecret.status, noSecret.body.error], [400, 'invalid_client'])
})

t.test('JWT bearer: the assertion is verified with the configured public key', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const clock = testClock()
  const env = await emulatorFor(t, { clock: clock.clock, jwtPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() })
  const jwt = (key = privateKey, claims: Record<string, unknown> = {}) => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const head = enc({ alg: 'RS256' })
    const body = enc({ iss: TEST_CLIENT.clientId, sub: CRM_USER.username, aud: env.url, exp: Math.floor(clock.clock().getTime() / 1000) + 180, ...claims })
    return `${head}.${body}.${sign('RSA-SHA256', Buffer.from(`${head}.${body}`), key).toString('base64url')}`
  }
  const conn = new jsforce.Connection({ oauth2: { loginUrl: env.url }, version: API_VERSION })
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt() })
  t.equal(conn.userInfo?.id, env.emu.userId(CRM_USER.username), 'acts as the subject of the assertion')
  t.equal((await conn.query('SELECT Id FROM User')).totalSize, 2)

  const forged = await failure(new jsforce.Connection({ oauth2: { loginUrl: env.url }, version: API_VERSION })
    .authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt(other.privateKey) }))
  t.equal(forged.errorCode, 'invalid_grant', 'signed with another key')
  const expired = await failure(new jsforce.Connection({ oauth2: { loginUrl: env.url }, version: API_VERSION })
    .authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt(privateKey, { exp: 1 }) }))
  t.equal(expired.errorCode, 'invalid_grant', 'expired assertion')
  const stranger = await failure(new jsforce.Connection({ oauth2: { loginUrl: env.url }, version: API_VERSION })
    .authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt(privateKey, { sub: 'nobody@crm.test' }) }))
  t.equal(stranger.errorCode, 'invalid_grant', 'unknown user')
  const otherApp = await failure(new jsforce.Connection({ oauth2: { loginUrl: env.url }, version: API_VERSION })
    .authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt(privateKey, { iss: 'other-app' }) }))
  t.equal(otherApp.errorCode, 'invalid_client_id', 'issued by another app')
})

t.test('JWT bearer without a key: unsigned assertions only in test mode', async (t) => {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const unsigned = (url: string) => `${enc({ alg: 'RS256' })}.${enc({ iss: TEST_CLIENT.clientId, sub: 'integration@casebridge.emulator', aud: url, exp: Math.floor(Date.now() / 1000) + 300 })}.unsigned`
  const env = await emulatorFor(t)
  const conn = new jsforce.Connection({ oauth2: { loginUrl: env.url }, version: API_VERSION })
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: unsigned(env.url) })
  t.equal(conn.userInfo?.id, env.emu.integrationUserId)
  const garbage = await failure(new jsforce.Connection({ oauth2: { loginUrl: env.url }, version: API_VERSION })
    .authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'not-a-jwt' }))
  t.equal(garbage.errorCode, 'invalid_grant')

  const locked = await emulatorFor(t, { testMode: false })
  const refused = await failure(new jsforce.Connection({ oauth2: { loginUrl: locked.url }, version: API_VERSION })
    .authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: unsigned(locked.url) }))
  t.equal(refused.errorCode, 'invalid_grant', 'outside test mode an assertion nobody can check is refused')
})

t.test('client-credentials connection helper re-authorizes after the emulator restarts tokens', async (t) => {
  const env = await emulatorFor(t)
  const conn = clientCredentialsConnection(env.url, TEST_CLIENT.clientId, TEST_CLIENT.clientSecret)
  await conn.authorize({ grant_type: 'client_credentials' })
  env.emu.faults.expireTokens()
  t.equal((await conn.query('SELECT Id FROM Case')).totalSize, 0)
})
