// The two file stores, on disk (FILE_STORE=fs) and in the database (FILE_STORE=db), driven through
// the same steps must answer the same: receive, keep, read and stream back, store the same bytes
// once, store and delete an export's file, refuse keys that are not theirs. The database one is
// on SQLite here, and on PostgreSQL under scripts/pg-test.sh.
import t, { type Test } from 'tap'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { createHash } from 'node:crypto'
import { testApp, type TestEnv } from '../helpers/app.js'
import { AttachmentStore, type FileStore, type UploadedFile } from '../../src/storage/attachments.js'
import { DatabaseFileStore, createFileStore } from '../../src/db/file-store.js'
import type { Executor } from '../../src/db/index.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
/** Bytes that are not text, and long enough to take several slices of the database store below. */
const BINARY = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 131 + 7) % 256))

function upload(chunks: Buffer[], truncated = false): Readable & { truncated?: boolean } {
  return Object.assign(Readable.from(chunks), { truncated })
}

interface Backend {
  name: 'fs' | 'db'
  store: FileStore<Executor>
  /** The stored copies of attachments: files under the root, or rows. */
  attachmentsStored(): Promise<number>
  tmpDir: string
}

async function backends(env: TestEnv): Promise<Backend[]> {
  const fsRoot = join(env.dir, 'fs')
  const disk = new AttachmentStore(join(fsRoot, 'attachments'), join(fsRoot, 'exports'))
  // Small slices, so a download is read in many queries.
  const db = new DatabaseFileStore(env.db, join(env.dir, 'db-tmp'), 1024)
  const countFiles = (dir: string) => existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && !join(d.parentPath, d.name).startsWith(join(dir, 'tmp'))).length
    : 0
  return [
    { name: 'fs', store: disk, attachmentsStored: async () => countFiles(disk.root), tmpDir: join(disk.root, 'tmp') },
    {
      name: 'db', store: db, tmpDir: db.tmpDir,
      attachmentsStored: async () => (await env.db.selectFrom('stored_blob').select('key').where('kind', '=', 'attachment').execute()).length
    }
  ]
}

/** The same steps on a store; what each answered, for comparing the two. */
async function transcript(t: Test, b: Backend): Promise<unknown[]> {
  const { store } = b
  const out: unknown[] = []

  const received = await store.receive(upload([BINARY.subarray(0, 1000), BINARY.subarray(1000)]), 'C:\\Users\\me\\scan\u0007.bin', 'Application/Octet-Stream; charset=x')
  t.ok(existsSync(received.tmpPath), `${b.name}: an upload waits in a local temporary file`)
  t.ok(received.tmpPath.startsWith(b.tmpDir), `${b.name}: under its temporary folder`)
  const { tmpPath: _tmp, ...facts } = received
  out.push({ received: facts })

  const kept = await store.keep(received)
  t.notOk(existsSync(received.tmpPath), `${b.name}: keeping takes the temporary file away`)
  out.push({ kept, stored: await b.attachmentsStored() })
  out.push({ size: await store.size('attachment', kept.sha256), read: sha((await store.read('attachment', kept.sha256))!) })
  out.push({ streamed: sha(await buffer(await store.open('attachment', kept.sha256))) })

  const again = await store.keep(await store.receive(upload([BINARY]), 'copy.bin', 'application/octet-stream'))
  const buffered = await store.keepBuffer('third copy.bin', 'application/octet-stream', BINARY)
  out.push({ again, buffered, stored: await b.attachmentsStored() })

  const empty = await store.keepBuffer('empty.txt', 'text/plain', Buffer.alloc(0))
  out.push({ empty, read: (await store.read('attachment', empty.sha256))?.length, streamed: (await buffer(await store.open('attachment', empty.sha256))).length })

  const other = await store.keepBuffer('note.txt', 'text/plain; charset=utf-8', Buffer.from('olá\n'))
  out.push({ other, stored: await b.attachmentsStored() })

  const discarded = await store.receive(upload([Buffer.from('never kept')]), 'tmp.txt', 'text/plain')
  await store.discard([discarded])
  t.notOk(existsSync(discarded.tmpPath), `${b.name}: discard removes what was not kept`)
  out.push({ afterDiscard: await b.attachmentsStored() })

  // An export: written locally by the worker, then moved into the store under its name.
  const local = join(b.tmpDir, 'export.xlsx.part')
  await mkdir(b.tmpDir, { recursive: true })
  writeFileSync(local, BINARY.subarray(0, 3000))
  out.push({ put: await store.putFile('export', 'Ab_c-1.xlsx', local) })
  t.notOk(existsSync(local), `${b.name}: the local file is moved into the store`)
  out.push({
    exportSize: await store.size('export', 'Ab_c-1.xlsx'),
    exportRead: sha((await store.read('export', 'Ab_c-1.xlsx'))!),
    exportStreamed: sha(await buffer(await store.open('export', 'Ab_c-1.xlsx')))
  })
  await store.remove('export', 'Ab_c-1.xlsx')
  await store.remove('export', 'Ab_c-1.xlsx')
  out.push({ removedSize: await store.size('export', 'Ab_c-1.xlsx'), removedRead: await store.read('export', 'Ab_c-1.xlsx') })
  out.push({ openGone: await store.open('export', 'Ab_c-1.xlsx').then((s) => buffer(s)).then(() => 'read', (err: NodeJS.ErrnoException) => err.code) })

  await store.remove('attachment', other.sha256)
  out.push({ removedAttachment: await store.size('attachment', other.sha256), stored: await b.attachmentsStored() })
  out.push({ stillThere: await store.size('attachment', kept.sha256) })

  for (const [kind, key] of [['export', '../session.key'], ['export', 'a/b.xlsx'], ['attachment', 'abc'], ['attachment', '../../x']] as const) {
    out.push({ key, refused: await store.read(kind, key).then(() => 'read', (err: Error) => /not a stored/.test(err.message)) })
  }
  return out
}

