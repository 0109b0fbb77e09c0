// `casebridge db copy`: a SQLite installation (the demo organisation, tickets with attachments,
// an export, a quarantined message) moved into an empty PostgreSQL database, and the new
// installation then used through the web app on PostgreSQL. The source is always SQLite and the
// target always PostgreSQL, so this runs the same in the SQLite and the PostgreSQL runs of the
// suite: it uses TEST_DATABASE_URL's server when there is one, else starts a throwaway cluster
// (test/helpers/postgres.ts), and skips, saying so, only where PostgreSQL is not installed.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { sql } from 'kysely'
import { loadConfig, type Config } from '../../src/config.js'
import { createDb, migrateToLatest, type Db } from '../../src/db/index.js'
import { buildApp } from '../../src/app.js'
import { seedDemo } from '../../src/commands/demo.js'
import { runDbCommand, UsageError } from '../../src/cli.js'
import { copyInstallation } from '../../src/commands/db-copy.js'
import { quarantineEmail } from '../../src/commands/mail-intake.js'
import { sqliteTables } from '../../src/db/copy.js'
import { AttachmentStore } from '../../src/storage/attachments.js'
import { runExportJobs } from '../../sync/jobs/exports.js'
import { demoIds, loginAs } from '../helpers/app.js'
import { postgresServer } from '../helpers/postgres.js'
import { ROOT } from '../helpers/root.js'

const run = promisify(execFile)
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e1a0a70000000049454e44ae426082', 'hex')
const BIG = Buffer.from(Array.from({ length: 2 * 1024 * 1024 + 3 }, (_, i) => (i * 7919) % 253))
const RAW = Buffer.from('From: stranger@x.test\r\nSubject: hello\r\n\r\nwho are you?\r\n')
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

const server = await postgresServer(t)
const skip = 'skip' in server ? server.skip : false

interface Source {
  config: Config
  db: Db
  dir: string
  file: string
}

/** A SQLite installation as a team would have it after some use. */
async function sqliteInstallation(t: Test, env: Record<string, string> = {}): Promise<Source> {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-copy-'))
  const file = join(dir, 'casebridge.db')
  const config = loadConfig({ DATA_DIR: dir, DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'silent', COOKIE_SECURE: 'false', SEED: 'none', ...env })
  const db = await createDb(config.databaseUrl)
  await migrateToLatest(db)
  await seedDemo(db)
  const app = await buildApp({ config, db, logger: false })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  })
  const ids = await demoIds(db)
  const alice = await loginAs(app, 'alice@acme.test')
  const opened = await alice.postMultipart('/portal/tickets', {
    product_id: String(ids.product['Casebridge Cloud']), priority: 'high', title: 'Crash with a trace', description: 'Files attached.'
  }, [
    { name: 'attachments', filename: 'screen.png', content: PNG, type: 'image/png' },
    { name: 'attachments', filename: 'trace.bin', content: BIG, type: 'application/octet-stream' }
  ], { csrfFrom: '/portal/tickets/new' })
  t.equal(opened.statusCode, 302, 'a ticket with files')
  const number = /(\d+)$/.exec(opened.headers.location as string)![1]
  const replied = await alice.postMultipart(`/portal/tickets/${number}/replies`, { body: 'The same screen again.' }, [
    { name: 'attachments', filename: 'screen-again.png', content: PNG, type: 'image/png' }
  ], { csrfFrom: `/portal/tickets/${number}` })
  t.equal(replied.statusCode, 302, 'a reply with the same picture')

  const kept = await app.store.keepBuffer('message.eml', 'message/rfc822', RAW)
  await quarantineEmail({ db, clock: () => new Date(), random: Math.random }, {
    mailbox: 'INBOX', uidValidity: '9', uid: 1, messageId: '<who@x.test>', reason: 'unknown_sender', detail: '', from: 'stranger@x.test',
    subject: 'hello', ticketId: null, rawSha256: kept.sha256, rawSize: RAW.length
  })
  const bob = await loginAs(app, 'bob@acme.test')
  await bob.post('/exports', { area: 'portal', search: '' }, { csrfFrom: '/exports' })
  t.match(await runExportJobs({ db, config, holder: 'source-worker' }), { done: 1 }, 'an export waiting to be downloaded')

  // A reference to a row written later (the first staff member's manager joined after them),
  // and text holding a NUL character, which SQLite stores and PostgreSQL cannot.
  await sql`UPDATE staff SET manager_id = (SELECT MAX(id) FROM staff) WHERE id = (SELECT MIN(id) FROM staff)`.execute(db)
  await sql`UPDATE note SET body = ${'before\u0000after'} WHERE id = (SELECT MIN(id) FROM note)`.execute(db)
  return { config, db, dir, file }
}

