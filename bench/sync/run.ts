// CRM sync throughput against the emulator, through the same jsforce adapter production uses:
//
//   npx tsx bench/sync/run.ts [--tickets 5000] [--replies 3000] [--transfers 2000]
//
// 1. Outbound: tickets created, replies added and transfers made (each one change, each writing
//    its outbox row in its own transaction, as the portal does) while no worker runs; then the
//    clock runs while the outbox drains to the emulator. Prints time, changes/s, API calls per
//    change (target <= 0.02) and the drainer's CPU time.
// 2. Inbound: a CRM user (password grant, a second connection) changes every Case twice (priority,
//    then owner), each round followed by one inbound pass, timed; prints changes applied per second.
//
// The emulator runs in its own process (`casebridge emulator`), so this process's CPU time is the
// sync's own. Nothing here is stored: a temporary directory is removed at the end.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import jsforce, { type Connection } from 'jsforce'
import pino from 'pino'
import { loadConfig } from '../../src/config.js'
import { createDb, migrateToLatest } from '../../src/db/index.js'
import { seedDemo } from '../../src/commands/demo.js'
import { createTicket, transferTicket, addTicketNote } from '../../test/helpers/commands.js'
import { SalesforceAdapter, API_VERSION } from '../../sync/crm/salesforce.js'
import { createSyncContext } from '../../sync/crm/context.js'
import { mirrorPortalToCrm } from '../../sync/crm/demo.js'
import { drainOutbox } from '../../sync/outbox.js'
import { pollInbound } from '../../sync/inbound.js'
import { importReference } from '../../sync/reference.js'

const USAGE = `usage: npx tsx bench/sync/run.ts [--tickets 5000] [--replies 3000] [--transfers 2000]

CRM sync throughput against the bundled emulator (in its own process), through the production
jsforce adapter: the outbox drained after that many changes, then two inbound rounds of CRM edits.`

