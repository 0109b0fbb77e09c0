// The knowledge base on the staff ticket page: the articles linked to the ticket, suggested
// articles ranked by its words with their insert links (with and without JavaScript: the links
// fill the reply box in), "Link to this ticket" and linking on send (idempotent, counted), and
// "create article" once the ticket is resolved. Both databases:
//   npx tap test/web/kb-ticket.test.ts
//   PG_PORT=55453 scripts/pg-test.sh test/web/kb-ticket.test.ts
import t from 'tap'
import type { Test } from 'tap'
import { loginAs, testApp, type Agent, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf, transition } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle, moveArticle, type ArticleInput } from '../../src/commands/kb.js'
import { articleTicketCount } from '../../src/db/kb-links.js'
import { articleIdsIn, postedArticleIds } from '../../src/domain/kb-links.js'

const BASE = 'https://help.example.test'

async function publish(env: TestEnv, over: Partial<ArticleInput>, state: 'published' | 'draft' = 'published'): Promise<{ id: number; slug: string }> {
  const carla = performerOf(await staffActor(env.db, env.ids, 'carla@casebridge.test'))
  const admin = performerOf(await staffActor(env.db, env.ids, 'admin@casebridge.test'))
  const deps = depsAt(env.db, new Date())
  const created = unwrap(await createArticle(deps, carla, {
    language: 'en', title: 'Untitled', body: 'Text.', tags: '', categoryId: null, audience: 'public', accountIds: [], translationOf: null, ...over
  }))
  if (state === 'published') unwrap(await moveArticle(deps, admin, created.id, 'publish'))
  return created
}

async function scene(t: Test) {
  const env = await testApp(t, { env: { PUBLIC_URL: BASE } })
  const offline = await publish(env, { title: 'Printer shows offline', body: 'Turn the **printer** off, wait ten seconds and turn it on again.', tags: 'printer, offline' })
  const vpn = await publish(env, { title: 'Printer driver over the VPN', body: 'Staff only: the print server needs port 9100 open on the VPN.', tags: 'printer, vpn', audience: 'internal' })
  const toner = await publish(env, { title: 'Printer toner for Globex', body: 'Globex toner comes from the supplier.', tags: 'printer', audience: 'accounts', accountIds: [env.ids.account['Globex Industries']] })
  const draft = await publish(env, { title: 'Printer offline draft', body: 'Not ready yet: printer offline.' }, 'draft')
  const password = await publish(env, { title: 'Reset your password', body: 'Use the forgotten password link.' })
  const ticket = await makeTicket(env.db, env.ids, { title: 'Printer offline' })
  await env.db.updateTable('ticket').set({ description: 'The printer shows offline since this morning.' }).where('id', '=', ticket.id).execute()
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  return { ...env, ana, ticket, offline, vpn, toner, draft, password, url: `/desk/tickets/${ticket.number}` }
}

const links = (env: TestEnv, ticketId: number) =>
  env.db.selectFrom('kb_article_ticket').select('article_id').where('ticket_id', '=', ticketId).orderBy('article_id').execute().then((rows) => rows.map((r) => r.article_id))
const textarea = (html: string) => /<textarea id="note-body"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)?.[1] ?? null
const section = (html: string, id: string) => new RegExp(`<section class="card [^"]*" id="${id}"[\\s\\S]*?</section>`).exec(html)?.[0] ?? ''
const seenOf = (html: string) => /name="seen" value="([^"]*)"/.exec(html)![1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')

async function sendReply(agent: Agent, url: string, form: Record<string, string>) {
  const page = await agent.get(url)
  return agent.postMultipart(`${url}/notes`, { mode: 'reply', body: '', occurred_at: '', minutes_spent: '', seen: seenOf(page.body), kb_articles: '', ...form }, [], { csrfFrom: url })
}

t.test('domain: article links found in a note, posted ids read strictly', async (t) => {
  t.same(articleIdsIn(`See ${BASE}/help/articles/12-printer-offline and /help/articles/7-x, again https://x.test/help/articles/12-old-slug.`), [12, 7])
  t.same(articleIdsIn('/help/articles/abc /nothelp/articles/3-x /help/articles/0-x'), [], 'no id, another path, no article 0')
  t.same(articleIdsIn('(/help/articles/5)'), [5], 'without a slug, in brackets')
  t.same(postedArticleIds('3, 3,x,-1,4 ,99999999999'), [3, 4])
})

