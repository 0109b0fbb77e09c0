import t from 'tap'
import type { Test } from 'tap'
import { Agent, loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle, moveArticle, type ArticleInput } from '../../src/commands/kb.js'
import { getArticle } from '../../src/db/kb.js'

// The client help center through its pages, on both databases: what a client may read, search
// and be suggested, the readable addresses, "was this helpful?", views and deflections.
const START = new Date('2026-12-01T09:00:00.000Z')
const MINUTE = 60_000

async function scene(t: Test) {
  let now = START
  const env = await testApp(t, { clock: () => now })
  const { db, ids } = env
  const admin = performerOf(await staffActor(db, ids, 'admin@casebridge.test'))
  const deps = () => depsAt(db, now)
  const at = now.toISOString()
  const category = async (slug: string, name: string, parent: number | null = null) => (await db.insertInto('kb_category')
    .values({ parent_id: parent, slug, name_en: name, name_pt: `${name} (pt)`, position: 0, created_at: at, updated_at: at }).returning('id').executeTakeFirstOrThrow()).id
  const printing = await category('printing', 'Printing')
  const network = await category('network', 'Network', printing)
  const empty = await category('secret', 'Secret things')
  const input = (over: Partial<ArticleInput>): ArticleInput => ({
    language: 'en', title: 'Untitled', body: 'Text.', tags: '', categoryId: null, audience: 'public', accountIds: [], translationOf: null, ...over
  })
  const article = async (over: Partial<ArticleInput>, state: 'draft' | 'in_review' | 'published' | 'archived' = 'published') => {
    const { id, slug } = unwrap(await createArticle(deps(), admin, input(over)))
    if (state === 'in_review') unwrap(await moveArticle(deps(), admin, id, 'submit'))
    if (state === 'published' || state === 'archived') unwrap(await moveArticle(deps(), admin, id, 'publish'))
    if (state === 'archived') unwrap(await moveArticle(deps(), admin, id, 'archive'))
    return { id, slug }
  }
  const acme = ids.account['Acme Corporation']
  const globex = ids.account['Globex Industries']
  const a = {
    pub: await article({ title: 'Printer shows offline', body: '# Steps\n\nTurn the printer **off** and on again.', tags: 'printer', categoryId: printing }),
    acme: await article({ title: 'Acme printer driver install', body: 'The Acme printer driver lives on the share.', audience: 'accounts', accountIds: [acme], categoryId: network }),
    globex: await article({ title: 'Globex printer queue reset', body: 'Reset the Globex printer queue.', audience: 'accounts', accountIds: [globex], categoryId: printing }),
    internal: await article({ title: 'Printer internal escalation', body: 'Staff only printer notes.', audience: 'internal', categoryId: empty }),
    draft: await article({ title: 'Printer draft article', body: 'Draft printer text.', categoryId: empty }, 'draft'),
    review: await article({ title: 'Printer review article', body: 'Printer text in review.', categoryId: empty }, 'in_review'),
    archived: await article({ title: 'Printer archived article', body: 'Old printer text.', categoryId: empty }, 'archived')
  }
  const ptTranslation = await article({ language: 'pt-BR', title: 'Impressora aparece offline', body: 'Desligue a impressora e ligue de novo.', translationOf: a.pub.id, categoryId: printing })
  await db.insertInto('kb_related').values({ article_id: a.pub.id, related_id: a.acme.id }).execute()
  await db.insertInto('kb_related').values({ article_id: a.pub.id, related_id: a.internal.id }).execute()
  return { ...env, a, ptTranslation, printing, network, empty, admin, deps, setNow: (d: Date) => { now = d }, now: () => now }
}

const hidden = ['internal', 'draft', 'review', 'archived', 'globex'] as const
const url = (x: { id: number; slug: string }) => `/help/articles/${x.id}-${x.slug}`

async function counters(env: TestEnv, id: number) {
  const row = (await getArticle(env.db, id))!
  return { views: row.views, helpful: row.helpful, not_helpful: row.not_helpful, deflections: row.deflections }
}

