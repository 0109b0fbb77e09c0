// CPU per request of the benchmarked pages, in this process, without sockets or a load generator:
// each page is requested through Fastify's inject in batches, and the cheapest batch counts. On a
// shared machine the HTTP figures of run.ts move by ±40% from one run to the next; the cheapest of
// several batches moves by a few percent, which is what comparing two versions of the code needs.
// The login page (a small template, no database) shows the floor every page starts from.
//
//   npx tsx bench/portal/cpu.ts --data DIR [--batches 7] [--size 200] [--only NAME]
//
// Compare two commits by running it in a worktree of each, one after the other, on the same data.
import { parseArgs } from 'node:util'
import { cpus, loadavg } from 'node:os'
import type { InjectOptions } from 'fastify'
import { createDb, migrateToLatest } from '../../src/db/index.js'
import { buildApp } from '../../src/app.js'
import { findLogin, loadActor } from '../../src/db/people.js'
import { listTickets } from '../../src/db/ticket-search.js'
import { createApiTokenFor } from '../../src/commands/people.js'
import { openSeeded } from './seeded.js'

async function main() {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: process.env.BENCH_DATA },
      batches: { type: 'string', default: '7' },
      size: { type: 'string', default: '200' },
      only: { type: 'string' }
    }
  })
  const { info, config } = openSeeded(values.data)
  const db = await createDb(config.databaseUrl)
  await migrateToLatest(db)
  const app = await buildApp({ config, db, logger: false })
  await app.ready()

  const login = async (email: string, password: string) => {
    const form = await app.inject({ method: 'GET', url: '/login' })
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1]
    const jar = new Map<string, string>()
    const keep = (res: { cookies: { name: string; value: string }[] }) => { for (const c of res.cookies) jar.set(c.name, c.value) }
    keep(form)
    const cookie = () => [...jar].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ')
    const res = await app.inject({
      method: 'POST', url: '/login', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf ?? '', email, password }).toString()
    })
    if (res.statusCode !== 302) throw new Error(`login as ${email} answered ${res.statusCode}`)
    keep(res)
    // The page the login leads to, as a browser follows it, keeping what it sets (the CSRF secret).
    keep(await app.inject({ method: 'GET', url: String(res.headers.location), headers: { cookie: cookie() } }))
    return cookie()
  }
  const clientCookie = await login(info.client.email, info.client.password)
  const staffCookie = await login(info.staff.email, info.staff.password)
  const client = (await findLogin(db, info.client.email))!
  const staff = (await findLogin(db, info.staff.email))!
  const clientToken = await createApiTokenFor({ db, clock: () => new Date(), random: Math.random }, client, 'bench-cpu')
  const staffActor = (await loadActor(db, 'staff', staff.id))!
  const staffNumbers = (await listTickets(db, staffActor, { perPage: 20, now: new Date() })).items.map((t) => t.number)
  const productId = (await db.selectFrom('product').select('id').orderBy('id').executeTakeFirstOrThrow()).id

  const cycle = (requests: InjectOptions[]) => { let i = 0; return () => requests[i++ % requests.length] }
  const targets: { name: string; next: () => InjectOptions; status: number }[] = [
    { name: 'login page (template only, no database)', next: cycle([{ method: 'GET', url: '/login' }]), status: 200 },
    { name: 'portal: My requests', next: cycle([{ method: 'GET', url: '/portal', headers: { cookie: clientCookie } }]), status: 200 },
    { name: 'portal: ticket page', next: cycle(info.ticketNumbers.map((n) => ({ method: 'GET' as const, url: `/portal/tickets/${n}`, headers: { cookie: clientCookie } }))), status: 200 },
    { name: 'desk: staff queue', next: cycle([{ method: 'GET', url: '/desk', headers: { cookie: staffCookie } }]), status: 200 },
    { name: 'desk: staff ticket page', next: cycle(staffNumbers.map((n) => ({ method: 'GET' as const, url: `/desk/tickets/${n}`, headers: { cookie: staffCookie } }))), status: 200 },
    {
      name: 'api: create a ticket',
      next: cycle([{
        method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${clientToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ title: 'Printer offline on the 3rd floor', description: 'Since this morning; restarted twice.', productId })
      }]),
      status: 201
    }
  ]
  const batches = Number(values.batches)
  const size = Number(values.size)
  const [l1, l5] = loadavg()
  process.stdout.write(`${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}; load average ${l1.toFixed(1)} / ${l5.toFixed(1)} at the start\n`)
  process.stdout.write(`CPU ms per request, app.inject, cheapest of ${batches} batches of ${size} (median in brackets)\n\n`)
  process.stdout.write('| page | CPU ms/req (cheapest batch) | median batch |\n|---|---:|---:|\n')
  for (const target of targets) {
    if (values.only && !target.name.includes(values.only)) continue
    for (let i = 0; i < Math.min(size, 100); i++) {
      const res = await app.inject(target.next())
      if (res.statusCode !== target.status) throw new Error(`${target.name}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    }
    const perBatch: number[] = []
    for (let b = 0; b < batches; b++) {
      const before = process.cpuUsage()
      for (let i = 0; i < size; i++) await app.inject(target.next())
      const used = process.cpuUsage(before)
      perBatch.push((used.user + used.system) / 1000 / size)
    }
    perBatch.sort((a, b) => a - b)
    process.stdout.write(`| ${target.name} | ${perBatch[0].toFixed(3)} | ${perBatch[Math.floor(batches / 2)].toFixed(3)} |\n`)
  }
  const [e1, e5] = loadavg()
  process.stdout.write(`\nload average ${e1.toFixed(1)} / ${e5.toFixed(1)} at the end\n`)
  await app.close()
  await db.destroy()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
