// Seeds a benchmark database: the demo organisation (seedDemo) plus, by default, 5,000
// accounts (~3 contacts each, one account manager), 1,000,000 tickets and ~3 notes per ticket.
//
//   npm run bench:seed -- [--data DIR] [--tickets N] [--accounts N] [--seed N] [--force]
//
// The schema is the migrated one. For speed the bulk load bypasses Kysely (raw prepared
// statements in large transactions) and drops the secondary indexes and the FTS insert trigger
// while loading, then recreates them from their own stored SQL, so the result is exactly
// the migrated schema. It writes bench.json (who to log in as, what to search) beside the db.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import SqliteDatabase from 'better-sqlite3'
import { loadConfig } from '../../src/config.js'
import { createDb, migrateToLatest } from '../../src/db/index.js'
import { DEMO_PASSWORDS, seedDemo } from '../../src/commands/demo.js'
import { hashPassword } from '../../src/security/password.js'
import { prng, SUBJECTS, textGen, Zipf } from './text.js'

export interface BenchInfo {
  dbFile: string
  tickets: number
  accounts: number
  contacts: number
  notes: number
  events: number
  seedSeconds: number
  phases: Record<string, number>
  dbBytes: number
  client: { email: string; password: string; accountId: number; accountTickets: number }
  staff: { email: string; password: string }
  search: { word: string; matches: number; share: number }
  ticketNumbers: number[]
}

const DAY = 86_400_000
const HOUR = 3_600_000

function log(msg: string) {
  process.stdout.write(`${msg}\n`)
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9
}

function fileBytes(file: string): number {
  let total = 0
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) total += statSync(f).size
  return total
}

