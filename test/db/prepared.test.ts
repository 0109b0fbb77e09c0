// Fixed-shape queries compiled once per dialect, bound per call: the same rows as the built
// query, on SQLite and PostgreSQL, in and out of transactions.
//   npx tap test/db/prepared.test.ts
//   scripts/pg-test.sh test/db/prepared.test.ts
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { prepared } from '../../src/db/prepared.js'
import { loadActor } from '../../src/db/people.js'

t.test('a prepared query answers as the built one, for any arguments, and compiles once', async (t) => {
  const e = await testApp(t)
  let builds = 0
  const byEmail = prepared(2, (db, email: string, active: number) => {
    builds++
    return db.selectFrom('staff').select(['id', 'name']).where('email', '=', email).where('active', '=', active).where('name', '!=', '')
  })
  for (const email of ['ana@casebridge.test', 'carla@casebridge.test', 'nobody@casebridge.test', "o'brien@x.test"]) {
    const want = await e.db.selectFrom('staff').select(['id', 'name']).where('email', '=', email).where('active', '=', 1).execute()
    t.same(await byEmail(e.db, email, 1), want, email)
  }
  const ana = await e.db.selectFrom('staff').select(['id', 'name']).where('email', '=', 'ana@casebridge.test').execute()
  t.same(await e.db.transaction().execute((trx) => byEmail(trx, 'ana@casebridge.test', 1)), ana, 'inside a transaction')
  t.equal(ana.length, 1)
  t.equal(builds, 1, 'built and compiled once')
})

t.test('an argument that does not become exactly one parameter is refused when first compiled', async (t) => {
  const e = await testApp(t)
  const unused = prepared(2, (db, id: number, _other: number) => db.selectFrom('staff').select('id').where('id', '=', id))
  await t.rejects(unused(e.db, 1, 2), /argument 1 is not bound exactly once/)
  const twice = prepared(1, (db, id: number) => db.selectFrom('staff').select('id').where('id', '=', id).where('manager_id', '=', id))
  await t.rejects(twice(e.db, 1), /argument 0 is not bound exactly once/)
})

t.test('the actors loaded through prepared queries', async (t) => {
  const e = await testApp(t)
  const ana = await loadActor(e.db, 'staff', e.ids.staff['ana@casebridge.test'])
  t.match(ana, { kind: 'staff', email: 'ana@casebridge.test', role: 'staff' })
  t.ok(ana && ana.kind === 'staff' && ana.deskIds.length > 0, 'with her desks')
  const alice = await loadActor(e.db, 'contact', e.ids.contact['alice@acme.test'])
  t.ok(alice && alice.kind === 'contact' && alice.accountIds.length > 0 && alice.managerAccountIds.length > 0, 'a client with her accounts')
  await e.db.updateTable('contact').set({ active: 0 }).where('email', '=', 'alice@acme.test').execute()
  t.equal(await loadActor(e.db, 'contact', e.ids.contact['alice@acme.test']), undefined, 'not once turned off')
  const staffId = e.ids.staff['eva@casebridge.test']
  await e.db.deleteFrom('desk_member').where('staff_id', '=', staffId).execute()
  const eva = await loadActor(e.db, 'staff', staffId)
  t.ok(eva && eva.kind === 'staff' && eva.deskIds.length === 0, 'staff on no desk still load')
})
