// Each staff member's kept open-ticket count (what least-load assignment reads) equals the real
// count after any sequence of writes, on SQLite and PostgreSQL:
//   npx tap test/db/staff-load.test.ts
//   scripts/pg-test.sh test/db/staff-load.test.ts
import t from 'tap'
import { testApp, type TestEnv } from '../helpers/app.js'
import { depsAt } from '../helpers/commands.js'
import { insertTicket, updateTicket } from '../../src/db/ticket-write.js'
import { staffLoadDrift } from '../../src/db/ticket.js'
import { loadActor } from '../../src/db/people.js'
import { personWho } from '../../src/commands/kernel.js'
import { openTicket } from '../../src/commands/open-ticket.js'
import { transferTicket } from '../../src/commands/transfer.js'
import { performTransition, type TransitionAction } from '../../src/commands/lifecycle/index.js'
import { deleteTicket } from '../../src/commands/delete-ticket.js'
import { checkStaffLoads } from '../../src/commands/assignment.js'
import { runCli, UsageError } from '../../src/cli.js'
import { OPEN_STATES, STATUS_STATE, STATUSES, type Status } from '../../src/domain/lifecycle.js'

/** A small seeded random generator, so a failure can be replayed from its seed. */
function prng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const kept = async (e: TestEnv) => new Map((await e.db.selectFrom('staff').select(['id', 'open_tickets']).execute()).map((s) => [s.id, Number(s.open_tickets)]))

t.test('10,000 random inserts, reassignments, state changes, deletions and restorations: the kept counts equal the real ones', async (t) => {
  const e = await testApp(t)
  const seed = Number(process.env.LOAD_SEED ?? Date.now() % 100000)
  const random = prng(seed)
  t.comment(`seed ${seed} (LOAD_SEED=${seed} replays it)`)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]
  const staffIds = [...Object.values(e.ids.staff), null]
  const base = await e.db.selectFrom('ticket').selectAll().orderBy('id').executeTakeFirstOrThrow()
  // The model: what each ticket is now, so the expected counts are computed apart from the database.
  const tickets = new Map<number, { version: number; assignee: number | null; status: Status; deleted: boolean }>()
  for (const row of await e.db.selectFrom('ticket').select(['id', 'version', 'assignee_id', 'status', 'deleted_at']).execute()) {
    tickets.set(row.id, { version: row.version, assignee: row.assignee_id, status: row.status, deleted: row.deleted_at !== null })
  }
  const expected = () => {
    const counts = new Map<number, number>()
    for (const ticket of tickets.values()) {
      if (ticket.assignee !== null && !ticket.deleted && (OPEN_STATES as readonly string[]).includes(STATUS_STATE[ticket.status])) {
        counts.set(ticket.assignee, (counts.get(ticket.assignee) ?? 0) + 1)
      }
    }
    return counts
  }
  let number = 100_000
  const at = new Date().toISOString()
  const ops = { insert: 0, reassign: 0, status: 0, several: 0, softDelete: 0, restore: 0, delete: 0, untouched: 0 }
  for (let i = 1; i <= 10_000; i++) {
    const ids = [...tickets.keys()]
    const roll = random()
    if (roll < 0.2 || ids.length < 20) {
      const status = pick(STATUSES)
      const assignee = pick(staffIds)
      const deleted = random() < 0.1
      const row = await insertTicket(e.db, {
        number: ++number, title: `Random ${i}`, description: 'x', ticket_type: base.ticket_type, account_id: base.account_id, contact_id: base.contact_id,
        desk_id: base.desk_id, product_id: base.product_id, priority: 'medium', source: 'portal', state: STATUS_STATE[status], status,
        assignee_id: assignee, deleted_at: deleted ? at : null, created_at: at, updated_at: at
      })
      tickets.set(row.id, { version: row.version, assignee, status, deleted })
      ops.insert++
      continue
    }
    const id = pick(ids)
    const ticket = tickets.get(id)!
    if (roll < 0.25) {
      await e.db.deleteFrom('ticket_event').where('ticket_id', '=', id).execute()
      const removed = await e.db.deleteFrom('ticket').where('id', '=', id).where('parent_id', 'is', null)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('ticket as child').select('child.id').whereRef('child.parent_id', '=', 'ticket.id'))))
        .executeTakeFirst().catch(() => null)
      if (removed && Number(removed.numDeletedRows) === 1) {
        tickets.delete(id)
        ops.delete++
      } else ops.untouched++
      continue
    }
    const changes: { assignee_id?: number | null; state?: (typeof STATUS_STATE)[Status]; status?: Status; deleted_at?: string | null; title?: string } = {}
    if (roll < 0.5) {
      changes.assignee_id = pick(staffIds)
      ops.reassign++
    } else if (roll < 0.75) {
      const status = pick(STATUSES)
      Object.assign(changes, { status, state: STATUS_STATE[status] })
      ops.status++
    } else if (roll < 0.85) {
      const status = pick(STATUSES)
      Object.assign(changes, { status, state: STATUS_STATE[status], assignee_id: pick(staffIds), deleted_at: random() < 0.5 ? at : null })
      ops.several++
    } else if (roll < 0.93) {
      changes.deleted_at = ticket.deleted ? null : at
      if (ticket.deleted) ops.restore++
      else ops.softDelete++
    } else {
      changes.title = `Retitled ${i}` // touches none of the counted columns
      ops.untouched++
    }
    if (!(await updateTicket(e.db, id, ticket.version, changes, at))) t.fail(`update of ${id} refused`)
    tickets.set(id, {
      version: ticket.version + 1,
      assignee: changes.assignee_id !== undefined ? changes.assignee_id : ticket.assignee,
      status: changes.status ?? ticket.status,
      deleted: changes.deleted_at !== undefined ? changes.deleted_at !== null : ticket.deleted
    })
    if (i % 1000 === 0) {
      const want = expected()
      const have = await kept(e)
      const wrong = [...have].filter(([staffId, n]) => n !== (want.get(staffId) ?? 0))
      if (wrong.length > 0) t.fail(`after ${i} writes (seed ${seed}) the kept counts differ: ${JSON.stringify(wrong)} vs ${JSON.stringify([...want])}`)
    }
  }
  t.comment(JSON.stringify(ops))
  t.ok(ops.delete > 100 && ops.reassign > 1000 && ops.status > 1000 && ops.softDelete > 100 && ops.restore > 100, 'every kind of write happened')
  const want = expected()
  t.same(Object.fromEntries(await kept(e)), Object.fromEntries(Object.values(e.ids.staff).map((id) => [id, want.get(id) ?? 0])), 'equal to the model')
  t.same(await staffLoadDrift(e.db), [], 'and to the database\'s own count')
  t.ok([...want.values()].some((n) => n > 0), 'with real load to count')
})

