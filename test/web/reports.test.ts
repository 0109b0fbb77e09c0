import t, { type Test } from 'tap'
import { testApp, loginAs, type Agent, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { slaStatus } from '../../src/domain/sla.js'
import { OPEN_STATES } from '../../src/domain/lifecycle.js'
import { dayStart } from '../../src/domain/search.js'
import { addNote, performerOf, transition } from '../helpers/commands.js'

const T0 = new Date('2026-03-02T09:00:00.000Z')
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000)
/** The app's "now": 60 h after T0, so a medium ticket from T0 (72 h limit) is past 75 % of it. */
const NOW = hours(60)

/** A figure on the dashboard: its number and, when it has one, the queue link it carries. */
function figure(html: string, key: string): { n: number; href: string | null } | null {
  const m = new RegExp(`data-figure="${key}">[\\s\\S]*?<td class="num">(?:<a href="([^"]*)">)?(\\d+)`).exec(html)
  return m ? { n: Number(m[2]), href: m[1] ? m[1].replace(/&amp;/g, '&') : null } : null
}

const GROUPS = ['total', 'open', 'on-hold', 'waiting', 'closed', 'cancelled'] as const

/** A requester's row on the summary: each figure and the search link it carries. */
function requesterLinks(html: string, email: string): Record<(typeof GROUPS)[number], { n: number; href: string }> | null {
  const row = new RegExp(`data-requester="${email}">[\\s\\S]*?</tr>`).exec(html)?.[0]
  if (!row) return null
  const cells = GROUPS.map((g) => {
    const m = new RegExp(`class="num ${g}"><a href="([^"]*)">(\\d+)</a>`).exec(row)
    if (!m) throw new Error(`no ${g} figure for ${email}`)
    return [g, { n: Number(m[2]), href: m[1].replace(/&amp;/g, '&') }]
  })
  return Object.fromEntries(cells)
}

function requesterRow(html: string, email: string) {
  const r = requesterLinks(html, email)
  return r ? { total: r.total.n, open: r.open.n, onHold: r['on-hold'].n, waiting: r.waiting.n, closed: r.closed.n, cancelled: r.cancelled.n } : null
}

