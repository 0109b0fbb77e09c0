// `casebridge backup --to DIR` and `casebridge restore --from DIR [--force]`.
//
// On SQLite a backup is a folder: the database copied online (the server may keep running),
// then the files kept beside it under DATA_DIR (attachments, exports, the generated keys, the
// emulator's data when it is the CRM), and last a manifest.json with each file's size and SHA-256
// and each table's row count. A folder without a manifest is an unfinished backup. Files come
// after the database: attachments are only ever added, so every file the copied database names
// is already on disk. With FILE_STORE=db the files are rows, inside the database file.
//
// A restore checks every checksum before it writes anything, refuses to replace an existing
// database without --force, puts the database in place last (a restore that stops halfway leaves
// none, so it can simply be run again), and reads the restored database's row counts back.
//
// On PostgreSQL the database backs itself up: pg_dump and pg_restore, as printed.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { hashingMeter } from './storage/attachments.js'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Config } from './config.js'
import { backupSqlite, describeSqlite, sqliteFile } from './db/backup.js'
import { VERSION } from './version.js'
import { EMULATOR_CREDENTIALS_FILE } from './security/emulator-credentials.js'

/** A refusal the person running the command can act on (the CLI prints it and exits with 2). */
export class BackupError extends Error {
  override name = 'BackupError'
}

export type Print = (text: string) => void

const DB_FILE = 'casebridge.db'
const EMULATOR_FILE = 'emulator.db'
/**
 * Secrets generated under DATA_DIR when their setting is unset: without them, restored thread
 * tokens, approval links and sessions would not verify, and the bundled emulator's connected app
 * and CRM users would get new credentials (a CRM user's password would change under them).
 */
const KEY_FILES = ['mail-token.key', 'session.key', EMULATOR_CREDENTIALS_FILE]
const MANIFEST = 'manifest.json'

const FileEntry = Type.Object({
  path: Type.String({ minLength: 1, maxLength: 1000 }),
  size: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' })
}, { additionalProperties: false })

const Manifest = Type.Object({
  format: Type.Literal('casebridge-backup'),
  version: Type.Literal(1),
  createdAt: Type.String(),
  casebridgeVersion: Type.String(),
  database: Type.Object({
    dialect: Type.Literal('sqlite'),
    file: Type.Literal(DB_FILE),
    migrations: Type.Array(Type.String()),
    tables: Type.Record(Type.String(), Type.Integer({ minimum: 0 }))
  }, { additionalProperties: false }),
  files: Type.Array(FileEntry)
}, { additionalProperties: false })

export type BackupManifest = Static<typeof Manifest>
type FileEntry = Static<typeof FileEntry>

async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { size, sha256: hash.digest('hex') }
}

/** Copies a file, hashing the bytes as they are written; the target must not exist yet. */
async function copyHashed(from: string, to: string, mode?: number): Promise<{ size: number; sha256: string }> {
  await mkdir(dirname(to), { recursive: true })
  const meter = hashingMeter()
  await pipeline(createReadStream(from), meter.stream, createWriteStream(to, { flags: 'wx', mode }))
  return meter.result()
}

/** Every file under `dir` (relative, with '/'), but those under the folders named in `skip`. */
async function filesUnder(dir: string, skip: string[] = []): Promise<string[]> {
  const out: string[] = []
  const walk = async (at: string) => {
    for (const entry of await readdir(join(dir, at), { withFileTypes: true })) {
      const rel = at ? `${at}/${entry.name}` : entry.name
      if (entry.isDirectory()) {
        if (!skip.includes(rel)) await walk(rel)
      } else if (entry.isFile()) {
        out.push(rel)
      }
    }
  }
  await walk('')
  return out.sort()
}

const isDir = (path: string) => stat(path).then((s) => s.isDirectory(), () => false)

/** The folders of files a backup carries, as named in it and where this configuration keeps them. */
function fileFolders(config: Config): { name: string; dir: string; skip: string[] }[] {
  return [
    // tmp/ holds uploads still arriving: not part of anything yet.
    { name: 'attachments', dir: config.attachmentsDir, skip: ['tmp'] },
    { name: 'exports', dir: config.exportsDir, skip: [] }
  ]
}

