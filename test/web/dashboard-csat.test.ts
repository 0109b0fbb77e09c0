import t from 'tap'
import ExcelJS from 'exceljs'
import { loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { performerOf, rateTicket, transferTicket, transition } from '../helpers/commands.js'
import { runExportJobs } from '../../sync/jobs/exports.js'
import { seedDemo } from '../../src/commands/demo.js'

/** The app's "now": Wednesday 25 March 2026; the default 30-day window starts Monday 23 February. */
const NOW = new Date('2026-03-25T12:00:00.000Z')
const at = (day: string, hour = 10) => new Date(`${day}T${String(hour).padStart(2, '0')}:00:00.000Z`)
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/**
 * The demo tickets are set aside; these are rated (closed by the requester accepting, then rated):
 * Service Desk, Ana: 5 (3 Mar), 4 (4 Mar), 2 (18 Mar); Service Desk, Bruno: 3 (4 Mar), 5 (24 Mar);
 * Product Support, Carla: 1 (3 Mar), 4 (18 Mar); and one older than the window: Service Desk, Ana, 1 (10 Jan).
 * Nothing is rated in the weeks of 23 February and 9 March.
 */
async function scenario(env: TestEnv) {
  const { db, ids } = env
  await db.updateTable('ticket').set({ deleted_at: NOW.toISOString() }).execute()
  const admin = performerOf(await staffActor(db, ids, 'admin@casebridge.test'))
  const rated = async (desk: string, staff: string, day: string, rating: number, comment: string | null = null) => {
    const contact = desk === 'Service Desk' ? 'bob@acme.test' : 'hank@globex.test'
    const opened = new Date(at(day).getTime() - 86_400_000)
    const ticket = await makeTicket(db, ids, { desk, contact, account: desk === 'Service Desk' ? 'Acme Corporation' : 'Globex Industries', now: opened, title: `${desk} ${day} ${rating}` })
    const assignee = ids.staff[staff]
    if (ticket.assignee_id !== assignee) {
      await transferTicket(db, ticket.id, { assigneeId: assignee, note: 'Taking this one.' }, { actor: admin, now: opened.toISOString() })
    }
    const requester = performerOf(await contactActor(db, ids, contact))
    await transition(db, performerOf(await staffActor(db, ids, staff)), ticket.id, { action: 'resolve', resolution: 'Done.' }, at(day, 8))
    await transition(db, requester, ticket.id, { action: 'accept' }, at(day, 9))
    await rateTicket(db, requester, ticket.id, rating, comment, at(day))
    return ticket
  }
  const first = await rated('Service Desk', 'ana@casebridge.test', '2026-03-03', 5, 'Quick & kind <b>thanks</b>')
  await rated('Service Desk', 'ana@casebridge.test', '2026-03-04', 4)
  await rated('Service Desk', 'ana@casebridge.test', '2026-03-18', 2)
  await rated('Service Desk', 'bruno@casebridge.test', '2026-03-04', 3)
  await rated('Service Desk', 'bruno@casebridge.test', '2026-03-24', 5)
  await rated('Product Support', 'carla@casebridge.test', '2026-03-03', 1)
  await rated('Product Support', 'carla@casebridge.test', '2026-03-18', 4)
  await rated('Service Desk', 'ana@casebridge.test', '2026-01-10', 1)
  return { first }
}

/** A row of a satisfaction table: its heading and figures as the page shows them. */
function csatRow(html: string, key: string): { label: string; csat: string; ratings: string; satisfied: string; average: string } | null {
  const row = new RegExp(`<tr data-csat="${key}">([\\s\\S]*?)</tr>`).exec(html)?.[1]
  if (!row) return null
  const cell = (cls: string) => new RegExp(`<td class="num ${cls}[^"]*">([\\s\\S]*?)</td>`).exec(row)![1].replace(/<[^>]+>/g, '').trim()
  // Date ranges carry thin spaces around their dash (Intl): read as plain ones.
  const label = /<th scope="row">([\s\S]*?)<\/th>/.exec(row)![1].replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()
  return { label, csat: cell('csat'), ratings: cell('ratings'), satisfied: cell('satisfied'), average: cell('average') }
}

/** The page's charts: each SVG's markup. */
function charts(html: string): string[] {
  return [...html.matchAll(/<svg class="chart-svg[\s\S]*?<\/svg>/g)].map((m) => m[0])
}

/**
 * Checks a chart's markup is well-formed XML of the kind an HTML page may carry inline: every tag
 * closed in order, attributes quoted, no raw `<` or `&` in text, no inline style or script.
 */
function xmlProblems(svg: string): string[] {
  const problems: string[] = []
  const open: string[] = []
  const token = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g
  for (const m of svg.matchAll(token)) {
    const [, closing, name, attrs, selfClosing, text, stray] = m
    if (stray) { problems.push(`a stray < at ${m.index}`); continue }
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|#39|#x27|apos);)/.test(text)) problems.push(`an unescaped & in ${JSON.stringify(text)}`)
      if (/>/.test(text)) problems.push(`a stray > in ${JSON.stringify(text)}`)
      continue
    }
    if (/\sstyle=/.test(attrs ?? '')) problems.push(`an inline style on <${name}>`)
    if (/^(style|script|foreignObject)$/i.test(name)) problems.push(`a <${name}> element`)
    if (/\son\w+=/.test(attrs ?? '')) problems.push(`an event handler on <${name}>`)
    if (closing) {
      const top = open.pop()
      if (top !== name) problems.push(`</${name}> closes <${top}>`)
    } else if (!selfClosing) {
      open.push(name)
    }
  }
  if (open.length) problems.push(`unclosed: ${open.join(', ')}`)
  return problems
}

async function workbook(body: Buffer) {
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load(body as unknown as ArrayBuffer)
  const sheet = (n: number) => {
    const rows: ExcelJS.CellValue[][] = []
    wb.worksheets[n].eachRow((row) => { rows.push((row.values as ExcelJS.CellValue[]).slice(1)) })
    return { name: wb.worksheets[n].name, header: rows[0], rows: rows.slice(1) }
  }
  return { count: wb.worksheets.length, sheet }
}

t.test('satisfaction per desk, per staff member and week by week; each admin and staff member sees their scope', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  await scenario(env)
  const { app, ids } = env
  const sd = ids.desk['Service Desk']
  const ps = ids.desk['Product Support']
  const [ana, bruno, carla] = ['ana', 'bruno', 'carla'].map((n) => ids.staff[`${n}@casebridge.test`])

  const admin = await loginAs(app, 'admin@casebridge.test')
  const page = await admin.get('/desk/dashboard')
  t.equal(page.statusCode, 200)
  const html = page.body
  t.match(html, 'Customer satisfaction')
  t.match(html, 'Ratings given in the last 30 day(s), since 2026-02-23.')
  // 7 ratings in the window (the one of 10 January is older): 5, 4, 2, 3, 5, 1, 4.
  t.same(csatRow(html, 'total'), { label: 'Last 30 day(s)', csat: '57%', ratings: '7', satisfied: '4', average: '3.4' })
  t.same(csatRow(html, `desk-${sd}`), { label: 'Service Desk', csat: '60%', ratings: '5', satisfied: '3', average: '3.8' })
  t.same(csatRow(html, `desk-${ps}`), { label: 'Product Support', csat: '50%', ratings: '2', satisfied: '1', average: '2.5' })
  t.ok(html.indexOf(`data-csat="desk-${sd}"`) < html.indexOf(`data-csat="desk-${ps}"`), 'the desk with more ratings first')
  t.same(csatRow(html, `staff-${ana}`), { label: 'Ana Souza', csat: '67%', ratings: '3', satisfied: '2', average: '3.7' })
  t.same(csatRow(html, `staff-${bruno}`), { label: 'Bruno Lima', csat: '50%', ratings: '2', satisfied: '1', average: '4.0' })
  t.same(csatRow(html, `staff-${carla}`), { label: 'Carla Mendes', csat: '50%', ratings: '2', satisfied: '1', average: '2.5' })

  // Week by week, Monday to Sunday, the first week from the window's first day and the last to today.
  t.match(html, 'Satisfaction week by week')
  t.same(csatRow(html, 'period-2026-02-23'), { label: 'Feb 23 – Mar 1, 2026', csat: 'No ratings', ratings: '0', satisfied: '0', average: '' }, 'a week without ratings says so')
  t.same(csatRow(html, 'period-2026-03-02'), { label: 'Mar 2 – 8, 2026', csat: '50%', ratings: '4', satisfied: '2', average: '3.3' })
  t.same(csatRow(html, 'period-2026-03-09'), { label: 'Mar 9 – 15, 2026', csat: 'No ratings', ratings: '0', satisfied: '0', average: '' })
  t.same(csatRow(html, 'period-2026-03-16'), { label: 'Mar 16 – 22, 2026', csat: '50%', ratings: '2', satisfied: '1', average: '3.0' })
  t.same(csatRow(html, 'period-2026-03-23'), { label: 'Mar 23 – 25, 2026', csat: '100%', ratings: '1', satisfied: '1', average: '5.0' })
  t.equal((html.match(/data-csat="period-/g) ?? []).length, 5, 'five weeks')

  // The line: a point per week with ratings, joined only across weeks that both have them.
  const line = charts(html).find((c) => c.includes('chart-line'))!.replace(/\u2009/g, ' ')
  t.ok(line, 'a line chart over time')
  t.equal((line.match(/<circle /g) ?? []).length, 3, 'three weeks with ratings, three points')
  t.equal((line.match(/<path /g) ?? []).length, 1, 'one stretch of the line: 16 and 23 March; 2 March stands alone')
  t.equal((line.match(/class="chart-gap"/g) ?? []).length, 2, 'the two weeks without ratings are gaps, marked on the axis')
  t.match(line, '<title>Feb 23 – Mar 1, 2026: no ratings</title>')
  t.match(line, '<title>Mar 2 – 8, 2026: 50% satisfied, 4 rating(s), average 3.3</title>')

  // A longer window takes in January's rating, month by month.
  const year = (await admin.get('/desk/dashboard?days=120')).body
  t.match(year, 'Satisfaction month by month')
  t.same(csatRow(year, 'total'), { label: 'Last 120 day(s)', csat: '50%', ratings: '8', satisfied: '4', average: '3.1' })
  t.same(csatRow(year, 'period-2026-01-01'), { label: 'Jan 1 – 31, 2026', csat: '0%', ratings: '1', satisfied: '0', average: '1.0' }, 'no rating of 4 or 5 is 0%, not a gap')
  t.same(csatRow(year, 'period-2026-02-01'), { label: 'Feb 1 – 28, 2026', csat: 'No ratings', ratings: '0', satisfied: '0', average: '' })
  t.same(csatRow(year, 'period-2025-11-25'), { label: 'Nov 25 – 30, 2025', csat: 'No ratings', ratings: '0', satisfied: '0', average: '' }, 'the first month from the window\'s first day')
  t.same(csatRow(year, 'period-2026-03-01')?.ratings, '7')

  // Bruno serves the Service Desk: its ratings (Ana's there too), nothing of Product Support.
  const b = (await (await loginAs(app, 'bruno@casebridge.test')).get('/desk/dashboard')).body
  t.same(csatRow(b, 'total'), { label: 'Last 30 day(s)', csat: '60%', ratings: '5', satisfied: '3', average: '3.8' })
  t.same(csatRow(b, `desk-${sd}`)?.ratings, '5')
  t.equal(csatRow(b, `desk-${ps}`), null, 'no row for a desk he does not serve')
  t.equal(csatRow(b, `staff-${carla}`), null, 'nor for Carla, who rated there')
  t.notMatch(b, 'Product Support')
  t.notMatch(b, 'Carla Mendes')
  t.same(csatRow(b, 'period-2026-03-02'), { label: 'Mar 2 – 8, 2026', csat: '67%', ratings: '3', satisfied: '2', average: '4.0' })

  // Carla serves Product Support only.
  const c = (await (await loginAs(app, 'carla@casebridge.test')).get('/desk/dashboard')).body
  t.same(csatRow(c, 'total'), { label: 'Last 30 day(s)', csat: '50%', ratings: '2', satisfied: '1', average: '2.5' })
  t.equal(csatRow(c, `desk-${sd}`), null)
  t.equal(csatRow(c, `staff-${ana}`), null, 'Ana\'s ratings were on the Service Desk')

  // In Portuguese: the words and the numbers.
  await env.db.updateTable('staff').set({ locale: 'pt-BR' }).where('id', '=', carla).execute()
  const cPt = (await (await loginAs(app, 'carla@casebridge.test')).get('/desk/dashboard')).body
  t.match(cPt, 'Satisfação por mesa')
  t.same(csatRow(cPt, 'total'), { label: 'Últimos 30 dia(s)', csat: '50%', ratings: '2', satisfied: '1', average: '2,5' })
})

t.test('no ratings: the page says so, without empty charts or a download', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  await env.db.updateTable('ticket').set({ deleted_at: NOW.toISOString() }).execute()
  const html = (await (await loginAs(env.app, 'admin@casebridge.test')).get('/desk/dashboard')).body
  t.match(html, 'data-csat="none"')
  t.match(html, 'No ratings in this period.')
  t.notMatch(html, 'chart-line')
  t.notMatch(html, 'satisfaction.xlsx')
})

t.test('every chart is an image with a name, drawn from escaped words, with its table after it', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  await scenario(env)
  const evil = '<script>alert(1)</script> & "Co"'
  await env.db.updateTable('desk').set({ name: evil }).where('id', '=', env.ids.desk['Product Support']).execute()
  await env.db.updateTable('staff').set({ name: '<img src=x onerror=alert(2)>' }).where('id', '=', env.ids.staff['carla@casebridge.test']).execute()
  // A ticket left open there, so the open-ticket charts carry the name too.
  await makeTicket(env.db, env.ids, { desk: 'Product Support', contact: 'hank@globex.test', account: 'Globex Industries', now: NOW, title: 'Still open' })

  const page = await (await loginAs(env.app, 'admin@casebridge.test')).get('/desk/dashboard')
  const html = page.body
  t.notMatch(html, '<script>alert(1)', 'the desk\'s name never arrives as markup')
  t.notMatch(html, '<img src=x', 'nor the person\'s')
  t.match(html, '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;', 'it is shown, escaped')

  const svgs = charts(html)
  t.equal(svgs.length, 7, 'by state, service levels, open per desk, open per assignee, CSAT per desk, per staff member, over time')
  for (const svg of svgs) {
    const id = /aria-labelledby="([^"]+)"/.exec(svg)?.[1]
    t.match(svg, /^<svg class="chart-svg[^"]*" role="img" /, 'an image to assistive technology')
    t.ok(id && svg.includes(`<title id="${id}">Chart: `), `named by its title (${id})`)
    t.match(svg, /viewBox="0 0 320 \d+(\.\d+)?" width="100%"/, 'as wide as its box, drawn to scale')
    t.same(xmlProblems(svg), [], `${id}: well-formed, no inline style or script`)
    // The figures stay readable: a table with headers follows the chart in its section.
    const after = html.slice(html.indexOf(svg) + svg.length)
    const section = after.slice(0, after.indexOf('</section>'))
    t.match(section, /<table class="list figures[^"]*">[\s\S]*<th scope="(row|col)">/, `${id}: a table with headers follows`)
  }
  t.notMatch(html.slice(html.indexOf('<main'), html.indexOf('</main>')), /\sstyle="/, 'no inline style attributes in the page (CSP style-src \'self\')')
  const perDesk = svgs.find((s) => s.includes('chart-csat-per-desk'))!
  t.match(perDesk, '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;', 'the label in the chart, escaped')
  const perStaff = svgs.find((s) => s.includes('chart-csat-per-staff'))!
  t.match(perStaff, '&lt;img src=x onerror=alert(2)&gt;')
})

t.test('the satisfaction tables download as a spreadsheet, scoped like the page', async (t) => {
  const env = await testApp(t, { clock: () => NOW })
  await scenario(env)
  const { app } = env
  const admin = await loginAs(app, 'admin@casebridge.test')
  const page = (await admin.get('/desk/dashboard?days=30')).body
  t.match(page, 'href="/desk/dashboard/satisfaction.xlsx?days=30"', 'the page offers its tables')

  const res = await admin.get('/desk/dashboard/satisfaction.xlsx?days=30')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], XLSX)
  t.match(res.headers['content-disposition'], 'attachment; filename="satisfaction-2026-03-25-30d.xlsx"')
  const file = await workbook(res.rawPayload)
  t.equal(file.count, 3)
  const desks = file.sheet(0)
  t.equal(desks.name, 'Per desk')
  t.same(desks.header, ['Desk', 'Ratings', 'Rated 4 or 5', 'CSAT', 'Average rating'])
  t.same(desks.rows, [['Service Desk', 5, 3, 0.6, 3.8], ['Product Support', 2, 1, 0.5, 2.5]], 'the shares as numbers (formatted as percentages)')
  const staff = file.sheet(1)
  t.equal(staff.name, 'Per staff member')
  t.same(staff.rows.map((r) => r.slice(0, 3)), [['Ana Souza', 3, 2], ['Bruno Lima', 2, 1], ['Carla Mendes', 2, 1]])
  const time = file.sheet(2)
  t.equal(time.name, 'Over time')
  t.same(time.header, ['From', 'To', 'Ratings', 'Rated 4 or 5', 'CSAT', 'Average rating'])
  const day = (v: ExcelJS.CellValue) => (v as Date).toISOString().slice(0, 10)
  t.same(time.rows.map((r) => [day(r[0]), day(r[1]), r[2], r[4] ?? null]), [
    ['2026-02-23', '2026-03-01', 0, null],
    ['2026-03-02', '2026-03-08', 4, 0.5],
    ['2026-03-09', '2026-03-15', 0, null],
    ['2026-03-16', '2026-03-22', 2, 0.5],
    ['2026-03-23', '2026-03-25', 1, 1]
  ], 'every week, those without ratings left empty')

  const bruno = await loginAs(app, 'bruno@casebridge.test')
  const his = await workbook((await bruno.get('/desk/dashboard/satisfaction.xlsx')).rawPayload)
  t.same(his.sheet(0).rows.map((r) => r[0]), ['Service Desk'], 'Bruno\'s file: his desk only')
  t.same(his.sheet(1).rows.map((r) => r[0]), ['Ana Souza', 'Bruno Lima'])
  t.notOk(JSON.stringify(his.sheet(1).rows).includes('Carla'))

  for (const bad of ['abc', '0', '366', '1.5']) {
    const refused = await admin.get(`/desk/dashboard/satisfaction.xlsx?days=${bad}`)
    t.equal(refused.statusCode, 422, `days=${bad}`)
    t.match(refused.body, 'Enter a whole number of days from 1 to 365.')
  }
  const pageBad = await admin.get('/desk/dashboard?days=abc')
  t.equal(pageBad.statusCode, 422, 'the page refuses the same')
  t.match(pageBad.body, 'aria-invalid="true"')
  t.same(csatRow(pageBad.body, 'total')?.ratings, '7', 'and shows the default period\'s figures')

  const client = await loginAs(app, 'bob@acme.test')
  t.equal((await client.get('/desk/dashboard/satisfaction.xlsx')).statusCode, 404, 'clients have no dashboard to download')
  t.not((await app.inject({ method: 'GET', url: '/desk/dashboard/satisfaction.xlsx' })).statusCode, 200, 'nor has anyone signed out')
})

