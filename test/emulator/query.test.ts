import t from 'tap'
import type { Connection } from 'jsforce'
import { emulatorFor, failure, http, testClock } from './helpers.js'

type SaveResult = { id: string; success: boolean }

async function insertMany(conn: Connection, type: string, records: Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < records.length; i += 200) {
    const res = (await conn.sobject(type).create(records.slice(i, i + 200))) as SaveResult[]
    if (res.some((r) => !r.success)) throw new Error('insert failed')
    ids.push(...res.map((r) => r.id))
  }
  return ids
}

t.test('pages of 2,000 records: nextRecordsUrl, queryMore, autoFetch', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  await insertMany(conn, 'Case', Array.from({ length: 4500 }, (_, i) => ({ Subject: `Case ${String(i).padStart(4, '0')}`, Portal_Ticket_Id__c: `T-${i}` })))

  const first = await conn.query<{ Subject: string }>('SELECT Id, Subject FROM Case ORDER BY Subject')
  t.equal(first.totalSize, 4500)
  t.equal(first.done, false)
  t.equal(first.records.length, 2000)
  t.match(first.nextRecordsUrl, /\/services\/data\/v62\.0\/query\/01g\w+-2000$/)
  t.equal(first.records[0].Subject, 'Case 0000')

  const second = await conn.queryMore<{ Subject: string }>(first.nextRecordsUrl!)
  t.equal(second.records.length, 2000)
  t.equal(second.records[0].Subject, 'Case 2000')
  t.equal(second.done, false)
  const third = await conn.queryMore<{ Subject: string }>(second.nextRecordsUrl!)
  t.equal(third.records.length, 500)
  t.equal(third.done, true)
  t.notOk(third.nextRecordsUrl)
  t.equal(third.records[499].Subject, 'Case 4499')
  const stale = await failure(conn.queryMore(first.nextRecordsUrl!))
  t.equal(stale.errorCode, 'INVALID_QUERY_LOCATOR', 'a finished cursor is gone')

  const all = await conn.query('SELECT Id FROM Case').run({ autoFetch: true, maxFetch: 10_000 })
  t.equal(all.records.length, 4500, 'autoFetch follows every page')
  t.equal(new Set(all.records.map((r) => r.Id)).size, 4500, 'no record twice')

  const streamed: unknown[] = []
  await new Promise<void>((resolve, reject) => {
    conn.query('SELECT Id FROM Case WHERE Subject LIKE \'Case 1%\'')
      .on('record', (r) => streamed.push(r))
      .on('end', () => resolve())
      .on('error', reject)
      .run({ autoFetch: true, maxFetch: 5000 })
  })
  t.equal(streamed.length, 1000)

  const small = await http(env.url, `/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM Case')}`, {
    token: conn.accessToken!, headers: { 'Sforce-Query-Options': 'batchSize=500' }
  })
  t.equal(small.body.records.length, 500, 'Sforce-Query-Options: batchSize')
  t.match(small.body.nextRecordsUrl, /-500$/)

  const limited = await conn.query('SELECT Id FROM Case LIMIT 2500')
  t.equal(limited.totalSize, 2500)
  t.equal(limited.records.length, 2000)
})

