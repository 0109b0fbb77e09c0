import t from 'tap'
import { loginAs, testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle, moveArticle } from '../../src/commands/kb.js'
import { openSuggestedArticle, rateArticle, recordArticleView, recordSearch } from '../../src/commands/kb-reader.js'
import { openTicket } from '../../src/commands/open-ticket.js'

// The dashboard's knowledge-base section: exact figures over the window, on both databases.
/** The app's "now"; the default 30-day window starts 2026-11-02, the 7-day one 2026-11-25. */
const NOW = new Date('2026-12-02T12:00:00.000Z')
const daysAgo = (days: number, minutes = 0) => new Date(NOW.getTime() - days * 86_400_000 + minutes * 60_000)

/** A row of the top-articles table as the page shows it. */
function topRow(html: string, id: number) {
  const row = new RegExp(`<tr data-kb-article="${id}">([\\s\\S]*?)</tr>`).exec(html)?.[1]
  if (!row) return null
  const cell = (cls: string) => new RegExp(`<td class="num ${cls}[^"]*">([\\s\\S]*?)</td>`).exec(row)![1].replace(/<[^>]+>/g, '').trim()
  return { views: cell('views'), helpful: cell('helpful'), votes: cell('votes'), deflections: cell('deflections'), tickets: cell('tickets') }
}

function unanswered(html: string): [string, string][] {
  return [...html.matchAll(/<tr data-kb-query><th scope="row" class="wrap">([\s\S]*?)<\/th><td class="num">(\d+)<\/td><\/tr>/g)].map((m) => [m[1], m[2]])
}

