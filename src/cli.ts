import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadConfig, ConfigError, type Config } from './config.js'
import { createDb, migrateToLatest, type Db } from './db/index.js'
import { seedDemo, isEmpty } from './commands/demo.js'
import { resolveNamed } from './db/catalog.js'
import { addPerson, createApiToken } from './commands/people.js'
import type { Refused } from './commands/kernel.js'
import { MIN_PASSWORD_LENGTH } from './security/password.js'

const USAGE = `usage: casebridge <command>

  migrate                         apply pending database migrations
  seed --demo [--json]            load the demo organisation (on an empty database)
  user add --role client|staff|admin --email E --name N
           [--account A]... [--manager] [--desk D]... [--password P]
                                  add a person (A and D are names or ids); prints a generated password when none is given
  token create --email E [--name N]
                                  create an API token for a person; prints only the token
  sync                            one CRM sync pass (reference data, the outbox, CRM changes); prints a summary
  emulator [--port N] [--host H] [--file F]
                                  run the Salesforce emulator alone (port EMULATOR_PORT or 3001, data under DATA_DIR)
`

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
  const [command, sub] = argv
  if (command === 'sync') {
    const { runSyncCommand } = await import('../sync/crm/cli.js')
    await runSyncCommand(db, config ?? loadConfig(), out)
    return
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
    const seed = await seedDemo(db)
    if (values.json) out(JSON.stringify(seed, null, 2))
    else for (const l of seed.logins) out(`${l.role}\t${l.email}\t${l.password}`)
    return
  }
  if (command === 'user' && sub === 'add') {
    const { values } = parseArgs({
      args: argv.slice(2),
      options: {
        role: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' },
        account: { type: 'string', multiple: true }, desk: { type: 'string', multiple: true }, manager: { type: 'boolean' }
      }
    })
    const role = values.role
    if (role !== 'client' && role !== 'staff' && role !== 'admin') throw new UsageError('--role must be client, staff or admin')
    const email = values.email?.trim().toLowerCase() ?? ''
    if (!values.name?.trim()) throw new UsageError('--name is required')
    const generated = values.password === undefined
    const password = values.password ?? randomBytes(12).toString('base64url')
    const accountIds = role === 'client' ? await resolveIds(db, 'account', values.account ?? []) : []
    const deskIds = role === 'client' ? [] : await resolveIds(db, 'desk', values.desk ?? [])
    const outcome = await addPerson(deps(db), { role, email, name: values.name, password, accountIds, manager: Boolean(values.manager), deskIds })
    if (!outcome.ok) throw new UsageError(refusalText(outcome.refusal, email))
    out(generated ? `added ${role} ${email} with password ${password}` : `added ${role} ${email}`)
    return
  }
  if (command === 'token' && sub === 'create') {
    const { values } = parseArgs({ args: argv.slice(2), options: { email: { type: 'string' }, name: { type: 'string' } } })
    if (!values.email) throw new UsageError('--email is required')
    const outcome = await createApiToken(deps(db), { email: values.email, name: values.name ?? 'cli' })
    if (!outcome.ok) throw new UsageError(refusalText(outcome.refusal, values.email))
    out(outcome.value.token)
    return
  }
  throw new UsageError(USAGE)
}

async function main() {
  const config = loadConfig()
  if (process.argv[2] === 'emulator') {
    // runs until SIGINT/SIGTERM; it has its own data file and needs no database
    const { runEmulatorCommand, EmulatorUsageError } = await import('../sync/emulator/cli.js')
    const args = process.argv.slice(3)
    if (!args.some((a) => a === '--file' || a.startsWith('--file='))) args.push('--file', config.crm.emulatorFile)
    try {
      await runEmulatorCommand(args)
    } catch (err) {
      if (err instanceof EmulatorUsageError) throw new UsageError(err.message)
      throw err
    }
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
