import t from 'tap'
import { existsSync } from 'node:fs'
import ExcelJS from 'exceljs'
import { simpleParser } from 'mailparser'
import { loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { startSmtpSink } from '../mail/smtp-sink.js'
import { runExportJobs } from '../../sync/jobs/exports.js'
import { drainMailOutbox, smtpTransport } from '../../src/mail/deliver.js'
import { mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { createLogger } from '../../src/log.js'

const T0 = new Date('2026-05-04T09:00:00.000Z')
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000)
const DAY_MIN = 24 * 60
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
const EN_PORTAL_HEADER = ['Number', 'Title', 'Type', 'Priority', 'State', 'Status', 'Client', 'Requester', 'Desk', 'Product',
  'Service catalog item', 'Created (UTC)', 'Last update (UTC)', 'Closed (UTC)', 'Link']
const EN_DESK_HEADER = ['Number', 'Title', 'Type', 'Priority', 'State', 'Status', 'Client', 'Requester', 'Requester e-mail', 'Desk',
  'Product', 'Service catalog item', 'Assignee', 'Created (UTC)', 'Last update (UTC)', 'Closed (UTC)', 'Response due (UTC)',
  'Time limit (UTC)', 'SLA', 'Link', 'Rating (1–5)', 'Rating comment']

/**
 * A test app whose clock the test moves. Its files are kept on disk (FILE_STORE=fs, on PostgreSQL
 * too), where these tests read them; test/web/file-store.test.ts runs exports on the database store.
 */
async function clockedApp(t: Parameters<typeof testApp>[0], env: Record<string, string> = {}) {
  let now = T0
  const app = await testApp(t, { clock: () => now, env: { PUBLIC_URL: 'https://help.example.com', FILE_STORE: 'fs', ...env } })
  return { env: app, setNow: (d: Date) => { now = d }, clock: () => now }
}

async function runJobs(env: TestEnv, clock: () => Date, extra: Partial<Parameters<typeof runExportJobs>[0]> = {}) {
  return runExportJobs({ db: env.db, config: env.config, holder: 'test-worker', clock, ...extra })
}

interface Sheet {
  name: string
  header: string[]
  rows: ExcelJS.CellValue[][]
}

function sheetOf(workbook: ExcelJS.Workbook): Sheet {
  const ws = workbook.worksheets[0]
  const all: ExcelJS.CellValue[][] = []
  ws.eachRow((row) => { all.push((row.values as ExcelJS.CellValue[]).slice(1)) })
  return { name: ws.name, header: all[0] as string[], rows: all.slice(1) }
}

async function readXlsx(source: string | Buffer): Promise<Sheet> {
  const wb = new ExcelJS.Workbook()
  if (typeof source === 'string') await wb.xlsx.readFile(source)
  else await wb.xlsx.load(source as unknown as ArrayBuffer)
  return sheetOf(wb)
}

async function exportMails(env: TestEnv) {
  const rows = await env.db.selectFrom('mail_outbox').selectAll().where('template', '=', 'export.ready').orderBy('id').execute()
  return rows.map((r) => ({ ...r, parsed: JSON.parse(r.data) as { attachments: { path: string; filename: string; contentType: string }[]; exportId: number; rowCount: number } }))
}

/** Ticket numbers of a search as the database has them (newest first), for comparing with the file. */
async function numbersWhere(env: TestEnv, where: { contactIds?: number[]; accountIds?: number[]; deskIds?: number[]; priority?: string }) {
  let q = env.db.selectFrom('ticket').select('number').where('deleted_at', 'is', null)
  if (where.contactIds) q = q.where('contact_id', 'in', where.contactIds)
  if (where.accountIds) q = q.where('account_id', 'in', where.accountIds)
  if (where.deskIds) q = q.where('desk_id', 'in', where.deskIds)
  if (where.priority) q = q.where('priority', '=', where.priority as 'high')
  return (await q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute()).map((r) => r.number)
}

/** Tickets of several accounts and people, with the priorities the tests filter on. */
async function someTickets(env: TestEnv) {
  const made = [
    await makeTicket(env.db, env.ids, { contact: 'bob@acme.test', priority: 'high', title: 'Bob high one', now: minutes(-50) }),
    await makeTicket(env.db, env.ids, { contact: 'bob@acme.test', priority: 'high', title: 'Bob high two', now: minutes(-40) }),
    await makeTicket(env.db, env.ids, { contact: 'bob@acme.test', priority: 'low', title: 'Bob low', now: minutes(-30) }),
    await makeTicket(env.db, env.ids, { contact: 'alice@acme.test', priority: 'high', title: 'Alice high', now: minutes(-20) }),
    await makeTicket(env.db, env.ids, { contact: 'hank@globex.test', account: 'Globex Industries', priority: 'high', title: 'Globex high', now: minutes(-10) }),
    await makeTicket(env.db, env.ids, { contact: 'carol@acme.test', account: 'Globex Industries', desk: 'Product Support', priority: 'high', title: 'Carol at Globex', now: minutes(-5) })
  ]
  return made
}

t.test('a client exports a filtered search: queued on screen, written by the worker, mailed, downloadable by the owner only', async (t) => {
  const { env, setNow, clock } = await clockedApp(t)
  await someTickets(env)
  let bob = await loginAs(env.app, 'bob@acme.test')

  t.match((await bob.get('/exports')).body, 'You have not exported anything yet', 'nothing at first')
  const asked = await bob.post('/exports', { area: 'portal', search: 'priority=high&page=2' }, { csrfFrom: '/exports' })
  t.equal(asked.statusCode, 302)
  t.equal(asked.headers.location, '/portal?priority=high&page=2', 'back to the search page as it was')
  const list = await bob.get('/exports')
  t.match(list.body, 'Your export is being prepared; we will e-mail it to you when it is ready.', 'told on screen')
  t.match(list.body, 'Waiting to start')
  t.match(list.body, 'Priority: High', 'the search is described')
  t.match(list.body, 'href="/portal?priority=high"', 'and one click away')
  t.match(list.body, '<meta http-equiv="refresh" content="5">', 'the page refreshes while the export waits')
  t.match(list.body, 'href="/exports"', 'Exports is in the navigation')

  setNow(minutes(1))
  t.same(await runJobs(env, clock), { done: 1, failed: 0, expired: 0 })

  const mails = await exportMails(env)
  t.equal(mails.length, 1, 'one e-mail')
  const mail = mails[0]
  t.equal(mail.recipient, 'bob@acme.test')
  t.equal(mail.parsed.attachments.length, 1, 'the file rides along')
  const attached = mail.parsed.attachments[0]
  t.equal(attached.contentType, XLSX)
  t.match(attached.filename, /^tickets-2026-05-04-\d+\.xlsx$/)
  t.ok(existsSync(attached.path))

  const sheet = await readXlsx(attached.path)
  t.equal(sheet.name, 'Tickets')
  t.same(sheet.header, EN_PORTAL_HEADER, 'one header row, translated titles')
  const expected = await numbersWhere(env, { contactIds: [env.ids.contact['bob@acme.test']], priority: 'high' })
  t.equal(expected.length, 2)
  t.same(sheet.rows.map((r) => r[0]), expected, 'exactly Bob\'s high-priority tickets, newest first: not Alice\'s, not Globex\'s, not his low one')
  const first = sheet.rows[0]
  t.equal(typeof first[0], 'number', 'ticket number as a number')
  t.equal(first[1], 'Bob high two')
  t.same(first.slice(2, 6), ['Incident', 'High', 'Open', 'New'], 'values in the person\'s language')
  t.equal(first[6], 'Acme Corporation')
  t.equal(first[7], 'Bob Stone')
  t.ok(first[11] instanceof Date, 'created is a real date')
  t.equal((first[11] as Date).toISOString(), minutes(-40).toISOString())
  t.same(first[14], { formula: `HYPERLINK("https://help.example.com/portal/tickets/${expected[0]}","#${expected[0]}")`, result: `#${expected[0]}` }, 'a link to the ticket page')

  const page = await bob.get('/exports')
  t.match(page.body, 'Ready')
  t.match(page.body, '2 rows')
  t.notMatch(page.body, 'http-equiv="refresh"', 'no refresh once nothing is running')
  const href = /href="(\/exports\/\d+\/download)"/.exec(page.body)?.[1]
  t.ok(href, 'a download link')
  const download = await bob.get(href!)
  t.equal(download.statusCode, 200)
  t.equal(download.headers['content-type'], XLSX)
  t.match(download.headers['content-disposition'], /^attachment; filename="tickets-2026-05-04-\d+\.xlsx"/)
  t.same((await readXlsx(download.rawPayload)).rows.map((r) => r[0]), expected, 'the downloaded file is the same')

  for (const other of ['alice@acme.test', 'hank@globex.test', 'ana@casebridge.test', 'admin@casebridge.test']) {
    const someone = await loginAs(env.app, other)
    const res = await someone.get(href!)
    t.equal(res.statusCode, 404, `${other} cannot download it`)
    t.notMatch((await someone.get('/exports')).body, href!, `${other} does not see it listed`)
  }

  setNow(minutes(7 * DAY_MIN + 2))
  // A week later his browser session has ended (12 hours idle): he logs in again.
  bob = await loginAs(env.app, 'bob@acme.test')
  const late = await bob.get(href!)
  t.equal(late.statusCode, 410, 'gone after the expiry time')
  t.match(late.body, 'This export has expired')
  t.match((await bob.get('/exports')).body, 'Expired')
  t.same(await runJobs(env, clock), { done: 0, failed: 0, expired: 1 }, 'the worker expires it')
  t.notOk(existsSync(attached.path), 'and deletes the file')
  t.equal((await bob.get(href!)).statusCode, 410)
})

t.test('clients see only their own tickets, account managers their account\'s; staff their desks\'', async (t) => {
  const { env, clock } = await clockedApp(t)
  await someTickets(env)
  const acme = env.ids.account['Acme Corporation']

  const alice = await loginAs(env.app, 'alice@acme.test')
  await alice.post('/exports', { area: 'portal', search: 'priority=high' }, { csrfFrom: '/exports' })
  const carol = await loginAs(env.app, 'carol@acme.test')
  await carol.post('/exports', { area: 'portal', search: '' }, { csrfFrom: '/exports' })
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  await bruno.post('/exports', { area: 'desk', search: 'situation=' }, { csrfFrom: '/exports' })
  // A client cannot widen an export with staff-only filters or someone else's account.
  const bob = await loginAs(env.app, 'bob@acme.test')
  await bob.post('/exports', { area: 'desk', search: `account=${env.ids.account['Globex Industries']}&scope=desks&assignee=none` }, { csrfFrom: '/exports' })

  t.same(await runJobs(env, clock), { done: 4, failed: 0, expired: 0 })
  const mails = await exportMails(env)
  const sheetFor = async (email: string) => readXlsx(mails.find((m) => m.recipient === email)!.parsed.attachments[0].path)

  const aliceRows = (await sheetFor('alice@acme.test')).rows
  t.same(aliceRows.map((r) => r[0]), await numbersWhere(env, { accountIds: [acme], priority: 'high' }), 'the manager: every high ticket of Acme')
  t.ok(aliceRows.some((r) => r[1] === 'Bob high one'), 'Bob\'s included')
  t.notOk(aliceRows.some((r) => r[6] !== 'Acme Corporation'), 'nothing of Globex')

  const carolRows = (await sheetFor('carol@acme.test')).rows
  t.same(carolRows.map((r) => r[1]), ['Carol at Globex'], 'a plain contact: only her own ticket')

  t.same((await sheetFor('bob@acme.test')).rows, [], 'Bob asking for Globex gets none of its tickets')

  const brunoSheet = await sheetFor('bruno@casebridge.test')
  t.same(brunoSheet.header, EN_DESK_HEADER, 'staff get the queue\'s columns')
  const serviceDesk = env.ids.desk['Service Desk']
  const brunoId = env.ids.staff['bruno@casebridge.test']
  const visible = (await env.db.selectFrom('ticket').select('number')
    .where((eb) => eb.or([eb('desk_id', '=', serviceDesk), eb('assignee_id', '=', brunoId)]))
    .orderBy('created_at', 'desc').orderBy('id', 'desc').execute()).map((r) => r.number)
  t.same(brunoSheet.rows.map((r) => r[0]), visible, 'his desk\'s tickets (all situations), not Product Support\'s')
  t.notOk(brunoSheet.rows.some((r) => r[9] === 'Product Support' && r[12] !== 'Bruno Lima'))
  t.match(String(brunoSheet.rows[0][19] && (brunoSheet.rows[0][19] as { formula: string }).formula), 'https://help.example.com/desk/tickets/', 'staff links go to the desk')
})

t.test('the spreadsheet speaks the owner\'s language', async (t) => {
  const { env, clock } = await clockedApp(t)
  await makeTicket(env.db, env.ids, { contact: 'hank@globex.test', account: 'Globex Industries', priority: 'critical', title: 'Tudo parado', now: minutes(-5) })
  const gina = await loginAs(env.app, 'gina@globex.test')
  const asked = await gina.post('/exports', { area: 'portal', search: 'priority=critical' }, { csrfFrom: '/exports' })
  t.equal(asked.statusCode, 302)
  t.match((await gina.get('/exports')).body, 'Sua exportação está sendo preparada')
  await runJobs(env, clock)
  const [mail] = await exportMails(env)
  t.equal(mail.locale, 'pt-BR')
  t.match(mail.parsed.attachments[0].filename, /^chamados-/)
  const sheet = await readXlsx(mail.parsed.attachments[0].path)
  t.equal(sheet.name, 'Chamados')
  t.same(sheet.header.slice(0, 6), ['Número', 'Título', 'Tipo', 'Prioridade', 'Estado', 'Status'])
  t.same(sheet.rows.map((r) => [r[1], r[3]]), [['Tudo parado', 'Crítica']])
})

t.test('at most three exports waiting per person', async (t) => {
  const { env, clock } = await clockedApp(t)
  const bob = await loginAs(env.app, 'bob@acme.test')
  for (let i = 0; i < 3; i++) {
    await bob.post('/exports', { area: 'portal', search: `q=word${i}` }, { csrfFrom: '/exports' })
  }
  const fourth = await bob.post('/exports', { area: 'portal', search: 'q=word3' }, { csrfFrom: '/exports' })
  t.equal(fourth.statusCode, 302)
  const page = await bob.get('/exports')
  t.match(page.body, 'You already have 3 exports being prepared', 'a clear refusal')
  t.equal((await env.db.selectFrom('export_job').select('id').execute()).length, 3, 'the fourth was not stored')
  const alice = await loginAs(env.app, 'alice@acme.test')
  await alice.post('/exports', { area: 'portal', search: '' }, { csrfFrom: '/exports' })
  t.match((await alice.get('/exports')).body, 'Your export is being prepared', 'the limit is per person')

  await runJobs(env, clock)
  await bob.post('/exports', { area: 'portal', search: 'q=again' }, { csrfFrom: '/exports' })
  t.match((await bob.get('/exports')).body, 'Your export is being prepared', 'once they are done, Bob may ask again')
  const forged = await bob.post('/exports', { area: 'portal', search: '' }, { noCsrf: true })
  t.equal(forged.statusCode, 403, 'CSRF is checked')
  const anon = await env.app.inject({ method: 'GET', url: '/exports' })
  t.equal(anon.statusCode, 302, 'anonymous visitors go to the login page')
})

t.test('a failed export shows as failed; a crashed worker\'s export is taken over', async (t) => {
  const { env, setNow, clock } = await clockedApp(t)
  await someTickets(env)
  const bob = await loginAs(env.app, 'bob@acme.test')
  await bob.post('/exports', { area: 'portal', search: '' }, { csrfFrom: '/exports' })
  // The exports folder cannot be created (a file is in the way): the write fails.
  const broken = { ...env.config, exportsDir: `${env.config.dataDir}/session.key/exports` }
  const silent = createLogger('silent')
  t.same(await runJobs(env, clock, { config: broken, log: silent }), { done: 0, failed: 1, expired: 0 })
  const page = await bob.get('/exports')
  t.match(page.body, 'Failed')
  t.match(page.body, 'The export could not be written. Please try again')
  t.notMatch(page.body, 'session.key', 'no internals on the page')
  t.equal((await exportMails(env)).length, 0, 'no e-mail for a failed export')
  const row = await env.db.selectFrom('export_job').select(['status', 'error']).executeTakeFirstOrThrow()
  t.equal(row.status, 'failed')
  t.match(row.error, /^failed: /, 'the reason is kept for the operators')

  // A worker claimed the next export and died: after its lease, another worker takes it over.
  await bob.post('/exports', { area: 'portal', search: 'priority=high' }, { csrfFrom: '/exports' })
  const id = (await env.db.selectFrom('export_job').select('id').where('status', '=', 'queued').executeTakeFirstOrThrow()).id
  await env.db.updateTable('export_job').set({ status: 'running', holder: 'dead-worker/1', lease_until: minutes(2).toISOString(), attempts: 1, started_at: T0.toISOString() }).where('id', '=', id).execute()
  t.match((await bob.get('/exports')).body, 'Being prepared')
  t.same(await runJobs(env, clock), { done: 0, failed: 0, expired: 0 }, 'not while the lease holds')
  setNow(minutes(3))
  t.same(await runJobs(env, clock), { done: 1, failed: 0, expired: 0 }, 'taken over once it lapsed')
  const done = await env.db.selectFrom('export_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  t.equal(done.status, 'done')
  t.equal(done.attempts, 2)
  t.equal(done.rows_done, 2)

  // One that killed its worker three times is given up, and says so.
  await bob.post('/exports', { area: 'portal', search: 'priority=low' }, { csrfFrom: '/exports' })
  const doomed = (await env.db.selectFrom('export_job').select('id').where('status', '=', 'queued').executeTakeFirstOrThrow()).id
  await env.db.updateTable('export_job').set({ status: 'running', holder: 'dead-worker/3', lease_until: minutes(4).toISOString(), attempts: 3 }).where('id', '=', doomed).execute()
  setNow(minutes(10))
  t.same(await runJobs(env, clock), { done: 0, failed: 0, expired: 0 })
  t.equal((await env.db.selectFrom('export_job').select('status').where('id', '=', doomed).executeTakeFirstOrThrow()).status, 'failed')
  t.match((await bob.get('/exports')).body, 'The export stopped unexpectedly several times')
})

t.test('the e-mail arrives over SMTP with the spreadsheet attached; without it once the file is gone', async (t) => {
  const { env, clock } = await clockedApp(t, { MAIL_FROM: 'Casebridge Support <support@help.example.com>' })
  await someTickets(env)
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  await env.db.deleteFrom('mail_outbox').execute()
  const bob = await loginAs(env.app, 'bob@acme.test')
  await bob.post('/exports', { area: 'portal', search: 'priority=high' }, { csrfFrom: '/exports' })
  await runJobs(env, clock)
  const deps = { db: env.db, settings: mailSettings(env.config), key: mailTokenKey(env.config), transport: smtpTransport(sink.url), attachmentRoot: env.config.dataDir }
  t.same(await drainMailOutbox(deps, new Date()), { sent: 1, retried: 0, dead: 0 })
  const received = await simpleParser(sink.received[0].raw)
  t.equal(received.subject, 'Your export is ready (2 tickets)')
  t.same(sink.received[0].envelopeTo, ['bob@acme.test'])
  t.match(received.text ?? '', 'Your export of 2 ticket(s) is ready.')
  t.match(received.text ?? '', 'The spreadsheet is attached to this e-mail')
  t.match(received.text ?? '', 'Your exports: https://help.example.com/exports')
  t.notMatch(received.text ?? '', 'reply above', 'no invitation to reply to a ticket')
  t.equal(received.attachments.length, 1)
  const file = received.attachments[0]
  t.equal(file.contentType, XLSX)
  t.match(file.filename, /^tickets-2026-05-04-\d+\.xlsx$/)
  const sheet = await readXlsx(file.content)
  t.same(sheet.header, EN_PORTAL_HEADER)
  t.same(sheet.rows.map((r) => r[0]), await numbersWhere(env, { contactIds: [env.ids.contact['bob@acme.test']], priority: 'high' }), 'the attached file holds the rows')

  // A mail still queued when its file expired goes without it and points to the Exports page.
  await bob.post('/exports', { area: 'portal', search: '' }, { csrfFrom: '/exports' })
  await runJobs(env, clock)
  const [, second] = await exportMails(env)
  const { rm } = await import('node:fs/promises')
  await rm(second.parsed.attachments[0].path)
  t.same(await drainMailOutbox(deps, new Date()), { sent: 1, retried: 0, dead: 0 })
  const late = await simpleParser(sink.received[1].raw)
  t.equal(late.attachments.length, 0)
  t.match(late.text ?? '', 'Download the spreadsheet from your Exports page.')
})

t.test('every row once, in order, across many batches', async (t) => {
  const { env, clock } = await clockedApp(t)
  for (let i = 0; i < 45; i++) {
    await makeTicket(env.db, env.ids, { contact: 'bob@acme.test', priority: i % 3 === 0 ? 'high' : 'medium', title: `Ticket ${i}`, now: minutes(-(i % 7)) })
  }
  const bob = await loginAs(env.app, 'bob@acme.test')
  await bob.post('/exports', { area: 'portal', search: 'sort=priority&order=asc' }, { csrfFrom: '/exports' })
  await runJobs(env, clock, { batchSize: 4 })
  const [mail] = await exportMails(env)
  const sheet = await readXlsx(mail.parsed.attachments[0].path)
  const numbers = sheet.rows.map((r) => r[0] as number)
  const all = await numbersWhere(env, { contactIds: [env.ids.contact['bob@acme.test']] })
  t.equal(numbers.length, all.length, 'as many rows as tickets')
  t.equal(new Set(numbers).size, numbers.length, 'none twice')
  t.same([...numbers].sort((a, b) => a - b), [...all].sort((a, b) => a - b), 'none missing')
  const ranks = sheet.rows.map((r) => ['Low', 'Medium', 'High', 'Critical'].indexOf(r[3] as string))
  t.same(ranks, [...ranks].sort((a, b) => a - b), 'in the search\'s sort order')
  const job = await env.db.selectFrom('export_job').selectAll().executeTakeFirstOrThrow()
  t.equal(job.rows_done, all.length)
  t.equal(job.rows_total, all.length)
})

t.test('the search pages carry the export button with their search', async (t) => {
  const { env, clock } = await clockedApp(t)
  await someTickets(env)
  const bob = await loginAs(env.app, 'bob@acme.test')
  const portal = await bob.get('/portal?priority=high&sort=number&order=asc')
  t.equal(portal.statusCode, 200)
  const form = /<form method="post" action="\/exports"[\s\S]*?<\/form>/.exec(portal.body)?.[0] ?? ''
  t.match(form, 'Export to Excel', 'the portal list has the button')
  t.match(form, 'name="area" value="portal"')
  const search = /name="search" value="([^"]*)"/.exec(form)?.[1]?.replace(/&amp;/g, '&')
  t.same(Object.fromEntries(new URLSearchParams(search)), { priority: 'high', sort: 'number', order: 'asc' }, 'the page\'s search goes with it')
  const asked = await bob.post('/exports', { area: 'portal', search: search! }, { csrfFrom: '/portal' })
  t.equal(asked.statusCode, 302)
  t.match((await bob.get(asked.headers.location as string)).body, 'Your export is being prepared', 'told on the search page itself')
  await runJobs(env, clock)
  const [mail] = await exportMails(env)
  const numbers = (await readXlsx(mail.parsed.attachments[0].path)).rows.map((r) => r[0] as number)
  t.same(numbers, [...numbers].sort((a, b) => a - b), 'sorted by number, ascending, as on the page')
  t.equal(numbers.length, 2)

  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const queue = await ana.get('/desk?priority=high')
  t.match(queue.body, /<form method="post" action="\/exports"[\s\S]*?name="area" value="desk"/, 'the staff queue has it too')
})