t.test('suggestions: published articles ranked by the ticket\'s words, internal ones marked and offered as text only', async (t) => {
  const e = await scene(t)
  const page = await e.ana.get(e.url)
  t.equal(page.statusCode, 200)
  const box = section(page.body, 'kb-suggested')
  t.match(box, '<h2 id="kb-suggested-title">Suggested articles</h2>')
  const order = [...box.matchAll(/data-article="(\d+)"/g)].map((m) => Number(m[1]))
  t.equal(order[0], e.offline.id, 'the article whose title has the ticket\'s words comes first')
  t.same([...order].sort((a, b) => a - b), [e.offline.id, e.vpn.id, e.toner.id].sort((a, b) => a - b), 'published printer articles only: no draft, nothing about passwords')
  t.ok(order.length <= 5)
  t.match(box, `href="${e.url}?insert=${e.offline.id}&amp;as=link#reply">Insert link`, 'a public article: its link...')
  t.match(box, `href="${e.url}?insert=${e.offline.id}&amp;as=text#reply">Insert text<`, '...and its text')
  t.match(box, `<span class="kb-url" hidden>${BASE}/help/articles/${e.offline.id}-printer-shows-offline</span>`, 'the client link, absolute with the public address')
  const vpnItem = /<li class="kb-suggestion" data-article="(\d+)"[\s\S]*?<\/li>/g
  const items = Object.fromEntries([...box.matchAll(vpnItem)].map((m) => [Number(m[1]), m[0]]))
  t.match(items[e.vpn.id], '<span class="badge internal">Internal</span>')
  t.notMatch(items[e.vpn.id], 'as=link', 'an internal article offers no link: the client could not open it')
  t.match(items[e.vpn.id], 'Insert text in an internal note')
  t.match(items[e.toner.id], 'Other accounts', 'an article for Globex, on an Acme ticket')
  t.notMatch(items[e.toner.id], 'as=link')
  t.match(page.body, '<script src="/static/kb-insert.js" defer></script>', 'the script that inserts at the cursor')
  t.notMatch(page.body, /<script>(?!<)/, 'no inline script')
})

t.test('"create article" appears once the ticket is resolved, and suggestions stop once it is closed', async (t) => {
  const e = await scene(t)
  const create = `href="/desk/kb/new?ticket=${e.ticket.id}"`
  t.notMatch((await e.ana.get(e.url)).body, create, 'not while it is open')
  const ana = performerOf(await staffActor(e.db, e.ids, 'ana@casebridge.test'))
  await transition(e.db, ana, e.ticket.id, { action: 'pick_up' }, new Date())
  t.notMatch((await e.ana.get(e.url)).body, create, 'nor in progress')
  await transition(e.db, ana, e.ticket.id, { action: 'resolve', resolution: 'Restarted the printer.' }, new Date())
  const resolved = await e.ana.get(e.url)
  t.match(section(resolved.body, 'kb-articles'), `<a class="button" ${create}>Knowledge base: create article</a>`, 'resolved: the button')
  t.match(resolved.body, 'id="kb-suggested"', 'still suggested while it may be reopened')
  await e.db.updateTable('ticket').set({ state: 'closed', status: 'completed' }).where('id', '=', e.ticket.id).execute()
  const closed = await e.ana.get(e.url)
  t.match(closed.body, create, 'closed: still there')
  t.notMatch(closed.body, 'id="kb-suggested"', 'nobody writes to a closed ticket: no suggestions')
})

t.test('without JavaScript: the insert links fill the reply box in; a link the client cannot open is refused', async (t) => {
  const e = await scene(t)
  const link = await e.ana.get(`${e.url}?insert=${e.offline.id}&as=link`)
  t.equal(link.statusCode, 200)
  t.equal(textarea(link.body), `${BASE}/help/articles/${e.offline.id}-printer-shows-offline`, 'the link in the reply box')
  t.match(link.body, `name="kb_articles" id="kb-articles-inserted" value="${e.offline.id}"`, 'noted, to be linked once sent')
  t.match(link.body, '<input type="radio" name="mode" value="reply" checked>', 'as a reply')

  const text = await e.ana.get(`${e.url}?insert=${e.offline.id}&as=text`)
  t.equal(textarea(text.body), 'Turn the printer off, wait ten seconds and turn it on again.', 'the plain text, without Markdown')

  const internalLink = await e.ana.get(`${e.url}?insert=${e.vpn.id}&as=link`)
  t.equal(internalLink.statusCode, 422)
  t.match(internalLink.body, 'The requester cannot open &quot;Printer driver over the VPN&quot;')
  t.equal(textarea(internalLink.body), '', 'nothing inserted')
  const internalText = await e.ana.get(`${e.url}?insert=${e.vpn.id}&as=text`)
  t.equal(internalText.statusCode, 200)
  t.match(textarea(internalText.body), 'port 9100')
  t.match(internalText.body, '<input type="radio" name="mode" value="internal" checked>', 'as an internal note')

  t.equal((await e.ana.get(`${e.url}?insert=${e.draft.id}&as=text`)).statusCode, 404, 'a draft is not inserted')
  t.equal((await e.ana.get(`${e.url}?insert=999999&as=link`)).statusCode, 404)
  t.equal((await e.ana.get(`${e.url}?insert=abc&as=link`)).statusCode, 400)
  t.equal((await e.ana.get(`${e.url}?insert=${e.offline.id}&as=html`)).statusCode, 400)
  t.same(await links(e, e.ticket.id), [], 'looking writes nothing')
})