t.test('a client reads only what they may see: index, category, search, suggestions, direct addresses', async (t) => {
  const s = await scene(t)
  const bob = await loginAs(s.app, 'bob@acme.test')

  const index = await bob.get('/help')
  t.equal(index.statusCode, 200)
  t.match(index.body, '<h1>Help Center</h1>')
  t.match(index.body, 'href="/help" aria-current="page"', 'the portal navigation names the help center')
  t.match(index.body, `href="/help/categories/${s.printing}-printing"`)
  t.match(index.body, /data-category="\d+">\s*<a href="\/help\/categories\/\d+-printing">Printing<\/a>\s*<span class="muted">\(3 article\(s\)\)/, 'Printing counts its own public article, its translation and its sub-category\'s Acme one')
  t.notMatch(index.body, 'Secret things', 'a category holding only what the client may not see is not shown')
  for (const key of hidden) t.notMatch(index.body, `data-article="${s.a[key].id}"`, `${key} is not among the latest`)

  const category = await bob.get(`/help/categories/${s.printing}-printing`)
  t.equal(category.statusCode, 200)
  t.match(category.body, 'Printer shows offline')
  t.match(category.body, 'Network', 'its sub-category')
  t.notMatch(category.body, 'Globex printer queue reset')
  t.equal((await bob.get(`/help/categories/${s.printing}-old-name`)).headers.location, `/help/categories/${s.printing}-printing`)
  t.equal((await bob.get(`/help/categories/${s.empty}-secret`)).statusCode, 404, 'a category with nothing for the client is not there')
  t.equal((await bob.get('/help/categories/999999-nothing')).statusCode, 404)

  const search = await bob.get('/help/search?q=printer')
  t.equal(search.statusCode, 200)
  t.match(search.body, `data-article="${s.a.pub.id}"`)
  t.match(search.body, `data-article="${s.a.acme.id}"`, 'their account\'s article')
  for (const key of hidden) t.notMatch(search.body, `data-article="${s.a[key].id}"`, `${key} is not found`)

  const suggest = await bob.get('/help/suggest?q=printer')
  t.equal(suggest.statusCode, 200)
  t.notMatch(suggest.body, '<html', 'a fragment')
  t.match(suggest.body, `href="/help/articles/${s.a.pub.id}-printer-shows-offline?from=suggest"`)
  for (const key of hidden) t.notMatch(suggest.body, `data-article="${s.a[key].id}"`, `${key} is not suggested`)
  t.ok((suggest.body.match(/<li /g) ?? []).length <= 5, 'at most five')

  const page = await bob.get(url(s.a.pub))
  t.equal(page.statusCode, 200)
  t.match(page.body, /<h1 lang="en">Printer shows offline<\/h1>/)
  t.match(page.body, '<h2>Steps</h2>', 'the article\'s headings sit under the page\'s h1')
  t.equal((page.body.match(/<h1/g) ?? []).length, 1)
  t.match(page.body, `href="/help/articles/${s.ptTranslation.id}-impressora-aparece-offline" hreflang="pt-BR"`, 'the other language')
  t.match(page.body, 'Acme printer driver install', 'a related article the client may see')
  t.notMatch(page.body, 'Printer internal escalation', 'a related internal article is not listed')
  t.match(page.body, 'href="/portal/tickets/new"', 'still need help: open a ticket')
  for (const key of hidden) t.equal((await bob.get(url(s.a[key]))).statusCode, 404, `${key} by its address: 404`)
  t.equal((await bob.get('/help/articles/abc')).statusCode, 404)

  // Carol is a client of Acme and Globex: both accounts' articles are hers.
  const carol = await loginAs(s.app, 'carol@acme.test')
  t.equal((await carol.get(url(s.a.globex))).statusCode, 200)
  const carolSearch = await carol.get('/help/search?q=printer')
  t.match(carolSearch.body, `data-article="${s.a.globex.id}"`)
  t.match(carolSearch.body, `data-article="${s.a.acme.id}"`)

  // Staff see what the public sees; nobody anonymous gets in.
  const ana = await loginAs(s.app, 'ana@casebridge.test')
  t.equal((await ana.get(url(s.a.pub))).statusCode, 200)
  t.equal((await ana.get(url(s.a.acme))).statusCode, 404)
  t.notMatch((await ana.get(url(s.a.pub))).body, 'action="/help/articles', 'no vote form for staff')
  const anonymous = await new Agent(s.app).get('/help')
  t.equal(anonymous.statusCode, 302)
  t.equal(anonymous.headers.location, '/login?next=%2Fhelp')
})

