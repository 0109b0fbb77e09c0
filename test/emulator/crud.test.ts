import t from 'tap'
import { emulatorFor, failure, http, testClock } from './helpers.js'

type SaveResult = { id: string; success: boolean; errors: unknown[]; created?: boolean }

t.test('create, read, update, delete a Case', async (t) => {
  const clock = testClock()
  const env = await emulatorFor(t, { clock: clock.clock })
  const conn = await env.connect()
  const account = (await conn.sobject('Account').create({ Name: 'Acme' })) as SaveResult
  t.match(account.id, /^001\w{15}$/, 'Account ids start with 001 and have 18 characters')
  const contact = (await conn.sobject('Contact').create({ FirstName: 'Alice', LastName: 'Walker', Email: 'alice@acme.test', AccountId: account.id })) as SaveResult
  t.match(contact.id, /^003/)
  const product = (await conn.sobject('Product2').create({ Name: 'Widget', ProductCode: 'W-1', IsActive: true })) as SaveResult
  t.match(product.id, /^01t/)

  const created = (await conn.sobject('Case').create({
    Subject: 'Printer on fire', Description: 'Smoke <everywhere>', Origin: 'Web', Priority: 'High',
    AccountId: account.id, ContactId: contact.id, ProductId: product.id
  })) as SaveResult
  t.same({ success: created.success, errors: created.errors }, { success: true, errors: [] })
  t.match(created.id, /^500\w{15}$/)

  const rec = await conn.sobject('Case').retrieve(created.id)
  t.equal(rec.CaseNumber, '00001000', 'CaseNumber comes from a sequence')
  t.equal(rec.Status, 'New', 'Status defaults to New')
  t.equal(rec.IsClosed, false)
  t.equal(rec.OwnerId, env.emu.integrationUserId, 'the creating user owns the Case')
  t.equal(rec.CreatedDate, '2026-11-23T10:00:00.000+0000', "Salesforce's datetime format")
  t.equal(rec.SystemModstamp, rec.CreatedDate)
  t.equal(rec.LastModifiedById, env.emu.integrationUserId)
  t.equal(rec.IsDeleted, false)
  t.equal((rec.attributes as { type: string }).type, 'Case')

  const second = (await conn.sobject('Case').create({ Subject: 'Another' })) as SaveResult
  t.equal((await conn.sobject('Case').retrieve(second.id)).CaseNumber, '00001001')

  const some = await conn.sobject('Case').retrieve(created.id, { fields: ['Subject', 'Account.Name'] })
  t.same(Object.keys(some), ['attributes', 'Subject', 'Account'], 'only the requested fields')
  t.equal((some.Account as unknown as { Name: string }).Name, 'Acme')

  clock.advance(5_000)
  const crm = await env.crmConnection()
  const upd = await crm.sobject('Case').update({ Id: created.id, Status: 'Closed', Priority: 'Low' })
  t.same(upd, { id: created.id, success: true, errors: [] }, 'jsforce reports a 204 update as a success')
  const after = await conn.sobject('Case').retrieve(created.id)
  t.equal(after.Status, 'Closed')
  t.equal(after.IsClosed, true, 'IsClosed follows Status')
  t.equal(after.ClosedDate, '2026-11-23T10:00:05.000+0000')
  t.equal(after.LastModifiedById, env.emu.userId('crm.user@casebridge.emulator'), 'the CRM user modified it')
  t.equal(after.SystemModstamp, '2026-11-23T10:00:05.000+0000')
  t.equal(after.CreatedById, env.emu.integrationUserId)

  const comment = (await crm.sobject('CaseComment').create({ ParentId: created.id, CommentBody: 'We are on it', IsPublished: true })) as SaveResult
  t.match(comment.id, /^00a/)

  const del = await conn.sobject('Case').destroy(created.id)
  t.same(del, { id: created.id, success: true, errors: [] })
  const gone = await failure(conn.sobject('Case').retrieve(created.id))
  t.equal(gone.errorCode, 'ENTITY_IS_DELETED')
  const commentGone = await conn.query(`SELECT Id, IsDeleted FROM CaseComment WHERE Id = '${comment.id}'`)
  t.equal(commentGone.totalSize, 0, "a Case's comments go with it")
  const again = await failure(conn.sobject('Case').destroy(created.id))
  t.equal(again.errorCode, 'ENTITY_IS_DELETED')
})

