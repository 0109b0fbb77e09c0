import t from 'tap'
import { testApp, loginAs, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { transition, performerOf } from '../../src/commands/transitions.js'
import { addNote } from '../../src/db/ticket.js'

const T0 = new Date('2026-03-02T09:00:00.000Z')
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000)
/** The app's "now": 60 h after T0, so a medium ticket from T0 (72 h limit) is past 75 % of it. */
const NOW = hours(60)

/** A figure on the dashboard: its number and, when it has one, the queue link it carries. */
function figure(html: string, key: string): { n: number; href: string | null } | null {
  const m = new RegExp(`data-figure="${key}">[\\s\\S]*?<td class="num">(?:<a href="([^"]*)">)?(\\d+)`).exec(html)
  return m ? { n: Number(m[2]), href: m[1] ? m[1].replace(/&amp;/g, '&') : null } : null
}

function requesterRow(html: string, email: string) {
  const m = new RegExp(`data-requester="${email}">[\\s\\S]*?class="num total">(\\d+)[\\s\\S]*?class="num open">(\\d+)[\\s\\S]*?class="num on-hold">(\\d+)[\\s\\S]*?class="num closed">(\\d+)`).exec(html)
  return m ? { total: Number(m[1]), open: Number(m[2]), onHold: Number(m[3]), closed: Number(m[4]) } : null
}

/**
 * The demo tickets are set aside (soft-deleted) so every figure comes from these:
 * Service Desk (Bob, Printer problem): breached open, at-risk in progress, on hold, resolved in time;
 * Product Support (Hank, Casebridge Cloud): on-track open, breached open.
 */
async function scenario(env: TestEnv) {
  const { db, ids } = env
  await db.updateTable('ticket').set({ deleted_at: T0.toISOString() }).execute()
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const staff = performerOf(ana)
  const sd = (title: string, now: Date) => makeTicket(db, ids, { title, now })
  const ps = (title: string, now: Date) => makeTicket(db, ids, { title, now, desk: 'Product Support', contact: 'hank@globex.test', account: 'Globex Industries' })

  await sd('SD breached', T0)
  const atRisk = await sd('SD at risk', T0)
  await transition(db, staff, atRisk.id, { action: 'pick_up' }, hours(1))
  await addNote(db, { ticketId: atRisk.id, kind: 'reply', visibility: 'public', source: 'portal', files: [], body: 'Looking at it.' },
    { actor: { type: 'staff', id: ana.id, name: ana.name }, now: hours(1).toISOString() })
  const held = await sd('SD on hold', hours(59))
  await transition(db, staff, held.id, { action: 'pick_up' }, hours(59))
  await transition(db, staff, held.id, { action: 'hold', reason: 'Waiting for the vendor' }, hours(59))
  const done = await sd('SD resolved', T0)
  await transition(db, staff, done.id, { action: 'pick_up' }, hours(1))
  await transition(db, staff, done.id, { action: 'resolve', resolution: 'Replaced the roller.' }, hours(2))
  await ps('PS on track', hours(59))
  await ps('PS breached', T0)
  // Outside the default 30-day window of the request summary.
  await sd('SD old one', new Date(NOW.getTime() - 40 * 86_400_000))
}