async function counts(db: Db, tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const table of tables) {
    out[table] = Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM ${sql.table(table)}`.execute(db)).rows[0].n)
  }
  return out
}

async function copyByCli(argv: string[], config: Config): Promise<string[]> {
  const printed: string[] = []
  await runDbCommand(['copy', ...argv], config, (line) => printed.push(line))
  return printed
}

t.test('db copy moves the demo installation and its files to PostgreSQL, and it works there', { skip }, async (t) => {
  if ('skip' in server) return
  const source = await sqliteInstallation(t)
  const tables = await sqliteTables(source.db)
  const before = await counts(source.db, tables)
  const target = await server.emptyDatabase(t)

  const printed = await copyByCli(['--to', target], source.config)
  const summary = printed.filter((l) => !l.startsWith('…'))
  t.match(summary[0], `copied ${source.file} (files from ${source.dir}) into postgres://`)
  t.match(summary[1], /^table\s+rows$/)
  for (const table of tables) {
    t.ok(summary.some((l) => new RegExp(`^${table}\\s+${table === 'stored_blob' ? 4 : before[table]}\\b`).test(l)), `${table}: ${before[table]} rows`)
  }
  t.ok(summary.includes('files: 3 attachment(s) from disk (' + (PNG.length + BIG.length + RAW.length) + ' bytes), 0 already in the database; 1 export file(s)'),
    'the picture once, the trace and the message; the export')
  t.ok(summary.includes('1 text value(s) held a NUL character, which PostgreSQL cannot store: it was removed'))
  t.ok(summary.includes(`verified: ${tables.length} tables with the same row counts; 3 stored attachment(s) hashed again from the copied bytes`))
  t.ok(printed.some((l) => l === '… verifying'), 'says what it is doing as it goes')

  const pg = await createDb(target)
  t.teardown(() => pg.destroy())
  const after = await counts(pg, tables)
  t.same(after, { ...before, stored_blob: 4 }, 'every table, row for row (stored_blob: the three files and the export)')
  const blobs = await pg.selectFrom('stored_blob').select(['kind', 'key', 'sha256', 'size', 'bytes']).orderBy('kind').orderBy('key').execute()
  t.same(blobs.filter((b) => b.kind === 'attachment').map((b) => b.key), [sha(PNG), sha(BIG), sha(RAW)].sort())
  t.ok(blobs.every((b) => sha(Buffer.from(b.bytes)) === b.sha256 && Number(b.size) === b.bytes.length), 'bytes that hash to what they say')
  const staff = await pg.selectFrom('staff').select(['id', 'manager_id']).orderBy('id').execute()
  t.equal(staff[0].manager_id, staff[staff.length - 1].id, 'a reference to a later row survives')
  t.equal((await pg.selectFrom('note').select('body').orderBy('id').executeTakeFirstOrThrow()).body, 'beforeafter')

  // The copied installation, served from PostgreSQL with its files in the database.
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-copied-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = loadConfig({ DATA_DIR: dir, DATABASE_URL: target, LOG_LEVEL: 'silent', COOKIE_SECURE: 'false', SEED: 'none' })
  t.equal(config.fileStore, 'db')
  const app = await buildApp({ config, db: pg, logger: false })
  t.teardown(() => app.close())
  const alice = await loginAs(app, 'alice@acme.test')
  for (const row of await pg.selectFrom('attachment').select(['id', 'sha256', 'filename']).orderBy('id').execute()) {
    const res = await alice.get(`/attachments/${row.id}`)
    t.equal(res.statusCode, 200, `${row.filename} downloads`)
    t.equal(sha(res.rawPayload), row.sha256, `${row.filename}: the same bytes`)
  }
  const bob = await loginAs(app, 'bob@acme.test')
  const job = await pg.selectFrom('export_job').select(['id', 'file_size']).executeTakeFirstOrThrow()
  const exported = await bob.get(`/exports/${job.id}/download`)
  t.equal(exported.statusCode, 200, 'the export downloads')
  t.equal(exported.rawPayload.length, job.file_size)
  const adminAgent = await loginAs(app, 'admin@casebridge.test')
  const quarantined = await pg.selectFrom('mail_quarantine').select('id').executeTakeFirstOrThrow()
  t.equal((await adminAgent.get(`/admin/quarantine/${quarantined.id}/raw`)).rawPayload.toString(), RAW.toString(), 'so does a quarantined message')

  const ids = await demoIds(pg)
  const last = await pg.selectFrom('ticket').select((eb) => [eb.fn.max('id').as('id'), eb.fn.max('number').as('number')]).executeTakeFirstOrThrow()
  const opened = await alice.postMultipart('/portal/tickets', {
    product_id: String(ids.product['Casebridge Cloud']), priority: 'low', title: 'First ticket on PostgreSQL', description: 'Hello.'
  }, [{ name: 'attachments', filename: 'screen.png', content: PNG, type: 'image/png' }], { csrfFrom: '/portal/tickets/new' })
  t.equal(opened.statusCode, 302, 'new tickets are taken')
  const fresh = await pg.selectFrom('ticket').select(['id', 'number']).where('title', '=', 'First ticket on PostgreSQL').executeTakeFirstOrThrow()
  t.same(fresh, { id: Number(last.id) + 1, number: Number(last.number) + 1 }, 'numbered after the copied ones (sequences and counters moved on)')
  t.equal((await pg.selectFrom('stored_blob').select('key').where('kind', '=', 'attachment').execute()).length, 3, 'the same picture is not stored twice')

  const again = await copyByCli(['--to', target], source.config).then(() => null, (err: Error) => err)
  t.ok(again instanceof UsageError, 'a second copy is refused')
  t.match(again?.message, /^db copy: the target database already holds data \(account: 3 rows, .*\); db copy fills only an empty database/)
  t.same(await counts(pg, ['ticket', 'attachment']), { ticket: after.ticket + 1, attachment: after.attachment + 1 }, 'and changes nothing')

  // As a command: the refusal is a message and exit code 2.
  const cli = await run(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli.ts'), 'db', 'copy', '--to', target], {
    cwd: ROOT, env: { ...process.env, DATA_DIR: source.dir, DATABASE_URL: source.config.databaseUrl, LOG_LEVEL: 'silent' }
  }).then(() => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => err)
  t.equal(cli.code, 2, 'exit code 2')
  t.match(cli.stderr, /^casebridge: db copy: the target database already holds data/)
})