function postgresGuidance(config: Config, dir: string): string[] {
  const dump = join(resolve(dir), 'casebridge.pgdump')
  const folders = fileFolders(config).filter((f) => existsSync(f.dir))
  return [
    'The database is PostgreSQL: back it up with its own tools (nothing was written).',
    '',
    '  back up (a consistent snapshot; Casebridge may keep running):',
    `    pg_dump --format=custom --no-owner --file=${dump} "$DATABASE_URL"`,
    '  restore, into an empty database, with every Casebridge process stopped:',
    `    pg_restore --no-owner --exit-on-error --dbname="$DATABASE_URL" ${dump}`,
    '    npx casebridge migrate',
    '',
    ...(folders.length > 0
      ? ['  files kept on disk (FILE_STORE=fs): copy them after the dump, e.g.', ...folders.map((f) => `    rsync -a ${f.dir}/ ${join(resolve(dir), f.name)}/`)]
      : ['  attachments and exports are in the database (FILE_STORE=db): the dump holds them.']),
    '  keep MAIL_TOKEN_SECRET and SESSION_SECRET (or mail-token.key and session.key under DATA_DIR) with it:',
    '  without them, links in mail already sent and open sessions stop working.'
  ]
}

/** Backs the installation up into `toDir` (which must be empty or absent); on PostgreSQL, prints how instead. */
export async function backup(config: Config, toDir: string, out: Print): Promise<BackupManifest | null> {
  const source = sqliteFile(config.databaseUrl)
  if (source === null) {
    if (!config.databaseUrl.startsWith('sqlite:')) {
      for (const line of postgresGuidance(config, toDir)) out(line)
      return null
    }
    throw new BackupError('an in-memory database cannot be backed up')
  }
  if (!existsSync(source)) throw new BackupError(`no database at ${source} (DATA_DIR / DATABASE_URL)`)
  const dir = resolve(toDir)
  if (existsSync(dir) && (!(await isDir(dir)) || (await readdir(dir)).length > 0)) {
    throw new BackupError(`${dir} is not empty: back up into a new folder`)
  }
  await mkdir(dir, { recursive: true })
  // It holds every ticket and, maybe, the keys: for its owner's eyes only.
  await chmod(dir, 0o700)

  const files: FileEntry[] = []
  // The database first, online; its description is read from the copy, so it matches the copy.
  await backupSqlite(source, join(dir, DB_FILE))
  const described = describeSqlite(join(dir, DB_FILE))
  files.push({ path: DB_FILE, ...(await hashFile(join(dir, DB_FILE))) })
  // With no Salesforce org the bundled emulator is the CRM: the Case ids in the tickets live in it.
  if (!config.crm.salesforce && existsSync(config.crm.emulatorFile)) {
    await backupSqlite(config.crm.emulatorFile, join(dir, EMULATOR_FILE))
    files.push({ path: EMULATOR_FILE, ...(await hashFile(join(dir, EMULATOR_FILE))) })
  }
  for (const name of KEY_FILES) {
    const from = join(config.dataDir, name)
    if (existsSync(from)) files.push({ path: name, ...(await copyHashed(from, join(dir, name), 0o600)) })
  }
  const counts: Record<string, number> = {}
  for (const folder of fileFolders(config)) {
    counts[folder.name] = 0
    if (!(await isDir(folder.dir))) continue
    for (const rel of await filesUnder(folder.dir, folder.skip)) {
      try {
        files.push({ path: `${folder.name}/${rel}`, ...(await copyHashed(join(folder.dir, rel), join(dir, folder.name, rel))) })
        counts[folder.name]++
      } catch (err) {
        // An export that expired (and was deleted) since the database was copied.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
  }

  const manifest: BackupManifest = {
    format: 'casebridge-backup', version: 1, createdAt: new Date().toISOString(), casebridgeVersion: VERSION,
    database: { dialect: 'sqlite', file: DB_FILE, migrations: described.migrations, tables: described.tables },
    files
  }
  await writeFile(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 })
  const rows = Object.values(described.tables).reduce((a, b) => a + b, 0)
  out(`backed up ${DB_FILE} (${Object.keys(described.tables).length} tables, ${rows} rows), ${counts.attachments} attachment files and ${counts.exports} export files to ${dir}`)
  return manifest
}

/** A manifest's path, checked: relative, no way out of its folder, and one of the things a backup holds. */
function targetOf(config: Config, dbFile: string, path: string): string {
  const parts = path.split('/')
  if (isAbsolute(path) || path.includes('\\') || path.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new BackupError(`manifest.json names a file outside the backup: ${JSON.stringify(path)}`)
  }
  if (path === DB_FILE) return dbFile
  if (path === EMULATOR_FILE) return config.crm.emulatorFile
  if (KEY_FILES.includes(path)) return join(config.dataDir, path)
  const folder = fileFolders(config).find((f) => parts[0] === f.name && parts.length > 1)
  if (folder) return join(folder.dir, ...parts.slice(1))
  throw new BackupError(`manifest.json names a file a backup does not hold: ${JSON.stringify(path)}`)
}

async function readManifest(dir: string): Promise<BackupManifest> {
  let text: string
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupError(`${dir} has no ${MANIFEST}: not a Casebridge backup, or one that did not finish`)
    throw err
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new BackupError(`${join(dir, MANIFEST)} is not valid JSON`)
  }
  if (!Value.Check(Manifest, parsed)) {
    const first = [...Value.Errors(Manifest, parsed)][0]
    throw new BackupError(`${join(dir, MANIFEST)} is not a backup manifest this version reads (${first?.path || '/'}: ${first?.message})`)
  }
  return parsed
}