t.test('upsert by external id: 201 created, then 200 updated, 300 on several matches', async (t) => {
  const env = await emulatorFor(t, { customFields: { Account: [{ name: 'Legacy_Code__c', type: 'string', externalId: true }] } })
  const conn = await env.connect()
  const first = (await conn.sobject('Case').upsert({ Portal_Ticket_Id__c: 'T-1', Subject: 'First' }, 'Portal_Ticket_Id__c')) as SaveResult
  t.equal(first.created, true)
  t.match(first.id, /^500/)
  const second = (await conn.sobject('Case').upsert({ Portal_Ticket_Id__c: 'T-1', Subject: 'Second' }, 'Portal_Ticket_Id__c')) as SaveResult
  t.same(second, { id: first.id, success: true, errors: [], created: false })
  t.equal((await conn.sobject('Case').retrieve(first.id)).Subject, 'Second')
  t.equal((await conn.query("SELECT Id FROM Case WHERE Portal_Ticket_Id__c = 't-1'")).totalSize, 1, 'external ids match case-insensitively')

  const raw = await http(env.url, '/services/data/v62.0/sobjects/Case/Portal_Ticket_Id__c/T-2', { method: 'PATCH', token: conn.accessToken!, body: JSON.stringify({ Subject: 'x' }) })
  t.equal(raw.status, 201)
  t.same(raw.body, { id: raw.body.id, success: true, errors: [], created: true })
  const raw2 = await http(env.url, '/services/data/v62.0/sobjects/Case/Portal_Ticket_Id__c/T-2', { method: 'PATCH', token: conn.accessToken!, body: JSON.stringify({ Subject: 'y' }) })
  t.equal(raw2.status, 200)
  t.equal(raw2.body.created, false)

  const byExt = await http(env.url, '/services/data/v62.0/sobjects/Case/Portal_Ticket_Id__c/T-2', { token: conn.accessToken! })
  t.equal(byExt.body.Subject, 'y', 'GET by external id')

  const notExt = await failure(conn.sobject('Case').upsert({ Subject: 'x' }, 'Subject'))
  t.equal(notExt.errorCode, 'NOT_FOUND')
  t.match(notExt.message, 'Provided external ID field does not exist or is not accessible: Subject')

  // a non-unique external id can match several records
  await conn.sobject('Account').create([{ Name: 'A', Legacy_Code__c: 'L1' }, { Name: 'B', Legacy_Code__c: 'L1' }])
  const many = await http(env.url, '/services/data/v62.0/sobjects/Account/Legacy_Code__c/L1', { method: 'PATCH', token: conn.accessToken!, body: JSON.stringify({ Name: 'C' }) })
  t.equal(many.status, 300)
  t.equal(many.body.length, 2)
  t.match(many.body[0], /^\/services\/data\/v62.0\/sobjects\/Account\/001/)
  const viaJsforce = await failure(conn.sobject('Account').upsert({ Legacy_Code__c: 'L1', Name: 'C' }, 'Legacy_Code__c'))
  t.equal(viaJsforce.errorCode, 'MULTIPLE_CHOICES')

  // the unique flag refuses a second record with the same value
  const dup = await failure(conn.sobject('Case').update({ Id: first.id, Portal_Ticket_Id__c: 'T-2' }))
  t.equal(dup.errorCode, 'DUPLICATE_VALUE')
  t.match(dup.message, /^duplicate value found: Portal_Ticket_Id__c duplicates value on record with id: 500/)
  const dupCreate = await failure(conn.sobject('Case').create({ Portal_Ticket_Id__c: 'T-1' }))
  t.equal(dupCreate.errorCode, 'DUPLICATE_VALUE')

  // deleted records no longer match: upsert makes a new one
  await conn.sobject('Case').destroy(first.id)
  const reborn = (await conn.sobject('Case').upsert({ Portal_Ticket_Id__c: 'T-1', Subject: 'Again' }, 'Portal_Ticket_Id__c')) as SaveResult
  t.equal(reborn.created, true)
  t.not(reborn.id, first.id)
})