t.test('a copy that does not check out leaves the target empty; a target migrated beforehand is fine', { skip }, async (t) => {
  if ('skip' in server) return
  const source = await sqliteInstallation(t)
  const target = await server.emptyDatabase(t)
  // Migrated in advance (a web process started on it with SEED=none): it holds only the default SLA policies.
  const pg = await createDb(target)
  t.teardown(() => pg.destroy())
  await migrateToLatest(pg)
  t.ok((await counts(pg, ['sla_policy'])).sla_policy > 0)

  const store = new AttachmentStore(source.config.attachmentsDir)
  unlinkSync(store.pathFor(sha(BIG)))
  await t.rejects(copyByCli(['--to', target, '--from', source.file], source.config), { message: `db copy: 1 file(s) the rows refer to are not in the source's attachments folder: ${sha(BIG)}` })
  t.same(await counts(pg, ['ticket', 'attachment', 'stored_blob', 'staff']), { ticket: 0, attachment: 0, stored_blob: 0, staff: 0 }, 'nothing was left behind')

  writeFileSync(store.pathFor(sha(BIG)), Buffer.concat([BIG.subarray(0, 10), Buffer.from('damaged')]))
  await t.rejects(copyByCli(['--to', target, '--from', source.file], source.config), { message: /1 file\(s\) in the source's attachments folder do not hash to their names \(damaged\)/ })

  writeFileSync(store.pathFor(sha(BIG)), BIG)
  const printed = await copyByCli(['--to', target, '--from', source.file], source.config)
  t.ok(printed.some((l) => l.startsWith('verified: ')), 'copied once the file is back')
  t.same(await counts(pg, ['sla_policy']), await counts(source.db, ['sla_policy']), 'the source\'s SLA policies, not the defaults twice')
})

t.test('a SQLite installation that kept its files in the database brings them along, in small batches', { skip }, async (t) => {
  if ('skip' in server) return
  const source = await sqliteInstallation(t, { FILE_STORE: 'db' })
  const inSource = await counts(source.db, ['stored_blob'])
  t.equal(inSource.stored_blob, 4, 'the files are rows already')
  const target = await server.emptyDatabase(t)
  const pg = await createDb(target)
  t.teardown(() => pg.destroy())
  const report = await copyInstallation({ source: source.db, target: pg, files: new AttachmentStore(join(source.dir, 'nothing-here')), batchRows: 2 })
  t.same(report.attachments, { stored: 3, fromDisk: 0, alreadyInDatabase: 3, bytes: 0 })
  t.same(report.exports, { fromDisk: 0, missing: 0 })
  const tables = await sqliteTables(source.db)
  t.same(await counts(pg, tables), await counts(source.db, tables), 'row for row, two at a time')
  t.same(report.tables.find((r) => r.table === 'ticket_event'), { table: 'ticket_event', rows: (await counts(source.db, ['ticket_event'])).ticket_event, copied: (await counts(pg, ['ticket_event'])).ticket_event })

  await t.rejects(copyInstallation({ source: pg, target: source.db, files: new AttachmentStore(source.dir) }), { message: 'the source must be a SQLite database' })
})
