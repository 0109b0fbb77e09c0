import t from 'tap'
import { emulatorFor, failure, http } from './helpers.js'

type SaveResult = { id?: string | null; success: boolean; errors: Array<{ statusCode: string; message: string; fields: string[] }>; created?: boolean }

t.test('create 200 records in one call: one invalid record fails, the other 199 are saved', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const records = Array.from({ length: 200 }, (_, i) => ({ Subject: `Case ${i}`, Portal_Ticket_Id__c: `T-${i}` } as Record<string, unknown>))
  records[57].AccountId = '001Em00000000ZZZZZ'.slice(0, 15)
  const before = env.emu.calls.total
  const results = (await conn.sobject('Case').create(records)) as SaveResult[]
  t.equal(env.emu.calls.total - before, 1, 'one API call for 200 records')
  t.equal(results.length, 200)
  t.equal(results.filter((r) => r.success).length, 199)
  const bad = results[57]
  t.equal(bad.success, false)
  t.same(bad.errors, [{ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: ['AccountId'] }])
  t.match(results[0], { success: true, errors: [] })
  t.match(results[0].id, /^500/)
  t.equal((await conn.query('SELECT COUNT() FROM Case')).totalSize, 199)
})

t.test('allOrNone rolls everything back when one record fails', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const results = (await conn.sobject('Contact').create([{ LastName: 'Ok' }, { FirstName: 'No last name' }, { LastName: 'Also ok' }], { allOrNone: true })) as SaveResult[]
  t.equal(results.filter((r) => r.success).length, 0)
  t.equal(results[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING')
  t.equal(results[0].errors[0].statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK')
  t.equal((await conn.query('SELECT COUNT() FROM Contact')).totalSize, 0, 'nothing was saved')
  const sequenceStill = (await conn.sobject('Case').create({ Subject: 'x' })) as SaveResult
  t.equal((await conn.sobject('Case').retrieve(sequenceStill.id!)).CaseNumber, '00001000')
})

t.test('update, upsert, retrieve and delete collections', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const created = (await conn.sobject('Case').create([{ Subject: 'a' }, { Subject: 'b' }, { Subject: 'c' }])) as SaveResult[]
  const ids = created.map((r) => r.id!)

  const updated = (await conn.sobject('Case').update([
    { Id: ids[0], Status: 'Working' },
    { Id: ids[1], Subject: 'x'.repeat(300) },
    { Id: '500Em00000000ZZ', Status: 'Working' }
  ])) as SaveResult[]
  t.match(updated[0], { id: ids[0], success: true })
  t.equal(updated[1].errors[0].statusCode, 'STRING_TOO_LONG')
  t.equal(updated[2].success, false, 'an id nobody has')
  t.equal((await conn.sobject('Case').retrieve(ids[0])).Status, 'Working')

  const upserted = (await conn.sobject('Case').upsert([
    { Portal_Ticket_Id__c: 'P-1', Subject: 'new one' },
    { Portal_Ticket_Id__c: 'P-2', Subject: 'another' }
  ], 'Portal_Ticket_Id__c')) as SaveResult[]
  t.same(upserted.map((r) => [r.success, r.created]), [[true, true], [true, true]])
  const again = (await conn.sobject('Case').upsert([
    { Portal_Ticket_Id__c: 'P-1', Subject: 'changed' },
    { Portal_Ticket_Id__c: 'P-3', Subject: 'third' }
  ], 'Portal_Ticket_Id__c')) as SaveResult[]
  t.same(again.map((r) => r.created), [false, true], 'created tells insert from update')
  t.equal(again[0].id, upserted[0].id)

  const twice = (await conn.sobject('Case').upsert([
    { Portal_Ticket_Id__c: 'P-9', Subject: 'one' },
    { Portal_Ticket_Id__c: 'p-9', Subject: 'two' }
  ], 'Portal_Ticket_Id__c')) as SaveResult[]
  t.same(twice.map((r) => r.errors[0]?.statusCode), ['DUPLICATE_EXTERNAL_ID', 'DUPLICATE_EXTERNAL_ID'], 'the same external id twice in one batch')

  const retrieved = await conn.sobject('Case').retrieve([ids[0], ids[2]], { fields: ['Subject', 'Status'] })
  t.same(retrieved.map((r) => [r.Subject, r.Status]), [['a', 'Working'], ['c', 'New']])
  const viaDescribe = await conn.sobject('Case').retrieve([ids[1]])
  t.equal(viaDescribe[0].Subject, 'b', 'jsforce asks for every field it found in describe')

  const deleted = (await conn.sobject('Case').destroy([ids[0], ids[1], 'garbage'])) as SaveResult[]
  t.same(deleted.map((r) => r.success), [true, true, false])
  t.equal(deleted[2].errors[0].statusCode, 'MALFORMED_ID')
  const afterDelete = await conn.sobject('Case').retrieve([ids[0], ids[2]], { fields: ['Subject'] })
  t.same(afterDelete.map((r) => r?.Subject ?? null), [null, 'c'], 'a deleted record comes back as null')
})

t.test('collection limits and whole-request errors', async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const token = conn.accessToken!
  const tooMany = await http(env.url, '/services/data/v62.0/composite/sobjects', {
    method: 'POST', token, body: JSON.stringify({ records: Array.from({ length: 201 }, () => ({ attributes: { type: 'Case' }, Subject: 'x' })) })
  })
  t.equal(tooMany.status, 400)
  t.equal(tooMany.body[0].errorCode, 'EXCEEDED_ID_LIMIT')

  // an unknown field cannot be deserialized: the whole request fails, as in Salesforce
  const unknown = await http(env.url, '/services/data/v62.0/composite/sobjects', {
    method: 'POST', token, body: JSON.stringify({ records: [{ attributes: { type: 'Case' }, Subject: 'ok' }, { attributes: { type: 'Case' }, Foo__c: 'x' }] })
  })
  t.equal(unknown.status, 400)
  t.same(unknown.body, [{ message: "No such column 'Foo__c' on sobject of type Case", errorCode: 'INVALID_FIELD' }])
  t.equal((await conn.query('SELECT COUNT() FROM Case')).totalSize, 0)

  const noType = await http(env.url, '/services/data/v62.0/composite/sobjects', { method: 'POST', token, body: JSON.stringify({ records: [{ Subject: 'x' }] }) })
  t.equal(noType.body[0].errorCode, 'INVALID_TYPE')

  const oldApi = await http(env.url, '/services/data/v45.0/composite/sobjects/Case/Portal_Ticket_Id__c', {
    method: 'PATCH', token, body: JSON.stringify({ records: [{ attributes: { type: 'Case' }, Portal_Ticket_Id__c: 'x' }] })
  })
  t.equal(oldApi.status, 404, 'collection upsert needs API 46.0 or later')

  const missingExt = await http(env.url, '/services/data/v62.0/composite/sobjects/Case/Portal_Ticket_Id__c', {
    method: 'PATCH', token, body: JSON.stringify({ allOrNone: false, records: [{ attributes: { type: 'Case' }, Subject: 'no key' }] })
  })
  t.equal(missingExt.status, 200)
  t.equal(missingExt.body[0].errors[0].statusCode, 'MISSING_ARGUMENT')

  const typed = await failure(conn.sobject('Case').create([{ Subject: 'x', IsEscalated: 'perhaps' }]))
  t.equal(typed.errorCode, 'JSON_PARSER_ERROR')
})
