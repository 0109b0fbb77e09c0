import t, { type Test } from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { emulatorFor, CRM_USER, TEST_CLIENT } from '../emulator/helpers.js'
import { loadConfig, ConfigError } from '../../src/config.js'
import { createCrmAdapter } from '../../sync/crm/context.js'
import { CrmCallError } from '../../sync/crm/adapter.js'
import { classifyCallError, jwtAudience } from '../../sync/crm/salesforce.js'

const log = pino({ level: 'silent' })

function tmp(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-auth-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Upserts a Case, expires every token, upserts again: the second call must refresh on its own. */
async function upsertTwice(t: Test, adapter: ReturnType<typeof createCrmAdapter>, expire: () => void) {
  const first = await adapter.upsertCases([{ externalId: 'auth-1', values: { Subject: 'first' } }])
  t.match(first, [{ ok: true, created: true }], 'the first call logs in and writes')
  const token = adapter.connection.accessToken
  expire()
  const second = await adapter.upsertCases([{ externalId: 'auth-1', values: { Subject: 'second' } }])
  t.match(second, [{ ok: true, created: false }], 'after the token expired the call still succeeds')
  t.not(adapter.connection.accessToken, token, 'with a new token')
}

t.test('OAuth client credentials (the default) and refresh', async (t) => {
  const crm = await emulatorFor(t, { clientId: 'cb-app', clientSecret: 'cb-secret' })
  const config = loadConfig({ DATA_DIR: tmp(t), SALESFORCE_LOGIN_URL: crm.url, SALESFORCE_CLIENT_ID: 'cb-app', SALESFORCE_CLIENT_SECRET: 'cb-secret' })
  t.equal(config.crm.salesforce?.auth, 'client_credentials')
  const adapter = createCrmAdapter(config, log)
  await upsertTwice(t, adapter, () => crm.emu.faults.expireTokens())
  t.equal(await adapter.integrationUserId(), crm.emu.integrationUserId, 'it acts as the integration user')

  const wrong = createCrmAdapter(loadConfig({ DATA_DIR: tmp(t), SALESFORCE_LOGIN_URL: crm.url, SALESFORCE_CLIENT_ID: 'cb-app', SALESFORCE_CLIENT_SECRET: 'nope' }), log)
  const err = await wrong.upsertCases([{ externalId: 'x', values: {} }]).catch((e: unknown) => e)
  t.ok(err instanceof CrmCallError && err.kind === 'auth', 'refused credentials are an auth failure (the sync pauses)')
})

t.test('JWT bearer: a signed assertion, and a new one when the token expires', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const crm = await emulatorFor(t, { jwtPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() })
  const dir = tmp(t)
  writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
  const config = loadConfig({
    DATA_DIR: dir, SALESFORCE_LOGIN_URL: crm.url, SALESFORCE_AUTH: 'jwt', SALESFORCE_CLIENT_ID: TEST_CLIENT.clientId,
    SALESFORCE_USERNAME: 'integration@casebridge.emulator', SALESFORCE_JWT_KEY_FILE: join(dir, 'key.pem')
  })
  await upsertTwice(t, createCrmAdapter(config, log), () => crm.emu.faults.expireTokens())

  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  writeFileSync(join(dir, 'other.pem'), other.export({ type: 'pkcs8', format: 'pem' }))
  const forged = createCrmAdapter(loadConfig({
    DATA_DIR: dir, SALESFORCE_LOGIN_URL: crm.url, SALESFORCE_AUTH: 'jwt', SALESFORCE_CLIENT_ID: TEST_CLIENT.clientId,
    SALESFORCE_USERNAME: 'integration@casebridge.emulator', SALESFORCE_JWT_KEY_FILE: join(dir, 'other.pem')
  }), log)
  const err = await forged.upsertCases([{ externalId: 'x', values: {} }]).catch((e: unknown) => e)
  t.ok(err instanceof CrmCallError && err.kind === 'auth', 'an assertion signed with another key is refused')
  t.equal(jwtAudience('https://login.salesforce.com'), 'https://login.salesforce.com')
  t.equal(jwtAudience('https://acme.my.salesforce.com'), 'https://login.salesforce.com')
  t.equal(jwtAudience('https://acme--uat.sandbox.my.salesforce.com'), 'https://test.salesforce.com')
})