t.test('sending a reply with an article\'s link, or text inserted from one, links it to the ticket once', async (t) => {
  const e = await scene(t)
  const sent = await sendReply(e.ana, e.url, { body: `Please try this: ${BASE}/help/articles/${e.offline.id}-printer-shows-offline` })
  t.equal(sent.statusCode, 302)
  t.same(await links(e, e.ticket.id), [e.offline.id])
  const again = await sendReply(e.ana, e.url, { body: `Did /help/articles/${e.offline.id}-old-slug help?`, kb_articles: String(e.offline.id) })
  t.equal(again.statusCode, 302)
  t.same(await links(e, e.ticket.id), [e.offline.id], 'linked once, however often it is sent')
  t.equal(await articleTicketCount(e.db, e.offline.id), 1, 'the article counts the ticket once')

  const note = await sendReply(e.ana, e.url, { mode: 'internal', body: 'Staff only: the print server needs port 9100 open on the VPN.', kb_articles: `${e.vpn.id},424242` })
  t.equal(note.statusCode, 302)
  t.same(await links(e, e.ticket.id), [e.offline.id, e.vpn.id].sort((a, b) => a - b), 'inserted text links its article; an id that is no article is passed over')

  const refused = await sendReply(e.ana, e.url, { body: '', kb_articles: String(e.password.id) })
  t.equal(refused.statusCode, 422, 'an empty reply is refused')
  t.notOk((await links(e, e.ticket.id)).includes(e.password.id), 'and links nothing')

  const page = await e.ana.get(e.url)
  const box = section(page.body, 'kb-articles')
  t.match(box, `<a href="/desk/kb/${e.offline.id}">Printer shows offline</a> <span class="badge kb-state-published">Published</span>`)
  t.match(box, `<a href="/desk/kb/${e.vpn.id}">Printer driver over the VPN</a>`)
  t.match(section(page.body, 'kb-suggested'), 'Linked')
})

t.test('"Link to this ticket": idempotent and counted; bad input and other desks\' tickets refused with nothing written', async (t) => {
  const e = await scene(t)
  const post = (agent: Agent, articleId: string, url = e.url) => agent.post(`${url}/kb-links`, { article_id: articleId }, { csrfFrom: e.url })
  const first = await post(e.ana, String(e.toner.id))
  t.equal(first.statusCode, 302)
  t.equal(first.headers.location, `${e.url}#kb-articles`)
  t.match((await e.ana.get(e.url)).body, 'The article is linked to this ticket.')
  const second = await post(e.ana, String(e.toner.id))
  t.equal(second.statusCode, 302)
  t.match((await e.ana.get(e.url)).body, 'The article was already linked to this ticket.')
  t.same(await links(e, e.ticket.id), [e.toner.id])
  t.equal(await articleTicketCount(e.db, e.toner.id), 1)

  t.equal((await post(e.ana, 'abc')).statusCode, 400, 'not an id')
  t.equal((await post(e.ana, '999999')).statusCode, 404, 'no such article')
  const noCsrf = await e.ana.post(`${e.url}/kb-links`, { article_id: String(e.password.id) }, { noCsrf: true })
  t.equal(noCsrf.statusCode, 403, 'no CSRF token')
  const carla = await loginAs(e.app, 'carla@casebridge.test')
  t.equal((await carla.post(`${e.url}/kb-links`, { article_id: String(e.password.id) }, { csrfFrom: '/desk' })).statusCode, 404, 'a ticket of another desk')
  const bob = await loginAs(e.app, 'bob@acme.test')
  t.equal((await bob.get(e.url)).statusCode, 404, 'clients never see the desk page')
  t.equal((await bob.post(`${e.url}/kb-links`, { article_id: String(e.password.id) }, { csrfFrom: '/portal' })).statusCode, 404)
  t.same(await links(e, e.ticket.id), [e.toner.id], 'nothing else written')
})