/** The ticket numbers a staff list page shows (each row links its number). */
function listed(html: string): number[] {
  return [...html.matchAll(/href="\/desk\/tickets\/(\d+)">#/g)].map((m) => Number(m[1])).sort((a, b) => a - b)
}

/** Follows a figure's link: the list must show exactly the tickets it counts. */
async function follow(t: Test, agent: Agent, href: string, want: number[], what: string) {
  const res = await agent.get(href)
  t.equal(res.statusCode, 200, `${what}: ${href}`)
  t.same(listed(res.body), [...want].sort((a, b) => a - b), `${what}: ${href} lists exactly the tickets counted`)
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
  t.same(figure(html, 'state-total'), { n: 6, href: '/desk?reset=1' })
  // Achieved and breached: the tickets opened in the last 30 days (SD old one is older), every state.
  t.same(figure(html, 'sla-achieved'), { n: 1, href: '/desk?opened_from=2026-02-02&situation=all&sla=achieved' })
  t.same(figure(html, 'sla-breached'), { n: 2, href: '/desk?opened_from=2026-02-02&situation=all&sla=breached' })
  // At risk and overdue: open tickets now, whenever they were opened.
  t.same(figure(html, 'sla-at_risk'), { n: 1, href: '/desk?sla=at_risk' })
  t.same(figure(html, 'sla-overdue'), { n: 3, href: '/desk?sla=breached' })
  t.match(html, 'Opened in the last 30 day(s), since 2026-02-02')

  // A longer period takes SD old one in; a period that is not a whole number of days is refused and
  // named, and the page still shows the default's figures.
  const longer = (await admin.get('/desk/dashboard?days=60')).body
  t.same(figure(longer, 'sla-breached'), { n: 3, href: '/desk?opened_from=2026-01-03&situation=all&sla=breached' })
  t.equal(figure(longer, 'sla-overdue')?.n, 3, 'the open tickets do not depend on the period')
  for (const bad of ['0', '366', 'abc', '1.5']) {
    const res = await admin.get(`/desk/dashboard?days=${bad}`)
    t.equal(res.statusCode, 422, `days=${bad}`)
    t.match(res.body, 'Enter a whole number of days from 1 to 365.')
    t.match(res.body, 'aria-invalid="true"')
    t.equal(figure(res.body, 'sla-breached')?.n, 2, 'with the default period\'s figures')
  }
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
  t.equal(figure(b, 'sla-breached')?.n, 1)
  t.equal(figure(b, 'sla-overdue')?.n, 2)
  t.equal(figure(b, 'sla-at_risk')?.n, 1)
  t.equal(figure(b, `desk-${env.ids.desk['Product Support']}`), null, 'no figure for a desk he does not serve')
  t.notMatch(b, 'Product Support')

  // Carla serves only Product Support.
  const carla = await loginAs(app, 'carla@casebridge.test')
  const c = (await carla.get('/desk/dashboard')).body
  t.equal(figure(c, 'state-open')?.n, 2)
  t.equal(figure(c, 'state-in_progress')?.n, 0)
  t.equal(figure(c, 'sla-breached')?.n, 1)
  t.equal(figure(c, 'sla-overdue')?.n, 1)
  t.equal(figure(c, 'sla-achieved')?.n, 0)
  t.equal(figure(c, `desk-${env.ids.desk['Service Desk']}`), null)
  // Every assignee's figure links to the search for that assignee, a colleague's as well as one's own.
  const carlaId = env.ids.staff['carla@casebridge.test']
  const anaId = env.ids.staff['ana@casebridge.test']
  const carlaRow = figure(c, `assignee-${carlaId}`)
  if (carlaRow) t.equal(carlaRow.href, `/desk?assignee=${carlaId}`)
  t.equal(figure(html, `assignee-${anaId}`)?.n, expected.get(String(anaId)))
  t.equal(figure(html, `assignee-${anaId}`)?.href, `/desk?assignee=${anaId}`)
  const ana = await loginAs(app, 'ana@casebridge.test')
  t.same(figure((await ana.get('/desk/dashboard')).body, `assignee-${anaId}`), { n: expected.get(String(anaId)), href: `/desk?assignee=${anaId}` })

  // Nobody available on the Service Desk: the new ticket waits unassigned and is counted so.
  await db.updateTable('staff').set({ available: 0 }).execute()
  await makeTicket(db, env.ids, { title: 'SD nobody', now: hours(59) })
  const after = (await admin.get('/desk/dashboard')).body
  t.same(figure(after, 'assignee-none'), { n: 1, href: '/desk?assignee=none' })
  t.match((await admin.get('/desk?assignee=none')).body, 'SD nobody')
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
  // Open counts open, in progress and on hold (the search's "open"); on hold is shown again on its own.
  t.same(requesterRow(html, 'bob@acme.test'), { total: 4, open: 3, onHold: 1, waiting: 1, closed: 0, cancelled: 0 })
  t.same(requesterRow(html, 'hank@globex.test'), { total: 2, open: 2, onHold: 0, waiting: 0, closed: 0, cancelled: 0 })
  t.ok(html.indexOf('data-requester="bob@acme.test"') < html.indexOf('data-requester="hank@globex.test"'), 'sorted by count')
  t.match(html, `data-repeated="${ids.contact['bob@acme.test']}-category-${ids.category['Printer problem']}"`)
  t.match(html, `data-repeated="${ids.contact['hank@globex.test']}-product-${ids.product['Casebridge Cloud']}"`)
  // Each repeated issue links to its tickets.
  const row = new RegExp(`data-repeated="${ids.contact['bob@acme.test']}-category-[\\s\\S]*?</tr>`).exec(html)![0]
  t.equal((row.match(/href="\/desk\/tickets\/\d+"/g) ?? []).length, 4)
  t.match(row, /<td class="num"><a href="[^"]*">4<\/a><\/td>/)

  const wider = (await admin.get('/desk/summary?days=60')).body
  t.same(requesterRow(wider, 'bob@acme.test'), { total: 5, open: 4, onHold: 1, waiting: 1, closed: 0, cancelled: 0 }, 'the old ticket counts in a 60-day window')

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
  t.same(requesterRow(c, 'hank@globex.test'), { total: 2, open: 2, onHold: 0, waiting: 0, closed: 0, cancelled: 0 })

  const client = await loginAs(app, 'hank@globex.test')
  t.equal((await client.get('/desk/summary')).statusCode, 404)
})

t.test('every figure of the dashboard and the summary opens the search listing exactly its tickets', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  await scenario(env)
  const { app, db, ids } = env
  // Two more kinds of ticket: one closed and one cancelled, both within the summary's window.
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const staff = performerOf(ana)
  const closed = await makeTicket(db, ids, { title: 'SD closed', now: hours(3) })
  await transition(db, staff, closed.id, { action: 'pick_up' }, hours(4))
  await transition(db, staff, closed.id, { action: 'resolve', resolution: 'Done.' }, hours(5))
  await transition(db, staff, closed.id, { action: 'close', closureCategory: 'solved' }, hours(6))
  const cancelled = await makeTicket(db, ids, { title: 'SD cancelled', now: hours(7) })
  await transition(db, staff, cancelled.id, { action: 'cancel', reason: 'Sent twice.' }, hours(8))

  const live = await db.selectFrom('ticket').selectAll().where('deleted_at', 'is', null).execute()
  const isOpen = (r: (typeof live)[number]) => (OPEN_STATES as readonly string[]).includes(r.state)
  t.ok(live.some((r) => r.state === 'closed') && live.some((r) => r.state === 'cancelled'), 'a closed and a cancelled ticket exist')

  for (const who of ['admin@casebridge.test', 'bruno@casebridge.test']) {
    const agent = await loginAs(app, who)
    const me = who === 'admin@casebridge.test' ? null : ids.staff[who]
    const mine = live.filter((r) => me === null || r.desk_id === ids.desk['Service Desk'] || r.assignee_id === me)
    const numbers = (keep: (r: (typeof live)[number]) => boolean) => mine.filter(keep).map((r) => r.number)

    const dash = (await agent.get('/desk/dashboard')).body
    // both reports' default period: the last 30 days, from midnight UTC
    const since = dayStart(new Date(NOW.getTime() - 30 * 86_400_000).toISOString().slice(0, 10))
    const figures: [string, number[]][] = [
      ...OPEN_STATES.map((s): [string, number[]] => [`state-${s}`, numbers((r) => r.state === s)]),
      ['state-total', numbers(isOpen)],
      ...(['achieved', 'breached'] as const).map((s): [string, number[]] => [`sla-${s}`, numbers((r) => r.created_at >= since && slaStatus(r, NOW) === s)]),
      ['sla-at_risk', numbers((r) => slaStatus(r, NOW) === 'at_risk')],
      ['sla-overdue', numbers((r) => isOpen(r) && slaStatus(r, NOW) === 'breached')],
      ...Object.values(ids.desk).map((d): [string, number[]] => [`desk-${d}`, numbers((r) => isOpen(r) && r.desk_id === d)]),
      ...[...new Set(mine.filter(isOpen).map((r) => r.assignee_id))].map((a): [string, number[]] =>
        [`assignee-${a ?? 'none'}`, numbers((r) => isOpen(r) && r.assignee_id === a)])
    ]
    for (const [key, want] of figures) {
      const fig = figure(dash, key)
      if (want.length === 0 && fig === null) continue
      t.ok(fig?.href, `${who}: ${key} has a link`)
      t.equal(fig!.n, want.length, `${who}: ${key} counts ${want.length}`)
      await follow(t, agent, fig!.href!, want, `${who}: ${key}`)
    }

    // The summary: each requester's figures, and each repeated issue.
    const page = await agent.get('/desk/summary')
    const groups: Record<(typeof GROUPS)[number], (state: string) => boolean> = {
      total: () => true, open: (s) => (OPEN_STATES as readonly string[]).includes(s), 'on-hold': (s) => s === 'on_hold',
      waiting: (s) => s === 'resolved', closed: (s) => s === 'closed', cancelled: (s) => s === 'cancelled'
    }
    for (const email of ['bob@acme.test', 'hank@globex.test']) {
      const row = requesterLinks(page.body, email)
      if (me !== null && email === 'hank@globex.test') { t.equal(row, null, 'Bruno does not see Hank'); continue }
      t.ok(row, `${who}: a row for ${email}`)
      for (const g of GROUPS) {
        const want = numbers((r) => r.contact_id === ids.contact[email] && r.created_at >= since && groups[g](r.state))
        t.equal(row![g].n, want.length, `${who}: ${email} ${g} counts ${want.length}`)
        await follow(t, agent, row![g].href, want, `${who}: ${email} ${g}`)
      }
    }
    const repeated = [...page.body.matchAll(/data-repeated="[^"]+">[\s\S]*?<\/tr>/g)].map((m) => m[0])
    t.ok(repeated.length > 0, `${who}: repeated issues are shown`)
    for (const row of repeated) {
      const m = /<td class="num"><a href="([^"]*)">(\d+)<\/a>/.exec(row)!
      const tickets = [...row.matchAll(/href="\/desk\/tickets\/(\d+)"/g)].map((x) => Number(x[1]))
      t.equal(Number(m[2]), tickets.length, 'the count is the tickets named')
      await follow(t, agent, m[1].replace(/&amp;/g, '&'), tickets, `${who}: repeated issue`)
    }
  }
})