t.test("errors come back in Salesforce's shapes", async (t) => {
  const env = await emulatorFor(t)
  const conn = await env.connect()
  const token = conn.accessToken!
  const api = '/services/data/v62.0'

  const unknownField = await http(env.url, `${api}/sobjects/Case`, { method: 'POST', token, body: JSON.stringify({ Subject: 'x', Foo__c: 1 }) })
  t.equal(unknownField.status, 400)
  t.same(unknownField.body, [{ message: "No such column 'Foo__c' on sobject of type Case", errorCode: 'INVALID_FIELD' }])
  const updUnknown = await failure(conn.sobject('Case').update({ Id: '500Em0000000001IAA', Foo__c: 1 }))
  t.equal(updUnknown.errorCode, 'INVALID_FIELD')

  const unknownObject = await http(env.url, `${api}/sobjects/Widget__c`, { method: 'POST', token, body: '{}' })
  t.equal(unknownObject.status, 404)
  t.same(unknownObject.body, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }])

  const malformed = await http(env.url, `${api}/sobjects/Case/not-an-id`, { method: 'PATCH', token, body: JSON.stringify({ Subject: 'x' }) })
  t.equal(malformed.status, 400)
  t.equal(malformed.body[0].errorCode, 'MALFORMED_ID')
  t.equal(malformed.body[0].message, 'Case ID: id value of incorrect type: not-an-id')
  const wrongType = await failure(conn.sobject('Case').update({ Id: '001Em0000000001IAA', Subject: 'x' }))
  t.equal(wrongType.errorCode, 'MALFORMED_ID', 'an Account id is not a Case id')
  const missing = await failure(conn.sobject('Case').retrieve('500Em00000000ZZ'))
  t.equal(missing.errorCode, 'NOT_FOUND', 'a well-formed id nobody has')
  const badGet = await failure(conn.sobject('Case').retrieve('garbage'))
  t.equal(badGet.errorCode, 'NOT_FOUND')

  const required = await failure(conn.sobject('Contact').create({ FirstName: 'No last name' }))
  t.equal(required.errorCode, 'REQUIRED_FIELD_MISSING')
  t.equal(required.message, 'Required fields are missing: [LastName]')
  t.same(required.data.fields, ['LastName'])
  const requiredComment = await failure(conn.sobject('CaseComment').create({ CommentBody: 'orphan' }))
  t.equal(requiredComment.errorCode, 'REQUIRED_FIELD_MISSING')

  const readOnly = await failure(conn.sobject('Case').create({ CaseNumber: '42' }))
  t.equal(readOnly.errorCode, 'INVALID_FIELD_FOR_INSERT_UPDATE')
  t.match(readOnly.message, 'Unable to create/update fields: CaseNumber.')

  const tooLong = await failure(conn.sobject('Case').create({ Subject: 'x'.repeat(256) }))
  t.equal(tooLong.errorCode, 'STRING_TOO_LONG')

  const badRef = await failure(conn.sobject('Case').create({ Subject: 'x', AccountId: '001Em00000000ZZ' }))
  t.equal(badRef.errorCode, 'INVALID_CROSS_REFERENCE_KEY', 'a lookup to a record that does not exist')
  const wrongRef = await failure(conn.sobject('Case').create({ Subject: 'x', AccountId: env.emu.integrationUserId }))
  t.equal(wrongRef.errorCode, 'MALFORMED_ID', 'a lookup to the wrong kind of record')

  const badEmail = await failure(conn.sobject('Contact').create({ LastName: 'X', Email: 'not-an-email' }))
  t.equal(badEmail.errorCode, 'INVALID_EMAIL_ADDRESS')

  const badBool = await http(env.url, `${api}/sobjects/Case`, { method: 'POST', token, body: JSON.stringify({ IsEscalated: 'maybe' }) })
  t.equal(badBool.body[0].errorCode, 'JSON_PARSER_ERROR')
  const badJson = await http(env.url, `${api}/sobjects/Case`, { method: 'POST', token, body: '{"Subject":' })
  t.equal(badJson.status, 400)
  t.equal(badJson.body[0].errorCode, 'JSON_PARSER_ERROR')

  const inactive = env.emu.createUser({ username: 'left@crm.test', lastName: 'Left', isActive: false })
  const inactiveOwner = await failure(conn.sobject('Case').create({ Subject: 'x', OwnerId: inactive }))
  t.equal(inactiveOwner.errorCode, 'INACTIVE_OWNER_OR_USER')

  const nowhere = await http(env.url, `${api}/nowhere`, { token })
  t.equal(nowhere.status, 404)
  t.equal(nowhere.body[0].errorCode, 'NOT_FOUND')
  const oldVersion = await http(env.url, '/services/data/v99.0/limits', { token })
  t.equal(oldVersion.status, 404, 'a version the emulator does not serve')
})