t.test('the disk and the database store answer alike', async (t) => {
  const env = await testApp(t, { demo: false })
  const [fs, db] = await backends(env)
  const onDisk = await transcript(t, fs)
  const inDb = await transcript(t, db)
  t.same(inDb, onDisk, 'step by step, the same answers')
  t.match(onDisk[0], { received: { filename: 'scan.bin', contentType: 'application/octet-stream', size: 5000, sha256: sha(BINARY), truncated: false } }, 'the name and type are cleaned')
  t.match(onDisk[1], { kept: { filename: 'scan.bin', size: 5000, sha256: sha(BINARY) }, stored: 1 })
  t.same(onDisk[3], { streamed: sha(BINARY) }, 'streamed back whole (the database in five slices)')
  t.match(onDisk[4], { stored: 1 }, 'the same bytes kept three ways are stored once')
  t.same(onDisk[11], { openGone: 'ENOENT' }, 'opening a file that is gone fails as a missing file')
  t.match(onDisk[12], { removedAttachment: null, stored: 2 })
  t.same(onDisk.slice(14).map((o) => (o as { refused: unknown }).refused), [true, true, true, true], 'keys that are not a hash or a plain name are refused')
  t.same(fs.store.mailRef('export', 'a.xlsx'), { path: join(env.dir, 'fs', 'exports', 'a.xlsx') }, 'a mail names a file on disk by its path')
  t.same(db.store.mailRef('export', 'a.xlsx'), { kind: 'export', key: 'a.xlsx' }, 'and one in the database by its key')
})

t.test('in the database, a kept file belongs to the transaction that kept it', async (t) => {
  const env = await testApp(t, { demo: false })
  const store = new DatabaseFileStore(env.db, join(env.dir, 'tmp'))
  const received: UploadedFile = await store.receive(upload([Buffer.from('rolled back')]), 'a.txt', 'text/plain')
  await t.rejects(env.db.transaction().execute(async (trx) => {
    await store.keep(received, trx)
    t.equal(Number((await trx.selectFrom('stored_blob').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 1, 'written in the transaction')
    throw new Error('the command failed after keeping the file')
  }), /the command failed/)
  t.equal(await store.size('attachment', received.sha256), null, 'gone with the rollback')

  await env.db.transaction().execute(async (trx) => {
    await store.keepBuffer('b.txt', 'text/plain', Buffer.from('committed'), trx)
  })
  t.equal((await store.read('attachment', sha(Buffer.from('committed'))))?.toString(), 'committed', 'kept with the commit')
})

t.test('FILE_STORE picks the store: the disk on SQLite unless told, the database on PostgreSQL', async (t) => {
  const env = await testApp(t, { demo: false })
  const store = createFileStore(env.config, env.db)
  t.equal(store.backend, env.config.fileStore)
  t.equal(env.config.fileStore, env.config.databaseUrl.startsWith('sqlite:') ? 'fs' : 'db')
  const { loadConfig } = await import('../../src/config.js')
  t.equal(loadConfig({ DATA_DIR: env.dir }).fileStore, 'fs')
  t.equal(loadConfig({ DATA_DIR: env.dir, DATABASE_URL: 'postgres://u@h/db' }).fileStore, 'db')
  t.equal(loadConfig({ DATA_DIR: env.dir, DATABASE_URL: 'postgres://u@h/db', FILE_STORE: 'fs' }).fileStore, 'fs')
  t.equal(loadConfig({ DATA_DIR: env.dir, FILE_STORE: 'db' }).fileStore, 'db')
  t.throws(() => loadConfig({ DATA_DIR: env.dir, FILE_STORE: 's3' }), /FILE_STORE/)
  t.throws(() => loadConfig({ DATA_DIR: env.dir, FILE_STORE: 'db', MAX_ATTACHMENT_MB: '600' }), /MAX_ATTACHMENT_MB: must be at most 512 when files are kept in the database/)
  t.equal(loadConfig({ DATA_DIR: env.dir, MAX_ATTACHMENT_MB: '600' }).maxAttachmentBytes, 600 * 1024 * 1024, 'on disk, the old limit stands')
})
