import t from 'tap'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { browserSession, clientCredentialsConnection, emulatorFor, http, TEST_CLIENT } from './helpers.js'
import { parseEmulatorArgs, runEmulatorCommand, EmulatorUsageError } from '../../sync/emulator/cli.js'
import { createEmulator } from '../../sync/emulator/index.js'

type SaveResult = { id: string; success: boolean }

t.test('the HTML view lists Cases and shows one with its comments, escaped', async (t) => {
  const env = await emulatorFor(t)
  const cookie = await browserSession(env.url)
  const get = (path: string) => http(env.url, path, { headers: { cookie } })
  const empty = await get('/')
  t.equal(empty.status, 200)
  t.match(empty.headers.get('content-type'), 'text/html')
  t.match(empty.body, 'No Cases yet.')

  const conn = await env.connect()
  const crm = await env.crmConnection()
  const acct = (await conn.sobject('Account').create({ Name: 'Acme & Sons' })) as SaveResult
  const c = (await conn.sobject('Case').create({
    Subject: '<script>alert(1)</script> printer', Description: 'Line one\n<b>bold?</b>', AccountId: acct.id, Portal_Ticket_Id__c: 'T-77', Priority: 'High'
  })) as SaveResult
  await conn.sobject('CaseComment').create({ ParentId: c.id, CommentBody: 'Public <i>reply</i>', IsPublished: true })
  await crm.sobject('CaseComment').create({ ParentId: c.id, CommentBody: 'Internal note from the CRM', IsPublished: false })

  const list = await get('/')
  t.match(list.body, '00001000')
  t.match(list.body, '&lt;script&gt;alert(1)&lt;/script&gt; printer')
  t.notMatch(list.body, '<script>alert', 'nothing from the data runs')
  t.match(list.body, 'Acme &amp; Sons')
  t.match(list.body, 'T-77')
  t.match(list.body, `href="/cases/${c.id}"`)

  const page = await get(`/cases/${c.id}`)
  t.equal(page.status, 200)
  t.match(page.body, 'Public &lt;i&gt;reply&lt;/i&gt;')
  t.match(page.body, 'Internal note from the CRM')
  t.match(page.body, 'Casey Rivera', 'the CRM user who wrote the internal note')
  t.match(page.body, '>Internal<')
  t.match(page.body, '>Public<')
  t.match(page.body, '&lt;b&gt;bold?&lt;/b&gt;')
  t.ok(page.body.indexOf('Public &lt;i&gt;') < page.body.indexOf('Internal note'), 'oldest comment first')

  t.equal((await get('/cases/500Em00000000ZZ')).status, 404)
  t.equal((await get('/cases/<x>')).status, 404)
})

t.test('CLI arguments: --port, --host, --file, --test-mode with defaults', async (t) => {
  t.same(parseEmulatorArgs([], {}), { port: 3001, host: '127.0.0.1', file: './data/emulator.db', testMode: false })
  t.same(parseEmulatorArgs([], { EMULATOR_PORT: '4555' }), { port: 4555, host: '127.0.0.1', file: './data/emulator.db', testMode: false })
  t.same(parseEmulatorArgs(['--port', '0', '--host', '0.0.0.0', '--file', '/tmp/x.db'], { EMULATOR_PORT: '4555' }), { port: 0, host: '0.0.0.0', file: '/tmp/x.db', testMode: false })
  t.equal(parseEmulatorArgs(['--test-mode'], {}).testMode, true)
  t.equal(parseEmulatorArgs([], { EMULATOR_TEST_MODE: '1' }).testMode, true)
  t.equal(parseEmulatorArgs([], { EMULATOR_TEST_MODE: 'false' }).testMode, false)
  t.throws(() => parseEmulatorArgs([], { EMULATOR_TEST_MODE: 'yes please' }), EmulatorUsageError)
  t.throws(() => parseEmulatorArgs(['--port', 'abc'], {}), EmulatorUsageError)
  t.throws(() => parseEmulatorArgs(['--bogus'], {}), EmulatorUsageError)
})

t.test('runEmulatorCommand starts a working emulator on its own file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-emulator-cli-'))
  const file = join(dir, 'nested', 'emulator.db')
  const lines: string[] = []
  const credentials = { ...TEST_CLIENT, crmUserPassword: 'cli-crm-password', secretWhere: 'secret: in the test', passwordWhere: 'in the test' }
  const emu = await runEmulatorCommand(['--port', '0', '--file', file], { credentials, env: {}, out: (l) => lines.push(l), handleSignals: false })
  t.teardown(async () => {
    await emu.close()
    rmSync(dir, { recursive: true, force: true })
  })
  t.ok(existsSync(file), 'the data directory is created')
  t.match(lines.join('\n'), `Salesforce emulator listening on ${emu.url}`)
  t.match(lines.join('\n'), `client id ${TEST_CLIENT.clientId}, secret: in the test`, 'names the client, never its secret')
  t.notMatch(lines.join('\n'), TEST_CLIENT.clientSecret)
  t.match(lines.join('\n'), 'Faults:                        off')
  const conn = clientCredentialsConnection(emu.url!, TEST_CLIENT.clientId, TEST_CLIENT.clientSecret)
  await conn.authorize({ grant_type: 'client_credentials' })
  t.ok(await conn.sobject('Case').create({ Subject: 'from the CLI run' }))
  t.ok(await browserSession(emu.url!, 'crm.user@casebridge.emulator', 'cli-crm-password'), 'CRM users sign in with the given password')
  t.equal((await http(emu.url!, '/__emulator/faults')).status, 404, 'no fault control without --test-mode')
})

t.test('data survives a restart on the same file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-emulator-restart-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'emulator.db')
  const first = createEmulator({ file, ...TEST_CLIENT })
  const url = await first.listen()
  const conn = clientCredentialsConnection(url, TEST_CLIENT.clientId, TEST_CLIENT.clientSecret)
  await conn.authorize({ grant_type: 'client_credentials' })
  const c = (await conn.sobject('Case').upsert({ Portal_Ticket_Id__c: 'T-1', Subject: 'kept' }, 'Portal_Ticket_Id__c')) as SaveResult
  const orgId = first.store.orgId
  await first.close()

  const second = createEmulator({ file, ...TEST_CLIENT })
  const url2 = await second.listen()
  t.teardown(() => second.close())
  t.equal(second.store.orgId, orgId, 'same org')
  t.equal(second.integrationUserId, first.integrationUserId, 'same integration user')
  const conn2 = clientCredentialsConnection(url2, TEST_CLIENT.clientId, TEST_CLIENT.clientSecret)
  await conn2.authorize({ grant_type: 'client_credentials' })
  t.equal((await conn2.sobject('Case').retrieve(c.id)).Subject, 'kept')
  const next = (await conn2.sobject('Case').create({ Subject: 'next' })) as SaveResult
  t.equal((await conn2.sobject('Case').retrieve(next.id)).CaseNumber, '00001001', 'sequences continue')
})
