// Several processes writing one SQLite file (ROLE=web and ROLE=worker side by side, or
// WEB_CONCURRENCY web processes): every write waits its turn and none fails.
//   npx tap test/db/sqlite-writers.test.ts
import t from 'tap'
import { spawn } from 'node:child_process'
import { testApp, sqliteOnly } from '../helpers/app.js'
import { staffLoadDrift } from '../../src/db/ticket.js'

function writer(url: string, contactId: number, productId: number, count: number, label: string): Promise<{ ok: number; errors: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/db/fixtures/writer-child.ts', url, String(contactId), String(productId), String(count), label], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`writer ${label} exited ${code}`))))
  })
}

t.test('two processes opening tickets at once on one SQLite file: every ticket stored, no SQLITE_BUSY', { skip: sqliteOnly('two processes on one SQLite file') }, async (t) => {
  const e = await testApp(t)
  const before = Number((await e.db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  const alice = e.ids.contact['alice@acme.test']
  const product = e.ids.product['Casebridge Cloud']
  const [a, b] = await Promise.all([
    writer(e.config.databaseUrl, alice, product, 150, 'A'),
    writer(e.config.databaseUrl, alice, product, 150, 'B')
  ])
  t.same([...a.errors, ...b.errors], [], 'no write failed')
  t.equal(a.ok + b.ok, 300)
  const after = Number((await e.db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  t.equal(after - before, 300, 'all 300 stored')
  const numbers = await e.db.selectFrom('ticket').select('number').execute()
  t.equal(new Set(numbers.map((n) => n.number)).size, numbers.length, 'numbers unique')
  t.same(await staffLoadDrift(e.db), [], 'open-ticket counts exact')
})
