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
import { ticketRouting } from '../../src/db/routing.js'
import { Refused, run, SYSTEM, unwrap } from '../../src/commands/kernel.js'
import { apiToken } from '../helpers/app.js'

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

t.test('a command uses the process copy inside its transaction, confirmed by one read, and never keeps what it read itself', async (t) => {
  const e = await testApp(t)
  const counter = new Counter()
  const db = e.db.withPlugin(counter)
  const deps = { db, clock: () => new Date(), random: Math.random }
  const mobile = e.ids.product['Mobile App']
  const outside = await ticketRouting(db)
  t.ok(outside.productActive(mobile))
  counter.statements = 0
  const inside = unwrap(await run(deps, SYSTEM, async (uow) => ticketRouting(uow.trx)))
  t.equal(inside, outside, 'the same copy')
  t.equal(counter.statements, 1, 'one statement inside the transaction: the version')

  // The transaction's own change: it sees it, and nobody else ever does once it is rolled back.
  const rolledBack = await run(deps, SYSTEM, async (uow) => {
    await uow.trx.updateTable('product').set({ active: 0 }).where('id', '=', mobile).execute()
    const seen = await ticketRouting(uow.trx)
    t.notOk(seen.productActive(mobile), 'its own change, inside')
    t.not(seen, outside)
    throw new Refused('forbidden')
  })
  t.notOk(rolledBack.ok)
  const after = await ticketRouting(db)
  t.ok(after.productActive(mobile), 'after the rollback: as it was')
  const again = unwrap(await run(deps, SYSTEM, async (uow) => ticketRouting(uow.trx)))
  t.ok(again.productActive(mobile), 'and so for the next command')

  // Committed: the next command sees it, whether or not a page read it in between.
  unwrap(await run(deps, SYSTEM, async (uow) => {
    await uow.trx.updateTable('product').set({ active: 0 }).where('id', '=', mobile).execute()
  }))
  t.notOk(unwrap(await run(deps, SYSTEM, async (uow) => ticketRouting(uow.trx))).productActive(mobile), 'the committed change')
  t.notOk((await ticketRouting(db)).productActive(mobile))
})

t.test('a ticket opened through the API is checked and routed against what another process just changed', async (t) => {
  const e = await testApp(t)
  const other = await createDb(e.config.databaseUrl)
  t.teardown(() => other.destroy())
  const token = await apiToken(e.db, 'bob@acme.test')
  const create = (productId: number) => e.app.inject({
    method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}` },
    payload: { title: 'Sync fails', description: 'Since this morning.', productId }
  })
  const mobile = e.ids.product['Mobile App']
  const first = await create(mobile)
  t.equal(first.statusCode, 201)
  t.equal(first.json().desk.id, e.ids.desk['Product Support'])

  // Another desk takes the product too (a lower id than the new desk's): the lowest id serves.
  const now = new Date().toISOString()
  const { id: fresh } = await other.insertInto('desk').values({ name: 'Mobile Desk', created_at: now }).returning('id').executeTakeFirstOrThrow()
  await other.deleteFrom('desk_product').where('product_id', '=', mobile).execute()
  await other.insertInto('desk_product').values([{ desk_id: fresh, product_id: mobile }, { desk_id: e.ids.desk['Service Desk'], product_id: mobile }]).execute()
  const second = await create(mobile)
  t.equal(second.statusCode, 201)
  t.equal(second.json().desk.id, Math.min(fresh, e.ids.desk['Service Desk']), 'the desk now serving it')

  // Targets another process set for the priority are the new ticket's at once.
  await other.insertInto('sla_policy').values({ priority: 'medium', response_minutes: 7, resolution_minutes: 70, updated_at: now })
    .onConflict((oc) => oc.column('priority').doUpdateSet({ response_minutes: 7, resolution_minutes: 70 })).execute()
  const third = await create(mobile)
  const row = await e.db.selectFrom('ticket').select(['created_at', 'response_due_at', 'resolution_due_at']).where('id', '=', third.json().id).executeTakeFirstOrThrow()
  t.equal(Date.parse(row.response_due_at!) - Date.parse(row.created_at), 7 * 60_000, 'the response target set a moment ago')

  await other.updateTable('product').set({ active: 0 }).where('id', '=', mobile).execute()
  const refused = await create(mobile)
  t.equal(refused.statusCode, 422, 'a product another process turned off is refused')
})