t.test('a wrong or old slug answers 301 to the current address, keeping the suggestion marker', async (t) => {
  const s = await scene(t)
  const bob = await loginAs(s.app, 'bob@acme.test')
  const moved = await bob.get(`/help/articles/${s.a.pub.id}-old-title`)
  t.equal(moved.statusCode, 301)
  t.equal(moved.headers.location, url(s.a.pub))
  t.equal((await bob.get(`/help/articles/${s.a.pub.id}`)).headers.location, url(s.a.pub))
  t.equal((await bob.get(`/help/articles/${s.a.pub.id}-x?from=suggest`)).headers.location, `${url(s.a.pub)}?from=suggest`)
  t.equal((await bob.get(`/help/articles/${s.a.pub.id}-x`)).statusCode, 301)
  t.same(await counters(s, s.a.pub.id), { views: 0, helpful: 0, not_helpful: 0, deflections: 0 }, 'a redirect counts nothing')
})

t.test('searching: results, the other language, no results, pages, the search log', async (t) => {
  const s = await scene(t)
  const gina = await loginAs(s.app, 'gina@globex.test')
  const pt = await gina.get('/help/search?q=impressora')
  t.match(pt.body, 'Impressora aparece offline')
  t.match(pt.body, 'Artigos encontrados', 'in her language')

  const bob = await loginAs(s.app, 'bob@acme.test')
  const none = await bob.get('/help/search?q=' + encodeURIComponent('  Quantum   Flux  '))
  t.equal(none.statusCode, 200)
  t.match(none.body, 'data-help="no-results"')
  t.match(none.body, 'No article matches &quot;Quantum Flux&quot;')
  t.match(none.body, 'href="/portal/tickets/new"', 'the no-result state suggests a ticket')
  const logged = await s.db.selectFrom('kb_search').select(['query', 'results', 'origin']).orderBy('id').execute()
  t.same(logged, [{ query: 'impressora', results: 1, origin: 'help' }, { query: 'quantum flux', results: 0, origin: 'help' }], 'normalised, with what answered')

  t.equal((await bob.get('/help/search?q=')).headers.location, '/help')
  t.equal((await bob.get('/help?q=printer%20toner')).headers.location, '/help/search?q=printer+toner')
  t.equal((await bob.get('/help/search?q=printer&page=0')).statusCode, 400)
  t.equal((await bob.get('/help/search?q=printer&page=2')).statusCode, 404, 'past the last page')

  // Twelve more public printer articles: two pages of ten.
  for (let i = 1; i <= 12; i++) {
    const { id } = unwrap(await createArticle(s.deps(), s.admin, { language: 'en', title: `Printer tip ${i}`, body: 'Printer care.', tags: '', categoryId: null, audience: 'public', accountIds: [], translationOf: null }))
    unwrap(await moveArticle(s.deps(), s.admin, id, 'publish'))
  }
  const first = await bob.get('/help/search?q=printer')
  t.equal((first.body.match(/<li data-article=/g) ?? []).length, 10)
  t.match(first.body, 'href="/help/search?q=printer&amp;page=2" rel="next"')
  const second = await bob.get('/help/search?q=printer&page=2')
  t.equal((second.body.match(/<li data-article=/g) ?? []).length, 4, '14 visible printer articles in all')
  t.match(second.body, 'rel="prev"')
  t.equal(await s.db.selectFrom('kb_search').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)), 3, 'a later page is not another search')
})

