// `casebridge backup` and `restore`: a backup taken while the app runs, restored into a fresh
// DATA_DIR, opens with the same rows and serves the same attachment bytes; damaged or partial
// backups and occupied targets are refused before anything is written.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loadConfig, type Config } from '../src/config.js'
import { buildApp } from '../src/app.js'
import { createDb, migrateToLatest } from '../src/db/index.js'
import { tableRowCounts } from '../src/db/backup.js'
import { backup, restore, BackupError, type BackupManifest } from '../src/backup.js'
import { apiToken, loginAs, sqliteOnly, testApp, type TestEnv } from './helpers/app.js'
import { ROOT } from './helpers/root.js'

const NEW = { csrfFrom: '/portal/tickets/new' }
// Bytes no text transform leaves alone: every byte value, twice.
const BLOB = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i))])

function tempDir(t: { teardown(fn: () => unknown): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function printer(): { out: (s: string) => void; lines: string[] } {
  const lines: string[] = []
  return { out: (s) => lines.push(s), lines }
}

/** Alice opens a ticket with a binary attachment through the portal; returns the attachment's id. */
async function uploadAttachment(env: TestEnv): Promise<number> {
  const alice = await loginAs(env.app, 'alice@acme.test')
  const res = await alice.postMultipart('/portal/tickets', {
    product_id: String(env.ids.product['Casebridge Cloud']), priority: 'medium', title: 'Scanner output is garbled', description: 'See the attached dump.'
  }, [{ name: 'attachments', filename: 'dump.bin', content: BLOB, type: 'application/octet-stream' }], NEW)
  if (res.statusCode !== 302) throw new Error(`ticket not created: ${res.statusCode}`)
  const row = await env.db.selectFrom('attachment').select('id').where('filename', '=', 'dump.bin').executeTakeFirstOrThrow()
  return row.id
}

/** A fresh DATA_DIR's configuration (SQLite under it). */
function freshConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', COOKIE_SECURE: 'false', ...env })
}

const sqliteReason = sqliteOnly('backup and restore copy the SQLite file; on PostgreSQL they print pg_dump guidance (tested below)')

for (const fileStore of ['fs', 'db'] as const) {
  t.test(`FILE_STORE=${fileStore}: an online backup, restored into a fresh DATA_DIR, has the same rows and attachment bytes`, { skip: sqliteReason }, async (t) => {
    const env = await testApp(t, { env: { FILE_STORE: fileStore } })
    const attachmentId = await uploadAttachment(env)
    if (fileStore === 'fs') {
      mkdirSync(env.config.exportsDir, { recursive: true })
      writeFileSync(join(env.config.exportsDir, 'search-1.xlsx'), 'not really a workbook')
    }
    const before = await tableRowCounts(env.db)
    t.ok(before.ticket > 0 && before.attachment === 1, 'the demo data and the upload')
    // What the bundled emulator generated on a first start (its connected app, its CRM users' password).
    const credentials = JSON.stringify({ clientId: 'casebridge-test-app', clientSecret: 'a-secret-of-the-app', crmUserPassword: 'crm-user-password' })
    writeFileSync(join(env.config.dataDir, 'emulator-credentials.json'), credentials, { mode: 0o600 })

    // The app keeps running (its connection open, recent writes still in the WAL).
    const to = join(tempDir(t, 'casebridge-backup-'), 'b1')
    const { out, lines } = printer()
    const manifest = (await backup(env.config, to, out))!
    t.match(lines[0], /^backed up casebridge\.db \(\d+ tables, \d+ rows\)/)
    t.same(manifest.database.tables, before, 'the manifest counts every table as the live database has it')
    t.same(manifest.database.migrations, (await env.db.selectFrom('kysely_migration' as never).select('name' as never).execute()).map((r) => (r as { name: string }).name).sort())
    t.notOk(existsSync(join(to, 'casebridge.db-wal')), 'the copy is one self-contained file')
    t.equal(statSync(to).mode & 0o777, 0o700, 'for its owner only')
    const paths = manifest.files.map((f) => f.path)
    const sha = (await env.db.selectFrom('attachment').select('sha256').where('id', '=', attachmentId).executeTakeFirstOrThrow()).sha256
    if (fileStore === 'fs') {
      t.ok(paths.includes(`attachments/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`), 'the attachment file')
      t.ok(paths.includes('exports/search-1.xlsx'), 'the export file')
    } else {
      t.notOk(paths.some((p) => p.startsWith('attachments/')), 'FILE_STORE=db: the attachment is inside the database file')
    }
    t.notOk(paths.some((p) => p.startsWith('attachments/tmp/')), 'uploads in flight are not part of it')
    t.ok(paths.includes('mail-token.key') && paths.includes('session.key'), 'the generated keys, so links and sessions still verify')
    t.ok(paths.includes('emulator-credentials.json'), "and the emulator's generated credentials, so its CRM users keep their password")
    for (const f of manifest.files) {
      t.equal(readFileSync(join(to, f.path)).length, f.size, `${f.path}: size in the manifest`)
    }

    // Restored into a fresh DATA_DIR, then opened by the app as usual.
    const dir2 = tempDir(t, 'casebridge-restored-')
    const config2 = freshConfig(dir2, { FILE_STORE: fileStore })
    const restored = printer()
    await restore(config2, to, { force: false }, restored.out)
    t.match(restored.lines[0], /^restored casebridge\.db \(\d+ tables, \d+ rows, as backed up at /)
    const db2 = await createDb(config2.databaseUrl)
    t.teardown(() => db2.destroy())
    t.same(await migrateToLatest(db2), [], 'nothing to migrate')
    t.same(await tableRowCounts(db2), before, 'the same row counts, table by table')
    const app2 = await buildApp({ config: config2, db: db2, logger: false })
    t.teardown(() => app2.close())
    const alice = await loginAs(app2, 'alice@acme.test')
    const download = await alice.get(`/attachments/${attachmentId}`)
    t.equal(download.statusCode, 200, 'the download route serves it')
    t.ok(download.rawPayload.equals(BLOB), 'byte for byte')
    if (fileStore === 'fs') t.equal(readFileSync(join(config2.exportsDir, 'search-1.xlsx'), 'utf8'), 'not really a workbook', 'the export file back in place')
    t.equal(readFileSync(join(dir2, 'emulator-credentials.json'), 'utf8'), credentials, "the emulator's credentials back in place")
    t.equal(statSync(join(dir2, 'emulator-credentials.json')).mode & 0o777, 0o600, 'readable by the owner only')
  })
}

t.test('a backup taken while tickets are being written is consistent', { skip: sqliteReason }, async (t) => {
  const env = await testApp(t)
  const token = await apiToken(env.db, 'bob@acme.test')
  const create = (i: number) => env.app.inject({
    method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}` },
    payload: { title: `Written during the backup ${i}`, description: 'Load.', productId: env.ids.product['Casebridge Cloud'] }
  })
  const ticketsBefore = (await tableRowCounts(env.db)).ticket
  const to = join(tempDir(t, 'casebridge-backup-'), 'b')
  // Tickets keep arriving, one after the other, until the backup is done.
  let done = false
  let written = 0
  const writer = (async () => {
    while (!done) {
      const res = await create(written)
      if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}`)
      written++
    }
  })()
  while (written < 3) await new Promise((resolve) => setTimeout(resolve, 5))
  const manifest = await backup(env.config, to, () => {})
  done = true
  await writer
  const tickets = manifest!.database.tables.ticket
  t.ok(tickets > ticketsBefore && tickets <= ticketsBefore + written, `the copy holds a moment of it (${tickets - ticketsBefore} of the ${written} written)`)
  // The restore reads the row counts back and compares them with the manifest's.
  const config2 = freshConfig(tempDir(t, 'casebridge-restored-'))
  await restore(config2, to, { force: false }, () => {})
  const db2 = await createDb(config2.databaseUrl)
  t.teardown(() => db2.destroy())
  t.same(await tableRowCounts(db2), manifest!.database.tables, 'the restored database is the moment the manifest describes')
})

