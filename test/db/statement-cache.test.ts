// The SQLite connection keeps prepared statements for reuse, bounded, least recently used first out.
//   npx tap test/db/statement-cache.test.ts
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { StatementCache, STATEMENT_CACHE_SIZE, createDb } from '../../src/db/index.js'

function scratch(t: { teardown: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-stmt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const sqlite = new SqliteDatabase(join(dir, 'db.sqlite'))
  sqlite.exec('CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)')
  sqlite.exec("INSERT INTO item (name) VALUES ('a'), ('b'), ('c')")
  return sqlite
}

t.test('the same text is prepared once; past the bound the least recently used goes', async (t) => {
  const cache = new StatementCache(scratch(t), 3)
  t.teardown(() => cache.close())
  const one = cache.prepare('SELECT 1')
  t.equal(cache.prepare('SELECT 1'), one, 'reused')
  const two = cache.prepare('SELECT 2')
  cache.prepare('SELECT 3')
  t.equal(cache.size, 3)
  t.equal(cache.prepare('SELECT 1'), one, 'still kept: now the most recently used')
  cache.prepare('SELECT 4')
  t.equal(cache.size, 3, 'never more than the bound')
  t.not(cache.prepare('SELECT 2'), two, 'SELECT 2 was the least recently used: it went and is prepared afresh')
  t.equal(cache.prepare('SELECT 1'), one, 'SELECT 1 stayed')
  t.ok(STATEMENT_CACHE_SIZE >= 100, "the app's bound holds its hot queries")
})

t.test('a statement being iterated is not handed out again', async (t) => {
  const cache = new StatementCache(scratch(t), 10)
  t.teardown(() => cache.close())
  const text = 'SELECT name FROM item ORDER BY id'
  const outer = cache.prepare(text)
  const names: string[] = []
  for (const row of outer.iterate() as IterableIterator<{ name: string }>) {
    const inner = cache.prepare(text)
    t.not(inner, outer, 'a fresh statement while the kept one is busy')
    names.push(`${row.name}${(inner.all() as { name: string }[]).length}`)
  }
  t.same(names, ['a3', 'b3', 'c3'])
  t.equal(cache.prepare(text), outer, 'once done, the kept one is reused')
})

t.test('through Kysely: right answers across evictions, writes included, and streaming beside queries', async (t) => {
  const cache = new StatementCache(scratch(t), 2)
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: cache as unknown as SqliteDatabase.Database }) })
  t.teardown(() => db.destroy())
  for (let i = 0; i < 20; i++) {
    await db.insertInto('item').values({ name: `n${i % 4}` }).execute()
    const row = await db.selectFrom('item').select((eb) => eb.fn.countAll<number>().as('n')).where('name', '=', `n${i % 4}`).executeTakeFirstOrThrow()
    t.equal(Number(row.n), Math.floor(i / 4) + 1)
    t.ok(cache.size <= 2)
  }
  let streamed = 0
  for await (const _row of db.selectFrom('item').select('id').stream()) streamed++
  t.equal(streamed, 23)
  t.equal(Number((await sql<{ n: number }>`SELECT count(*) AS n FROM item`.execute(db)).rows[0].n), 23)
})

t.test("the application's SQLite database runs on it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-stmt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const db = await createDb(`sqlite:${join(dir, 'app.db')}`)
  t.teardown(() => db.destroy())
  for (let i = 0; i < 3; i++) await sql`SELECT ${i} AS n`.execute(db)
  t.pass('queries run')
})