/** Restores a backup folder into the configured DATA_DIR (SQLite only); see the top of this file. */
export async function restore(config: Config, fromDir: string, opts: { force: boolean }, out: Print): Promise<void> {
  const dir = resolve(fromDir)
  const manifest = await readManifest(dir)
  const dbFile = sqliteFile(config.databaseUrl)
  if (dbFile === null) {
    throw new BackupError(config.databaseUrl.startsWith('sqlite:')
      ? 'an in-memory database cannot be restored into'
      : 'DATABASE_URL is PostgreSQL: restore this SQLite backup into a SQLite DATA_DIR, then move it with `casebridge db copy`; a pg_dump is restored with pg_restore (`casebridge backup` prints how)')
  }
  const targets = new Map(manifest.files.map((f) => [f.path, targetOf(config, dbFile, f.path)]))
  if (!targets.has(DB_FILE)) throw new BackupError(`manifest.json lists no ${DB_FILE}`)

  // Every byte checked before anything is written.
  const bad: string[] = []
  for (const f of manifest.files) {
    const got = await hashFile(join(dir, f.path)).catch(() => null)
    if (!got) bad.push(`${f.path}: missing`)
    else if (got.size !== f.size || got.sha256 !== f.sha256) bad.push(`${f.path}: does not match its checksum`)
  }
  if (bad.length > 0) {
    throw new BackupError(`the backup in ${dir} is damaged, nothing was restored:\n  ${bad.slice(0, 20).join('\n  ')}${bad.length > 20 ? `\n  … and ${bad.length - 20} more` : ''}`)
  }

  const sidecars = (file: string) => [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]
  const present = sidecars(dbFile).filter((f) => existsSync(f))
  if (present.length > 0 && !opts.force) {
    throw new BackupError(`a database already exists at ${dbFile}: stop every Casebridge process and add --force to replace it`)
  }
  // The database goes last: until it is in place, a stopped restore can simply be run again.
  const order = [...manifest.files].sort((a, b) => Number(a.path === DB_FILE) - Number(b.path === DB_FILE))
  for (const f of order) {
    const target = targets.get(f.path)!
    if (f.path === DB_FILE || f.path === EMULATOR_FILE) {
      for (const old of sidecars(target)) await rm(old, { force: true })
    }
    // Written aside, then renamed over: no reader ever sees half a file.
    const aside = `${target}.restoring-${randomBytes(4).toString('hex')}`
    const copied = await copyHashed(join(dir, f.path), aside, KEY_FILES.includes(f.path) ? 0o600 : undefined)
    if (copied.sha256 !== f.sha256) {
      await rm(aside, { force: true })
      throw new BackupError(`${f.path} changed while it was being restored`)
    }
    await rename(aside, target)
    if (KEY_FILES.includes(f.path)) await chmod(target, 0o600)
  }

  const restored = describeSqlite(dbFile)
  const differ = Object.keys({ ...manifest.database.tables, ...restored.tables })
    .filter((name) => manifest.database.tables[name] !== restored.tables[name])
  if (differ.length > 0) throw new BackupError(`the restored database's row counts differ from the backup's in: ${differ.join(', ')}`)
  const rows = Object.values(restored.tables).reduce((a, b) => a + b, 0)
  const files = manifest.files.filter((f) => f.path.includes('/')).length
  out(`restored ${DB_FILE} (${Object.keys(restored.tables).length} tables, ${rows} rows, as backed up at ${manifest.createdAt}) and ${files} attachment and export files into ${config.dataDir}`)
}

/** The two commands' arguments; the CLI calls this before it opens any database. */
export async function runBackupCommand(argv: string[], config: Config, out: Print): Promise<void> {
  const [command, ...rest] = argv
  if (command === 'backup') {
    const { values } = parseArgs({ args: rest, options: { to: { type: 'string' } } })
    if (!values.to) throw new BackupError('backup needs --to DIR')
    await backup(config, values.to, out)
    return
  }
  if (command === 'restore') {
    const { values } = parseArgs({ args: rest, options: { from: { type: 'string' }, force: { type: 'boolean' } } })
    if (!values.from) throw new BackupError('restore needs --from DIR')
    await restore(config, values.from, { force: Boolean(values.force) }, out)
    return
  }
  throw new BackupError(`not a backup command: ${command}`)
}
