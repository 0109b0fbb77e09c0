import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { existsSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig, ConfigError, type Config } from './config.js'
import { createDb, isSqliteUrl, migrateToLatest, type Db } from './db/index.js'
import { copyInstallation, CopyFailed, CopyRefused } from './commands/db-copy.js'
import { AttachmentStore } from './storage/attachments.js'
import { seedDemo, isEmpty } from './commands/demo.js'
import { resolveNamed } from './db/catalog.js'
import { addPerson, createApiToken } from './commands/people.js'
import { setAccountActive } from './commands/sessions.js'
import { checkStaffLoads } from './commands/assignment.js'
import { invitePerson } from './commands/account-links.js'
import { SYSTEM } from './commands/kernel.js'
import type { Refused } from './commands/kernel.js'
import { MIN_PASSWORD_LENGTH } from './security/password.js'
import { ADMIN_USAGE, AdminUsageError, runAdminCli } from './cli-admin.js'
import { emulatorCredentials } from './security/emulator-credentials.js'

export const USAGE = `usage: casebridge <command> [options]

  help, --help, -h                print this usage
  migrate                         apply pending database migrations
  seed --demo [--json]            load the demo organisation (on an empty database)
  user add --role client|staff|admin --email E --name N
           [--account A]... [--manager] [--desk D]... [--password P | --invite]
                                  add a person (A and D are names or ids); prints a generated password when none is
                                  given, or with --invite mails them a link to set their own (valid 7 days)
  user invite --email E           mail a person a new invitation link to set their password
  user disable --email E          turn an account off: no login, no API, every session ended at once
  user enable --email E           turn it on again
${ADMIN_USAGE}  token create --email E [--name N]
                                  create an API token for a person; prints only the token
  sync                            one CRM sync pass (reference data, the outbox, CRM changes); prints a summary
  emulator [--port N] [--host H] [--file F] [--test-mode]
                                  run the Salesforce emulator alone (port EMULATOR_PORT or 3001, data under DATA_DIR);
                                  tokens only for the client in DATA_DIR/emulator-credentials.json (or
                                  SALESFORCE_CLIENT_ID/SECRET); --test-mode (or EMULATOR_TEST_MODE=1) adds fault control
  backup --to DIR                 SQLite: copy the database (online) and the files under DATA_DIR into DIR, with a
                                  manifest of checksums and row counts; PostgreSQL: print how to use pg_dump
  restore --from DIR [--force]    SQLite: check a backup's checksums, then put it in place under DATA_DIR
                                  (--force replaces an existing database; stop the server first)
  doctor [--repair]               check what the database keeps besides its rows (each staff member's open-ticket
                                  count, which assignment reads) against the rows; --repair sets it right
  db copy --to postgres://… [--from FILE] [--files DIR]
                                  copy a SQLite installation (the configured one, or FILE) and its files (under
                                  DATA_DIR, or FILE's folder, or DIR) into an empty PostgreSQL database; checks
                                  row counts and file checksums, prints a summary per table

Settings come from the environment, as for the server (DATABASE_URL, DATA_DIR, …; see the README).
`

/** The subcommands of each command that has them; a command missing here takes none. */
const SUBCOMMANDS: Record<string, string[]> = {
  user: ['add', 'invite', 'disable', 'enable'],
  token: ['create'],
  desk: ['list', 'add', 'set'],
  product: ['list', 'add'],
  catalog: ['list', 'add'],
  staff: ['list', 'set'],
  calendar: ['list', 'add', 'set'],
  db: ['copy']
}
const COMMANDS = new Set(['migrate', 'seed', 'sync', 'emulator', 'backup', 'restore', 'doctor', ...Object.keys(SUBCOMMANDS)])

/** True when the arguments ask for the usage: `help`, `--help` or `-h` (anywhere, so `casebridge user add --help` too). */
export function wantsHelp(argv: string[]): boolean {
  return argv[0] === 'help' || argv.some((a) => a === '--help' || a === '-h')
}

/** What is wrong with the command named, before anything is opened; undefined when it is one. */
export function commandProblem(argv: string[]): string | undefined {
  const [command, sub] = argv
  if (command === undefined || command === '') return USAGE
  const pointer = 'casebridge --help lists the commands'
  if (!COMMANDS.has(command)) return `unknown command: ${command}; ${pointer}`
  const subs = SUBCOMMANDS[command]
  if (subs && (sub === undefined || !subs.includes(sub))) {
    const choices = subs.length === 1 ? subs[0] : `${subs.slice(0, -1).join(', ')} or ${subs.at(-1)}`
    if (sub === undefined || sub.startsWith('-')) return `${command} needs a subcommand (${choices}); ${pointer}`
    return `unknown command: ${command} ${sub} (${command} takes ${choices}); ${pointer}`
  }
  return undefined
}