t.test('username and password for old orgs, logging in again when the session expires', async (t) => {
  const crm = await emulatorFor(t)
  const dir = tmp(t)
  writeFileSync(join(dir, 'password'), CRM_USER.password + '\n')
  const config = loadConfig({
    DATA_DIR: dir, SALESFORCE_LOGIN_URL: crm.url, SALESFORCE_AUTH: 'password', SALESFORCE_CLIENT_ID: TEST_CLIENT.clientId, SALESFORCE_CLIENT_SECRET: TEST_CLIENT.clientSecret,
    SALESFORCE_USERNAME: CRM_USER.username, SALESFORCE_PASSWORD_FILE: join(dir, 'password')
  })
  t.equal(config.crm.salesforce?.auth === 'password' && config.crm.salesforce.password, CRM_USER.password, 'the password comes from SALESFORCE_PASSWORD_FILE')
  const adapter = createCrmAdapter(config, log)
  await upsertTwice(t, adapter, () => crm.emu.faults.expireTokens())
  t.equal(await adapter.integrationUserId(), crm.emu.userId(CRM_USER.username))
})

t.test('settings are checked at start, naming what is wrong', async (t) => {
  const dir = tmp(t)
  t.equal(loadConfig({ DATA_DIR: dir }).crm.salesforce, null, 'no Salesforce settings: the emulator')
  t.equal(loadConfig({ DATA_DIR: dir }).EMULATOR_PORT, 3001)
  t.throws(() => loadConfig({ DATA_DIR: dir, SALESFORCE_LOGIN_URL: 'https://login.salesforce.com' }), /SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: required/)
  t.throws(() => loadConfig({ DATA_DIR: dir, SALESFORCE_LOGIN_URL: 'https://x.my.salesforce.com', SALESFORCE_AUTH: 'jwt', SALESFORCE_CLIENT_ID: 'a' }), /SALESFORCE_USERNAME, SALESFORCE_JWT_KEY_FILE: required/)
  t.throws(() => loadConfig({ DATA_DIR: dir, SALESFORCE_AUTH: 'oauth' }), ConfigError)
  t.throws(() => loadConfig({ DATA_DIR: dir, CRM_STATUS_MAP: '{"onhold":"On Hold"}' }), /CRM_STATUS_MAP: unknown key "onhold"/)
  t.throws(() => loadConfig({ DATA_DIR: dir, CRM_PRIORITY_MAP: 'critical=High' }), /CRM_PRIORITY_MAP: not valid JSON/)
  t.same(loadConfig({ DATA_DIR: dir, CRM_PRIORITY_MAP: '{"critical":"Urgent"}' }).crm.priorityMap, { critical: 'Urgent' })
})

t.test('what a failed call means for the drainer', async (t) => {
  t.match(classifyCallError({ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }), { kind: 'limit', maybeApplied: false })
  t.match(classifyCallError(Object.assign(new Error('connect ECONNREFUSED'), { name: 'FetchError', code: 'ECONNREFUSED' })), { kind: 'unavailable', maybeApplied: false })
  t.match(classifyCallError(Object.assign(new Error('socket hang up'), { name: 'FetchError', code: 'ECONNRESET' })), { kind: 'unavailable', maybeApplied: true }, 'a reset after sending may have been applied')
  t.match(classifyCallError({ errorCode: 'SERVER_UNAVAILABLE', message: 'down' }), { kind: 'unavailable' })
  t.match(classifyCallError({ errorCode: 'ERROR_HTTP_502', message: 'bad gateway' }), { kind: 'unavailable' })
  t.match(classifyCallError(Object.assign(new Error('authentication failure'), { name: 'invalid_grant' })), { kind: 'auth' })
  t.match(classifyCallError({ errorCode: 'INVALID_FIELD', message: "No such column 'Portal_Ticket_Id__c'" }), { kind: 'request', code: 'INVALID_FIELD' })
})
