// The server side of bench/live/sse.ts, in a process of its own so its memory is measured alone:
// a fresh demo database with PEOPLE more staff on the Service Desk and TICKETS tickets, the web
// role listening on a free port. It answers the parent on stdin/stdout, one JSON line each:
// "mem" (after a garbage collection), "stats" (open streams, presence rows, live_event rows),
// "cpu" (user + system microseconds so far).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { loadConfig } from '../../src/config.js'
import { createDb, migrateToLatest } from '../../src/db/index.js'
import { DEMO_PASSWORD_HASHES } from '../../src/db/seed.js'
import { seedDemo } from '../../src/commands/demo.js'
import { insertStaff } from '../../src/db/people.js'
import { buildApp } from '../../src/app.js'
import { createTicket } from '../../test/helpers/commands.js'
import { demoIds } from '../../test/helpers/app.js'

const PEOPLE = Number(process.env.PEOPLE ?? 25)
const TICKETS = Number(process.env.TICKETS ?? 50)

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-live-bench-'))
  const config = loadConfig({ ...process.env, DATA_DIR: dir, LOG_LEVEL: 'warn', COOKIE_SECURE: 'false', LOGIN_RATE_LIMIT: '100000', SEED: 'none' })
  const db = await createDb(config.databaseUrl)
  await migrateToLatest(db)
  await seedDemo(db)
  const ids = await demoIds(db)
  const now = new Date().toISOString()
  for (let i = 1; i <= PEOPLE; i++) {
    await insertStaff(db, { name: `Bench Staff ${i}`, email: `bench${i}@casebridge.test`, passwordHash: DEMO_PASSWORD_HASHES.staff, role: 'staff', deskIds: [ids.desk['Service Desk']], now })
  }
  const numbers: number[] = []
  for (let i = 0; i < TICKETS; i++) {
    const t = await createTicket(db, {
      title: `Bench ticket ${i}`, description: 'Live bench.', url: null, accountId: ids.account['Acme Corporation'], contactId: ids.contact['bob@acme.test'],
      createdByStaffId: null, productId: null, categoryId: ids.category['Printer problem'], deskId: ids.desk['Service Desk'], priority: 'medium',
      ticketType: 'incident', source: 'portal', files: [], parentId: null
    }, { actor: { type: 'contact', id: ids.contact['bob@acme.test'], name: 'Bob' }, now: new Date().toISOString() })
    numbers.push(t.number)
  }
  const app = await buildApp({ config, db, logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address() as { port: number }
  process.stdout.write(`${JSON.stringify({ port: address.port, numbers, people: PEOPLE })}\n`)
  const gc = (globalThis as { gc?: () => void }).gc
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mem') {
      gc?.(); gc?.()
      const m = process.memoryUsage()
      process.stdout.write(`${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external })}\n`)
    } else if (line === 'stats') {
      const presence = await db.selectFrom('ticket_presence').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      const events = await db.selectFrom('live_event').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      process.stdout.write(`${JSON.stringify({ streams: app.live.streams.size, listening: app.live.listening, presence: Number(presence.n), liveEvents: Number(events.n) })}\n`)
    } else if (line === 'cpu') {
      const c = process.cpuUsage()
      process.stdout.write(`${JSON.stringify({ micros: c.user + c.system })}\n`)
    } else if (line === 'quit') {
      await app.close()
      await db.destroy()
      process.exit(0)
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