export class UsageError extends Error {
  override name = 'UsageError'
}

/** Where the CLI writes its results (a test passes its own to read them). */
export type Print = (text: string) => void

function stdoutPrint(text: string) {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n')
}

async function resolveIds(db: Db, table: 'account' | 'desk', refs: string[]): Promise<number[]> {
  const ids: number[] = []
  for (const ref of refs) {
    const id = await resolveNamed(db, table, ref)
    if (id === undefined) throw new UsageError(`${table} not found: ${ref}`)
    ids.push(id)
  }
  return ids
}

/** The CLI's words for a refused command. */
function refusalText(refusal: Refused, email: string): string {
  const [field, f] = Object.entries(refusal.fields)[0] ?? []
  switch (`${field}.${f?.problem}`) {
    case 'email.invalid_email': return '--email must be an e-mail address'
    case 'email.taken': return `a person with e-mail ${email} already exists`
    case 'email.invalid_choice': return `nobody with e-mail ${email}`
    case 'name.required': return '--name is required'
    case 'password.too_short': return `--password must have at least ${MIN_PASSWORD_LENGTH} characters`
    case 'accountIds.required': return 'a client needs at least one --account'
    default: return `refused: ${refusal.code}`
  }
}

const deps = (db: Db) => ({ db, clock: () => new Date(), random: Math.random })

export async function runCli(argv: string[], db: Db, out: Print = stdoutPrint, config?: Config): Promise<void> {
  if (wantsHelp(argv)) {
    out(USAGE)
    return
  }
  const problem = commandProblem(argv)
  if (problem) throw new UsageError(problem)
  const [command, sub] = argv
  if (command === 'sync') {
    const { runSyncCommand } = await import('../sync/crm/cli.js')
    await runSyncCommand(db, config ?? loadConfig(), out)
    return
  }
  if (command === 'doctor') {
    const { values } = parseArgs({ args: argv.slice(1), options: { repair: { type: 'boolean', default: false } } })
    const drift = await checkStaffLoads(deps(db), { repair: values.repair })
    if (drift.length === 0) {
      out('staff open-ticket counts: all equal to the tickets')
      return
    }
    for (const d of drift) out(`staff #${d.staffId} ${d.name}: kept ${d.kept} open tickets, real ${d.real}`)
    if (values.repair) {
      out(`repaired ${drift.length} staff open-ticket count(s)`)
      return
    }
    throw new UsageError(`${drift.length} staff open-ticket count(s) differ from the tickets: run casebridge doctor --repair`)
  }
  if (command === 'migrate') {
    const applied = await migrateToLatest(db)
    out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date')
    return
  }
  if (command === 'seed') {
    const { values } = parseArgs({ args: argv.slice(1), options: { demo: { type: 'boolean' }, json: { type: 'boolean' } } })
    if (!values.demo) throw new UsageError('seed needs --demo')
    await migrateToLatest(db)
    if (!(await isEmpty(db))) throw new UsageError('the database already has people in it; demo data loads only into an empty database')
    const seed = await seedDemo(db, new Date(), { ratings: true, knowledge: true })
    if (values.json) out(JSON.stringify(seed, null, 2))
    else for (const l of seed.logins) out(`${l.role}\t${l.email}\t${l.password}`)
    return
  }
  if (command === 'user' && sub === 'add') {
    const { values } = parseArgs({
      args: argv.slice(2),
      options: {
        role: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' },
        account: { type: 'string', multiple: true }, desk: { type: 'string', multiple: true }, manager: { type: 'boolean' },
        invite: { type: 'boolean' }
      }
    })
    if (values.invite && values.password !== undefined) throw new UsageError('give either --password or --invite')
    const role = values.role
    if (role !== 'client' && role !== 'staff' && role !== 'admin') throw new UsageError('--role must be client, staff or admin')
    const email = values.email?.trim().toLowerCase() ?? ''
    if (!values.name?.trim()) throw new UsageError('--name is required')
    const invite = Boolean(values.invite)
    const generated = values.password === undefined && !invite
    const password = invite ? null : values.password ?? randomBytes(12).toString('base64url')
    const accountIds = role === 'client' ? await resolveIds(db, 'account', values.account ?? []) : []
    const deskIds = role === 'client' ? [] : await resolveIds(db, 'desk', values.desk ?? [])
    const outcome = await addPerson(deps(db), { role, email, name: values.name, password, invite, accountIds, manager: Boolean(values.manager), deskIds })
    if (!outcome.ok) throw new UsageError(refusalText(outcome.refusal, email))
    out(generated ? `added ${role} ${email} with password ${password}` : invite ? `added ${role} ${email}; invitation queued (the worker mails it)` : `added ${role} ${email}`)
    return
  }
  if (command === 'user' && sub === 'invite') {
    const { values } = parseArgs({ args: argv.slice(2), options: { email: { type: 'string' } } })
    if (!values.email) throw new UsageError('--email is required')
    const outcome = await invitePerson(deps(db), SYSTEM, { email: values.email })
    if (!outcome.ok) throw new UsageError(refusalText(outcome.refusal, values.email))
    out(`invitation queued for ${values.email.trim().toLowerCase()} (the worker mails it)`)
    return
  }
  if (command === 'user' && (sub === 'disable' || sub === 'enable')) {
    const { values } = parseArgs({ args: argv.slice(2), options: { email: { type: 'string' } } })
    if (!values.email) throw new UsageError('--email is required')
    const outcome = await setAccountActive(deps(db), SYSTEM, { email: values.email, active: sub === 'enable' })
    if (!outcome.ok) throw new UsageError(refusalText(outcome.refusal, values.email))
    out(`${sub === 'enable' ? 'enabled' : 'disabled'} ${values.email.trim().toLowerCase()}`)
    return
  }
  if (command === 'desk' || command === 'product' || command === 'catalog' || command === 'staff' || command === 'calendar') {
    try {
      if (await runAdminCli(argv, db, out)) return
    } catch (err) {
      if (err instanceof AdminUsageError) throw new UsageError(`${command} ${sub ?? ''}: ${err.message}`)
      throw err
    }
  }
  if (command === 'token' && sub === 'create') {
    const { values } = parseArgs({ args: argv.slice(2), options: { email: { type: 'string' }, name: { type: 'string' } } })
    if (!values.email) throw new UsageError('--email is required')
    const outcome = await createApiToken(deps(db), { email: values.email, name: values.name ?? 'cli' })
    if (!outcome.ok) throw new UsageError(refusalText(outcome.refusal, values.email))
    out(outcome.value.token)
    return
  }
  // emulator, backup, restore and db: main() runs them before any database is opened
  throw new UsageError(`${command}: run it as casebridge ${command} from the command line`)
}

