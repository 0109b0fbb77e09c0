import t from 'tap'
import { testApp } from '../helpers/app.js'
import { staffActor, contactActor } from '../helpers/tickets.js'
import { COUNT_CAP, countTickets, listTickets, type TicketFilters } from '../../src/db/ticket-search.js'
import { canSeeTicket, type Actor } from '../../src/domain/permissions.js'
import type { Priority, State, Status } from '../../src/domain/lifecycle.js'

// Past the count cap: a list's total stops at COUNT_CAP ("more than"), its pages stay exact, and a
// scope piece that the count read to its end without a match is not read again for the page.
// Ana serves both desks, so her list is read in pieces (desk × state, then her tickets elsewhere);
// products are only ever on Product Support tickets, so a product search finds nothing in the
// Service Desk pieces, which come first.

const { db, ids } = await testApp(t)
const ana = await staffActor(db, ids, 'ana@casebridge.test')
const bruno = await staffActor(db, ids, 'bruno@casebridge.test')
const admin = await staffActor(db, ids, 'admin@casebridge.test')
const alice = await contactActor(db, ids, 'alice@acme.test')
const actors: Record<string, Actor> = { ana, bruno, admin, alice }

const base = await db.selectFrom('ticket').selectAll().where('deleted_at', 'is', null).orderBy('id').executeTakeFirstOrThrow()
const { n: lastNumber } = await db.selectFrom('ticket').select((eb) => eb.fn.max('number').as('n')).executeTakeFirstOrThrow()
const cloud = ids.product['Casebridge Cloud']
const STATES: [State, Status][] = [['open', 'new'], ['in_progress', 'analysis'], ['on_hold', 'pending'], ['closed', 'completed']]
const PRIORITIES: Priority[] = ['low', 'medium', 'high', 'critical']
const T0 = Date.parse('2025-06-01T00:00:00.000Z')
// (PostgreSQL's `search` is generated from the text: it is not written)
const { id: _id, search: _search, ...template } = base as typeof base & { search?: unknown }
const rows = Array.from({ length: 3 * COUNT_CAP }, (_, i) => {
  const onProducts = i % 3 !== 0
  const [state, status] = STATES[i % STATES.length]
  const created = new Date(T0 + i * 60_000).toISOString()
  return {
    ...template,
    number: Number(lastNumber) + 1 + i,
    title: `Bulk ticket ${i}`,
    desk_id: onProducts ? ids.desk['Product Support'] : ids.desk['Service Desk'],
    product_id: onProducts ? cloud : null,
    category_id: onProducts ? null : base.category_id,
    account_id: i % 2 === 0 ? ids.account['Acme Corporation'] : ids.account['Globex Industries'],
    contact_id: i % 2 === 0 ? ids.contact['alice@acme.test'] : ids.contact['gina@globex.test'],
    // a few Service Desk tickets are Carla's, who serves only Product Support: a piece of her own
    assignee_id: i % 7 === 0 ? ids.staff['carla@casebridge.test'] : i % 5 === 0 ? ids.staff['ana@casebridge.test'] : ids.staff['bruno@casebridge.test'],
    priority: PRIORITIES[i % PRIORITIES.length],
    state, status,
    closed_at: state === 'closed' ? created : null,
    resolved_at: state === 'closed' ? created : null,
    created_at: created, updated_at: created,
    crm_case_id: null, crm_case_number: null
  }
})
for (let i = 0; i < rows.length; i += 200) await db.insertInto('ticket').values(rows.slice(i, i + 200)).execute()

const all = await db.selectFrom('ticket').selectAll().where('deleted_at', 'is', null).execute()
/** The tickets a search should list, in the lists' order (newest first). */
function reference(actor: Actor, keep: (r: (typeof all)[number]) => boolean): number[] {
  return all.filter((r) => canSeeTicket(actor, r) && keep(r))
    .sort((a, b) => (a.created_at === b.created_at ? b.id - a.id : a.created_at < b.created_at ? 1 : -1))
    .map((r) => r.number)
}

