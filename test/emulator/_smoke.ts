import jsforce from 'jsforce'
import { startEmulator } from '../../sync/emulator/index.js'

const emu = await startEmulator({ file: ':memory:', port: 0 })
const url = emu.url!
const conn = new jsforce.Connection({ oauth2: { loginUrl: url, clientId: 'cid', clientSecret: 'sec' }, version: '62.0' })
const res = await conn.authorize({ grant_type: 'client_credentials' } as any)
console.log('auth', res, conn.instanceUrl)
const acc = await conn.sobject('Account').create({ Name: 'Acme' })
console.log(acc)
const c = await conn.sobject('Case').create({ Subject: 'Hello', AccountId: (acc as any).id })
console.log(c)
console.log(await conn.sobject('Case').retrieve((c as any).id))
console.log(await conn.query('SELECT Id, CaseNumber, Subject, Account.Name, Owner.Name FROM Case WHERE Subject LIKE \'hel%\''))
console.log(await conn.sobject('Case').upsert({ Portal_Ticket_Id__c: 'T1', Subject: 'x' } as any, 'Portal_Ticket_Id__c'))
console.log(await conn.sobject('Case').upsert({ Portal_Ticket_Id__c: 'T1', Subject: 'y' } as any, 'Portal_Ticket_Id__c'))
console.log(await conn.sobject('Case').upsert([{ Portal_Ticket_Id__c: 'T1', Subject: 'z' }, { Portal_Ticket_Id__c: 'T2', Subject: 'z' }] as any, 'Portal_Ticket_Id__c'))
try { await conn.query('SELECT Foo__c FROM Case') } catch (e: any) { console.log(e.errorCode, e.message) }
try { await conn.sobject('Case').create({ Foo__c: 1 } as any) } catch (e: any) { console.log(e.errorCode, e.message) }
console.log(conn.limitInfo)
const conn2 = new jsforce.Connection({ loginUrl: url, version: '62.0' })
await conn2.login('crm.user@casebridge.emulator', 'emulator')
console.log(conn2.userInfo)
console.log(await conn2.query('SELECT COUNT() FROM Case'))
await emu.close()