t.test('refusals: occupied target, damaged or unfinished backup, a folder that is not empty', { skip: sqliteReason }, async (t) => {
  const env = await testApp(t)
  await uploadAttachment(env)
  const base = tempDir(t, 'casebridge-backup-')
  const to = join(base, 'b')
  await backup(env.config, to, () => {})

  await t.rejects(backup(env.config, to, () => {}), BackupError, 'into a folder that is not empty')
  await t.rejects(backup(env.config, to, () => {}), { message: /is not empty/ })

  // The app's own DATA_DIR has a database: refused without --force.
  await t.rejects(restore(env.config, to, { force: false }, () => {}), { message: /a database already exists at .*--force/ })

  // With --force, over a stopped installation, it replaces the database.
  const dir2 = tempDir(t, 'casebridge-target-')
  const config2 = freshConfig(dir2)
  const seeded = await createDb(config2.databaseUrl)
  await migrateToLatest(seeded)
  await seeded.destroy()
  await t.rejects(restore(config2, to, { force: false }, () => {}), { message: /already exists/ })
  await restore(config2, to, { force: true }, () => {})
  const db2 = await createDb(config2.databaseUrl)
  t.equal((await tableRowCounts(db2)).ticket, (await tableRowCounts(env.db)).ticket, '--force: the backup replaced the empty database')
  await db2.destroy()

  // One byte of the attachment changed: nothing is written.
  const manifest = JSON.parse(readFileSync(join(to, 'manifest.json'), 'utf8')) as BackupManifest
  const attachment = manifest.files.find((f) => f.path.startsWith('attachments/'))!
  const damaged = join(base, 'damaged')
  mkdirSync(damaged)
  for (const f of manifest.files) {
    mkdirSync(join(damaged, f.path, '..'), { recursive: true })
    writeFileSync(join(damaged, f.path), readFileSync(join(to, f.path)))
  }
  writeFileSync(join(damaged, 'manifest.json'), JSON.stringify(manifest))
  const bytes = readFileSync(join(damaged, attachment.path))
  bytes[0] ^= 0xff
  writeFileSync(join(damaged, attachment.path), bytes)
  const dir3 = tempDir(t, 'casebridge-target-')
  await t.rejects(restore(freshConfig(dir3), damaged, { force: false }, () => {}), { message: new RegExp(`damaged, nothing was restored:\\n  ${attachment.path}: does not match its checksum`) })
  t.same(readdirSync(dir3), [], 'nothing written')
  rmSync(join(damaged, attachment.path))
  await t.rejects(restore(freshConfig(dir3), damaged, { force: false }, () => {}), { message: `: missing` })

  // A manifest naming a file outside the backup's places.
  writeFileSync(join(damaged, 'manifest.json'), JSON.stringify({ ...manifest, files: [...manifest.files, { path: '../../etc/passwd', size: 1, sha256: '0'.repeat(64) }] }))
  await t.rejects(restore(freshConfig(dir3), damaged, { force: false }, () => {}), { message: /names a file outside the backup/ })
  writeFileSync(join(damaged, 'manifest.json'), JSON.stringify({ ...manifest, version: 2 }))
  await t.rejects(restore(freshConfig(dir3), damaged, { force: false }, () => {}), { message: /not a backup manifest this version reads/ })
  rmSync(join(damaged, 'manifest.json'))
  await t.rejects(restore(freshConfig(dir3), damaged, { force: false }, () => {}), { message: /has no manifest\.json: not a Casebridge backup, or one that did not finish/ })
  t.same(readdirSync(dir3), [], 'still nothing written')
})