export function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`
}

type Weighted<T> = readonly (readonly [T, number])[]

function weighted<T>(rand: () => number, items: Weighted<T>): T {
  let r = rand()
  for (const [item, w] of items) {
    if (r < w) return item
    r -= w
  }
  return items[items.length - 1][0]
}

// [state, status] by age: recent tickets are mostly still being worked on, old ones closed.
// Overall about 10% end up open / in progress / on hold.
type StateStatus = readonly [string, string]
const RECENT: Weighted<StateStatus> = [
  [['open', 'new'], 0.25], [['in_progress', 'analysis'], 0.22], [['in_progress', 'escalated'], 0.05],
  [['on_hold', 'pending'], 0.1], [['resolved', 'waiting_for_closure'], 0.15], [['closed', 'completed'], 0.18],
  [['cancelled', 'cancelled'], 0.05]
]
const MONTHS: Weighted<StateStatus> = [
  [['open', 'new'], 0.05], [['in_progress', 'analysis'], 0.07], [['in_progress', 'escalated'], 0.01],
  [['on_hold', 'pending'], 0.03], [['resolved', 'waiting_for_closure'], 0.03], [['resolved', 'accepted'], 0.01],
  [['closed', 'completed'], 0.75], [['cancelled', 'cancelled'], 0.05]
]
const OLD: Weighted<StateStatus> = [
  [['open', 'new'], 0.015], [['in_progress', 'analysis'], 0.025], [['on_hold', 'pending'], 0.02],
  [['closed', 'completed'], 0.88], [['cancelled', 'cancelled'], 0.06]
]
const PRIORITY: Weighted<string> = [['low', 0.3], ['medium', 0.45], ['high', 0.2], ['critical', 0.05]]
const SOURCE: Weighted<string> = [['portal', 0.68], ['email', 0.22], ['api', 0.05], ['phone', 0.05]]
const NOTE_COUNT: Weighted<number> = [[1, 0.12], [2, 0.24], [3, 0.28], [4, 0.2], [5, 0.16]]
const COMPANY_A = ['Northwind', 'Blue Harbor', 'Vertex', 'Solaris', 'Iberia', 'Atlas', 'Quantum', 'Redwood', 'Pioneer', 'Lumen',
  'Granite', 'Cobalt', 'Aurora', 'Summit', 'Harbor', 'Nimbus', 'Orion', 'Silverline', 'Evergreen', 'Meridian']
const COMPANY_B = ['Logistics', 'Foods', 'Health', 'Bank', 'Retail', 'Energy', 'Telecom', 'Insurance', 'Labs', 'Motors',
  'Hotels', 'Pharma', 'Media', 'Airlines', 'Textiles', 'Software', 'Construction', 'Education', 'Legal', 'Farms']

export async function seed(opts: { data?: string; tickets: number; accounts: number; seed: number; force: boolean }): Promise<BenchInfo> {
  const started = process.hrtime.bigint()
  const phases: Record<string, number> = {}
  const dir = resolve(opts.data ?? mkdtempSync(join(tmpdir(), 'casebridge-bench-')))
  mkdirSync(dir, { recursive: true })
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', SEED: 'none' })
  const file = config.databaseUrl.slice('sqlite:'.length)
  if (existsSync(file)) {
    if (!opts.force) throw new Error(`${file} exists: pass --force to replace it`)
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
  }
  log(`seeding ${opts.tickets.toLocaleString('en')} tickets, ${opts.accounts.toLocaleString('en')} accounts into ${file}`)

  // 1. The migrated schema and the demo organisation, through the application's own code.
  let t0 = process.hrtime.bigint()
  const now = new Date()
  const kdb = await createDb(config.databaseUrl)
  await migrateToLatest(kdb)
  await seedDemo(kdb, now)
  const clientHash = await hashPassword(DEMO_PASSWORDS.client)
  await kdb.destroy()
  phases.demo = seconds(t0)

  // 2. Bulk load with raw statements.
  const db = new SqliteDatabase(file)
  db.pragma('journal_mode = OFF')
  db.pragma('synchronous = OFF')
  db.pragma('locking_mode = EXCLUSIVE')
  db.pragma('cache_size = -1000000')
  db.pragma('temp_store = MEMORY')
  db.pragma('foreign_keys = OFF')

  const rand = prng(opts.seed)
  const text = textGen(rand)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]

  const desks = db.prepare('SELECT id, name FROM desk ORDER BY id').all() as { id: number; name: string }[]
  const members = db.prepare(`SELECT dm.desk_id, s.id, s.name FROM desk_member dm JOIN staff s ON s.id = dm.staff_id WHERE s.role = 'staff'`).all() as { desk_id: number; id: number; name: string }[]
  const restricted = db.prepare('SELECT staff_id, product_id FROM staff_product').all() as { staff_id: number; product_id: number }[]
  const deskProducts = db.prepare('SELECT desk_id, product_id FROM desk_product').all() as { desk_id: number; product_id: number }[]
  const deskItems = db.prepare('SELECT dc.desk_id, c.id, c.ticket_type FROM desk_category dc JOIN category c ON c.id = dc.category_id').all() as { desk_id: number; id: number; ticket_type: string }[]
  const sla = new Map((db.prepare('SELECT priority, response_minutes, resolution_minutes FROM sla_policy').all() as { priority: string; response_minutes: number; resolution_minutes: number }[]).map((r) => [r.priority, r]))
  const productsOf = new Map(desks.map((d) => [d.id, deskProducts.filter((p) => p.desk_id === d.id).map((p) => p.product_id)]))
  const itemsOf = new Map(desks.map((d) => [d.id, deskItems.filter((c) => c.desk_id === d.id)]))
  const productDesks = desks.filter((d) => productsOf.get(d.id)!.length > 0)
  const itemDesks = desks.filter((d) => itemsOf.get(d.id)!.length > 0)
  if (productDesks.length === 0 || itemDesks.length === 0 || members.length === 0) throw new Error('demo organisation has no desks/catalog/staff')

  /** Staff who may work a desk/product (a product restriction narrows, as in assignment). */
  const eligible = new Map<string, { id: number; name: string }[]>()
  const eligibleFor = (deskId: number, productId: number | null) => {
    const key = `${deskId}:${productId}`
    let list = eligible.get(key)
    if (!list) {
      list = members.filter((m) => m.desk_id === deskId).filter((m) => {
        const own = restricted.filter((r) => r.staff_id === m.id)
        return own.length === 0 || (productId !== null && own.some((r) => r.product_id === productId))
      })
      if (list.length === 0) list = members.filter((m) => m.desk_id === deskId)
      eligible.set(key, list)
    }
    return list
  }

  // Secondary indexes and the FTS insert trigger go while loading and come back after.
  const dropped = db.prepare(`SELECT type, name, sql FROM sqlite_master
    WHERE ((type = 'index' AND tbl_name IN ('ticket', 'note', 'ticket_event', 'contact_account')) OR (type = 'trigger' AND name = 'ticket_fts_ai'))
      AND sql IS NOT NULL`).all() as { type: string; name: string; sql: string }[]
  for (const d of dropped) db.exec(`DROP ${d.type === 'index' ? 'INDEX' : 'TRIGGER'} "${d.name}"`)

  // Accounts and contacts.
  t0 = process.hrtime.bigint()
  const insertAccount = db.prepare('INSERT INTO account (id, name, created_at) VALUES (?, ?, ?)')
  const insertContact = db.prepare('INSERT INTO contact (id, name, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
  const insertLink = db.prepare('INSERT INTO contact_account (contact_id, account_id, is_manager) VALUES (?, ?, ?)')
  const firstAccount = (db.prepare('SELECT coalesce(max(id), 0) + 1 AS n FROM account').get() as { n: number }).n
  let nextContact = (db.prepare('SELECT coalesce(max(id), 0) + 1 AS n FROM contact').get() as { n: number }).n
  const accountIds: number[] = []
  const accountContacts: number[][] = []
  const contactNames = new Map<number, string>()
  const start = now.getTime() - 3 * 365 * DAY
  db.transaction(() => {
    for (let a = 0; a < opts.accounts; a++) {
      const id = firstAccount + a
      const name = `${pick(COMPANY_A)} ${pick(COMPANY_B)} ${String(a + 1).padStart(4, '0')}`
      insertAccount.run(id, name, new Date(start - DAY * (30 + Math.floor(rand() * 700))).toISOString())
      accountIds.push(id)
      const people: number[] = []
      const count = 2 + Math.floor(rand() * 3) // 2..4, about 3
      for (let c = 0; c < count; c++) {
        const cid = nextContact++
        const name = text.personName()
        insertContact.run(cid, name, `${name.toLowerCase().replace(/\s+/g, '.')}.${cid}@account${a + 1}.bench.test`, clientHash,
          new Date(start - DAY * Math.floor(rand() * 30)).toISOString())
        insertLink.run(cid, id, c === 0 ? 1 : 0)
        contactNames.set(cid, name)
        people.push(cid)
      }
      accountContacts.push(people)
    }
  })()
  phases.accounts = seconds(t0)

  // Tickets, notes and history, oldest first (ids follow creation time, as in real life).
  t0 = process.hrtime.bigint()
  const insertTicket = db.prepare(`INSERT INTO ticket (id, number, title, description, url, ticket_type, account_id, contact_id,
    created_by_staff_id, product_id, category_id, desk_id, priority, source, state, status, assignee_id,
    response_due_at, resolution_due_at, first_response_at, sla_paused_at, resolution, resolved_at, closed_at, cancel_reason, version,
    created_at, updated_at) VALUES (${Array(28).fill('?').join(', ')})`)
  const insertNote = db.prepare(`INSERT INTO note (ticket_id, kind, visibility, body, author_staff_id, author_contact_id,
    author_name, source, send_email, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const insertEvent = db.prepare(`INSERT INTO ticket_event (ticket_id, actor_type, actor_id, actor_name, action, field, to_value, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
  const firstTicket = (db.prepare('SELECT coalesce(max(id), 0) + 1 AS n FROM ticket').get() as { n: number }).n
  const firstNumber = (db.prepare(`SELECT coalesce(max(number), 0) + 1 AS n FROM ticket`).get() as { n: number }).n
  const accountPick = new Zipf(opts.accounts, 0.6)
  // A pool of note bodies: notes are not searched, so variety there only costs time.
  const replies = Array.from({ length: 20_000 }, () => text.reply())
  const span = now.getTime() - HOUR - start
  const step = span / opts.tickets
  const iso = (ms: number) => new Date(ms).toISOString()
  let notes = 0
  let events = 0
  const batch = 50_000
  for (let from = 0; from < opts.tickets; from += batch) {
    db.transaction(() => {
      for (let i = from; i < Math.min(from + batch, opts.tickets); i++) {
        const id = firstTicket + i
        const created = Math.floor(start + i * step + rand() * step * 0.9)
        const age = 1 - i / opts.tickets
        const [state, status] = weighted(rand, age < 0.03 ? RECENT : age < 0.15 ? MONTHS : OLD)
        const a = accountPick.pick(rand)
        const people = accountContacts[a]
        const contactId = rand() < 0.4 ? people[0] : pick(people)
        const byProduct = rand() < 0.5
        const desk = byProduct ? pick(productDesks) : pick(itemDesks)
        const product = byProduct ? pick(productsOf.get(desk.id)!) : null
        const item = byProduct ? null : pick(itemsOf.get(desk.id)!)
        const staff = eligibleFor(desk.id, product)
        const assignee = state === 'open' && rand() < 0.05 ? null : pick(staff)
        const priority = weighted(rand, PRIORITY)
        const policy = sla.get(priority)!
        const { text: title, subject } = text.title()
        const closedish = state === 'closed' || state === 'resolved' || state === 'cancelled'
        const firstResponse = state === 'open' && status === 'new' ? null : created + Math.floor(rand() * policy.response_minutes * 60_000 * 1.3)
        // Resolved within 1.2 × the target: about 83% of finished tickets achieve their SLA.
        // Nothing is finished in the future: recent tickets are resolved by now at the latest.
        const worked = closedish ? Math.max(created + Math.floor(rand() * policy.resolution_minutes * 60_000 * 1.2), firstResponse ?? created) + 10 * 60_000 : null
        const done = worked === null ? null : Math.max(Math.min(worked, now.getTime() - 2 * HOUR), created + 60_000)
        const closedAt = done === null ? null : Math.min(done + DAY, Math.max(now.getTime() - HOUR, done))
        // On hold pauses the SLA clock (as the hold action does); most pauses begin before the
        // target passes. A hash of the id, not rand(), so every other value stays as it was.
        const paused = state === 'on_hold' && firstResponse !== null
          ? Math.min(firstResponse + Math.floor(((id * 2654435761) % 2 ** 32) / 2 ** 32 * policy.resolution_minutes * 60_000 * 1.2), now.getTime() - 60_000)
          : null
        const staffOnBehalf = rand() < 0.05 ? pick(staff).id : null
        insertTicket.run(
          id, firstNumber + i, title, text.description(subject), rand() < 0.1 ? `https://app.example.com/item/${id}` : null,
          item?.ticket_type ?? 'incident', accountIds[a], contactId, staffOnBehalf, product, item?.id ?? null, desk.id,
          priority, staffOnBehalf ? 'phone' : weighted(rand, SOURCE), state, status, assignee?.id ?? null,
          iso(created + policy.response_minutes * 60_000), iso(created + policy.resolution_minutes * 60_000),
          firstResponse === null ? null : iso(firstResponse), paused === null ? null : iso(paused),
          state === 'closed' || state === 'resolved' ? 'Fixed and confirmed with the requester.' : null,
          state === 'closed' || state === 'resolved' ? iso(done!) : null,
          state === 'closed' || state === 'cancelled' ? iso(closedAt!) : null,
          state === 'cancelled' ? 'No longer needed.' : null,
          1, iso(created), iso(done ?? firstResponse ?? created)
        )
        insertEvent.run(id, staffOnBehalf ? 'staff' : 'contact', staffOnBehalf ?? contactId, null, 'created', null, null, iso(created))
        events++
        if (assignee) {
          insertEvent.run(id, 'system', null, null, 'assigned', 'assignee', assignee.name, iso(created))
          events++
        }
        // A brand-new ticket has not been answered yet; every other one has a conversation.
        const count = firstResponse === null ? (rand() < 0.5 ? 0 : 1) : weighted(rand, NOTE_COUNT)
        let at = firstResponse ?? created + HOUR
        for (let n = 0; n < count; n++) {
          const internal = n > 0 && rand() < 0.15
          const fromStaff = internal || n % 2 === 0
          const author = fromStaff ? (assignee ?? pick(staff)) : null
          insertNote.run(id, internal ? 'internal' : 'reply', internal ? 'internal' : 'public', pick(replies),
            author?.id ?? null, fromStaff ? null : contactId, author?.name ?? contactNames.get(contactId) ?? null,
            fromStaff ? 'portal' : weighted(rand, SOURCE), fromStaff && !internal ? 1 : 0, iso(at))
          at += Math.floor(rand() * 2 * DAY) + 60_000
          notes++
        }
      }
    })()
    const done = Math.min(from + batch, opts.tickets)
    if (done % 200_000 === 0 || done === opts.tickets) log(`  ${done.toLocaleString('en')} tickets, ${notes.toLocaleString('en')} notes (${seconds(t0).toFixed(0)} s)`)
  }
  db.prepare(`UPDATE counter SET value = ? WHERE name = 'ticket_number'`).run(firstNumber + opts.tickets - 1)
  phases.rows = seconds(t0)

  t0 = process.hrtime.bigint()
  for (const d of dropped.filter((x) => x.type === 'index')) db.exec(d.sql)
  phases.indexes = seconds(t0)
  t0 = process.hrtime.bigint()
  db.exec(`INSERT INTO ticket_fts(ticket_fts) VALUES ('rebuild')`)
  for (const d of dropped.filter((x) => x.type === 'trigger')) db.exec(d.sql)
  phases.fts = seconds(t0)

  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  const problems = db.pragma('foreign_key_check(ticket)') as unknown[]
  if (problems.length > 0) throw new Error(`foreign key problems in ticket: ${problems.length}`)

  // What the run will log in as and search for.
  t0 = process.hrtime.bigint()
  const busy = accountIds[0]
  const manager = db.prepare('SELECT c.email FROM contact c JOIN contact_account ca ON ca.contact_id = c.id WHERE ca.account_id = ? AND ca.is_manager = 1').get(busy) as { email: string }
  const accountTickets = (db.prepare('SELECT count(*) AS n FROM ticket WHERE account_id = ?').get(busy) as { n: number }).n
  const ticketNumbers = (db.prepare('SELECT number FROM ticket WHERE account_id = ? ORDER BY random() LIMIT 200').all(busy) as { number: number }[]).map((r) => r.number)
  const total = (db.prepare('SELECT count(*) AS n FROM ticket').get() as { n: number }).n
  // The subject whose share of tickets is nearest 1% (the query is a prefix match, as typed).
  const candidates = SUBJECTS.filter((w) => w.length >= 5)
  const countMatch = db.prepare('SELECT count(*) AS n FROM ticket_fts WHERE ticket_fts MATCH ?')
  const shares = candidates.map((word) => ({ word, matches: (countMatch.get(`"${word}"*`) as { n: number }).n }))
  const best = shares.reduce((a, b) => (Math.abs(b.matches / total - 0.01) < Math.abs(a.matches / total - 0.01) ? b : a))
  phases.pick = seconds(t0)
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()

  const info: BenchInfo = {
    dbFile: file,
    tickets: total,
    accounts: accountIds.length,
    contacts: contactNames.size,
    notes,
    events,
    seedSeconds: seconds(started),
    phases,
    dbBytes: fileBytes(file),
    client: { email: manager.email, password: DEMO_PASSWORDS.client, accountId: busy, accountTickets },
    staff: { email: 'ana@casebridge.test', password: DEMO_PASSWORDS.staff },
    search: { word: best.word, matches: best.matches, share: best.matches / total },
    ticketNumbers
  }
  writeFileSync(join(dir, 'bench.json'), JSON.stringify(info, null, 2))
  log(`search words (matches): ${shares.filter((s) => s.matches / total < 0.05).map((s) => `${s.word} ${s.matches}`).join(', ')}`)
  log(`phases (s): ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`)
  log(`seeded in ${info.seedSeconds.toFixed(1)} s; database ${formatBytes(info.dbBytes)} (${file})`)
  log(`busy account ${busy}: ${accountTickets.toLocaleString('en')} tickets, manager ${manager.email}; search word "${best.word}" matches ${best.matches} (${(info.search.share * 100).toFixed(2)}%)`)
  log(`data dir: ${dir}`)
  return info
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/portal/seed.ts')
if (isMain) {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      tickets: { type: 'string', default: '1000000' },
      accounts: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '42' },
      force: { type: 'boolean', default: false }
    }
  })
  seed({
    data: values.data, tickets: Number(values.tickets), accounts: Number(values.accounts), seed: Number(values.seed), force: values.force
  }).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  })
}
