import t from 'tap'
import { testApp, loginAs, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { performerOf, transition } from '../helpers/commands.js'

// The advanced search as people use it: pages, forms and bookmarkable URLs. The filters' exact
// results are checked in test/db/search.test.ts; here, what the pages do with them.

const NOW = new Date('2026-05-20T12:00:00.000Z')
const day = (d: string) => new Date(`${d}T10:00:00.000Z`)

/** Ticket numbers listed on a portal or desk list page, in order. */
function listed(html: string, area: 'portal' | 'desk'): number[] {
  return [...html.matchAll(new RegExp(`<a href="/${area}/tickets/(\\d+)">#`, 'g'))].map((m) => Number(m[1]))
}

async function scenario(env: TestEnv) {
  const { db, ids } = env
  await db.updateTable('ticket').set({ deleted_at: NOW.toISOString() }).execute()
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const printerMarch = await makeTicket(db, ids, { title: 'Printer jams in March', now: day('2026-03-10'), priority: 'high' })
  const laptopApril = await makeTicket(db, ids, { title: 'Laptop will not boot', category: 'Laptop problem', now: day('2026-04-02'), contact: 'alice@acme.test' })
  const passwordMay = await makeTicket(db, ids, { title: 'Password reset please', category: 'Password reset', now: day('2026-05-01'), priority: 'low' })
  // Assignment picks among equally loaded staff at random: make this one Ana's for the assignee filter.
  await db.updateTable('ticket').set({ assignee_id: ids.staff['ana@casebridge.test'] }).where('id', '=', passwordMay.id).execute()
  await transition(db, ana, passwordMay.id, { action: 'pick_up' }, day('2026-05-01'))
  await transition(db, ana, passwordMay.id, { action: 'resolve', resolution: 'Done.' }, day('2026-05-02'))
  const cloud = await makeTicket(db, ids, { title: 'Cloud console printer export', desk: 'Product Support', now: day('2026-05-05'), priority: 'critical' })
  const globex = await makeTicket(db, ids, { title: 'Globex printer is down', contact: 'hank@globex.test', account: 'Globex Industries', now: day('2026-05-06'), priority: 'high' })
  return { printerMarch, laptopApril, passwordMay, cloud, globex }
}

t.test('portal: filters from the URL, bookmarkable links, and only the client\'s own tickets', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  const s = await scenario(env)
  const alice = await loginAs(env.app, 'alice@acme.test')

  const all = await alice.get('/portal')
  t.equal(all.statusCode, 200)
  t.same(listed(all.body, 'portal'), [s.cloud.number, s.passwordMay.number, s.laptopApril.number, s.printerMarch.number], 'a manager sees the account, newest first')
  t.match(all.body, 'More filters')

  const high = await alice.get('/portal?priority=high')
  t.same(listed(high.body, 'portal'), [s.printerMarch.number], 'Globex\'s high ticket is not hers')
  t.match(high.body, /<option value="high" selected>/)

  const combined = await alice.get('/portal?title=printer&opened_from=2026-03-01&opened_to=2026-05-31&desk=' + env.ids.desk['Product Support'])
  t.same(listed(combined.body, 'portal'), [s.cloud.number])
  t.match(combined.body, /<details class="more-filters" open>/, 'advanced filters in use open the panel')

  const area = await alice.get(`/portal?area=${env.ids.category['Access & accounts']}&situation=waiting`)
  t.same(listed(area.body, 'portal'), [s.passwordMay.number], 'catalog area + pending review')

  // Another account's tickets stay out whatever the URL asks.
  const foreign = await alice.get(`/portal?account=${env.ids.account['Globex Industries']}`)
  t.same(listed(foreign.body, 'portal'), [])
  t.notMatch(foreign.body, 'Globex Industries', 'the account name is not revealed either')
  const hank = await alice.get(`/portal?requester=${env.ids.contact['hank@globex.test']}`)
  t.same(listed(hank.body, 'portal'), [])
  t.notMatch(hank.body, 'hank@globex.test')

  // Sorting and paging keep the search in the URL.
  const sorted = await alice.get('/portal?sort=priority&order=asc&title=printer')
  t.same(listed(sorted.body, 'portal'), [s.printerMarch.number, s.cloud.number])
})

