// Checks that listTickets (which reads a scope piece by piece) returns exactly what the plain
// one-query form returns — same rows, same order, same capped total — for many actors and
// filter combinations (the advanced-search filters of issue 6 included), on a copy of a bench
// database with awkward rows added: tickets moved
// out of their requester's managed account, assigned outside the assignee's desks, a third
// desk that splits a staff member's desks, soft-deleted tickets.
//
//   npx tsx bench/portal/equivalence.ts --data DIR [--cases 3000]
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import { createDb, migrateToLatest } from '../../src/db/index.js'
import { listTickets, SITUATIONS, SORTS, type TicketFilters } from '../../src/db/ticket-search.js'
import { loadActor } from '../../src/db/people.js'
import { PRIORITIES } from '../../src/domain/lifecycle.js'
import { SLA_FILTERS, TICKET_TYPES } from '../../src/domain/search.js'
import type { Actor } from '../../src/domain/permissions.js'
import { prng } from './text.js'
import type { BenchInfo } from './seed.js'
import { referenceList } from './reference.js'

async function main() {
  const { values } = parseArgs({ options: { data: { type: 'string' }, cases: { type: 'string', default: '3000' } } })
  const info = JSON.parse(readFileSync(join(resolve(values.data ?? ''), 'bench.json'), 'utf8')) as BenchInfo
  if (info.tickets > 200_000) throw new Error('use a small bench database (e.g. --tickets 50000): every case runs both forms')
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-equiv-'))
  const file = join(dir, 'casebridge.db')
  copyFileSync(info.dbFile, file)
  const db = await createDb(`sqlite:${file}`)
  try {
    await migrateToLatest(db)
    const rand = prng(7)
    const now = new Date().toISOString()
    // Awkward rows.
    const desk3 = (await db.insertInto('desk').values({ name: 'Field Services', created_at: now }).returning('id').executeTakeFirstOrThrow()).id
    const bruno = (await db.selectFrom('staff').select('id').where('email', '=', 'bruno@casebridge.test').executeTakeFirstOrThrow()).id
    const serviceDesk = (await db.selectFrom('desk').select('id').where('name', '=', 'Service Desk').executeTakeFirstOrThrow()).id
    await db.insertInto('desk_member').values({ desk_id: desk3, staff_id: bruno }).execute()
    await sql`UPDATE ticket SET desk_id = ${desk3} WHERE id IN (SELECT id FROM ticket WHERE id % 97 = 0)`.execute(db)
    await sql`UPDATE ticket SET assignee_id = ${bruno} WHERE id IN (SELECT id FROM ticket WHERE desk_id <> ${serviceDesk} AND desk_id <> ${desk3} AND id % 89 = 0)`.execute(db)
    await sql`UPDATE ticket SET deleted_at = ${now} WHERE id % 83 = 0`.execute(db)
    const managers = await db.selectFrom('contact_account').select(['contact_id', 'account_id']).where('is_manager', '=', 1).limit(40).execute()
    for (const m of managers.slice(0, 20)) {
      // Own tickets moved to another account (a transfer): still theirs, no longer the managed account's.
      await sql`UPDATE ticket SET account_id = ${m.account_id + 7} WHERE contact_id = ${m.contact_id} AND id % 5 = 0`.execute(db)
    }
    const client = managers[0]
    // A manager of two accounts that are not neighbours, and of the busy one.
    await db.insertInto('contact_account').values({ contact_id: client.contact_id, account_id: client.account_id + 3, is_manager: 1 }).onConflict((oc) => oc.doNothing()).execute()

    // A manager of 25 scattered accounts: many pieces, and past the piece limit once cut per state.
    const reseller = managers[1]
    for (let k = 1; k <= 24; k++) {
      await db.insertInto('contact_account').values({ contact_id: reseller.contact_id, account_id: reseller.account_id + 2 * k + 1, is_manager: 1 })
        .onConflict((oc) => oc.doNothing()).execute()
    }
    const contactIds = (await db.selectFrom('contact').select('id').orderBy('id').execute()).map((r) => r.id)
    const staffIds = (await db.selectFrom('staff').select('id').execute()).map((r) => r.id)
    const actors: Actor[] = []
    for (const id of [client.contact_id, reseller.contact_id, reseller.contact_id, reseller.contact_id, ...managers.map((m) => m.contact_id), ...contactIds.slice(0, 12), ...contactIds.filter(() => rand() < 0.002)]) {
      const a = await loadActor(db, 'contact', id)
      if (a) actors.push(a)
    }
    for (const id of staffIds) {
      const a = await loadActor(db, 'staff', id)
      if (a) actors.push(a)
    }
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
    const someNumber = (await db.selectFrom('ticket').select('number').where('id', '=', 1234).executeTakeFirst())?.number ?? 1
    const words = ['', '', '', info.search.word, 'printer', 'vpn login', 'kiosk', 'barcode', 'zzzznotaword', `#${someNumber}`, String(someNumber), '!!!']
    const cases = Number(values.cases)
    let failures = 0
    // How often the awkward paths were exercised (rows from the "elsewhere" pieces, staff searches read from their matches).
    const seen = { elsewhere: 0, ftsFirst: 0, capped: 0 }
    const placeOf = new Map((await db.selectFrom('ticket').select(['id', 'account_id', 'desk_id', 'contact_id']).execute()).map((r) => [r.id, r]))
    const places = [...placeOf.values()]
    const deskIds = (await db.selectFrom('desk').select('id').execute()).map((r) => r.id)
    const categories = await db.selectFrom('category').select(['id', 'parent_id']).execute()
    const areaIds = categories.filter((c) => c.parent_id === null).map((c) => c.id)
    const itemIds = categories.filter((c) => c.parent_id !== null).map((c) => c.id)
    const productIds = (await db.selectFrom('product').select('id').execute()).map((r) => r.id)
    const nowMs = Date.now()
    const day = (ago: number) => new Date(nowMs - ago * 86_400_000).toISOString().slice(0, 10)
    const maybe = <T>(p: number, value: () => T): T | undefined => (rand() < p ? value() : undefined)
    for (let i = 0; i < cases; i++) {
      const actor = pick(actors)
      const f: TicketFilters = {
        q: pick(words) || undefined,
        situation: pick(SITUATIONS),
        state: rand() < 0.15 ? pick(['open', 'closed', 'in_progress', 'resolved']) : undefined,
        status: rand() < 0.08 ? pick(['new', 'analysis', 'completed']) : undefined,
        scope: actor.kind === 'staff' ? pick(['desks', 'mine', 'unassigned'] as const) : undefined,
        sort: pick(SORTS),
        order: pick(['asc', 'desc'] as const),
        page: pick([1, 1, 1, 2, 3, 7, 40]),
        perPage: pick([20, 25, 100]),
        // The advanced search: usually one or two of these at once.
        title: maybe(0.06, () => pick(['printer', 'vpn', info.search.word, 'zzzznotaword'])),
        openedFrom: maybe(0.15, () => day(pick([3, 30, 90, 400]))),
        openedTo: maybe(0.08, () => day(pick([1, 20, 60, 200]))),
        closedFrom: maybe(0.08, () => day(pick([10, 60, 365]))),
        closedTo: maybe(0.06, () => day(pick([2, 30, 120]))),
        deskId: maybe(0.1, () => pick(deskIds)),
        ticketType: maybe(0.08, () => pick(TICKET_TYPES)),
        areaId: maybe(0.08, () => pick(areaIds)),
        categoryId: maybe(0.05, () => pick(itemIds)),
        productId: maybe(0.08, () => pick(productIds)),
        priority: maybe(0.15, () => pick(PRIORITIES)),
        assigneeId: actor.kind === 'staff' ? maybe(0.08, () => pick([...staffIds, 'none' as const])) : undefined,
        requesterId: maybe(0.06, () => pick(places).contact_id),
        accountId: maybe(0.05, () => pick(places).account_id),
        sla: maybe(0.1, () => pick(SLA_FILTERS)),
        now: new Date(nowMs)
      }
      const want = await referenceList(db, actor, f)
      const got = await listTickets(db, actor, f)
      const gotIds = got.items.map((r) => r.id)
      if (want.ids.some((id) => actor.kind === 'contact'
        ? actor.managerAccountIds.length > 0 && !actor.managerAccountIds.includes(placeOf.get(id)!.account_id)
        : actor.role !== 'admin' && !actor.deskIds.includes(placeOf.get(id)!.desk_id))) seen.elsewhere++
      if (actor.kind === 'staff' && f.q && !/^#?\d+$/.test(f.q) && want.total > 0 && want.total <= 2000) seen.ftsFirst++
      if (want.capped) seen.capped++
      if (JSON.stringify(gotIds) !== JSON.stringify(want.ids) || got.total !== want.total || got.totalCapped !== want.capped) {
        failures++
        if (failures <= 5) {
          process.stdout.write(`MISMATCH ${actor.kind}:${actor.id} ${JSON.stringify(f)}\n  want ${want.total}${want.capped ? '+' : ''} ${want.ids.slice(0, 8)}\n  got  ${got.total}${got.totalCapped ? '+' : ''} ${gotIds.slice(0, 8)}\n`)
        }
      }
    }
    process.stdout.write(`${cases} cases, ${actors.length} actors: ${failures === 0 ? 'all equal' : `${failures} mismatches`} (pages with rows from elsewhere pieces: ${seen.elsewhere}, staff searches read from matches: ${seen.ftsFirst}, capped totals: ${seen.capped})\n`)
    if (failures > 0) process.exitCode = 1
  } finally {
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