t.test('was this helpful: a vote, a changed vote, a comment, and bad input refused with nothing written', async (t) => {
  const s = await scene(t)
  const bob = await loginAs(s.app, 'bob@acme.test')
  const form = url(s.a.pub)
  const feedback = `${url(s.a.pub)}/feedback`

  const yes = await bob.post(feedback, { helpful: 'yes', comment: '' }, { csrfFrom: form })
  t.equal(yes.statusCode, 303)
  t.equal(yes.headers.location, `${url(s.a.pub)}?thanks=1#feedback`)
  const after = await bob.get(yes.headers.location as string)
  t.match(after.body, 'Thank you! We are glad the article helped.')
  t.match(after.body, 'data-vote="yes"')
  t.match(after.body, 'Change my answer')
  t.match(await counters(s, s.a.pub.id), { helpful: 1, not_helpful: 0 })

  t.equal((await bob.post(feedback, { helpful: 'no', comment: 'Step 2 is <b>missing</b>' }, { csrfFrom: form })).statusCode, 303)
  t.match(await counters(s, s.a.pub.id), { helpful: 0, not_helpful: 1 }, 'the vote moved')
  const rows = await s.db.selectFrom('kb_feedback').select(['helpful', 'comment', 'contact_id']).execute()
  t.same(rows, [{ helpful: 0, comment: 'Step 2 is <b>missing</b>', contact_id: s.ids.contact['bob@acme.test'] }], 'one vote per client and article')
  const page = await bob.get(form)
  t.match(page.body, 'Step 2 is &lt;b&gt;missing&lt;/b&gt;', 'the comment comes back escaped')

  const alice = await loginAs(s.app, 'alice@acme.test')
  await alice.post(feedback, { helpful: 'yes', comment: '' }, { csrfFrom: form })
  t.match(await counters(s, s.a.pub.id), { helpful: 1, not_helpful: 1 })

  const before = await s.db.selectFrom('kb_feedback').selectAll().orderBy('id').execute()
  const tooLong = await bob.post(feedback, { helpful: 'yes', comment: 'x'.repeat(2001) }, { csrfFrom: form })
  t.equal(tooLong.statusCode, 422)
  t.match(tooLong.body, /id="comment-error">[^<]+2000/)
  const bad = await bob.post(feedback, { helpful: 'maybe', comment: '' }, { csrfFrom: form })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'id="helpful-error"')
  const missing = await bob.post(feedback, { comment: 'no choice' }, { csrfFrom: form })
  t.equal(missing.statusCode, 422)
  t.match(missing.body, 'Choose yes or no.')
  t.equal((await bob.post(`${url(s.a.globex)}/feedback`, { helpful: 'yes', comment: '' }, { csrfFrom: form })).statusCode, 404, 'an article the client may not see')
  t.equal((await bob.post(`${url(s.a.draft)}/feedback`, { helpful: 'yes', comment: '' }, { csrfFrom: form })).statusCode, 404)
  const ana = await loginAs(s.app, 'ana@casebridge.test')
  t.equal((await ana.post(feedback, { helpful: 'yes', comment: '' }, { csrfFrom: form })).statusCode, 404, 'staff do not vote')
  t.equal((await bob.post(feedback, { helpful: 'yes', comment: '' }, { noCsrf: true })).statusCode, 403, 'the CSRF token is required')
  t.same(await s.db.selectFrom('kb_feedback').selectAll().orderBy('id').execute(), before, 'nothing written by refused votes')
  t.match(await counters(s, s.a.pub.id), { helpful: 1, not_helpful: 1 })
})

