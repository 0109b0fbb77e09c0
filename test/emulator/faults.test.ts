import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { emulatorFor, failure, http, testClock } from './helpers.js'

type SaveResult = { id?: string; success: boolean; errors: Array<{ statusCode: string; message: string }> }

t.test('latency is added to every call', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  env.emu.faults.latency(300)
  const started = Date.now()
  await conn.query('SELECT Id FROM Case')
  t.ok(Date.now() - started >= 290, 'the call took at least the injected latency')
  env.emu.faults.latency(0)
  t.equal(env.emu.faults.state().latencyMs, 0)
})

t.test('the next N calls answer 503 (jsforce retries GETs, not writes)', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  env.emu.faults.failNext(1)
  const write = await failure(conn.sobject('Case').create({ Subject: 'lost?' }))
  t.equal(write.errorCode, 'SERVER_UNAVAILABLE')
  t.equal((await conn.query('SELECT COUNT() FROM Case')).totalSize, 0, 'the failed call did nothing')

  env.emu.faults.failNext(2)
  const read = await conn.query('SELECT COUNT() FROM Case')
  t.equal(read.totalSize, 0, 'a GET succeeds after jsforce retried twice')
  t.equal(env.emu.faults.state().failNext, 0)

  env.emu.faults.failNext(1, 500)
  const raw = await http(env.url, '/services/data/v62.0/limits', { token: conn.accessToken! })
  t.equal(raw.status, 500)
  t.equal(raw.body[0].errorCode, 'UNKNOWN_EXCEPTION')
  t.ok(await conn.sobject('Case').create({ Subject: 'fine now' }))
})

t.test('REQUEST_LIMIT_EXCEEDED until usage is reset', async (t) => {
  const env = await emulatorFor(t, { apiLimit: 3 })
  const conn = await env.connect()
  await conn.sobject('Account').create({ Name: 'one' })
  await conn.sobject('Account').create({ Name: 'two' })
  await conn.sobject('Account').create({ Name: 'three' })
  const over = await http(env.url, '/services/data/v62.0/sobjects/Account', { method: 'POST', token: conn.accessToken!, body: JSON.stringify({ Name: 'four' }) })
  t.equal(over.status, 403, 'the daily allowance is used up')
  t.same(over.body, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }])
  t.equal(over.headers.get('sforce-limit-info'), 'api-usage=3/3')
  env.emu.faults.resetUsage().setApiLimit(1000)
  t.equal((await conn.query('SELECT COUNT() FROM Account')).totalSize, 3, 'the refused call saved nothing')

  env.emu.faults.exhaustApiLimit()
  const blocked = await failure(conn.sobject('Account').create({ Name: 'five' }))
  t.equal(blocked.errorCode, 'REQUEST_LIMIT_EXCEEDED')
  t.equal((await failure(conn.query('SELECT Id FROM Account'))).errorCode, 'REQUEST_LIMIT_EXCEEDED', 'reads too, until reset')
  t.equal(env.emu.faults.state().requestLimitExceeded, true)
  env.emu.faults.resetUsage()
  t.ok(await conn.sobject('Account').create({ Name: 'five' }))
  t.same(conn.limitInfo.apiUsage, { used: 1, limit: 1000 })
})

t.test('the daily allowance starts afresh the next day', async (t) => {
  const clock = testClock('2026-11-23T23:59:00.000Z')
  const env = await emulatorFor(t, { clock: clock.clock, apiLimit: 2, tokenTtlSeconds: 86_400 })
  const conn = await env.connect()
  env.emu.faults.exhaustApiLimit()
  t.equal((await failure(conn.query('SELECT Id FROM Case'))).errorCode, 'REQUEST_LIMIT_EXCEEDED')
  clock.advance(2 * 60_000)
  t.equal((await conn.query('SELECT Id FROM Case')).totalSize, 0, 'a new UTC day')
  t.same(conn.limitInfo.apiUsage, { used: 1, limit: 2 })
})