/** A database URL fit to print: the password left out. */
function shownUrl(url: string): string {
  if (isSqliteUrl(url)) return url.slice('sqlite:'.length)
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'the target database'
  }
}

/** `casebridge db copy --to postgres://… [--from FILE] [--files DIR]`: SQLite to PostgreSQL, checked. */
export async function runDbCommand(argv: string[], config: Config, out: Print = stdoutPrint): Promise<void> {
  const problem = commandProblem(['db', ...argv])
  if (problem) throw new UsageError(problem)
  let values: { to?: string; from?: string; files?: string }
  try {
    ({ values } = parseArgs({ args: argv.slice(1), options: { to: { type: 'string' }, from: { type: 'string' }, files: { type: 'string' } } }))
  } catch (err) {
    throw new UsageError(`db copy: ${(err as Error).message}`)
  }
  if (!values.to || !/^postgres(ql)?:\/\//.test(values.to)) throw new UsageError('db copy needs --to postgres://user:password@host:port/database (an empty database)')
  const from = values.from ? `sqlite:${resolve(values.from)}` : config.databaseUrl
  if (!isSqliteUrl(from)) throw new UsageError('db copy reads a SQLite database: the configured DATABASE_URL is not one, so name the file with --from')
  const sourceFile = from.slice('sqlite:'.length)
  if (!existsSync(sourceFile)) throw new UsageError(`no SQLite database at ${sourceFile}`)
  const filesDir = resolve(values.files ?? (values.from ? dirname(sourceFile) : config.dataDir))
  // A read snapshot of the source that never blocks a server still writing to it.
  const source = await createDb(from, { sqliteTransactions: 'deferred' })
  const target = await createDb(values.to)
  try {
    const applied = await migrateToLatest(source)
    if (applied.length > 0) out(`source migrated first: ${applied.join(', ')}`)
    const report = await copyInstallation({
      source, target, files: new AttachmentStore(join(filesDir, 'attachments'), join(filesDir, 'exports')),
      progress: (line) => out(`… ${line}`)
    })
    out(`copied ${sourceFile} (files from ${filesDir}) into ${shownUrl(values.to)}`)
    const width = Math.max(...report.tables.map((r) => r.table.length), 5)
    out(`${'table'.padEnd(width)}  ${'rows'.padStart(9)}`)
    for (const r of report.tables) {
      const extra = r.copied !== r.rows ? ` (+${r.copied - r.rows} files from disk)` : ''
      out(`${r.table.padEnd(width)}  ${String(r.copied).padStart(9)}${extra}`)
    }
    const { attachments: a, exports: e } = report
    out(`files: ${a.fromDisk} attachment(s) from disk (${a.bytes} bytes), ${a.alreadyInDatabase} already in the database; ` +
      `${e.fromDisk} export file(s)${e.missing > 0 ? `, ${e.missing} gone (they show as expired)` : ''}`)
    if (report.nulsRemoved > 0) out(`${report.nulsRemoved} text value(s) held a NUL character, which PostgreSQL cannot store: it was removed`)
    out(`verified: ${report.tables.length} tables with the same row counts; ${a.stored} stored attachment(s) hashed again from the copied bytes`)
    out(`id sequences moved past the copied ids in ${report.sequences} table(s)`)
    out('next: start Casebridge with DATABASE_URL set to the new database; its files are kept in the database (FILE_STORE=db, the default on PostgreSQL)')
  } catch (err) {
    if (err instanceof CopyRefused || err instanceof CopyFailed) throw new UsageError(`db copy: ${err.message}`)
    throw err
  } finally {
    await source.destroy()
    await target.destroy()
  }
}

async function main() {
  const argv = process.argv.slice(2)
  // The usage and a mistyped command need no settings and open no database.
  if (wantsHelp(argv)) {
    stdoutPrint(USAGE)
    return
  }
  const problem = commandProblem(argv)
  if (problem) throw new UsageError(problem)
  const config = loadConfig()
  if (process.argv[2] === 'emulator') {
    // runs until SIGINT/SIGTERM; it has its own data file and needs no database
    const { runEmulatorCommand, EmulatorUsageError } = await import('../sync/emulator/cli.js')
    const args = process.argv.slice(3)
    if (!args.some((a) => a === '--file' || a.startsWith('--file='))) args.push('--file', config.crm.emulatorFile)
    // the same credentials as the bundled emulator, so `casebridge sync` and the worker get in
    const creds = emulatorCredentials(config)
    const secretWhere = creds.clientFrom === 'environment' ? 'secret: SALESFORCE_CLIENT_SECRET' : `secret: clientSecret in ${creds.file}`
    try {
      await runEmulatorCommand(args, { credentials: { ...creds, secretWhere, passwordWhere: `crmUserPassword in ${creds.file}` } })
    } catch (err) {
      if (err instanceof EmulatorUsageError) throw new UsageError(err.message)
      throw err
    }
    return
  }
  if (process.argv[2] === 'backup' || process.argv[2] === 'restore') {
    // Before any database is opened: a restore must find none, and a backup copies it as it is.
    const { runBackupCommand, BackupError } = await import('./backup.js')
    try {
      await runBackupCommand(process.argv.slice(2), config, stdoutPrint)
    } catch (err) {
      if (err instanceof BackupError) throw new UsageError(err.message)
      throw err
    }
    return
  }
  if (process.argv[2] === 'db') {
    // Opens the databases it names itself: the configured one may already be the new PostgreSQL.
    await runDbCommand(process.argv.slice(3), config, stdoutPrint)
    return
  }
  const db = await createDb(config.databaseUrl)
  try {
    if (process.argv[2] !== 'migrate') await migrateToLatest(db)
    await runCli(process.argv.slice(2), db, stdoutPrint, config)
  } finally {
    await db.destroy()
  }
}

/** True when this process was started as the CLI (directly, or through bin/casebridge.js or a symlink to it). */
function startedAsCli(): boolean {
  if (!process.argv[1]) return false
  let entry: string
  try {
    entry = realpathSync(process.argv[1])
  } catch {
    return false
  }
  return entry === fileURLToPath(import.meta.url) || entry === fileURLToPath(new URL('../bin/casebridge.js', import.meta.url))
}

if (startedAsCli()) {
  main().catch((err) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`casebridge: ${err.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`casebridge: ${(err as Error).stack ?? err}\n`)
    process.exit(1)
  })
}
