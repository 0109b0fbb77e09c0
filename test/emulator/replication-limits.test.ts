import t from 'tap'
import { emulatorFor, failure, http, testClock } from './helpers.js'

type SaveResult = { id: string; success: boolean }

t.test('sobjects/{T}/updated and /deleted', async (t) => {
  const clock = testClock('2026-11-23T10:00:00.000Z')
  const env = await emulatorFor(t, { clock: clock.clock })
  const conn = await env.connect()
  const a = (await conn.sobject('Case').create({ Subject: 'a' })) as SaveResult
  clock.advance(2 * 60_000) // 10:02
  const b = (await conn.sobject('Case').create({ Subject: 'b' })) as SaveResult
  clock.advance(2 * 60_000) // 10:04
  await conn.sobject('Case').update({ Id: a.id, Status: 'Working' })
  await conn.sobject('Case').destroy(b.id)
  clock.advance(10 * 60_000) // 10:14

  const all = await conn.sobject('Case').updated('2026-11-23T09:59:00Z', '2026-11-23T10:10:00Z')
  t.same(all.ids, [a.id], 'a deleted record is not in updated')
  t.equal(all.latestDateCovered, '2026-11-23T10:10:00.000+0000')
  const early = await conn.sobject('Case').updated('2026-11-23T10:00:00Z', '2026-11-23T10:03:00Z')
  t.same(early.ids, [], 'a was modified again at 10:04, after the window')
  const future = await conn.sobject('Case').updated('2026-11-23T10:00:00Z', '2026-11-23T12:00:00Z')
  t.equal(future.latestDateCovered, '2026-11-23T10:14:00.000+0000', 'never covers beyond now')

  const deleted = await conn.sobject('Case').deleted('2026-11-23T10:00:00Z', '2026-11-23T10:10:00Z')
  t.same(deleted.deletedRecords, [{ id: b.id, deletedDate: '2026-11-23T10:04:00.000+0000' }])
  t.equal(deleted.earliestDateAvailable, '2026-11-23T10:04:00.000+0000')
  t.equal(deleted.latestDateCovered, '2026-11-23T10:10:00.000+0000')

  const backwards = await failure(conn.sobject('Case').updated('2026-11-23T10:10:00Z', '2026-11-23T10:00:00Z'))
  t.equal(backwards.errorCode, 'INVALID_REPLICATION_DATE')
  const tooOld = await failure(conn.sobject('Case').updated('2026-09-01T00:00:00Z', '2026-09-02T00:00:00Z'))
  t.equal(tooOld.errorCode, 'INVALID_REPLICATION_DATE')
  const slash = await http(env.url, `/services/data/v62.0/sobjects/Case/updated/?start=${encodeURIComponent('2026-11-23T09:59:00+00:00')}&end=${encodeURIComponent('2026-11-23T10:10:00+00:00')}`, { token: conn.accessToken! })
  t.same(slash.body.ids, [a.id], 'a trailing slash is fine')
})

t.test('limits, Sforce-Limit-Info on every call, versions and resources', async (t) => {
  const env = await emulatorFor(t, { apiLimit: 1000 })
  const conn = await env.connect()
  const token = conn.accessToken!
  await conn.sobject('Account').create({ Name: 'Acme' })
  t.same(conn.limitInfo, { apiUsage: { used: 1, limit: 1000 } }, 'jsforce reads the usage header')
  const limits = await conn.limits()
  t.same(limits.DailyApiRequests, { Max: 1000, Remaining: 998 })
  t.equal(conn.limitInfo.apiUsage?.used, 2)

  const failed = await http(env.url, '/services/data/v62.0/sobjects/Case/garbage', { token })
  t.equal(failed.status, 404)
  t.equal(failed.headers.get('sforce-limit-info'), 'api-usage=3/1000', 'errors carry the header too')
  const query = await http(env.url, `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM Case')}`, { token })
  t.equal(query.headers.get('sforce-limit-info'), 'api-usage=4/1000')

  const versions = await http(env.url, '/services/data')
  t.equal(versions.status, 200, 'the version list needs no session')
  const latest = versions.body[versions.body.length - 1]
  t.same(latest, { label: "Winter '25", url: '/services/data/v62.0', version: '62.0' })
  t.ok(versions.body.some((v: { version: string }) => v.version === '50.0'), "jsforce's default 50.0 is served")

  const resources = await conn.request<Record<string, string>>('/services/data/v62.0/')
  t.equal(resources.sobjects, '/services/data/v62.0/sobjects')
  t.equal(resources.query, '/services/data/v62.0/query')

  t.same(env.emu.calls.byEndpoint['GET /services/data/:v/limits'], 1, 'the emulator counts calls per endpoint')
  const tagged = await http(env.url, '/services/data/v62.0/limits', { token, headers: { 'Sforce-Call-Options': 'client=casebridge' } })
  t.equal(tagged.status, 200)
  t.equal(env.emu.calls.byClient.casebridge, 1, 'and per Sforce-Call-Options client')
})