t.test('top articles, deflections and searches with no result, in the window and scope', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  const { db, ids, app } = env
  const admin = performerOf(await staffActor(db, ids, 'admin@casebridge.test'))
  const publish = async (title: string) => {
    const { id } = unwrap(await createArticle(depsAt(db, daysAgo(60)), admin, { language: 'en', title, body: `${title}.`, tags: '', categoryId: null, audience: 'public', accountIds: [], translationOf: null }))
    unwrap(await moveArticle(depsAt(db, daysAgo(60)), admin, id, 'publish'))
    return id
  }
  const printer = await publish('Printer shows offline')
  const vpn = await publish('VPN <b>drops</b> hourly')
  const quiet = await publish('Nobody reads this')
  const who = async (email: string) => performerOf(await contactActor(db, ids, email))
  const bob = await who('bob@acme.test')
  const alice = await who('alice@acme.test')
  const hank = await who('hank@globex.test')

  // Views: printer 3 in the window (bob twice in separate sessions, alice once) and one 40 days ago; vpn 1 (3 days ago).
  unwrap(await recordArticleView(depsAt(db, daysAgo(1)), bob, { articleId: printer, sessionId: 1 }))
  unwrap(await recordArticleView(depsAt(db, daysAgo(1, 10)), bob, { articleId: printer, sessionId: 1 })) // a reload: not counted
  unwrap(await recordArticleView(depsAt(db, daysAgo(10)), bob, { articleId: printer, sessionId: 2 }))
  unwrap(await recordArticleView(depsAt(db, daysAgo(2)), alice, { articleId: printer, sessionId: 3 }))
  unwrap(await recordArticleView(depsAt(db, daysAgo(40)), hank, { articleId: printer, sessionId: 4 }))
  unwrap(await recordArticleView(depsAt(db, daysAgo(3)), hank, { articleId: vpn, sessionId: 4 }))

  // Votes: printer yes (bob), no (alice), yes (hank, changed from no) in the window: 67 %; vpn one no 40 days ago only.
  unwrap(await rateArticle(depsAt(db, daysAgo(1)), bob, { articleId: printer, helpful: 'yes', comment: '' }))
  unwrap(await rateArticle(depsAt(db, daysAgo(2)), alice, { articleId: printer, helpful: 'no', comment: 'Too short' }))
  unwrap(await rateArticle(depsAt(db, daysAgo(20)), hank, { articleId: printer, helpful: 'no', comment: '' }))
  unwrap(await rateArticle(depsAt(db, daysAgo(5)), hank, { articleId: printer, helpful: 'yes', comment: '' }))
  unwrap(await rateArticle(depsAt(db, daysAgo(40)), bob, { articleId: vpn, helpful: 'no', comment: '' }))

  // Deflections: vpn by bob (5 days ago) and alice (2 days ago); hank opened printer and then a ticket 20 minutes later (withdrawn);
  // vpn 40 days ago by hank (outside).
  unwrap(await openSuggestedArticle(depsAt(db, daysAgo(5)), bob, { articleId: vpn, sessionId: 1 }))
  unwrap(await openSuggestedArticle(depsAt(db, daysAgo(2)), alice, { articleId: vpn, sessionId: 3 }))
  unwrap(await openSuggestedArticle(depsAt(db, daysAgo(40)), hank, { articleId: vpn, sessionId: 4 }))
  unwrap(await openSuggestedArticle(depsAt(db, daysAgo(4)), hank, { articleId: printer, sessionId: 4 }))
  unwrap(await openTicket(depsAt(db, daysAgo(4, 20)), hank, { title: 'Printer still offline', description: 'Did not help.', productId: ids.product['Billing'] ?? null, categoryId: ids.product['Billing'] ? null : ids.category['Printer problem'], source: 'portal' }))

  // Tickets linked in the window: printer to one Service Desk ticket and one Product Support ticket.
  const serviceTicket = await makeTicket(db, ids, { desk: 'Service Desk', now: daysAgo(3) })
  const productTicket = await makeTicket(db, ids, { desk: 'Product Support', contact: 'hank@globex.test', account: 'Globex Industries', now: daysAgo(3) })
  for (const ticket of [serviceTicket, productTicket]) {
    await db.insertInto('kb_article_ticket').values({ article_id: printer, ticket_id: ticket.id, created_at: daysAgo(3).toISOString() }).execute()
  }

  // Searches: "vpn setup" with nothing 3 times (one a live burst kept as one row), "<img src=x onerror=alert(1)>" once, "printer" found, "old" 40 days ago.
  const search = (at: Date, query: string, results: number, sessionId: number | null = null, live = false) =>
    recordSearch(depsAt(db, at), bob, { query, results, origin: live ? 'suggest' : 'help', sessionId, live }).then(unwrap)
  await search(daysAgo(1), 'VPN  setup', 0)
  await search(daysAgo(2), 'vpn setup', 0)
  await search(daysAgo(3), 'vpn', 0, 9, true)
  await search(daysAgo(3, 0.2), 'vpn setup', 0, 9, true)
  await search(daysAgo(4), '<img src=x onerror=alert(1)>', 0)
  await search(daysAgo(4), 'printer', 2)
  await search(daysAgo(40), 'old', 0)

  const adminPage = await (await loginAs(app, 'admin@casebridge.test')).get('/desk/dashboard')
  t.equal(adminPage.statusCode, 200)
  t.match(adminPage.body, '<h2 id="kb">Knowledge base</h2>')
  t.match(adminPage.body, /data-kb="deflections"><strong>Deflections: 2<\/strong>/, 'vpn twice; printer withdrawn; the old one outside')
  t.same(topRow(adminPage.body, printer), { views: '3', helpful: '67%', votes: '3', deflections: '0', tickets: '2' })
  t.same(topRow(adminPage.body, vpn), { views: '1', helpful: 'No votes', votes: '0', deflections: '2', tickets: '0' })
  t.equal(topRow(adminPage.body, quiet), null, 'an article nobody touched is not listed')
  t.ok(adminPage.body.indexOf(`data-kb-article="${printer}"`) < adminPage.body.indexOf(`data-kb-article="${vpn}"`), 'most viewed first')
  t.match(adminPage.body, 'VPN &lt;b&gt;drops&lt;/b&gt; hourly', 'titles escaped')
  t.same(unanswered(adminPage.body), [['vpn setup', '3'], ['&lt;img src=x onerror=alert(1)&gt;', '1']], 'the most frequent first, normalised, escaped')
  t.notMatch(adminPage.body, '<img src=x')
  t.match(adminPage.body, `href="/desk/kb/${printer}"`)

  // Bruno sees the Service Desk's tickets only: one of the two linked.
  const brunoPage = await (await loginAs(app, 'bruno@casebridge.test')).get('/desk/dashboard')
  t.match(topRow(brunoPage.body, printer), { tickets: '1', views: '3' })

  // A 2-day window: printer's views of yesterday and two days ago (2), alice's vote and bob's (1 of 2), alice's vpn deflection.
  const short = await (await loginAs(app, 'admin@casebridge.test')).get('/desk/dashboard?days=2')
  t.match(short.body, /Deflections: 1</)
  t.same(topRow(short.body, printer), { views: '2', helpful: '50%', votes: '2', deflections: '0', tickets: '0' })
  t.same(unanswered(short.body), [['vpn setup', '2']])

  const bad = await (await loginAs(app, 'admin@casebridge.test')).get('/desk/dashboard?days=0')
  t.equal(bad.statusCode, 422)
  const client = await loginAs(app, 'bob@acme.test')
  t.equal((await client.get('/desk/dashboard')).statusCode, 404, 'clients never see the dashboard')
})

t.test('an empty knowledge base says so', async (t) => {
  const { app } = await testApp(t, { clock: () => NOW })
  const page = await (await loginAs(app, 'admin@casebridge.test')).get('/desk/dashboard')
  t.match(page.body, /Deflections: 0</)
  t.match(page.body, 'data-kb="no-activity"')
  t.match(page.body, 'data-kb="no-unanswered"')
})