t.test('views count once per session and article within the hour', async (t) => {
  const s = await scene(t)
  const bob = await loginAs(s.app, 'bob@acme.test')
  await bob.get(url(s.a.pub))
  await bob.get(url(s.a.pub))
  t.equal((await counters(s, s.a.pub.id)).views, 1, 'a reload does not count')
  s.setNow(new Date(START.getTime() + 59 * MINUTE))
  await bob.get(url(s.a.pub))
  t.equal((await counters(s, s.a.pub.id)).views, 1)
  s.setNow(new Date(START.getTime() + 61 * MINUTE))
  await bob.get(url(s.a.pub))
  t.equal((await counters(s, s.a.pub.id)).views, 2, 'an hour later it counts again')
  const again = await loginAs(s.app, 'bob@acme.test')
  await again.get(url(s.a.pub))
  t.equal((await counters(s, s.a.pub.id)).views, 3, 'another session counts')
  const ana = await loginAs(s.app, 'ana@casebridge.test')
  await ana.get(url(s.a.pub))
  t.equal((await counters(s, s.a.pub.id)).views, 3, 'staff views are not counted')
  t.equal(await s.db.selectFrom('kb_article_view').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)), 3)
  const index = await bob.get('/help')
  t.match(index.body, /Most read[\s\S]*Printer shows offline/)
})

t.test('suggestions beside the new-ticket form: the live fragment, the step without JavaScript, deflections', async (t) => {
  const s = await scene(t)
  const bob = await loginAs(s.app, 'bob@acme.test')
  const form = await bob.get('/portal/tickets/new')
  t.match(form.body, 'id="kb-suggest-results" aria-live="polite"')
  t.match(form.body, '<script src="/static/kb-suggest.js" defer></script>')
  t.match(form.body, 'formaction="/portal/tickets/suggestions"')
  t.equal((await bob.get('/static/kb-suggest.js')).statusCode, 200)

  // Typed word by word: one search row per burst, holding the final words.
  await bob.get('/help/suggest?q=pri')
  s.setNow(new Date(START.getTime() + 10_000))
  await bob.get('/help/suggest?q=printer')
  s.setNow(new Date(START.getTime() + 20_000))
  await bob.get('/help/suggest?q=printer%20offline')
  t.same(await s.db.selectFrom('kb_search').select(['query', 'origin']).orderBy('id').execute(), [{ query: 'printer offline', origin: 'suggest' }])
  s.setNow(new Date(START.getTime() + 2 * MINUTE))
  await bob.get('/help/suggest?q=toner')
  t.same(await s.db.selectFrom('kb_search').select(['query', 'results']).orderBy('id').execute(), [{ query: 'printer offline', results: 3 }, { query: 'toner', results: 0 }], 'a later burst is another row')
  const idle = await bob.get('/help/suggest?q=')
  t.match(idle.body, 'data-suggest="idle"')

  // Without JavaScript: the step lists the articles beside the form, the text kept.
  const step = await bob.post('/portal/tickets/suggestions', { title: 'Printer offline again', description: 'It says <offline> since Monday', product_id: '', category_id: '', desk_id: '', priority: '', url: '' }, { csrfFrom: '/portal/tickets/new' })
  t.equal(step.statusCode, 200)
  t.match(step.body, 'value="Printer offline again"')
  t.match(step.body, 'It says &lt;offline&gt; since Monday</textarea>')
  t.match(step.body, `href="/help/articles/${s.a.pub.id}-printer-shows-offline?from=suggest"`)
  t.notMatch(step.body, `data-article="${s.a.globex.id}"`)
  t.equal(await s.db.selectFrom('kb_search').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow().then((r) => Number(r.n)), 3, 'the final step is a row of its own')
  const tooLong = await bob.post('/portal/tickets/suggestions', { title: 'x'.repeat(201), description: '' }, { csrfFrom: '/portal/tickets/new' })
  t.equal(tooLong.statusCode, 422)

  // Opening a suggestion is a deflection at once; a reload is not another one.
  const opened = await bob.get(`${url(s.a.pub)}?from=suggest`)
  t.match(opened.body, 'Yes, this solved my problem')
  t.match(opened.body, 'href="/portal/tickets/new?draft=1"')
  await bob.get(`${url(s.a.pub)}?from=suggest`)
  t.equal((await counters(s, s.a.pub.id)).deflections, 1)
  t.equal((await bob.get(`${url(s.a.globex)}?from=suggest`)).statusCode, 404)
  t.equal((await counters(s, s.a.globex.id)).deflections, 0)

  // "I still need help": the form comes back as it was left.
  const back = await bob.get('/portal/tickets/new?draft=1')
  t.match(back.body, 'value="Printer offline again"')
  t.match(back.body, 'It says &lt;offline&gt; since Monday</textarea>')
  t.match(back.body, 'Your text is back in the form.')

  // A ticket within the hour withdraws it; an earlier visit (over an hour before) stays a deflection.
  const earlier = await s.db.insertInto('kb_suggestion_visit').values({ article_id: s.a.acme.id, contact_id: s.ids.contact['bob@acme.test'], session_id: null, opened_at: new Date(START.getTime() - 2 * 60 * MINUTE).toISOString(), outcome: 'deflected', ticket_id: null, decided_at: null }).returning('id').executeTakeFirstOrThrow()
  await s.db.updateTable('kb_article').set({ deflections: 1 }).where('id', '=', s.a.acme.id).execute()
  s.setNow(new Date(START.getTime() + 30 * MINUTE))
  const created = await bob.postMultipart('/portal/tickets', { title: 'Printer offline again', description: 'Still offline', category_id: String(s.ids.category['Printer problem']), priority: '' }, [], { csrfFrom: '/portal/tickets/new' })
  t.equal(created.statusCode, 302)
  t.equal((await counters(s, s.a.pub.id)).deflections, 0, 'withdrawn')
  t.equal((await counters(s, s.a.acme.id)).deflections, 1, 'the older visit stays')
  const visits = await s.db.selectFrom('kb_suggestion_visit').select(['id', 'outcome', 'ticket_id']).orderBy('opened_at').execute()
  t.same(visits.map((v) => [v.id === earlier.id, v.outcome, v.ticket_id !== null]), [[true, 'deflected', false], [false, 'ticket_opened', true]])
  t.notMatch((await bob.get('/portal/tickets/new?draft=1')).body, 'Printer offline again', 'the kept draft is done with')
})