t.test('the staff ticket export carries each ticket\'s rating and its comment', async (t) => {
  const env = await testApp(t, { clock: () => NOW, env: { FILE_STORE: 'fs', PUBLIC_URL: 'https://help.example.com' } })
  const { first } = await scenario(env)
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const asked = await admin.post('/exports', { area: 'desk', search: 'situation=all' }, { csrfFrom: '/exports' })
  t.equal(asked.statusCode, 302)
  t.same(await runExportJobs({ db: env.db, config: env.config, holder: 'test-worker', clock: () => NOW }), { done: 1, failed: 0, expired: 0 })
  const mail = await env.db.selectFrom('mail_outbox').select('data').where('template', '=', 'export.ready').executeTakeFirstOrThrow()
  const path = (JSON.parse(mail.data) as { attachments: { path: string }[] }).attachments[0].path
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.readFile(path)
  const rows: ExcelJS.CellValue[][] = []
  wb.worksheets[0].eachRow((row) => { rows.push((row.values as ExcelJS.CellValue[]).slice(1)) })
  const header = rows[0] as string[]
  t.same(header.slice(-2), ['Rating (1–5)', 'Rating comment'])
  const ratingAt = header.indexOf('Rating (1–5)')
  const byNumber = new Map(rows.slice(1).map((r) => [r[0] as number, r]))
  t.equal(byNumber.size, 8, 'every rated ticket')
  t.equal(byNumber.get(first.number)![ratingAt], 5)
  t.equal(byNumber.get(first.number)![ratingAt + 1], 'Quick & kind <b>thanks</b>', 'the comment as written')
  const ratings = [...byNumber.values()].map((r) => r[ratingAt]).sort()
  t.same(ratings, [1, 1, 2, 3, 4, 4, 5, 5])
})

t.test('the demo a person starts has rated tickets of the past weeks, so the dashboard shows satisfaction', async (t) => {
  const env = await testApp(t, { clock: () => NOW, demo: false })
  await seedDemo(env.db, NOW, { ratings: true })
  const html = (await (await loginAs(env.app, 'admin@casebridge.test')).get('/desk/dashboard')).body
  t.same(csatRow(html, 'total'), { label: 'Last 30 day(s)', csat: '67%', ratings: '6', satisfied: '4', average: '3.8' })
  t.equal(charts(html).length, 7, 'every chart drawn')
  const open = await env.db.selectFrom('ticket').select('id').where('state', 'in', ['open', 'in_progress', 'on_hold']).execute()
  t.equal(open.length, 4, 'the four open demo tickets, as before')
})