function readArgs() {
  try {
    return parseArgs({ options: { tickets: { type: 'string' }, replies: { type: 'string' }, transfers: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`)
    process.exit(2)
  }
}
const args = readArgs()
if (args.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
for (const name of ['tickets', 'replies', 'transfers'] as const) {
  const value = args[name]
  if (value !== undefined && !/^\d+$/.test(value)) {
    process.stderr.write(`--${name} must be a whole number (got ${JSON.stringify(value)})\n\n${USAGE}\n`)
    process.exit(2)
  }
}
const N_TICKETS = Number(args.tickets ?? 5000)
const N_REPLIES = Number(args.replies ?? 3000)
const N_TRANSFERS = Number(args.transfers ?? 2000)
const CHANGES = N_TICKETS + N_REPLIES + N_TRANSFERS

const root = new URL('../../', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'casebridge-bench-sync-'))
const say = (s: string) => process.stdout.write(s + '\n')
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

// the emulator grants tokens to this client only; its CRM users' password is generated under DATA_DIR
const CLIENT = { clientId: 'bench', clientSecret: 'bench-secret' }

async function startEmulatorProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'emulator', '--port', '0', '--file', join(dir, 'emulator.db')], {
    cwd: root, env: { ...process.env, DATA_DIR: dir, SALESFORCE_CLIENT_ID: CLIENT.clientId, SALESFORCE_CLIENT_SECRET: CLIENT.clientSecret }, stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  for (;;) {
    const m = out.match(/listening on (http:\/\/\S+)/)
    if (m) return { url: m[1], stop: async () => { child.kill('SIGTERM'); await exited } }
    if (child.exitCode !== null) throw new Error(`emulator exited:\n${out}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1e6
}

async function main() {
  say(`machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://support.example.com' })
  const db = await createDb(config.databaseUrl)
  await migrateToLatest(db)
  await seedDemo(db)
  const emulator = await startEmulatorProcess()
  try {
    const adapter = new SalesforceAdapter({ settings: { auth: 'client_credentials', loginUrl: emulator.url, instanceUrl: null, ...CLIENT } })
    const ctx = createSyncContext({ db, crm: adapter, config, log: pino({ level: 'silent' }), holder: 'bench' })
    const admin = new jsforce.Connection({ oauth2: { loginUrl: emulator.url, ...CLIENT }, version: API_VERSION })
    await admin.authorize({ grant_type: 'client_credentials' })
    await mirrorPortalToCrm(db, admin)
    await importReference(ctx)
    await drainOutbox(ctx)

    // ------------------------------------------------------------ outbound
    const ids = {
      accounts: (await db.selectFrom('account').select('id').execute()).map((r) => r.id),
      contacts: await db.selectFrom('contact_account').select(['contact_id', 'account_id']).execute(),
      desk: (await db.selectFrom('desk').select('id').where('name', '=', 'Service Desk').executeTakeFirstOrThrow()).id,
      staff: await db.selectFrom('staff').select(['id', 'name']).where('role', '=', 'staff').where('crm_user_id', 'is not', null).execute()
    }
    let seq = 0
    const rnd = () => ((seq = (seq * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]
    const ana = ids.staff[0]
    const genStart = Date.now()
    const tickets: number[] = []
    const order: ('create' | 'reply' | 'transfer')[] = [
      ...Array(N_TICKETS).fill('create'), ...Array(N_REPLIES).fill('reply'), ...Array(N_TRANSFERS).fill('transfer')
    ]
    // interleaved as they would arrive: a reply or transfer goes to a ticket that exists by then
    order.sort(() => rnd() - 0.5)
    while (order[0] !== 'create') order.push(order.shift()!)
    for (const kind of order) {
      const now = new Date().toISOString()
      if (kind === 'create' || tickets.length === 0) {
        const c = pick(ids.contacts)
        const tk = await createTicket(db, {
          title: `Bench ticket ${tickets.length + 1}`, description: 'Generated by bench/sync.', url: null, accountId: c.account_id, contactId: c.contact_id,
          createdByStaffId: null, productId: null, categoryId: null, deskId: ids.desk, priority: 'medium', ticketType: 'incident', source: 'portal', files: []
        }, { actor: { type: 'contact', id: c.contact_id, name: 'bench' }, now, random: rnd })
        tickets.push(tk.id)
      } else if (kind === 'reply') {
        await addTicketNote({ db, clock: () => new Date() }, { ref: { type: 'staff', id: ana.id, name: ana.name }, role: 'staff' }, pick(tickets), { mode: 'reply', body: 'We are looking into it.' })
      } else {
        const to = pick(ids.staff)
        await transferTicket(db, pick(tickets), { assigneeId: to.id, note: `Over to ${to.name}` }, { actor: { type: 'staff', id: ana.id, name: ana.name }, now })
      }
    }
    const genSeconds = (Date.now() - genStart) / 1000
    const rows = await db.selectFrom('crm_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()
    say(`\ngenerated ${fmt(CHANGES)} changes (${fmt(N_TICKETS)} creates, ${fmt(N_REPLIES)} replies, ${fmt(N_TRANSFERS)} transfers) in ${genSeconds.toFixed(1)} s; ${fmt(Number(rows.n))} outbox rows waiting`)

    const callsBefore = adapter.calls
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (;;) {
      const r = await drainOutbox(ctx)
      if (r.claimed === 0) break
      if (r.pausedUntil) throw new Error(`paused: ${r.pausedUntil}`)
    }
    const drainSeconds = (performance.now() - t0) / 1000
    const drainCpu = cpuSeconds(cpu0)
    const calls = adapter.calls - callsBefore
    const left = await db.selectFrom('crm_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '!=', 'done').executeTakeFirstOrThrow()
    const cases = await admin.query('SELECT COUNT() FROM Case')
    const comments = await admin.query('SELECT COUNT() FROM CaseComment')
    const notes = await db.selectFrom('note').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '!=', 'crm').executeTakeFirstOrThrow()
    say(`outbound drain: ${drainSeconds.toFixed(2)} s → ${fmt(CHANGES / drainSeconds)} changes/s; ${calls} API calls → ${(calls / CHANGES).toFixed(4)} calls per change; CPU ${drainCpu.toFixed(2)} s → ${fmt(CHANGES / drainCpu)} changes per CPU-second`)
    say(`  check: ${fmt(cases.totalSize)} Cases for ${fmt(tickets.length + 4)} tickets, ${fmt(comments.totalSize)} comments for ${fmt(Number(notes.n))} notes, ${left.n} rows not done`)

    // ------------------------------------------------------------ inbound
    await pollInbound(ctx)
    const crmUser = new jsforce.Connection({ oauth2: { loginUrl: emulator.url, ...CLIENT }, version: API_VERSION })
    const { crmUserPassword } = JSON.parse(readFileSync(join(dir, 'emulator-credentials.json'), 'utf8')) as { crmUserPassword: string }
    await crmUser.login('crm.user@casebridge.emulator', crmUserPassword)
    const linked = await db.selectFrom('ticket').select(['crm_case_id', 'priority', 'assignee_id']).where('crm_case_id', 'is not', null).where('title', 'like', 'Bench ticket %').execute()
    const owners = ids.staff.map((s) => s.id)
    const users = new Map((await db.selectFrom('staff').select(['id', 'crm_user_id']).execute()).map((s) => [s.id, s.crm_user_id!]))
    // every Case gets a new priority, then a new owner (never its current one): one change each
    const rounds: { name: string; record: (c: (typeof linked)[number], i: number) => Record<string, unknown> }[] = [
      { name: 'priority', record: (c) => ({ Id: c.crm_case_id, Priority: 'Low' }) },
      { name: 'owner', record: (c, i) => ({ Id: c.crm_case_id, OwnerId: users.get(owners.filter((o) => o !== c.assignee_id)[i % (owners.length - 1)]) }) }
    ]
    let applied = 0
    let pollSeconds = 0
    let pollCpu = 0
    let pollCalls = 0
    for (const round of rounds) {
      const records = linked.map(round.record)
      for (let i = 0; i < records.length; i += 200) {
        const res = await crmUser.sobject('Case').update(records.slice(i, i + 200) as never[], { allOrNone: true }) as unknown as { success: boolean }[]
        if (res.some((r) => !r.success)) throw new Error('CRM-side update failed')
      }
      const c0 = process.cpuUsage()
      const p0 = performance.now()
      const before = adapter.calls
      const report = await pollInbound(ctx)
      pollSeconds += (performance.now() - p0) / 1000
      pollCpu += cpuSeconds(c0)
      pollCalls += adapter.calls - before
      applied += report.applied
      say(`  round ${round.name}: ${fmt(records.length)} Cases changed in the CRM → ${fmt(report.applied)} ticket changes applied, ${report.refused} refused, ${report.unmapped} unmapped`)
    }
    say(`inbound: ${fmt(applied)} CRM-side changes applied in ${pollSeconds.toFixed(2)} s → ${fmt(applied / pollSeconds)} changes/s; ${pollCalls} API calls; CPU ${pollCpu.toFixed(2)} s → ${fmt(applied / pollCpu)} changes per CPU-second`)
    const events = await db.selectFrom('ticket_event').select((eb) => eb.fn.countAll<number>().as('n')).where('actor_type', '=', 'crm').executeTakeFirstOrThrow()
    const echo = await db.selectFrom('crm_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()
    say(`  check: ${fmt(Number(events.n))} history rows by the CRM user, ${echo.n} outbox rows owed back (echoes)`)
    say(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  } finally {
    await emulator.stop()
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