t.test('describe, describeGlobal and custom fields', async (t) => {
  const env = await emulatorFor(t, { customFields: { Case: [{ name: 'Region__c', type: 'picklist', picklistValues: ['EMEA', 'APAC'] }] } })
  const conn = await env.connect()
  const global = await conn.describeGlobal()
  t.same(global.sobjects.map((s) => s.name).sort(), ['Account', 'Case', 'CaseComment', 'Contact', 'Product2', 'User'])
  const desc = await conn.sobject('Case').describe()
  t.equal(desc.keyPrefix, '500')
  const byName = new Map(desc.fields.map((f) => [f.name, f]))
  for (const name of ['Id', 'CaseNumber', 'Subject', 'Description', 'Status', 'Priority', 'Origin', 'AccountId', 'ContactId', 'OwnerId', 'ProductId',
    'Portal_Ticket_Id__c', 'IsClosed', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp', 'LastModifiedById', 'CreatedById', 'IsDeleted', 'Region__c']) {
    t.ok(byName.has(name), `Case has ${name}`)
  }
  const ext = byName.get('Portal_Ticket_Id__c')!
  t.same({ externalId: ext.externalId, unique: ext.unique, custom: ext.custom }, { externalId: true, unique: true, custom: true })
  t.same(byName.get('OwnerId')!.referenceTo, ['User'])
  t.equal(byName.get('OwnerId')!.relationshipName, 'Owner')
  t.equal(byName.get('CaseNumber')!.createable, false)
  t.same(byName.get('Region__c')!.picklistValues!.map((p) => p.value), ['EMEA', 'APAC'])
  const created = (await conn.sobject('Case').create({ Subject: 'x', Region__c: 'EMEA' })) as SaveResult
  t.equal((await conn.sobject('Case').retrieve(created.id)).Region__c, 'EMEA')
  t.ok((await conn.sobject('CaseComment').describe()).fields.some((f) => f.name === 'IsPublished'))
})

t.test('a configured assignment rule is skipped with Sforce-Auto-Assign: FALSE', async (t) => {
  const env = await emulatorFor(t, { autoAssignTo: 'crm.user@casebridge.emulator' })
  const conn = await env.connect()
  const token = conn.accessToken!
  const crmUser = env.emu.userId('crm.user@casebridge.emulator')
  const ruled = await http(env.url, '/services/data/v62.0/sobjects/Case', { method: 'POST', token, body: JSON.stringify({ Subject: 'x', OwnerId: env.emu.integrationUserId }) })
  t.equal((await conn.sobject('Case').retrieve(ruled.body.id as string)).OwnerId, crmUser, 'the rule overwrote the owner')
  const kept = await http(env.url, '/services/data/v62.0/sobjects/Case', {
    method: 'POST', token, headers: { 'Sforce-Auto-Assign': 'FALSE' }, body: JSON.stringify({ Subject: 'x', OwnerId: env.emu.integrationUserId })
  })
  t.equal((await conn.sobject('Case').retrieve(kept.body.id as string)).OwnerId, env.emu.integrationUserId, 'the owner we sent stays')
})