t.test('commands at once: creates, transfers both ways between two people, transitions and deletions leave no drift', async (t) => {
  const e = await testApp(t)
  const deps = depsAt(e.db)
  const ana = (await loadActor(e.db, 'staff', e.ids.staff['ana@casebridge.test']))!
  const admin = (await loadActor(e.db, 'staff', e.ids.staff['admin@casebridge.test']))!
  const alice = (await loadActor(e.db, 'contact', e.ids.contact['alice@acme.test']))!
  const productId = e.ids.product['Casebridge Cloud']
  const desk = await e.db.selectFrom('desk_member').select('staff_id').where('desk_id', '=', e.ids.desk['Product Support']).execute()
  const [p, q] = desk.map((d) => d.staff_id)
  const existing = await e.db.selectFrom('ticket').select(['id', 'assignee_id']).where('state', 'in', OPEN_STATES).where('desk_id', '=', e.ids.desk['Product Support']).execute()
  const results = await Promise.all([
    ...Array.from({ length: 60 }, (_, i) => openTicket(deps, personWho(alice), {
      accountId: null, contactId: null, productId, categoryId: null, deskId: null, priority: null, title: `At once ${i}`, description: 'x', url: '', source: 'api'
    })),
    ...existing.map((ticket, i) => transferTicket(deps, personWho(ana), { ticketId: ticket.id, assigneeId: i % 2 ? p : q, note: 'Swap.' })),
    ...existing.slice(0, 3).map((ticket) => performTransition(deps, personWho(ana), 'pick_up' as TransitionAction, { ticketId: ticket.id })),
    ...existing.slice(3, 5).map((ticket) => deleteTicket(deps, personWho(admin), { ticketId: ticket.id, reason: 'Duplicate' }))
  ])
  const faults = results.filter((r) => !r.ok && !['conflict', 'nothing_to_change', 'not_allowed', 'invalid'].includes(r.refusal.code))
  t.same(faults.map((r) => !r.ok && r.refusal.code), [], 'only refusals a race explains')
  t.same(await staffLoadDrift(e.db), [], 'no drift')
  t.equal((await checkStaffLoads(deps, { repair: false })).length, 0, 'the doctor agrees')
})

t.test('casebridge doctor reports a count that drifted and --repair sets it right', async (t) => {
  const e = await testApp(t)
  const ana = e.ids.staff['ana@casebridge.test']
  const printed: string[] = []
  const out = (line: string) => printed.push(line)
  await runCli(['doctor'], e.db, out)
  t.same(printed, ['staff open-ticket counts: all equal to the tickets'])
  const real = (await kept(e)).get(ana)!
  await e.db.updateTable('staff').set({ open_tickets: real + 7 }).where('id', '=', ana).execute()
  printed.length = 0
  await t.rejects(runCli(['doctor'], e.db, out), UsageError, 'a drift fails the check (exit status 2)')
  t.match(printed.join('\n'), new RegExp(`staff #${ana} .*: kept ${real + 7} open tickets, real ${real}`))
  printed.length = 0
  await runCli(['doctor', '--repair'], e.db, out)
  t.match(printed.join('\n'), /repaired 1 staff open-ticket count/)
  t.equal((await kept(e)).get(ana), real)
  t.same(await staffLoadDrift(e.db), [])
})