t.test('on PostgreSQL, backup prints pg_dump guidance and writes nothing; restore refuses', async (t) => {
  const dir = tempDir(t, 'casebridge-pg-')
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://casebridge:s3cret@db.example.com:5432/casebridge' })
  const to = join(dir, 'backup')
  const { out, lines } = printer()
  t.equal(await backup(config, to, out), null)
  const text = lines.join('\n')
  t.match(text, 'The database is PostgreSQL')
  t.match(text, `pg_dump --format=custom --no-owner --file=${join(to, 'casebridge.pgdump')} "$DATABASE_URL"`)
  t.match(text, 'pg_restore --no-owner --exit-on-error --dbname="$DATABASE_URL"')
  t.match(text, 'attachments and exports are in the database (FILE_STORE=db)', 'the files are rows there by default')
  t.notMatch(text, 's3cret', 'the URL\'s password is never printed')
  t.notOk(existsSync(to), 'nothing written')
  await t.rejects(restore(config, to, { force: false }, () => {}), BackupError)
})

t.test('the real CLI: exit codes and words', { skip: sqliteReason }, async (t) => {
  const dir = tempDir(t, 'casebridge-bin-')
  const run = promisify(execFile)
  const env = { ...process.env, DATA_DIR: dir, DATABASE_URL: '', LOG_LEVEL: 'silent' }
  const bin = join(ROOT, 'bin/casebridge.js')
  await run(process.execPath, [bin, 'seed', '--demo'], { env, cwd: ROOT })
  const to = join(dir, 'backups', 'one')
  const done = await run(process.execPath, [bin, 'backup', '--to', to], { env, cwd: ROOT })
  t.match(done.stdout, /^backed up casebridge\.db \(\d+ tables, \d+ rows\), 0 attachment files and 0 export files to /)
  t.ok(existsSync(join(to, 'manifest.json')))
  const refused = await run(process.execPath, [bin, 'restore', '--from', to], { env, cwd: ROOT }).then(() => null, (err: { code: number; stderr: string }) => err)
  t.equal(refused?.code, 2, 'a refusal exits with 2')
  t.match(refused?.stderr, /^casebridge: a database already exists at .*casebridge\.db: stop every Casebridge process and add --force to replace it/)
  const usage = await run(process.execPath, [bin, 'backup'], { env, cwd: ROOT }).then(() => null, (err: { code: number; stderr: string }) => err)
  t.equal(usage?.code, 2)
  t.match(usage?.stderr, 'backup needs --to DIR')
  const fresh = tempDir(t, 'casebridge-bin-restored-')
  const restored = await run(process.execPath, [bin, 'restore', '--from', to], { env: { ...env, DATA_DIR: fresh }, cwd: ROOT })
  t.match(restored.stdout, /^restored casebridge\.db/)
  t.ok(existsSync(join(fresh, 'casebridge.db')))
})