t.test('WHERE: AND/OR/NOT, IN, LIKE, NULL, datetimes, ORDER BY, LIMIT, OFFSET', async (t) => {
  const clock = testClock('2026-11-23T09:00:00.000Z')
  const env = await emulatorFor(t, { clock: clock.clock })
  const conn = await env.connect()
  const [acme] = await insertMany(conn, 'Account', [{ Name: 'Acme' }])
  const rows: Record<string, unknown>[] = [
    { Subject: 'Printer jam', Priority: 'High', Status: 'New', AccountId: acme },
    { Subject: 'Printer on fire', Priority: 'High', Status: 'Working' },
    { Subject: 'Password reset', Priority: 'Low', Status: 'Closed', AccountId: acme },
    { Subject: '50% off?', Priority: 'Medium', Status: 'New' },
    { Subject: null, Priority: 'Low', Status: 'Working' }
  ]
  for (const r of rows) {
    await conn.sobject('Case').create(r)
    clock.advance(60 * 60_000) // one an hour: 09:00, 10:00, 11:00, 12:00, 13:00
  }
  const subjects = async (where: string, order = 'ORDER BY CreatedDate') =>
    (await conn.query<{ Subject: string | null }>(`SELECT Subject FROM Case ${where} ${order}`)).records.map((r) => r.Subject)

  t.same(await subjects("WHERE Priority = 'High' AND Status = 'New'"), ['Printer jam'])
  t.same(await subjects("WHERE Priority = 'high'"), ['Printer jam', 'Printer on fire'], 'string equality ignores case')
  t.same(await subjects("WHERE Status = 'Closed' OR Priority = 'Medium'"), ['Password reset', '50% off?'])
  t.same(await subjects("WHERE (Priority = 'High' OR Priority = 'Low') AND Status != 'Working'"), ['Printer jam', 'Password reset'])
  t.same(await subjects("WHERE NOT Priority = 'High'"), ['Password reset', '50% off?', null])
  t.same(await subjects("WHERE Priority IN ('Low', 'Medium')"), ['Password reset', '50% off?', null])
  t.same(await subjects("WHERE Priority NOT IN ('Low', 'Medium')"), ['Printer jam', 'Printer on fire'])
  t.same(await subjects("WHERE Subject LIKE 'printer%'"), ['Printer jam', 'Printer on fire'], 'LIKE ignores case')
  t.same(await subjects("WHERE Subject LIKE '%o_ fire'"), ['Printer on fire'])
  t.same(await subjects("WHERE Subject LIKE '50\\% %'"), ['50% off?'], 'an escaped % is literal')
  t.same(await subjects('WHERE Subject = null'), [null])
  t.same(await subjects('WHERE Subject != null AND AccountId = null'), ['Printer on fire', '50% off?'])
  t.same(await subjects(`WHERE AccountId = '${acme.slice(0, 15)}'`), ['Printer jam', 'Password reset'], '15-character ids match too')
  t.same(await subjects("WHERE Subject != 'Printer jam'"), ['Printer on fire', 'Password reset', '50% off?', null], '!= keeps nulls')

  t.same(await subjects('WHERE CreatedDate > 2026-11-23T10:00:00Z'), ['Password reset', '50% off?', null])
  t.same(await subjects('WHERE CreatedDate >= 2026-11-23T10:00:00.000+0000 AND CreatedDate < 2026-11-23T12:00:00.000+0000'), ['Printer on fire', 'Password reset'])
  t.same(await subjects('WHERE SystemModstamp <= 2026-11-23T07:00:00-02:00'), ['Printer jam'], 'offsets are honoured')
  t.same(await subjects('WHERE CreatedDate = TODAY'), ['Printer jam', 'Printer on fire', 'Password reset', '50% off?', null])
  t.same(await subjects('WHERE CreatedDate = YESTERDAY'), [])
  t.same(await subjects('WHERE CreatedDate = LAST_N_DAYS:3'), ['Printer jam', 'Printer on fire', 'Password reset', '50% off?', null])
  t.same(await subjects('WHERE IsClosed = true'), ['Password reset'])
  t.same(await subjects("WHERE Account.Name = 'Acme'"), ['Printer jam', 'Password reset'], 'filter on a relationship field')

  t.same(await subjects('', 'ORDER BY Subject'), [null, '50% off?', 'Password reset', 'Printer jam', 'Printer on fire'], 'ASC puts nulls first')
  t.same(await subjects('', 'ORDER BY Subject DESC'), ['Printer on fire', 'Printer jam', 'Password reset', '50% off?', null], 'DESC puts nulls last')
  t.same(await subjects('', 'ORDER BY Subject ASC NULLS LAST'), ['50% off?', 'Password reset', 'Printer jam', 'Printer on fire', null])
  t.same(await subjects('', 'ORDER BY Priority DESC, CreatedDate DESC'), ['50% off?', null, 'Password reset', 'Printer on fire', 'Printer jam'])
  t.same(await subjects('', 'ORDER BY CreatedDate LIMIT 2 OFFSET 1'), ['Printer on fire', 'Password reset'])

  const count = await conn.query("SELECT COUNT() FROM Case WHERE Priority = 'High'")
  t.same({ totalSize: count.totalSize, records: count.records }, { totalSize: 2, records: [] })
  t.equal(await conn.sobject('Case').count({ Priority: 'Low' }), 2, "jsforce's count() helper")
  const agg = await conn.query('SELECT COUNT(Subject) n FROM Case')
  t.equal((agg.records[0] as unknown as { n: number }).n, 4, 'COUNT(field) skips nulls')

  const rel = await conn.query<{ Account: { Name: string } | null; Owner: { Name: string } }>(
    'SELECT Subject, Account.Name, Owner.Name, CreatedBy.Username FROM Case ORDER BY CreatedDate LIMIT 2')
  t.same(rel.records[0].Account, { attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${acme}` }, Name: 'Acme' })
  t.equal(rel.records[0].Owner.Name, 'Integration User')
  t.equal(rel.records[1].Account, null, 'an empty lookup is null')

  const comments = await conn.sobject('CaseComment').find({}, ['Id'])
  t.same(comments, [])
  const builder = await conn.sobject('Case').find({ Priority: 'High', Status: { $in: ['New', 'Working'] } }, ['Subject']).sort({ Subject: -1 })
  t.same(builder.map((r) => r.Subject), ['Printer on fire', 'Printer jam'], "jsforce's query builder SOQL works")
})

t.test("query errors: Salesforce's codes and messages", async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const err = async (soql: string) => failure(conn.query(soql))

  const field = await err('SELECT Id, Foo__c FROM Case')
  t.equal(field.errorCode, 'INVALID_FIELD')
  t.equal(field.message, "\nSELECT Id, Foo__c FROM Case\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo__c' on entity 'Case'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.")
  t.equal((await err("SELECT Id FROM Case WHERE Bar = 'x'")).errorCode, 'INVALID_FIELD')
  t.equal((await err('SELECT Id FROM Case ORDER BY Baz')).errorCode, 'INVALID_FIELD')
  t.match((await err('SELECT Nope.Name FROM Case')).message, "Didn't understand relationship 'Nope'")

  const type = await err('SELECT Id FROM Ticket__c')
  t.equal(type.errorCode, 'INVALID_TYPE')
  t.match(type.message, "sObject type 'Ticket__c' is not supported.")

  t.equal((await err('SELECT FROM Case')).errorCode, 'MALFORMED_QUERY')
  t.equal((await err('SELECT Id Case')).errorCode, 'MALFORMED_QUERY')
  t.match((await err('SELECT Id FROM Case WHERE')).message, 'unexpected token')
  t.equal((await err("SELECT Id FROM Case WHERE Subject = 'a' AND Status = 'b' OR Priority = 'c'")).errorCode, 'MALFORMED_QUERY', 'AND and OR need parentheses')
  t.equal((await err("SELECT Id FROM Case WHERE Subject = 'unterminated")).errorCode, 'MALFORMED_QUERY')

  const quoted = await err("SELECT Id FROM Case WHERE CreatedDate > '2026-11-23T10:00:00Z'")
  t.equal(quoted.errorCode, 'INVALID_FIELD')
  t.match(quoted.message, "value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes")
  t.match((await err("SELECT Id FROM Case WHERE IsClosed = 'true'")).message, 'must be of type boolean')
  t.equal((await err("SELECT Id FROM Case WHERE OwnerId = 'nobody'")).errorCode, 'INVALID_QUERY_FILTER_OPERATOR')
  t.match((await err("SELECT Id FROM Case WHERE Description = 'x'")).message, "field 'Description' can not be filtered")
  t.equal((await err('SELECT COUNT(), Id FROM Case')).errorCode, 'MALFORMED_QUERY')
  t.equal((await err('SELECT Id FROM Case OFFSET 2001')).errorCode, 'NUMBER_OUTSIDE_VALID_RANGE')

  const noQ = await http(env.url, '/services/data/v62.0/query', { token: conn.accessToken! })
  t.equal(noQ.status, 400)
  t.equal(noQ.body[0].errorCode, 'MALFORMED_QUERY')
})

t.test('queryAll (scanAll) includes deleted rows, with IsDeleted', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const [keep, drop] = await insertMany(conn, 'Case', [{ Subject: 'keep' }, { Subject: 'drop' }])
  await conn.sobject('Case').destroy(drop)
  const live = await conn.query<{ Id: string }>('SELECT Id FROM Case')
  t.same(live.records.map((r) => r.Id), [keep])
  const all = await conn.query<{ Id: string; IsDeleted: boolean }>('SELECT Id, IsDeleted FROM Case ORDER BY Subject', { scanAll: true })
  t.same(all.records.map((r) => [r.Id, r.IsDeleted]), [[drop, true], [keep, false]])
  const onlyDeleted = await conn.query('SELECT Id FROM Case WHERE IsDeleted = true', { scanAll: true })
  t.equal(onlyDeleted.totalSize, 1)
  const deletedModstamp = await conn.query<{ SystemModstamp: string; LastModifiedById: string }>(`SELECT SystemModstamp, LastModifiedById FROM Case WHERE Id = '${drop}'`, { scanAll: true })
  t.equal(deletedModstamp.records[0].LastModifiedById, env.emu.integrationUserId)
})

t.test('the inbound cursor query: SystemModstamp > cursor ORDER BY SystemModstamp, Id', async (t) => {
  const clock = testClock()
  const env = await emulatorFor(t, { clock: clock.clock })
  const conn = await env.connect()
  const crm = await env.crmConnection()
  const ids = await insertMany(conn, 'Case', [{ Subject: 'a' }, { Subject: 'b' }, { Subject: 'c' }])
  const cursor = clock.iso()
  clock.advance(1000)
  await crm.sobject('Case').update({ Id: ids[1], Priority: 'High' })
  await crm.sobject('CaseComment').create({ ParentId: ids[1], CommentBody: 'from the CRM', IsPublished: true })
  const changed = await conn.query<{ Id: string; LastModifiedById: string; Priority: string }>(
    `SELECT Id, Priority, LastModifiedById, SystemModstamp FROM Case WHERE SystemModstamp > ${cursor} ORDER BY SystemModstamp, Id`)
  t.same(changed.records.map((r) => [r.Id, r.Priority, r.LastModifiedById]), [[ids[1], 'High', env.emu.userId('crm.user@casebridge.emulator')]])
  const comments = await conn.query<{ CommentBody: string; CreatedBy: { Username: string } }>(
    `SELECT Id, ParentId, CommentBody, IsPublished, CreatedBy.Username FROM CaseComment WHERE SystemModstamp > ${cursor} ORDER BY SystemModstamp, Id`)
  t.equal(comments.records[0].CommentBody, 'from the CRM')
  t.equal(comments.records[0].CreatedBy.Username, 'crm.user@casebridge.emulator')
})