t.test('portal: wrong values are shown with a message and left out, not a bare error', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  const s = await scenario(env)
  const bob = await loginAs(env.app, 'bob@acme.test')
  const res = await bob.get('/portal?opened_from=2026-01-01&opened_to=2025-12-31&closed_to=2026-02-30&priority=urgent&title=printer')
  t.equal(res.statusCode, 200, 'a search page still answers, with the list')
  t.match(res.body, 'Part of this search could not be understood')
  t.match(res.body, 'Enter a date as YYYY-MM-DD.')
  t.match(res.body, 'This value is not one of the choices')
  t.match(res.body, 'The end date is before the start date')
  t.match(res.body, /id="closed_to" name="closed_to" type="date" value="" title="To" aria-invalid="true"/)
  t.same(listed(res.body, 'portal'), [s.cloud.number, s.printerMarch.number], 'the understood part (title) still applies')
})

t.test('desk: advanced filters, staff-only filters, tabs and clearing', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  const s = await scenario(env)
  const { ids } = env
  const ana = await loginAs(env.app, 'ana@casebridge.test')

  const open = await ana.get('/desk')
  t.equal(open.statusCode, 200)
  t.same(listed(open.body, 'desk').sort(), [s.printerMarch.number, s.laptopApril.number, s.cloud.number, s.globex.number].sort(), 'the default queue: open tickets of her desks')

  const all = await ana.get('/desk?situation=')
  t.ok(listed(all.body, 'desk').includes(s.passwordMay.number), 'an empty status group means all of them')

  const assigned = await ana.get(`/desk?assignee=${ids.staff["ana@casebridge.test"]}&type=incident&situation=waiting`)
  t.same(listed(assigned.body, 'desk'), [s.passwordMay.number])

  const requester = await ana.get(`/desk?requester=${ids.contact['alice@acme.test']}&situation=`)
  t.same(listed(requester.body, 'desk'), [s.laptopApril.number])
  t.match(requester.body, 'Alice Walker &lt;alice@acme.test&gt;', 'a link\'s requester filter shows as a named chip')
  t.match(requester.body, /<input type="hidden" name="requester" value="\d+">/, 'and survives the next form submit')

  const combined = await ana.get('/desk?title=printer&priority=high&opened_from=2026-05-01&item=' + ids.category['Printer problem'])
  t.same(listed(combined.body, 'desk'), [s.globex.number])

  const clearLink = /<a class="button" href="([^"]+)">Clear all filters<\/a>/.exec(combined.body)
  t.ok(clearLink, 'a narrowed search offers to clear it')
  t.equal(clearLink![1], '/desk?reset=1', 'the defaults by name: a bare /desk brings back the last search')

  const mineTab = await ana.get('/desk?scope=mine&priority=high')
  t.match(mineTab.body, /<a href="\/desk\?priority=high&amp;scope=unassigned"/, 'tabs keep the search')

  // Pages link with the whole search.
  for (let i = 0; i < 26; i++) await makeTicket(env.db, ids, { title: `Bulk printer ${i}`, now: day('2026-05-10'), priority: 'high' })
  const page1 = await ana.get('/desk?priority=high&title=printer')
  const next = /<a href="([^"]+)" rel="next">/.exec(page1.body)
  t.ok(next)
  t.equal(next![1].replace(/&amp;/g, '&'), '/desk?title=printer&priority=high&page=2')
  const page2 = await ana.get(next![1].replace(/&amp;/g, '&'))
  t.equal(listed(page2.body, 'desk').length, 3, '28 high printer tickets: 25 on page 1, 3 on page 2')
})

t.test('desk: a client cannot reach the staff search', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  const bob = await loginAs(env.app, 'bob@acme.test')
  const res = await bob.get('/desk?priority=high')
  t.not(res.statusCode, 200)
})
