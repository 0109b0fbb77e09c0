// The staff knowledge-base pages: the list and its filters, the editor (create, edit, preview,
// stale versions, field errors), review, drafts from solved tickets, versions, files and who
// may see any of it. Both databases:
//   npx tap test/web/kb-desk.test.ts
//   PG_PORT=55451 scripts/pg-test.sh test/web/kb-desk.test.ts
import t from 'tap'
import type { Test } from 'tap'
import { Agent, csrfFrom, loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle, moveArticle, type ArticleInput } from '../../src/commands/kb.js'

const count = async (env: TestEnv, table: 'kb_article' | 'kb_article_version' | 'kb_attachment') =>
  Number((await env.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

const article = (over: Partial<ArticleInput> = {}): ArticleInput => ({
  language: 'en', title: 'Printer shows offline', body: 'Turn it **off** and on.', tags: 'printer', categoryId: null,
  audience: 'public', accountIds: [], translationOf: null, ...over
})

async function scene(t: Test) {
  const env = await testApp(t)
  const deps = depsAt(env.db, new Date())
  const who = async (email: string) => performerOf(await staffActor(env.db, env.ids, email))
  const people = { ana: await who('ana@casebridge.test'), carla: await who('carla@casebridge.test'), bruno: await who('bruno@casebridge.test'), admin: await who('admin@casebridge.test') }
  const make = async (by: keyof typeof people, over: Partial<ArticleInput> = {}, publishBy?: keyof typeof people) => {
    const { id } = unwrap(await createArticle(deps, people[by], article(over)))
    if (publishBy) unwrap(await moveArticle(deps, people[publishBy], id, 'publish'))
    return id
  }
  return { ...env, env, deps, people, make }
}

/** The editor's fields as a form posts them, with the page's token. */
async function postForm(agent: Agent, page: string, url: string, form: Record<string, string | string[]>) {
  const csrf = csrfFrom((await agent.get(page)).body)
  return agent.post(url, { _csrf: csrf, title: '', body: '', tags: '', category_id: '', language: 'en', audience: 'public', translation_of: '', note: '', ...form }, { noCsrf: true })
}

t.test('clients and visitors are refused on every staff knowledge-base route', async (t) => {
  const { app, make } = await scene(t)
  const id = await make('carla')
  const gets = ['/desk/kb', '/desk/kb/new', `/desk/kb/${id}`, `/desk/kb/${id}/edit`, `/desk/kb/${id}/versions`, `/desk/kb/${id}/diff?from=1&to=1`]
  const posts = ['/desk/kb/new', `/desk/kb/${id}/edit`, `/desk/kb/${id}/submit`, `/desk/kb/${id}/publish`, '/desk/kb/preview', `/desk/kb/${id}/files`, `/desk/kb/${id}/versions/1/restore`]
  const visitor = new Agent(app)
  for (const url of gets) {
    const res = await visitor.get(url)
    t.equal(res.statusCode, 302, `visitor: ${url}`)
    t.match(res.headers.location, /^\/login/)
  }
  for (const url of posts) t.ok([401, 302, 403].includes((await visitor.post(url, { title: 'x' })).statusCode), `visitor POST ${url}`)
  const bob = await loginAs(app, 'bob@acme.test')
  for (const url of gets) t.equal((await bob.get(url)).statusCode, 404, `client: ${url}`)
  const csrf = csrfFrom((await bob.get('/portal')).body)
  for (const url of posts) t.equal((await bob.post(url, { _csrf: csrf, title: 'x', version: '1' }, { noCsrf: true })).statusCode, 404, `client POST ${url}`)
  t.notMatch((await bob.get('/portal')).body, 'href="/desk/kb"', 'no link in the client\'s menu')
  t.match((await (await loginAs(app, 'carla@casebridge.test')).get('/desk')).body, '<a href="/desk/kb">Knowledge base</a>', 'staff have it in theirs')
})

t.test('the list: filters, search, "mine", the review queue for reviewers, paging', async (t) => {
  const { app, make, deps, people } = await scene(t)
  await make('carla', { title: 'Printer shows offline' }, 'ana')
  await make('carla', { title: 'Impressora offline', language: 'pt-BR', body: 'Desligue e ligue.', audience: 'internal' })
  const review = await make('ana', { title: 'VPN drops every hour', body: 'Renew the certificate.' })
  unwrap(await moveArticle(deps, people.ana, review, 'submit'))
  for (let i = 0; i < 26; i++) await make('admin', { title: `Filler article ${i}`, body: 'Nothing to see.' })

  const carla = await loginAs(app, 'carla@casebridge.test')
  const all = await carla.get('/desk/kb')
  t.equal(all.statusCode, 200)
  t.match(all.body, 'New article')
  t.match(all.body, '29 results')
  t.match(all.body, 'Page 1 of 2')
  t.notMatch(all.body, 'In review (', 'no review queue for staff who do not review')
  const page2 = await carla.get('/desk/kb?page=2')
  t.match(page2.body, 'Printer shows offline', 'the oldest change is on the second page')

  const published = await carla.get('/desk/kb?state=published')
  t.match(published.body, 'Printer shows offline')
  t.notMatch(published.body, 'Impressora offline')
  t.match(published.body, 'Carla Mendes', 'the author')
  const pt = await carla.get('/desk/kb?language=pt-BR')
  t.match(pt.body, 'Impressora offline')
  t.notMatch(pt.body, 'Printer shows offline')
  t.match((await carla.get('/desk/kb?audience=internal')).body, 'Impressora offline')
  const mine = await carla.get('/desk/kb?mine=1')
  t.match(mine.body, '2 results')
  t.notMatch(mine.body, 'Filler article')
  const search = await carla.get('/desk/kb?q=certificate')
  t.match(search.body, 'VPN drops every hour')
  t.notMatch(search.body, 'Printer shows offline')
  t.match((await carla.get('/desk/kb?q=zzzqqq')).body, 'No article matches these filters.')
  t.equal((await carla.get('/desk/kb?state=bogus')).statusCode, 400, 'an unknown filter value is a bad request')

  const ana = await loginAs(app, 'ana@casebridge.test')
  const queue = await ana.get('/desk/kb')
  t.match(queue.body, 'In review (1)', 'a desk manager sees the review queue')
  const inReview = await ana.get('/desk/kb?state=in_review')
  t.match(inReview.body, 'VPN drops every hour')
  t.match(inReview.body, '1 results')
})

t.test('the editor: create, preview without saving, field errors with nothing written, edit, stale saves', async (t) => {
  const { app, env, make } = await scene(t)
  const carla = await loginAs(app, 'carla@casebridge.test')
  const editor = await carla.get('/desk/kb/new')
  t.equal(editor.statusCode, 200)
  t.match(editor.body, '<label for="body">')
  t.match(editor.body, 'name="preview"')
  t.match(editor.body, '<script src="/static/kb-editor.js" defer></script>')

  const before = await count(env, 'kb_article')
  const preview = await postForm(carla, '/desk/kb/new', '/desk/kb/new', { title: 'Reset a password', body: '# Steps\n\n1. Open **Settings**\n\n<script>alert(1)</script>', preview: '1' })
  t.equal(preview.statusCode, 200)
  t.match(preview.body, '<h1>Steps</h1>')
  t.match(preview.body, '<strong>Settings</strong>')
  t.notMatch(preview.body, '<script>alert(1)', 'raw HTML is shown as text')
  t.match(preview.body, 'value="Reset a password"', 'the form keeps what was typed')
  t.equal(await count(env, 'kb_article'), before, 'a preview writes nothing')

  const live = await carla.post('/desk/kb/preview', { _csrf: csrfFrom(editor.body), body: '**bold** <img src=x onerror=alert(1)>' }, { noCsrf: true })
  t.equal(live.statusCode, 200)
  t.match(live.headers['content-type'], 'text/html')
  t.match(live.body, '<strong>bold</strong>')
  t.notMatch(live.body, '<img', 'the live preview is sanitized like saving')

  const cases: [string, Record<string, string | string[]>, string, string][] = [
    ['no title', { title: '', body: 'x' }, 'title', 'This field is required'],
    ['no body', { title: 'T', body: '' }, 'body', 'This field is required'],
    ['a title too long', { title: 'x'.repeat(201), body: 'x' }, 'title', ''],
    ['an unknown language', { title: 'T', body: 'x', language: 'fr' }, 'language', ''],
    ['an unknown audience', { title: 'T', body: 'x', audience: 'world' }, 'audience', ''],
    ['accounts without any', { title: 'T', body: 'x', audience: 'accounts' }, 'account_ids', 'Choose at least one account'],
    ['a category that is no number', { title: 'T', body: 'x', category_id: 'abc' }, 'category_id', ''],
    ['a category that does not exist', { title: 'T', body: 'x', category_id: '999999' }, 'category_id', ''],
    ['too many tags', { title: 'T', body: 'x', tags: Array.from({ length: 21 }, (_, i) => `t${i}`).join(',') }, 'tags', 'At most 20 tags'],
    ['a related article that does not exist', { title: 'T', body: 'x', related_ids: ['999999'] }, 'related_ids', ''],
    ['a control character', { title: 'Bad\u0007title', body: 'x' }, 'title', '']
  ]
  for (const [what, form, field, words] of cases) {
    const res = await postForm(carla, '/desk/kb/new', '/desk/kb/new', form)
    t.equal(res.statusCode, 422, what)
    t.match(res.body, `id="${field}-error"`, `${what}: the error is on ${field}`)
    if (words) t.match(res.body, words, what)
    t.match(res.body, 'Please correct the highlighted fields.')
  }
  t.equal(await count(env, 'kb_article'), before, 'no field error wrote anything')

  const acme = env.ids.account['Acme Corporation']
  const other = await make('ana', { title: 'Toner low warning' })
  const created = await postForm(carla, '/desk/kb/new', '/desk/kb/new', {
    title: 'Reset a password', body: 'Open **Settings**.', tags: 'Password, Login', audience: 'accounts', account_ids: [String(acme)], related_ids: [String(other)], note: 'First draft'
  })
  t.equal(created.statusCode, 303)
  const id = Number(/\/desk\/kb\/(\d+)$/.exec(created.headers.location as string)![1])
  const view = await carla.get(`/desk/kb/${id}`)
  t.match(view.body, '<h1>Reset a password</h1>')
  t.match(view.body, '<strong>Settings</strong>')
  t.match(view.body, 'Draft')
  t.match(view.body, 'Chosen accounts')
  t.match(view.body, 'Acme Corporation')
  t.match(view.body, 'password, login')
  t.match(view.body, `<a href="/desk/kb/${other}">Toner low warning</a>`, 'the related article')
  t.match((await carla.get(`/desk/kb/${other}`)).body, `<a href="/desk/kb/${id}">Reset a password</a>`, 'related both ways')
  t.notMatch(view.body, '/help/articles/', 'no client address for a draft')

  const edit = await carla.get(`/desk/kb/${id}/edit`)
  t.match(edit.body, 'name="version" value="1"')
  t.match(edit.body, `<option value="${acme}" selected>`)
  const saved = await postForm(carla, `/desk/kb/${id}/edit`, `/desk/kb/${id}/edit`, { title: 'Reset your password', body: 'Open **Settings**, then Security.', audience: 'public', version: '1', note: 'Simpler', related_ids: [] })
  t.equal(saved.statusCode, 303)
  t.match((await carla.get(`/desk/kb/${id}`)).body, 'Version 2')
  t.notMatch((await carla.get(`/desk/kb/${other}`)).body, 'Reset your password', 'a related article taken off goes from both')

  const versionsBefore = await count(env, 'kb_article_version')
  const stale = await postForm(carla, `/desk/kb/${id}/edit`, `/desk/kb/${id}/edit`, { title: 'My stale title', body: 'Words I typed and must not lose.', version: '1' })
  t.equal(stale.statusCode, 409)
  t.match(stale.body, 'Someone saved a newer version while you were editing')
  t.match(stale.body, 'value="My stale title"')
  t.match(stale.body, 'Words I typed and must not lose.</textarea>')
  t.match(stale.body, 'name="version" value="2"', 'saving again replaces the newer version knowingly')
  t.equal(await count(env, 'kb_article_version'), versionsBefore, 'nothing written')
  const bad = await postForm(carla, `/desk/kb/${id}/edit`, `/desk/kb/${id}/edit`, { title: '', body: 'Kept text', version: '2' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'Kept text</textarea>')
  t.equal(await count(env, 'kb_article_version'), versionsBefore)

  // A translation: its original is offered, in the other language.
  const tr = await carla.get(`/desk/kb/new?translation_of=${id}`)
  t.match(tr.body, `<option value="${id}" selected>Reset your password (English)</option>`)
  t.match(tr.body, '<option value="pt-BR" selected>')
  const translated = await postForm(carla, `/desk/kb/new?translation_of=${id}`, '/desk/kb/new', { title: 'Redefinir a senha', body: 'Abra **Configurações**.', language: 'pt-BR', translation_of: String(id) })
  t.equal(translated.statusCode, 303)
  const page = await carla.get(`/desk/kb/${id}`)
  t.match(page.body, 'Redefinir a senha')
  t.match(page.body, 'hreflang="pt-BR"')
})

t.test('review: submit, a reviewer publishes, a manager may not publish their own, staff see only what they may do', async (t) => {
  const { app, env, make } = await scene(t)
  const id = await make('carla', { title: 'Scanner jams' })
  const carla = await loginAs(app, 'carla@casebridge.test')
  let page = await carla.get(`/desk/kb/${id}`)
  t.match(page.body, 'Submit for review')
  t.notMatch(page.body, `action="/desk/kb/${id}/publish"`, 'staff are not offered publishing')
  const csrf = csrfFrom(page.body)
  const refused = await carla.post(`/desk/kb/${id}/publish`, { _csrf: csrf, version: '1' }, { noCsrf: true })
  t.equal(refused.statusCode, 403)
  t.match(refused.body, 'Only a desk manager or an admin may do this.')
  t.equal((await carla.post(`/desk/kb/${id}/submit`, { _csrf: csrf, version: '1' }, { noCsrf: true })).statusCode, 303)
  page = await carla.get(`/desk/kb/${id}`)
  t.match(page.body, 'Sent for review.')
  t.match(page.body, 'In review')

  const ana = await loginAs(app, 'ana@casebridge.test')
  page = await ana.get(`/desk/kb/${id}`)
  t.match(page.body, `action="/desk/kb/${id}/publish"`)
  t.match(page.body, `action="/desk/kb/${id}/send_back"`)
  t.equal((await ana.post(`/desk/kb/${id}/publish`, { _csrf: csrfFrom(page.body), version: '1' }, { noCsrf: true })).statusCode, 303)
  page = await ana.get(`/desk/kb/${id}`)
  t.match(page.body, 'Published')
  t.match(page.body, `/help/articles/${id}-scanner-jams`, 'the client address once published')
  t.match(page.body, 'Ana Souza', 'the reviewer')
  t.notMatch((await carla.get(`/desk/kb/${id}`)).body, `href="/desk/kb/${id}/edit"`, 'a published article is edited by reviewers only')
  t.equal((await carla.get(`/desk/kb/${id}/edit`)).statusCode, 403)

  const own = await make('ana', { title: 'Ana writes' })
  page = await ana.get(`/desk/kb/${own}`)
  t.notMatch(page.body, `action="/desk/kb/${own}/publish"`, 'not offered to publish her own')
  const ownRefused = await ana.post(`/desk/kb/${own}/publish`, { _csrf: csrfFrom(page.body), version: '1' }, { noCsrf: true })
  t.equal(ownRefused.statusCode, 403)
  t.match(ownRefused.body, 'You wrote this article: another reviewer publishes it')
  const row = await env.db.selectFrom('kb_article').select('state').where('id', '=', own).executeTakeFirstOrThrow()
  t.equal(row.state, 'draft', 'nothing changed')

  const stale = await ana.post(`/desk/kb/${id}/archive`, { _csrf: csrfFrom(page.body), version: '7' }, { noCsrf: true })
  t.equal(stale.statusCode, 409)
  t.match(stale.body, 'Someone changed this article meanwhile.')
  const twice = await ana.post(`/desk/kb/${id}/submit`, { _csrf: csrfFrom(page.body), version: '1' }, { noCsrf: true })
  t.equal(twice.statusCode, 409)
  t.match(twice.body, 'Not possible while the article is Published.')
  t.equal((await ana.post(`/desk/kb/${id}/archive`, { _csrf: csrfFrom(page.body), version: '1' }, { noCsrf: true })).statusCode, 303)
  t.match((await ana.get(`/desk/kb/${id}`)).body, 'Restore as draft')
  t.equal((await ana.get('/desk/kb/999999')).statusCode, 404)
})

t.test('a draft from a solved ticket: personal data taken out and flagged, the ticket linked; refused before it is solved or when not visible', async (t) => {
  const { app, env } = await scene(t)
  await env.db.updateTable('contact').set({ phone: '+55 11 98765-4321' }).where('email', '=', 'bob@acme.test').execute()
  const ticket = await makeTicket(env.db, env.ids, { title: 'Bob Stone cannot print' })
  await env.db.updateTable('ticket').set({ description: 'Hi, this is Bob. Call me on +55 11 98765-4321 or write to bob@acme.test. Acme Corporation printers all fail.' }).where('id', '=', ticket.id).execute()

  const ana = await loginAs(app, 'ana@casebridge.test')
  const early = await ana.get(`/desk/kb/new?ticket=${ticket.number}`)
  t.equal(early.statusCode, 409)
  t.match(early.body, 'This ticket is not solved yet')
  t.match(early.body, `href="/desk/tickets/${ticket.number}"`)

  // Solved, as the lifecycle leaves a resolved ticket: the resolution is what the draft's solution is made of.
  await env.db.updateTable('ticket').set({ state: 'resolved', status: 'waiting_for_closure', resolution: 'Bob Stone reinstalled the driver from printers.acme.test; call 11987654321 if it fails.', resolved_at: new Date().toISOString() }).where('id', '=', ticket.id).execute()

  const carla = await loginAs(app, 'carla@casebridge.test')
  t.equal((await carla.get(`/desk/kb/new?ticket=${ticket.number}`)).statusCode, 404, 'a staff member who may not see the ticket')
  const csrfC = csrfFrom((await carla.get('/desk/kb/new')).body)
  const before = await count(env, 'kb_article')
  t.equal((await carla.post('/desk/kb/new', { _csrf: csrfC, title: 'Sneaky', body: 'x', language: 'en', audience: 'public', ticket: String(ticket.number) }, { noCsrf: true })).statusCode, 404, 'nor save an article from it')
  t.equal(await count(env, 'kb_article'), before)

  const draft = await ana.get(`/desk/kb/new?ticket=${ticket.number}`)
  t.equal(draft.statusCode, 200)
  t.match(draft.body, 'Review before publishing: personal data removed.')
  for (const what of ['the requester&#39;s name ([name])', 'e-mail addresses ([e-mail])', 'phone numbers ([phone])', 'the client&#39;s account name ([company])']) t.match(draft.body, what)
  const textarea = /<textarea id="body"[^>]*>([\s\S]*?)<\/textarea>/.exec(draft.body)![1]
  t.match(textarea, '## Problem')
  t.match(textarea, '## Solution')
  t.match(textarea, 'reinstalled the driver')
  for (const leak of ['Bob', 'Stone', 'bob@acme.test', '98765', '11987654321', 'Acme Corporation']) t.notMatch(textarea, leak, `no ${leak} in the draft`)
  t.match(draft.body, 'value="[name] cannot print"')
  t.match(draft.body, `name="ticket" value="${ticket.number}"`)

  const saved = await postForm(ana, `/desk/kb/new?ticket=${ticket.number}`, '/desk/kb/new', { title: 'Printing fails after an update', body: 'Reinstall the driver.', ticket: String(ticket.number) })
  t.equal(saved.statusCode, 303)
  const id = Number(/(\d+)$/.exec(saved.headers.location as string)![1])
  const row = await env.db.selectFrom('kb_article').select('source_ticket_id').where('id', '=', id).executeTakeFirstOrThrow()
  t.equal(row.source_ticket_id, ticket.id)
  const view = await ana.get(`/desk/kb/${id}`)
  t.match(view.body, `<a href="/desk/tickets/${ticket.number}">#${ticket.number} Bob Stone cannot print</a>`)
  const carlaView = await carla.get(`/desk/kb/${id}`)
  t.notMatch(carlaView.body, `/desk/tickets/${ticket.number}`, 'a ticket the viewer may not see is not linked')
  t.match(carlaView.body, '1 linked tickets, none on your desks.')
  t.equal((await ana.get('/desk/kb/new?ticket=999999')).statusCode, 404)
})

t.test('versions: the list, a word diff, going back to a version', async (t) => {
  const { app, env, make } = await scene(t)
  const id = await make('carla', { title: 'Wi-Fi drops', body: 'Restart the router.' })
  const carla = await loginAs(app, 'carla@casebridge.test')
  const saved = await postForm(carla, `/desk/kb/${id}/edit`, `/desk/kb/${id}/edit`, { title: 'Wi-Fi drops', body: 'Restart the access point.', version: '1', note: 'Right device' })
  t.equal(saved.statusCode, 303)
  const list = await carla.get(`/desk/kb/${id}/versions`)
  t.equal(list.statusCode, 200)
  t.match(list.body, 'Right device')
  t.match(list.body, 'Carla Mendes')
  t.match(list.body, `href="/desk/kb/${id}/diff?from=1&amp;to=2"`)
  const diff = await carla.get(`/desk/kb/${id}/diff?from=1&to=2`)
  t.equal(diff.statusCode, 200)
  t.match(diff.body, 'Restart the <del>router</del><ins>access point</ins>.')
  t.equal((await carla.get(`/desk/kb/${id}/diff?from=1&to=9`)).statusCode, 404)
  t.equal((await carla.get(`/desk/kb/${id}/diff?from=x&to=2`)).statusCode, 400)

  const restored = await carla.post(`/desk/kb/${id}/versions/1/restore`, { _csrf: csrfFrom(list.body), version: '2' }, { noCsrf: true })
  t.equal(restored.statusCode, 303)
  const after = await carla.get(`/desk/kb/${id}/versions`)
  t.match(after.body, 'Version 1 is back, as version 3.')
  t.match(after.body, 'Back to version 1')
  t.match((await carla.get(`/desk/kb/${id}`)).body, 'Restart the router.')
  const stale = await carla.post(`/desk/kb/${id}/versions/2/restore`, { _csrf: csrfFrom(list.body), version: '2' }, { noCsrf: true })
  t.equal(stale.statusCode, 409, 'restoring from a stale page')
  t.equal(await count(env, 'kb_article_version'), 3)
})

const PAYLOADS = [
  '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<svg onload=alert(1)>', '"><script>alert(1)</script>',
  '<a href="javascript:alert(1)">x</a>', '[click](javascript:alert(1))', '![x](javascript:alert(1))', '<iframe src="javascript:alert(1)"></iframe>',
  "'><details open ontoggle=alert(1)>", '<IMG SRC="jav&#x09;ascript:alert(1);">', '[x](https://example.com" onclick="alert(1))', '</textarea><script>alert(1)</script>'
]

/**
 * Markup that could run: a script other than this site's files, a frame or plugin element, an
 * event-handler attribute, or a script URL in a link or source. Escaped text (&lt;...) is no tag.
 */
function unsafe(html: string): string | null {
  for (const m of html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g)) {
    const [tag, name, attrs] = m
    const el = name.toLowerCase()
    if (el === 'script' && !/^<script src="\/static\/[a-z-]+\.js" defer>$/.test(tag)) return tag
    if (['iframe', 'object', 'embed', 'math', 'base', 'meta', 'style', 'form'].includes(el) && !(el === 'meta' && /^<meta (charset|name="viewport")/.test(tag)) && !(el === 'form' && /^<form method="(post|get)" action="\//.test(tag))) return tag
    for (const a of attrs.matchAll(/\s([^\s=/>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g)) {
      const attr = a[1].toLowerCase()
      const value = (a[2] ?? '').replace(/^["']|["']$/g, '').trim().toLowerCase()
      if (attr.startsWith('on')) return tag
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href'].includes(attr) && /^(javascript|vbscript|data):/.test(value.replace(/[\s\u0000-\u001f]/g, ''))) return tag
    }
  }
  return null
}

t.test('XSS payloads in the title, text, tags and note never come out as markup on any staff page', async (t) => {
  for (const bad of ['<img src=x onerror=alert(1)>', '<a href=" JavaScript:alert(1)">', '<script>alert(1)</script>', '<iframe src="/x">']) t.not(unsafe(bad), null, `the check catches ${bad}`)
  t.equal(unsafe('<p title="&lt;img src=x onerror=alert(1)&gt;">&lt;script&gt;</p><script src="/static/kb-editor.js" defer></script>'), null, 'escaped text is text')
  const { app, env, make } = await scene(t)
  const ana = await loginAs(app, 'ana@casebridge.test')
  const related = await make('carla', { title: PAYLOADS[0] })
  for (const [i, payload] of PAYLOADS.entries()) {
    const form = { title: `T${i} ${payload}`.slice(0, 200), body: `${payload}\n\n${payload}`, tags: payload.replace(/,/g, ' ').slice(0, 40), note: payload, related_ids: [String(related)] }
    const preview = await postForm(ana, '/desk/kb/new', '/desk/kb/new', { ...form, preview: '1' })
    t.equal(unsafe(preview.body), null, `preview: ${payload}`)
    const created = await postForm(ana, '/desk/kb/new', '/desk/kb/new', form)
    t.equal(created.statusCode, 303, payload)
    const id = Number(/(\d+)$/.exec(created.headers.location as string)![1])
    await postForm(ana, `/desk/kb/${id}/edit`, `/desk/kb/${id}/edit`, { ...form, body: `${form.body}\n\nmore`, version: '1' })
    for (const url of [`/desk/kb/${id}`, `/desk/kb/${id}/edit`, `/desk/kb/${id}/versions`, `/desk/kb/${id}/diff?from=1&to=2`, `/desk/kb/${related}`, '/desk/kb', `/desk/kb?q=${encodeURIComponent(payload)}`]) {
      const res = await ana.get(url)
      t.equal(res.statusCode, 200, url)
      t.equal(unsafe(res.body), null, `${url}: ${payload}`)
    }
  }
  t.ok(await count(env, 'kb_article') > PAYLOADS.length)
})

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex')

t.test('files: uploaded in the editor, listed, served by the article\'s audience; only safe images inline', async (t) => {
  const { app, env, deps, people, make } = await scene(t)
  const id = await make('carla', { title: 'Printer setup' })
  const carla = await loginAs(app, 'carla@casebridge.test')
  const edit = await carla.get(`/desk/kb/${id}/edit`)
  t.match(edit.body, 'enctype="multipart/form-data"')
  const none = await carla.postMultipart(`/desk/kb/${id}/files`, { _csrf: csrfFrom(edit.body), next: 'edit' }, [], { noCsrf: true })
  t.equal(none.statusCode, 422)
  t.match(none.body, 'Choose at least one file.')
  const up = await carla.postMultipart(`/desk/kb/${id}/files`, { _csrf: csrfFrom(edit.body), next: 'edit' }, [
    { name: 'files', filename: 'tray (1).png', content: PNG, type: 'image/png' },
    { name: 'files', filename: 'evil.html', content: '<script>alert(1)</script>', type: 'text/html' }
  ], { noCsrf: true })
  t.equal(up.statusCode, 303)
  t.equal(await count(env, 'kb_attachment'), 2)
  const files = await env.db.selectFrom('kb_attachment').select(['id', 'filename']).orderBy('id').execute()
  const [png, html] = files
  const page = await carla.get(`/desk/kb/${id}/edit`)
  t.match(page.body, `value="![tray (1)](/kb/files/${png.id}/tray%20%281%29.png)"`, 'the Markdown that shows the image')
  t.match(page.body, 'Insert image')
  t.match((await carla.get(`/desk/kb/${id}`)).body, `href="/kb/files/${html.id}/evil.html"`)

  const staffPng = await carla.get(`/kb/files/${png.id}/tray.png`)
  t.equal(staffPng.statusCode, 200)
  t.equal(staffPng.headers['content-type'], 'image/png')
  t.match(staffPng.headers['content-disposition'], /^inline;/)
  t.equal(staffPng.headers['x-content-type-options'], 'nosniff')
  t.same(staffPng.rawPayload, PNG)
  const staffHtml = await carla.get(`/kb/files/${html.id}/evil.html`)
  t.match(staffHtml.headers['content-disposition'], /^attachment;/, 'anything else downloads')

  const bob = await loginAs(app, 'bob@acme.test')
  const gina = await loginAs(app, 'gina@globex.test')
  const visitor = new Agent(app)
  t.equal((await bob.get(`/kb/files/${png.id}/tray.png`)).statusCode, 404, 'a client gets no file of a draft')
  t.equal((await visitor.get(`/kb/files/${png.id}/tray.png`)).statusCode, 404, 'nor a visitor')
  unwrap(await moveArticle(deps, people.ana, id, 'publish'))
  t.equal((await bob.get(`/kb/files/${png.id}/tray.png`)).statusCode, 200, 'a client gets a published public article\'s file')
  t.equal((await visitor.get(`/kb/files/${png.id}/tray.png`)).statusCode, 200, 'so does a visitor')

  const acme = env.ids.account['Acme Corporation']
  await postForm(carla, `/desk/kb/${id}/edit`, `/desk/kb/${id}/edit`, { title: 'Printer setup', body: 'x', audience: 'internal', version: '1' })
  t.equal((await bob.get(`/kb/files/${png.id}/tray.png`)).statusCode, 200, 'carla may not change a published article: still public')
  const ana = await loginAs(app, 'ana@casebridge.test')
  t.equal((await postForm(ana, `/desk/kb/${id}/edit`, `/desk/kb/${id}/edit`, { title: 'Printer setup', body: 'x', audience: 'internal', version: '1' })).statusCode, 303)
  t.equal((await bob.get(`/kb/files/${png.id}/tray.png`)).statusCode, 404, 'an internal article\'s file')
  t.equal((await carla.get(`/kb/files/${png.id}/tray.png`)).statusCode, 200, 'staff still get it')
  t.equal((await postForm(ana, `/desk/kb/${id}/edit`, `/desk/kb/${id}/edit`, { title: 'Printer setup', body: 'x', audience: 'accounts', account_ids: [String(acme)], version: '2' })).statusCode, 303)
  t.equal((await bob.get(`/kb/files/${png.id}/tray.png`)).statusCode, 200, 'a client of the chosen account')
  t.equal((await gina.get(`/kb/files/${png.id}/tray.png`)).statusCode, 404, 'another account\'s client')
  t.equal((await visitor.get(`/kb/files/${png.id}/tray.png`)).statusCode, 404)
  t.equal((await visitor.get('/kb/files/999999/x.png')).statusCode, 404)

  const other = await make('ana', { title: 'Other' })
  const bruno = await loginAs(app, 'bruno@casebridge.test')
  const remove = async (agent: Agent, articleId: number) =>
    (await agent.post(`/desk/kb/${articleId}/files/${png.id}/delete`, { _csrf: csrfFrom((await agent.get(`/desk/kb/${articleId}`)).body), next: 'edit' }, { noCsrf: true })).statusCode
  t.equal(await remove(bruno, other), 404, 'a file of another article')
  t.equal(await remove(carla, id), 403, 'staff may not change a published article\'s files')
  t.equal(await remove(ana, id), 303)
  t.equal(await count(env, 'kb_attachment'), 1)
})