const CASES: { name: string; filters: TicketFilters; keep: (r: (typeof all)[number]) => boolean }[] = [
  { name: 'product, every state', filters: { productId: cloud }, keep: (r) => r.product_id === cloud },
  { name: 'product + critical, every state', filters: { productId: cloud, priority: 'critical' }, keep: (r) => r.product_id === cloud && r.priority === 'critical' },
  { name: 'product, open', filters: { productId: cloud, situation: 'open' }, keep: (r) => r.product_id === cloud && ['open', 'in_progress', 'on_hold'].includes(r.state) },
  { name: 'critical, every state', filters: { priority: 'critical' }, keep: (r) => r.priority === 'critical' },
  { name: 'no product, closed', filters: { state: 'closed', priority: 'low' }, keep: (r) => r.state === 'closed' && r.priority === 'low' },
  // title words: for clients (and staff, for words in very many titles) tested once on the pieces' rows
  { name: 'title word', filters: { title: 'bulk' }, keep: (r) => r.title.startsWith('Bulk ticket') },
  { name: 'title word + critical + product', filters: { title: 'bulk ticket', priority: 'critical', productId: cloud }, keep: (r) => r.title.startsWith('Bulk ticket') && r.priority === 'critical' && r.product_id === cloud },
  { name: 'title word matching nothing', filters: { title: 'nonesuch' }, keep: () => false },
  // plain lists (read from the index alone): past the cap, the count is remembered for the next pages
  { name: 'plain list', filters: {}, keep: () => true },
  { name: 'plain list, open', filters: { situation: 'open' }, keep: (r) => ['open', 'in_progress', 'on_hold'].includes(r.state) }
]

for (const [who, actor] of Object.entries(actors)) {
  t.test(`${who}: totals stop at the cap, every page is exact`, async (t) => {
    for (const c of CASES) {
      const want = reference(actor, c.keep)
      const perPage = 25
      const first = await listTickets(db, actor, { ...c.filters, page: 1, perPage })
      t.equal(first.total, Math.min(want.length, COUNT_CAP), `${c.name}: total`)
      t.equal(first.totalCapped, want.length > COUNT_CAP, `${c.name}: capped when more than ${COUNT_CAP} match (${want.length})`)
      t.equal(await countTickets(db, actor, c.filters), want.length, `${c.name}: countTickets counts every match`)
      const lastPage = Math.ceil(want.length / perPage)
      for (const page of new Set([1, 2, Math.ceil(COUNT_CAP / perPage), Math.ceil(COUNT_CAP / perPage) + 1, lastPage, lastPage + 1])) {
        const got = page === 1 ? first : await listTickets(db, actor, { ...c.filters, page, perPage })
        t.same(got.items.map((i) => i.number), want.slice((page - 1) * perPage, page * perPage), `${c.name}: page ${page}`)
      }
    }
  })
}

t.test('the dataset reaches past the cap for Ana and the admin, and has empty pieces', async (t) => {
  t.ok(reference(ana, (r) => r.product_id === cloud).length > COUNT_CAP)
  t.equal(reference(ana, (r) => r.product_id === cloud && r.desk_id === ids.desk['Service Desk']).length, 0, 'no product on the Service Desk')
  t.ok(reference(ana, (r) => r.desk_id === ids.desk['Service Desk']).length > 900, 'whose pieces are read first')
  t.ok(reference(bruno, (r) => r.desk_id === ids.desk['Product Support']).length > 0, 'Bruno has tickets outside his desk')
})

t.test('a plain list past the cap is not counted again, and a ticket opened since shows on it at once', async (t) => {
  const before = await listTickets(db, alice, { page: 1, perPage: 10 })
  t.ok(before.totalCapped, 'more than the cap')
  // Alice's own ticket on another account: a scope piece of its own, which had no match before.
  const newest = '2099-01-01T00:00:00.000Z'
  const { n } = await db.selectFrom('ticket').select((eb) => eb.fn.max('number').as('n')).executeTakeFirstOrThrow()
  await db.insertInto('ticket').values({
    ...template, number: Number(n) + 1, title: 'Opened just now', account_id: ids.account['Initech Ltd'], contact_id: ids.contact['alice@acme.test'],
    desk_id: ids.desk['Service Desk'], state: 'open', status: 'new', created_at: newest, updated_at: newest, closed_at: null, resolved_at: null,
    crm_case_id: null, crm_case_number: null
  }).execute()
  const after = await listTickets(db, alice, { page: 1, perPage: 10 })
  t.ok(after.totalCapped, 'still more than the cap')
  t.equal(after.items[0]?.title, 'Opened just now', 'the new ticket heads the first page')
})
