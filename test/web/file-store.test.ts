// Files through the web app with each store: uploads kept and downloaded (portal, API, a
// quarantined message) with the same answers on disk (FILE_STORE=fs) and in the database
// (FILE_STORE=db, here on SQLite, under scripts/pg-test.sh on PostgreSQL); exports written by the
// worker into the database, downloaded, mailed and deleted when they expire.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { simpleParser } from 'mailparser'
import { apiToken, loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { startSmtpSink } from '../mail/smtp-sink.js'
import { runExportJobs } from '../../sync/jobs/exports.js'
import { drainMailOutbox, smtpTransport } from '../../src/mail/deliver.js'
import { mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { createFileStore } from '../../src/db/file-store.js'
import { quarantineEmail } from '../../src/commands/mail-intake.js'

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e1a0a70000000049454e44ae426082', 'hex')
const BIG = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 7919) % 251))
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const HEADERS = ['content-type', 'content-length', 'content-disposition', 'cache-control', 'x-content-type-options'] as const

/** Files under a folder, its temporary folder aside. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && !join(d.parentPath, d.name).startsWith(join(dir, 'tmp')))
    .map((d) => d.name)
}

async function storedBlobs(env: TestEnv, kind: 'attachment' | 'export') {
  return env.db.selectFrom('stored_blob').select(['key', 'size', 'sha256']).where('kind', '=', kind).orderBy('key').execute()
}

/** Opens a ticket with files through the portal and downloads them every way there is; what each download answered. */
async function roundTrip(t: Test, fileStore: 'fs' | 'db') {
  const env = await testApp(t, { env: { FILE_STORE: fileStore } })
  t.equal(env.config.fileStore, fileStore)
  const alice = await loginAs(env.app, 'alice@acme.test')
  const res = await alice.postMultipart('/portal/tickets', {
    product_id: String(env.ids.product['Casebridge Cloud']), priority: 'high', title: 'Screens attached', description: 'See the files.'
  }, [
    { name: 'attachments', filename: 'screenshot.png', content: PNG, type: 'image/png' },
    { name: 'attachments', filename: 'again.png', content: PNG, type: 'image/png' },
    { name: 'attachments', filename: 'trace.bin', content: BIG, type: 'application/octet-stream' },
    { name: 'attachments', filename: 'page.html', content: '<script>alert(1)</script>', type: 'text/html' }
  ], { csrfFrom: '/portal/tickets/new' })
  t.equal(res.statusCode, 302, `${fileStore}: the ticket is created`)
  const rows = await env.db.selectFrom('attachment').select(['id', 'filename', 'sha256', 'size']).orderBy('id').execute()
  t.same(rows.map((r) => r.filename), ['screenshot.png', 'again.png', 'trace.bin', 'page.html'])

  const token = await apiToken(env.db, 'alice@acme.test')
  const answers = []
  for (const row of rows) {
    const page = await alice.get(`/attachments/${row.id}`)
    const api = await env.app.inject({ url: `/api/v1/attachments/${row.id}`, headers: { authorization: `Bearer ${token}` } })
    for (const [way, r] of [['page', page], ['api', api]] as const) {
      answers.push({ way, file: row.filename, status: r.statusCode, sha256: sha(r.rawPayload), headers: Object.fromEntries(HEADERS.map((h) => [h, r.headers[h]])) })
    }
  }
  const hank = await loginAs(env.app, 'hank@globex.test')
  answers.push({ way: 'stranger', status: (await hank.get(`/attachments/${rows[0].id}`)).statusCode })

  // A quarantined message's original, for admins.
  const raw = Buffer.from('From: x@x.test\r\nSubject: spam\r\n\r\nbuy now\r\n')
  const kept = await env.app.store.keepBuffer('message.eml', 'message/rfc822', raw)
  const { quarantineId } = await quarantineEmail({ db: env.db, clock: () => new Date(), random: Math.random }, {
    mailbox: 'INBOX', uidValidity: '1', uid: 7, messageId: '<q@x.test>', reason: 'unknown_sender', detail: '', from: 'x@x.test',
    subject: 'spam', ticketId: null, rawSha256: kept.sha256, rawSize: raw.length
  })
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const original = await admin.get(`/admin/quarantine/${quarantineId}/raw`)
  answers.push({ way: 'quarantine', status: original.statusCode, sha256: sha(original.rawPayload), headers: Object.fromEntries(HEADERS.map((h) => [h, original.headers[h]])) })
  return { env, rows, answers }
}

t.test('attachments kept and downloaded alike on disk and in the database', async (t) => {
  const disk = await roundTrip(t, 'fs')
  const db = await roundTrip(t, 'db')
  t.same(db.answers, disk.answers, 'every download answers the same, headers and bytes')
  t.match(disk.answers[0], { way: 'page', file: 'screenshot.png', status: 200, sha256: sha(PNG), headers: { 'content-type': 'image/png', 'content-length': String(PNG.length), 'content-disposition': "inline; filename*=UTF-8''screenshot.png", 'cache-control': 'private, no-store' } })
  t.match(disk.answers[5], { way: 'api', file: 'trace.bin', status: 200, sha256: sha(BIG), headers: { 'content-length': String(BIG.length), 'content-disposition': "attachment; filename*=UTF-8''trace.bin" } }, 'a file of several slices comes whole')
  t.match(disk.answers[6], { file: 'page.html', headers: { 'content-type': 'text/html', 'content-disposition': "attachment; filename*=UTF-8''page.html" } }, 'HTML is never shown inline')
  t.same(disk.answers[8], { way: 'stranger', status: 404 })
  t.match(disk.answers[9], { way: 'quarantine', status: 200, headers: { 'content-type': 'message/rfc822', 'x-content-type-options': 'nosniff' } })

  const hashes = [sha(PNG), sha(BIG), sha(Buffer.from('<script>alert(1)</script>'))].sort()
  t.same(filesUnder(disk.env.config.attachmentsDir).length, 4, 'on disk: three uploads, the same picture once, and the message')
  t.same(await storedBlobs(disk.env, 'attachment'), [], 'and nothing in the database')
  t.same(filesUnder(db.env.config.attachmentsDir), [], 'in the database store: nothing on disk')
  const blobs = await storedBlobs(db.env, 'attachment')
  t.equal(blobs.length, 4, 'three uploads, the same picture once, and the message')
  t.ok(hashes.every((h) => blobs.some((b) => b.key === h && b.sha256 === h)), 'each under its hash')
  t.same(filesUnder(join(db.env.dir, 'tmp')), [], 'no temporary file left behind')
})