t.test('UNABLE_TO_LOCK_ROW on the next N writes, per record inside collections', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const c = (await conn.sobject('Case').create({ Subject: 'x' })) as SaveResult
  env.emu.faults.lockNextWrites(2)
  const single = await failure(conn.sobject('Case').update({ Id: c.id!, Status: 'Working' }))
  t.equal(single.errorCode, 'UNABLE_TO_LOCK_ROW')
  t.match(single.message, 'unable to obtain exclusive access to this record')
  const batch = (await conn.sobject('CaseComment').create([
    { ParentId: c.id, CommentBody: 'one' }, { ParentId: c.id, CommentBody: 'two' }, { ParentId: c.id, CommentBody: 'three' }
  ])) as SaveResult[]
  t.same(batch.map((r) => r.success), [false, true, true], 'only the next write failed')
  t.equal(batch[0].errors[0].statusCode, 'UNABLE_TO_LOCK_ROW')
  t.equal((await conn.query('SELECT COUNT() FROM CaseComment')).totalSize, 2)
  t.ok(await conn.sobject('Case').update({ Id: c.id!, Status: 'Working' }), 'later writes go through')
  t.equal((await conn.query('SELECT Id FROM Case')).totalSize, 1, 'reads are never locked')
})

t.test('expire all tokens now: clients refresh and carry on', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const crm = await env.crmConnection()
  const old = conn.accessToken!
  env.emu.faults.expireTokens()
  t.equal((await http(env.url, '/services/data/v62.0/limits', { token: old })).status, 401)
  t.ok(await conn.sobject('Case').create({ Subject: 'after expiry' }), 'POST after a refresh')
  t.not(conn.accessToken, old)
  t.equal((await crm.query('SELECT Id FROM Case')).totalSize, 1)
})

t.test('down: 503 for everything, or connection refused', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  await env.emu.faults.down('503')
  const api = await http(env.url, '/services/data/v62.0/limits', { token: conn.accessToken! })
  t.equal(api.status, 503)
  const token = await http(env.url, '/services/oauth2/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=a&client_secret=b' })
  t.equal(token.status, 503, 'the token endpoint too')
  t.equal((await http(env.url, '/')).status, 503, 'and the HTML view')
  t.equal((await failure(conn.sobject('Case').create({ Subject: 'x' }))).errorCode, 'SERVER_UNAVAILABLE')
  t.equal((await http(env.url, '/__emulator/faults')).body.down, '503', 'the control endpoint still answers')
  await env.emu.faults.up()
  t.ok(await conn.sobject('Case').create({ Subject: 'x' }))

  await env.emu.faults.down('refuse')
  const refused = await fetch(env.url + '/services/data').then(() => 'connected', (err: Error & { cause?: { code?: string } }) => err.cause?.code)
  t.equal(refused, 'ECONNREFUSED', 'nothing listens')
  const write = await failure(conn.sobject('Case').create({ Subject: 'y' }))
  t.match(write.message, 'ECONNREFUSED')
  await env.emu.faults.up()
  t.ok(await conn.sobject('Case').create({ Subject: 'y' }), 'back on the same URL')
  t.equal((await conn.query('SELECT COUNT() FROM Case')).totalSize, 2)
})

t.test('faults over HTTP: POST /__emulator/faults', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const post = (body: object) => http(env.url, '/__emulator/faults', { method: 'POST', body: JSON.stringify(body) })

  const state = await post({ failNext: 1, lockNextWrites: 1, latencyMs: 10 })
  t.match(state.body, { failNext: 1, lockNextWrites: 1, latencyMs: 10, down: false })
  t.equal((await failure(conn.sobject('Case').create({ Subject: 'x' }))).errorCode, 'SERVER_UNAVAILABLE')
  t.equal((await failure(conn.sobject('Case').create({ Subject: 'x' }))).errorCode, 'UNABLE_TO_LOCK_ROW')
  t.ok(await conn.sobject('Case').create({ Subject: 'x' }))

  await post({ requestLimit: true })
  t.equal((await failure(conn.query('SELECT Id FROM Case'))).errorCode, 'REQUEST_LIMIT_EXCEEDED')
  await post({ resetUsage: true })
  t.equal((await conn.query('SELECT Id FROM Case')).totalSize, 1)

  const old = conn.accessToken!
  await post({ expireTokens: true })
  t.equal((await http(env.url, '/services/data/v62.0/limits', { token: old })).status, 401)

  await post({ down: 'refuse', downForMs: 300 })
  t.equal(await fetch(env.url + '/services/data').then(() => 'up', () => 'down'), 'down')
  await sleep(600)
  t.equal(await fetch(env.url + '/services/data').then((r) => r.status), 200, 'back after downForMs')

  const cleared = await post({ clear: true })
  t.match(cleared.body, { failNext: 0, lockNextWrites: 0, latencyMs: 0, down: false })
})
