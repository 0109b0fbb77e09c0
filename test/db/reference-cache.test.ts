// Desks, products, the catalog and the settings are kept in memory and used while the reference
// version is unchanged; a change from any process is seen on the next request. Both databases:
//   npx tap test/db/reference-cache.test.ts
//   scripts/pg-test.sh test/db/reference-cache.test.ts
import t from 'tap'
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely'
import { testApp } from '../helpers/app.js'
import { createDb } from '../../src/db/index.js'
import { listCatalogItems, listDesks, listProducts } from '../../src/db/catalog.js'
import { getSettings, saveSettings } from '../../src/db/settings.js'

class Counter implements KyselyPlugin {
  statements = 0
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.statements++
    return args.node
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result
  }
}

t.test('kept while nothing changes; lists asked for together read one number for all four', async (t) => {
  const e = await testApp(t)
  const counter = new Counter()
  const db = e.db.withPlugin(counter)
  const page = async () => {
    const [desks, products, catalog, settings] = await Promise.all([listDesks(db), listProducts(db), listCatalogItems(db), getSettings(db)])
    return { desks, products, catalog, settings }
  }
  const first = await page()
  t.ok(first.desks.length > 0 && first.products.length > 0 && first.catalog.length > 0)
  counter.statements = 0
  const second = await page()
  t.equal(counter.statements, 1, 'one statement (the version) for the four lists')
  t.equal(second.desks, first.desks, 'the same desks, from memory')
  t.equal(second.settings, first.settings)
  t.throws(() => (second.desks as { name: string }[]).push({ name: 'x' }), 'a kept list cannot be changed by a caller')
  t.throws(() => { (second.desks[0] as { name: string }).name = 'x' })
  counter.statements = 0
  await listDesks(db)
  await listProducts(db)
  t.equal(counter.statements, 2, 'asked for one after the other: the version each time')
  const inTrx = await db.transaction().execute((trx) => listDesks(trx))
  t.not(inTrx, first.desks, 'inside a transaction: read afresh')
  t.same(inTrx, first.desks)
})

t.test('a change by another process (another connection) is seen at once, on SQLite and PostgreSQL', async (t) => {
  const e = await testApp(t)
  const other = await createDb(e.config.databaseUrl)
  t.teardown(() => other.destroy())
  const before = await listDesks(e.db)
  await other.insertInto('desk').values({ name: 'Aardvark Desk', created_at: new Date().toISOString() }).execute()
  const after = await listDesks(e.db)
  t.equal(after.length, before.length + 1)
  t.equal(after[0].name, 'Aardvark Desk', 'the new desk, in name order')
  await other.updateTable('product').set({ active: 0 }).where('name', '=', 'Mobile App').execute()
  t.notOk((await listProducts(e.db)).some((p) => p.name === 'Mobile App'), 'a product turned off')
  await other.updateTable('category').set({ active: 0 }).where('parent_id', 'is not', null).execute()
  t.same(await listCatalogItems(e.db), [], 'catalog items turned off')
  const was = (await getSettings(e.db)).autoCloseDays
  await saveSettings(other, { autoCloseDays: was + 3 })
  t.equal((await getSettings(e.db)).autoCloseDays, was + 3, 'a setting')
  await other.deleteFrom('desk').where('name', '=', 'Aardvark Desk').execute()
  t.equal((await listDesks(e.db)).length, before.length, 'a desk deleted')
})

t.test("through the app: another process's change shows on the next page", async (t) => {
  const e = await testApp(t)
  const other = await createDb(e.config.databaseUrl)
  t.teardown(() => other.destroy())
  const now = new Date().toISOString()
  await other.insertInto('product').values({ name: 'Zeta Printer Fleet', created_at: now }).execute()
  const { loginAs } = await import('../helpers/app.js')
  const ana = await loginAs(e.app, 'ana@casebridge.test')
  const page = await ana.get('/desk')
  t.equal(page.statusCode, 200)
  t.match(page.body, 'Zeta Printer Fleet', 'the product another process added is offered')
})