t.test('exports in the database store: written by the worker, downloaded, mailed, deleted once expired', async (t) => {
  const T0 = new Date('2026-05-04T09:00:00.000Z')
  let now = T0
  const env = await testApp(t, { clock: () => now, env: { FILE_STORE: 'db', PUBLIC_URL: 'https://help.example.com' } })
  for (const [i, priority] of (['high', 'high', 'low'] as const).entries()) {
    await makeTicket(env.db, env.ids, { contact: 'bob@acme.test', priority, title: `Bob ${i}`, now: new Date(T0.getTime() - (i + 1) * 60_000) })
  }
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  await env.db.deleteFrom('mail_outbox').execute()
  const clock = () => now
  const bob = await loginAs(env.app, 'bob@acme.test')
  await bob.post('/exports', { area: 'portal', search: 'priority=high' }, { csrfFrom: '/exports' })
  now = new Date(T0.getTime() + 60_000)
  t.same(await runExportJobs({ db: env.db, config: env.config, holder: 'w', clock }), { done: 1, failed: 0, expired: 0 })

  const job = await env.db.selectFrom('export_job').selectAll().executeTakeFirstOrThrow()
  const [blob] = await storedBlobs(env, 'export')
  t.same(blob, { key: job.file_path, size: job.file_size, sha256: blob.sha256 }, 'the file is in the database under the job\'s name')
  t.same(filesUnder(env.config.exportsDir), [], 'nothing left on the worker\'s disk')
  const mail = await env.db.selectFrom('mail_outbox').select('data').where('template', '=', 'export.ready').executeTakeFirstOrThrow()
  t.match(JSON.parse(mail.data).attachments, [{ kind: 'export', key: job.file_path, contentType: XLSX, filename: /^tickets-2026-05-04-\d+\.xlsx$/ }], 'the mail names the stored file, not a path')
  t.notOk('path' in JSON.parse(mail.data).attachments[0])

  const download = await bob.get(`/exports/${job.id}/download`)
  t.equal(download.statusCode, 200)
  t.equal(download.headers['content-type'], XLSX)
  t.equal(download.headers['content-length'], String(job.file_size))
  t.match(download.headers['content-disposition'], /^attachment; filename="tickets-2026-05-04-\d+\.xlsx"; filename\*=UTF-8''/)
  t.equal(download.headers['cache-control'], 'private, no-store')
  t.equal(sha(download.rawPayload), blob.sha256, 'the stored bytes')
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(download.rawPayload as unknown as ArrayBuffer)
  t.equal(workbook.worksheets[0].rowCount, 3, 'a header and Bob\'s two high-priority tickets')
  t.equal((await (await loginAs(env.app, 'alice@acme.test')).get(`/exports/${job.id}/download`)).statusCode, 404, 'only for its owner')

  const deps = { db: env.db, settings: mailSettings(env.config), key: mailTokenKey(env.config), transport: smtpTransport(sink.url), store: createFileStore(env.config, env.db) }
  t.same(await drainMailOutbox(deps, now), { sent: 1, retried: 0, dead: 0 })
  const received = await simpleParser(sink.received[0].raw)
  t.equal(received.attachments.length, 1, 'the mail carries the file read from the database')
  t.equal(sha(received.attachments[0].content), blob.sha256)

  // A second export whose mail is still queued when the file expires goes without it.
  await bob.post('/exports', { area: 'portal', search: '' }, { csrfFrom: '/exports' })
  t.same(await runExportJobs({ db: env.db, config: env.config, holder: 'w', clock }), { done: 1, failed: 0, expired: 0 })
  t.equal((await storedBlobs(env, 'export')).length, 2)
  now = new Date(T0.getTime() + (env.config.EXPORT_TTL_DAYS * 24 * 60 + 5) * 60_000)
  t.same(await runExportJobs({ db: env.db, config: env.config, holder: 'w', clock }), { done: 0, failed: 0, expired: 2 })
  t.same(await storedBlobs(env, 'export'), [], 'expired exports leave the database')
  // Days later: his browser session has ended (12 hours idle), he logs in again.
  const bobLater = await loginAs(env.app, 'bob@acme.test')
  t.equal((await bobLater.get(`/exports/${job.id}/download`)).statusCode, 410)
  t.same(await drainMailOutbox(deps, now), { sent: 1, retried: 0, dead: 0 })
  const late = await simpleParser(sink.received[1].raw)
  t.equal(late.attachments.length, 0)
  t.match(late.text ?? '', 'Download the spreadsheet from your Exports page.')
  t.equal((await storedBlobs(env, 'attachment')).length, 0, 'attachments are not touched')
})
