// The staff queue's comfort: rows per page (kept in the URL), the last search remembered per
// person (and its reset), and saved searches ("views"), personal or shared with a desk, listed
// beside the queue with their counts. Both databases:
//   npx tap test/web/queue-views.test.ts
import t from 'tap'
import { loginAs, testApp, csrfFrom, type Agent } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { countLabel, MAX_VIEWS } from '../../src/domain/queue-views.js'
import ExcelJS from 'exceljs'
import { runExportJobs } from '../../sync/jobs/exports.js'
import { saveQueueView } from '../../src/commands/queue-views.js'
import { personWho } from '../../src/commands/kernel.js'
import { staffActor } from '../helpers/tickets.js'

type Env = Awaited<ReturnType<typeof testApp>>

/** The ticket numbers the queue lists (each row's tick box). */
const rows = (html: string) => [...html.matchAll(/name="tickets" value="(\d+)"/g)].map((m) => Number(m[1]))
const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
/** The sidebar's views as the page lists them: name, count, and whether it is marked current. */
function sidebar(html: string) {
  const aside = html.match(/<aside class="queue-views[\s\S]*?<\/aside>/)?.[0] ?? ''
  return [...aside.matchAll(/<a href="([^"]+)"\s*( aria-current="page")?\s*>\s*<span class="view-name">([^<]*)<\/span>\s*(?:<span class="view-count">([^<]*)<span class="sr-only"> matching tickets<\/span><\/span>)?/g)]
    .map((m) => ({ url: decode(m[1]), current: Boolean(m[2]), name: decode(m[3]), count: m[4] ?? null }))
}

async function saveView(agent: Agent, form: Record<string, string>) {
  const page = await agent.get('/desk')
  return agent.post('/desk/views', { _csrf: csrfFrom(page.body), name: '', desk_id: '', query: '', ...form }, { noCsrf: true })
}

const viewId = async (env: Env, name: string) => (await env.db.selectFrom('queue_view').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id
const pref = async (env: Env, email: string) =>
  env.db.selectFrom('queue_pref').select(['query', 'updated_at']).where('staff_id', '=', env.ids.staff[email]).executeTakeFirst()

t.test('counts as the sidebar shows them', async (t) => {
  t.equal(countLabel('en', { total: 1000, totalCapped: true }), '1,000+')
  t.equal(countLabel('pt-BR', { total: 1000, totalCapped: true }), '1.000+')
  t.equal(countLabel('en', { total: 7, totalCapped: false }), '7')
})

t.test('rows per page: 25 by default, 50 or 100 when chosen and kept by every link; anything else falls back', async (t) => {
  const env = await testApp(t)
  for (let i = 0; i < 30; i++) await makeTicket(env.db, env.ids, { title: `Printer ${i}` })
  const ana = await loginAs(env.app, 'ana@casebridge.test')

  const first = await ana.get('/desk')
  t.equal(first.statusCode, 200)
  t.equal(rows(first.body).length, 25, '25 rows by default')
  t.match(first.body, /<a href="\/desk\?per_page=50"[^>]*>50<\/a>/, 'the choice is a plain link')
  t.match(first.body, /<a href="\/desk\?reset=1" aria-current="true" aria-label="25 rows per page">25<\/a>/, 'the current length is marked')

  const fifty = await ana.get('/desk?per_page=50')
  t.equal(rows(fifty.body).length, 34, 'all 34 (30 and the 4 seeded) on one page')
  t.match(fifty.body, /aria-current="true" aria-label="50 rows per page"/)
  t.match(fifty.body, 'name="query" value="per_page=50"', 'the bulk panel\'s search keeps it')
  t.match(fifty.body, '<input type="hidden" name="per_page" value="50">', 'so does the search form')
  t.match(fifty.body, 'href="/desk?scope=mine&amp;per_page=50"', 'and the tabs')

  const sorted = await ana.get('/desk?sort=title&order=asc&per_page=50')
  t.equal(rows(sorted.body).length, 34)

  const page2 = await ana.get('/desk?situation=all')
  t.match(page2.body, 'href="/desk?situation=all&amp;page=2"', 'the pager at 25')
  const paged = await ana.get('/desk?situation=all&per_page=100')
  t.notMatch(paged.body, 'rel="next"', 'no second page at 100')

  for (const bad of ['7', '1000', 'abc', '-25', '50.5', '']) {
    const res = await ana.get(`/desk?per_page=${encodeURIComponent(bad)}`)
    t.equal(res.statusCode, 200, `per_page=${bad}: a page`)
    t.equal(rows(res.body).length, 25, `per_page=${bad}: 25 rows`)
  }
  t.ok((await ana.get('/desk?per_page=100&per_page=7')).statusCode < 500, 'a repeated parameter: no 5xx')
  t.equal((await ana.get(`/desk?per_page=${'9'.repeat(600)}`)).statusCode, 400, 'nor for one too long to read')
})

t.test('the last search is remembered per person, only written when it changes, and reset on request', async (t) => {
  const env = await testApp(t)
  await makeTicket(env.db, env.ids, { title: 'Open one' })
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')

  t.equal((await ana.get('/desk')).statusCode, 200)
  t.equal(await pref(env, 'ana@casebridge.test'), undefined, 'opening the queue on its defaults writes nothing')
  const refreshed = await ana.request({ method: 'GET', url: '/desk?priority=low', headers: { 'x-live-refresh': '1' } })
  t.equal(refreshed.statusCode, 200)
  t.equal(await pref(env, 'ana@casebridge.test'), undefined, 'nor does a live page fetching itself again')

  const searched = await ana.get('/desk?scope=mine&priority=high&sort=title&order=asc&per_page=50')
  t.equal(searched.statusCode, 200)
  const stored = await pref(env, 'ana@casebridge.test')
  t.equal(stored?.query, 'priority=high&scope=mine&sort=title&order=asc&per_page=50', 'stored in its canonical form')

  const back = await ana.get('/desk')
  t.match(back.body, /href="[^"]*scope=mine[^"]*" aria-current="page"/, 'the Mine tab again')
  t.match(back.body, /<option value="high" selected>/, 'the priority filter again')
  t.match(back.body, /aria-current="true" aria-label="50 rows per page"/, 'and 50 rows')
  t.match(back.body, '<a class="reset-filters" href="/desk?reset=1">Reset filters</a>')

  await ana.get('/desk?scope=mine&priority=high&sort=title&order=asc&per_page=50&page=1')
  t.equal((await pref(env, 'ana@casebridge.test'))?.updated_at, stored?.updated_at, 'the same search again: not written')

  t.notMatch((await bruno.get('/desk')).body, /<option value="high" selected>/, 'Bruno keeps his own queue')

  const reset = await ana.get('/desk?reset=1')
  t.match(reset.body, /href="\/desk\?reset=1" aria-current="page"/, 'the default tab, named so that its link stays the default')
  t.notMatch(reset.body, 'class="reset-filters"', 'nothing left to reset')
  t.equal((await pref(env, 'ana@casebridge.test'))?.query, '', 'the reset is remembered')
  const after = await ana.get('/desk')
  t.notMatch(after.body, /<option value="high" selected>/, 'and the queue opens on its defaults')
  t.match(after.body, 'Open one')
})

t.test('saved views: personal and shared with a desk, with counts, the current one marked', async (t) => {
  const env = await testApp(t)
  for (let i = 0; i < 3; i++) await makeTicket(env.db, env.ids, { title: `Urgent ${i}`, priority: 'critical' })
  await makeTicket(env.db, env.ids, { title: 'Calm one', priority: 'low' })
  await makeTicket(env.db, env.ids, { title: 'Cloud down', desk: 'Product Support', priority: 'critical' })
  const sd = String(env.ids.desk['Service Desk'])
  const ana = await loginAs(env.app, 'ana@casebridge.test')

  const saved = await saveView(ana, { name: 'Urgent ones', query: 'priority=critical&page=3' })
  t.equal(saved.statusCode, 302)
  t.equal(saved.headers.location, '/desk?priority=critical', 'to the view, without its page')
  const shown = await ana.get(saved.headers.location as string)
  t.match(shown.body, 'View &quot;Urgent ones&quot; saved.')
  t.same(sidebar(shown.body), [{ url: '/desk?priority=critical', current: true, name: 'Urgent ones', count: '4' }], 'Ana is on two desks: four critical tickets')

  t.match(shown.body, 'href="/desk/views?query=priority%3Dcritical"', 'the views page is one link away, with the search to save')
  t.match((await ana.get('/desk/views?query=priority%3Dcritical')).body, 'name="query" value="priority=critical"')

  t.equal((await saveView(ana, { name: 'SD low', desk_id: sd, query: `priority=low&desk=${sd}` })).statusCode, 302, 'Ana manages the Service Desk: she shares')
  const audit = await env.db.selectFrom('admin_audit').select(['action', 'label']).where('entity', '=', 'queue_view').execute()
  t.same(audit, [{ action: 'create', label: 'SD low' }], 'a shared view is audited')

  const list = sidebar((await ana.get('/desk?reset=1')).body)
  t.same(list.map((v) => [v.name, v.count, v.current]), [['Urgent ones', '4', false], ['SD low', '2', false]], 'personal first, then shared; none current on the defaults')

  const eva = await loginAs(env.app, 'eva@casebridge.test')
  const evaPage = await eva.get('/desk')
  t.same(sidebar(evaPage.body).map((v) => [v.name, v.count]), [['SD low', '2']], 'Eva, on the Service Desk, sees the shared view, not Ana\'s own')
  t.match(evaPage.body, 'Shared with Service Desk')
  const carla = await loginAs(env.app, 'carla@casebridge.test')
  t.same(sidebar((await carla.get('/desk')).body), [], 'Carla, on another desk, sees neither')

  const admin = await loginAs(env.app, 'admin@casebridge.test')
  t.same(sidebar((await admin.get('/desk')).body).map((v) => v.name), ['SD low'], 'an admin sees every shared view')
})

t.test('who may share, rename and delete: refused otherwise, with a message, nothing changed', async (t) => {
  const env = await testApp(t)
  const sd = String(env.ids.desk['Service Desk'])
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const eva = await loginAs(env.app, 'eva@casebridge.test')
  const carla = await loginAs(env.app, 'carla@casebridge.test')

  const refused = await saveView(bruno, { name: 'Mine to share', desk_id: sd, query: 'priority=high' })
  t.equal(refused.statusCode, 422, 'Bruno is on the Service Desk but does not manage it')
  t.match(refused.body, 'Only the desk&#39;s manager or an admin may share a view with it.')
  t.match(refused.body, 'value="Mine to share"', 'the name he typed is still there')
  t.match(refused.body, 'name="query" value="priority=high"', 'and so is the search')
  t.equal((await env.db.selectFrom('queue_view').select('id').execute()).length, 0, 'nothing saved')

  await saveView(ana, { name: 'Team view', desk_id: sd, query: 'situation=all' })
  await saveView(ana, { name: 'Ana alone', query: 'scope=mine' })
  const shared = await viewId(env, 'Team view')
  const own = await viewId(env, 'Ana alone')
  const csrf = csrfFrom((await eva.get('/desk/views')).body)

  const evaRename = await eva.post(`/desk/views/${shared}`, { _csrf: csrf, name: 'Eva\'s now' }, { noCsrf: true })
  t.equal(evaRename.statusCode, 403, 'Eva sees the shared view but may not rename it')
  t.match(evaRename.body, 'Only the view&#39;s owner, its desk&#39;s manager or an admin may change this view.')
  t.equal((await eva.post(`/desk/views/${shared}/delete`, { _csrf: csrf }, { noCsrf: true })).statusCode, 403, 'nor delete it')
  t.notMatch((await eva.get('/desk/views')).body, `action="/desk/views/${shared}"`, 'and is offered neither')

  const carlaCsrf = csrfFrom((await carla.get('/desk/views')).body)
  const unseen = await carla.post(`/desk/views/${shared}/delete`, { _csrf: carlaCsrf }, { noCsrf: true })
  t.equal(unseen.statusCode, 404, 'Carla, on another desk, does not see it')
  t.match(unseen.body, 'That view does not exist (any more), or is not shared with you.')
  t.equal((await eva.post(`/desk/views/${own}`, { _csrf: csrf, name: 'x' }, { noCsrf: true })).statusCode, 404, 'another person\'s own view is not there for Eva')
  t.equal((await eva.post('/desk/views/abc/delete', { _csrf: csrf }, { noCsrf: true })).statusCode, 404)

  const names = await env.db.selectFrom('queue_view').select('name').orderBy('name').execute()
  t.same(names.map((r) => r.name), ['Ana alone', 'Team view'], 'nothing changed')

  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const adminCsrf = csrfFrom((await admin.get('/desk/views')).body)
  const renamed = await admin.post(`/desk/views/${shared}`, { _csrf: adminCsrf, name: 'Whole desk' }, { noCsrf: true })
  t.equal(renamed.statusCode, 302, 'an admin renames a shared view')
  t.match((await ana.get('/desk/views')).body, 'Whole desk')
  const anaCsrf = csrfFrom((await ana.get('/desk/views')).body)
  t.equal((await ana.post(`/desk/views/${own}/delete`, { _csrf: anaCsrf }, { noCsrf: true })).statusCode, 302, 'the owner deletes her own')
  t.equal((await ana.post(`/desk/views/${shared}/delete`, { _csrf: anaCsrf }, { noCsrf: true })).statusCode, 302, 'and the desk\'s manager the shared one')
  t.equal((await env.db.selectFrom('queue_view').select('id').execute()).length, 0)
  const audit = await env.db.selectFrom('admin_audit').select('action').where('entity', '=', 'queue_view').orderBy('id').execute()
  t.same(audit.map((a) => a.action), ['create', 'update', 'delete'], 'the shared view\'s life is audited; the personal one\'s is not')
})

t.test('bad input is a 4xx with what was typed kept; names are unique where they show; the cap', async (t) => {
  const env = await testApp(t)
  const ana = await loginAs(env.app, 'ana@casebridge.test')

  const empty = await saveView(ana, { name: '', query: 'priority=high' })
  t.equal(empty.statusCode, 422)
  t.match(empty.body, 'name="query" value="priority=high"', 'the search is kept')
  const long = await saveView(ana, { name: 'x'.repeat(61), query: 'priority=high' })
  t.equal(long.statusCode, 422)
  t.match(long.body, 'x'.repeat(61), 'the long name comes back to be shortened')
  const badDesk = await saveView(ana, { name: 'Odd', desk_id: 'nope', query: '' })
  t.equal(badDesk.statusCode, 422)
  t.match(badDesk.body, 'value="Odd"')
  const ctl = await saveView(ana, { name: 'Bad\u0007name', query: '' })
  t.equal(ctl.statusCode, 422, 'a control character')

  t.equal((await saveView(ana, { name: 'Urgent', query: 'priority=high' })).statusCode, 302)
  const twice = await saveView(ana, { name: 'Urgent', query: 'priority=critical' })
  t.equal(twice.statusCode, 422)
  t.match(twice.body, 'There is already a view with this name there: choose another.')
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  t.equal((await saveView(bruno, { name: 'Urgent', query: 'priority=high' })).statusCode, 302, 'another person\'s personal views do not clash')

  const urgent = await viewId(env, 'Urgent')
  const csrf = csrfFrom((await ana.get('/desk/views')).body)
  const blank = await ana.post(`/desk/views/${urgent}`, { _csrf: csrf, name: '' }, { noCsrf: true })
  t.equal(blank.statusCode, 422, 'a rename to nothing')
  t.match(blank.body, `id="rename-${urgent}-error"`)
  t.equal((await ana.post(`/desk/views/${urgent}`, { _csrf: csrf, name: 'Urgent', extra: 'x' }, { noCsrf: true })).statusCode < 500, true, 'an unknown field is no 5xx')

  const at = new Date().toISOString()
  await env.db.insertInto('queue_view').values(Array.from({ length: MAX_VIEWS - 1 }, (_, i) => ({
    owner_staff_id: env.ids.staff['ana@casebridge.test'], desk_id: null, name: `View ${i}`, query: `page=${i}`, created_at: at, updated_at: at
  }))).execute()
  const capped = await saveView(ana, { name: 'One too many', query: 'priority=low' })
  t.equal(capped.statusCode, 409, `${MAX_VIEWS} views: no more`)
  t.match(capped.body, `You already keep ${MAX_VIEWS} views: delete one before saving another.`)
  t.match(capped.body, 'value="One too many"', 'what was typed is kept')
  t.equal(Number((await env.db.selectFrom('queue_view').select((eb) => eb.fn.countAll().as('n')).where('owner_staff_id', '=', env.ids.staff['ana@casebridge.test']).executeTakeFirstOrThrow()).n), MAX_VIEWS)
  await env.db.deleteFrom('queue_view').where('name', '=', 'View 0').execute()
  const deps = { db: env.db, clock: () => new Date(), random: Math.random }
  const who = personWho(await staffActor(env.db, env.ids, 'ana@casebridge.test'))
  const both = await Promise.all(['Last one', 'Also last'].map((name) => saveQueueView(deps, who, { name, deskId: null, query: '' })))
  t.same(both.map((o) => (o.ok ? 'saved' : o.refusal.code)).sort(), ['saved', 'too_many'], 'two saved at once for the last place: one of them')
  const queue = await ana.get('/desk')
  t.equal(queue.statusCode, 200, 'the queue with a full sidebar')
  t.equal(sidebar(queue.body).length, MAX_VIEWS)
})

t.test('the bulk panel exports the ticked tickets through the exports\' own job: those, and only those the person may see', async (t) => {
  const env = await testApp(t, { env: { FILE_STORE: 'fs' } })
  const a = await makeTicket(env.db, env.ids, { title: 'Export me' })
  const b = await makeTicket(env.db, env.ids, { title: 'Export me too', priority: 'low' })
  await makeTicket(env.db, env.ids, { title: 'Leave me out' })
  const hidden = await makeTicket(env.db, env.ids, { title: 'Another desk', desk: 'Product Support' })
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const queue = await bruno.get('/desk?sort=title&order=asc')
  t.match(queue.body, '<option value="export" >Export the ticked tickets (Excel)</option>', 'offered in the panel')

  const none = await bruno.post('/desk/bulk', { _csrf: csrfFrom(queue.body), bulk_action: 'export', query: 'sort=title&order=asc', next: '/desk?sort=title&order=asc' }, { noCsrf: true })
  t.equal(none.statusCode, 422, 'nothing ticked')
  t.match(none.body, 'No ticket was ticked')

  const posted = await bruno.post('/desk/bulk', {
    _csrf: csrfFrom(queue.body), bulk_action: 'export', tickets: [String(b.number), String(a.number), String(hidden.number)],
    query: 'sort=title&order=asc', next: '/desk?sort=title&order=asc'
  }, { noCsrf: true })
  t.equal(posted.statusCode, 302)
  t.equal(posted.headers.location, '/desk?sort=title&order=asc', 'back to the list')
  const job = await env.db.selectFrom('export_job').select(['id', 'query', 'area']).executeTakeFirstOrThrow()
  t.same({ area: job.area, query: decodeURIComponent(job.query) }, {
    area: 'desk', query: `numbers=${[a.number, b.number, hidden.number].sort((x, y) => x - y).join(',')}&situation=all&sort=title&order=asc`
  }, 'the ticked numbers, in any state, in the list\'s order')
  t.match((await bruno.get('/exports')).body, '3 ticked ticket(s)', 'the exports page says what it holds')

  await runExportJobs({ db: env.db, config: env.config, holder: 'test-worker' })
  const href = /href="(\/exports\/\d+\/download)"/.exec((await bruno.get('/exports')).body)?.[1]
  t.ok(href, 'ready to download')
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load((await bruno.get(href!)).rawPayload as unknown as ArrayBuffer)
  const numbers: unknown[] = []
  wb.worksheets[0].eachRow((row, i) => { if (i > 1) numbers.push((row.values as ExcelJS.CellValue[])[1]) })
  t.same(numbers, [a.number, b.number], 'the two ticked tickets Bruno sees, by title; the other desk\'s left out')
})