t.test('dashboard figures: admin sees all, staff only their desks, figures link to the queue', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  await scenario(env)
  const { app, db } = env

  const admin = await loginAs(app, 'admin@casebridge.test')
  const page = await admin.get('/desk/dashboard')
  t.equal(page.statusCode, 200)
  const html = page.body
  t.match(html, 'href="/desk/dashboard"', 'the staff nav links to the dashboard')
  // SD old one is open too (created 40 days ago, no response: breached).
  t.same(figure(html, 'state-open'), { n: 4, href: '/desk?state=open' })
  t.same(figure(html, 'state-in_progress'), { n: 1, href: '/desk?state=in_progress' })
  t.same(figure(html, 'state-on_hold'), { n: 1, href: '/desk?state=on_hold' })
  t.same(figure(html, 'state-total'), { n: 6, href: '/desk' })
  t.same(figure(html, 'sla-achieved'), { n: 1, href: null })
  t.same(figure(html, 'sla-breached'), { n: 3, href: null })
  t.same(figure(html, 'sla-at_risk'), { n: 1, href: null })
  t.equal(figure(html, `desk-${env.ids.desk['Service Desk']}`)?.n, 4)
  t.equal(figure(html, `desk-${env.ids.desk['Product Support']}`)?.n, 2)

  // Per assignee: whatever the assignment picked, the figures add up to the open tickets each holds.
  const open = await db.selectFrom('ticket').select(['assignee_id']).where('deleted_at', 'is', null)
    .where('state', 'in', ['open', 'in_progress', 'on_hold']).execute()
  const expected = new Map<string, number>()
  for (const r of open) expected.set(String(r.assignee_id ?? 'none'), (expected.get(String(r.assignee_id ?? 'none')) ?? 0) + 1)
  for (const [who, n] of expected) t.equal(figure(html, `assignee-${who}`)?.n, n, `assignee ${who}`)

  // Following a figure's link shows exactly those tickets in the queue.
  const queue = await admin.get(figure(html, 'state-open')!.href!)
  t.equal(queue.statusCode, 200)
  for (const title of ['SD breached', 'PS on track', 'PS breached', 'SD old one']) t.match(queue.body, title)
  for (const title of ['SD at risk', 'SD on hold', 'SD resolved']) t.notMatch(queue.body, title)

  // Bruno serves only the Service Desk.
  const bruno = await loginAs(app, 'bruno@casebridge.test')
  const b = (await bruno.get('/desk/dashboard')).body
  t.equal(figure(b, 'state-open')?.n, 2)
  t.equal(figure(b, 'state-in_progress')?.n, 1)
  t.equal(figure(b, 'state-on_hold')?.n, 1)
  t.equal(figure(b, 'sla-achieved')?.n, 1)
  t.equal(figure(b, 'sla-breached')?.n, 2)
  t.equal(figure(b, 'sla-at_risk')?.n, 1)
  t.equal(figure(b, `desk-${env.ids.desk['Product Support']}`), null, 'no figure for a desk he does not serve')
  t.notMatch(b, 'Product Support')

  // Carla serves only Product Support.
  const carla = await loginAs(app, 'carla@casebridge.test')
  const c = (await carla.get('/desk/dashboard')).body
  t.equal(figure(c, 'state-open')?.n, 2)
  t.equal(figure(c, 'state-in_progress')?.n, 0)
  t.equal(figure(c, 'sla-breached')?.n, 1)
  t.equal(figure(c, 'sla-achieved')?.n, 0)
  t.equal(figure(c, `desk-${env.ids.desk['Service Desk']}`), null)
  // Only the viewer's own row ("my tickets") and the unassigned row have a queue filter to link to.
  const carlaId = env.ids.staff['carla@casebridge.test']
  const anaId = env.ids.staff['ana@casebridge.test']
  const carlaRow = figure(c, `assignee-${carlaId}`)
  if (carlaRow) t.equal(carlaRow.href, '/desk?scope=mine', 'her own figure links to "my tickets"')
  t.equal(figure(c, `assignee-${anaId}`)?.href ?? null, null, 'a colleague\'s figure has no link')
  t.equal(figure(html, `assignee-${anaId}`)?.n, expected.get(String(anaId)))
  t.equal(figure(html, `assignee-${anaId}`)?.href, null)
  const ana = await loginAs(app, 'ana@casebridge.test')
  t.same(figure((await ana.get('/desk/dashboard')).body, `assignee-${anaId}`), { n: expected.get(String(anaId)), href: '/desk?scope=mine' })

  // Nobody available on the Service Desk: the new ticket waits unassigned and is counted so.
  await db.updateTable('staff').set({ available: 0 }).execute()
  await makeTicket(db, env.ids, { title: 'SD nobody', now: hours(59) })
  const after = (await admin.get('/desk/dashboard')).body
  t.same(figure(after, 'assignee-none'), { n: 1, href: '/desk?scope=unassigned' })
  t.match((await admin.get('/desk?scope=unassigned')).body, 'SD nobody')

  // Clients do not have a dashboard.
  const client = await loginAs(app, 'bob@acme.test')
  t.equal((await client.get('/desk/dashboard')).statusCode, 404)
})

t.test('request summary: per requester, repeated issues, window, visibility', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  await scenario(env)
  const { app, ids } = env

  const admin = await loginAs(app, 'admin@casebridge.test')
  const page = await admin.get('/desk/summary')
  t.equal(page.statusCode, 200)
  const html = page.body
  t.same(requesterRow(html, 'bob@acme.test'), { total: 4, open: 2, onHold: 1, closed: 1 })
  t.same(requesterRow(html, 'hank@globex.test'), { total: 2, open: 2, onHold: 0, closed: 0 })
  t.ok(html.indexOf('data-requester="bob@acme.test"') < html.indexOf('data-requester="hank@globex.test"'), 'sorted by count')
  t.match(html, `data-repeated="${ids.contact['bob@acme.test']}-category-${ids.category['Printer problem']}"`)
  t.match(html, `data-repeated="${ids.contact['hank@globex.test']}-product-${ids.product['Casebridge Cloud']}"`)
  // Each repeated issue links to its tickets.
  const row = new RegExp(`data-repeated="${ids.contact['bob@acme.test']}-category-[\\s\\S]*?</tr>`).exec(html)![0]
  t.equal((row.match(/href="\/desk\/tickets\/\d+"/g) ?? []).length, 4)
  t.match(row, '<td class="num">4</td>')

  const wider = (await admin.get('/desk/summary?days=60')).body
  t.same(requesterRow(wider, 'bob@acme.test'), { total: 5, open: 3, onHold: 1, closed: 1 }, 'the old ticket counts in a 60-day window')

  for (const bad of ['0', '366', 'abc', '1.5']) {
    const res = await admin.get(`/desk/summary?days=${bad}`)
    t.equal(res.statusCode, 422, `days=${bad} refused`)
    t.match(res.body, 'Enter a whole number of days from 1 to 365.')
  }

  const bruno = await loginAs(app, 'bruno@casebridge.test')
  const b = (await bruno.get('/desk/summary')).body
  t.ok(requesterRow(b, 'bob@acme.test'))
  t.equal(requesterRow(b, 'hank@globex.test'), null, 'no requester seen only through another desk')
  t.notMatch(b, 'Casebridge Cloud')

  const carla = await loginAs(app, 'carla@casebridge.test')
  const c = (await carla.get('/desk/summary')).body
  t.equal(requesterRow(c, 'bob@acme.test'), null)
  t.same(requesterRow(c, 'hank@globex.test'), { total: 2, open: 2, onHold: 0, closed: 0 })

  const client = await loginAs(app, 'hank@globex.test')
  t.equal((await client.get('/desk/summary')).statusCode, 404)
})