t.test('XSS in article titles and queries is shown as text', async (t) => {
  const s = await scene(t)
  const evil = '<script>alert(1)</script><img src=x onerror=alert(2)> Printer'
  const { id } = unwrap(await createArticle(s.deps(), s.admin, { language: 'en', title: evil, body: 'Printer <img src=x onerror=alert(3)> [x](javascript:alert(4))', tags: '', categoryId: s.printing, audience: 'public', accountIds: [], translationOf: null }))
  unwrap(await moveArticle(s.deps(), s.admin, id, 'publish'))
  const bob = await loginAs(s.app, 'bob@acme.test')
  const q = '"><svg onload=alert(5)>printer'
  const pages = [
    await bob.get('/help'), await bob.get(`/help/categories/${s.printing}-printing`), await bob.get(`/help/search?q=${encodeURIComponent(q)}`),
    await bob.get(`/help/suggest?q=${encodeURIComponent(q)}`), await bob.get(`/help/articles/${id}-script-alert-1-script-img-src-x-onerror-alert-2-printer`)
  ]
  for (const page of pages) {
    t.equal(page.statusCode, 200)
    t.notMatch(page.body, '<script>alert')
    t.notMatch(page.body, /<img src=x/i)
    t.notMatch(page.body, '<svg onload')
    t.notMatch(page.body, /href="javascript:/i)
  }
  t.match(pages[2].body, '&lt;script&gt;alert(1)&lt;/script&gt;')
  t.match(pages[2].body, '&quot;&gt;&lt;svg onload=alert(5)&gt;printer')
})
