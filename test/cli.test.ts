import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { runCli, UsageError, USAGE } from '../src/cli.js'
import { createDb, migrateToLatest, type Db } from '../src/db/index.js'
import { findTokenOwner } from '../src/db/token.js'
import { Agent, testApp, DEMO_PASSWORDS, sqliteOnly } from './helpers/app.js'
import { ROOT } from './helpers/root.js'


/** Runs the CLI in-process and returns what it printed, one entry per line it wrote. */
async function cli(db: Db, ...argv: string[]): Promise<string[]> {
  const printed: string[] = []
  await runCli(argv, db, (text) => printed.push(text))
  return printed
}

async function peopleCount(db: Db): Promise<number> {
  const staff = await db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const contacts = await db.selectFrom('contact').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(staff.n) + Number(contacts.n)
}

t.test('migrate applies the migrations once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-cli-'))
  const db = await createDb(`sqlite:${join(dir, 'casebridge.db')}`)
  t.teardown(async () => {
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  })
  const first = await cli(db, 'migrate')
  t.match(first[0], /^applied: \d{14}_foundation/, 'names the migrations it applied')
  t.same(await cli(db, 'migrate'), ['database is up to date'], 'a second run has nothing to do')
  const tables = await db.introspection.getTables()
  t.ok(tables.some((table) => table.name === 'ticket'), 'the ticket table exists')
})

t.test('seed --demo --json prints the demo logins as JSON', async (t) => {
  const { app, db } = await testApp(t, { demo: false })
  const printed = await cli(db, 'seed', '--demo', '--json')
  t.equal(printed.length, 1, 'one JSON document')
  const seed = JSON.parse(printed[0]) as { logins: { email: string; password: string; role: string; accounts: string[]; accountManager?: boolean; available?: boolean }[] }
  const roles = seed.logins.map((l) => l.role)
  t.equal(roles.filter((r) => r === 'staff').length, 5, 'five staff')
  t.equal(roles.filter((r) => r === 'admin').length, 1, 'one admin')
  t.ok(roles.filter((r) => r === 'client').length >= 3, 'several clients')
  t.equal(seed.logins.filter((l) => l.available === false).length, 1, 'one staff member is unavailable')
  for (const login of seed.logins) {
    t.match(login, { email: /@/, password: String, role: /^(client|staff|admin)$/, accounts: Array }, `${login.email} is complete`)
  }
  const alice = seed.logins.find((l) => l.email === 'alice@acme.test')
  t.same(alice?.accounts, ['Acme Corporation'])
  t.equal(alice?.accountManager, true)
  const accounts = new Set(seed.logins.flatMap((l) => l.accounts))
  t.ok(accounts.size >= 3, 'clients spread over several accounts')
  for (const account of accounts) {
    t.ok(seed.logins.some((l) => l.accounts.includes(account) && l.accountManager), `${account} has an account manager`)
  }

  // The printed passwords are the real ones.
  const admin = seed.logins.find((l) => l.role === 'admin')!
  const res = await new Agent(app).login(admin.email, admin.password)
  t.equal(res.headers.location, '/desk')

  const before = await peopleCount(db)
  await t.rejects(cli(db, 'seed', '--demo'), { message: /empty database/ }, 'refuses to seed twice')
  t.equal(await peopleCount(db), before, 'and adds nobody')
  await t.rejects(cli(db, 'seed'), { constructor: UsageError, message: /seed needs --demo/ }, 'seed needs --demo')
})

t.test('seed --demo without --json prints one line per login', async (t) => {
  const { db } = await testApp(t, { demo: false })
  const printed = await cli(db, 'seed', '--demo')
  t.ok(printed.length >= 10)
  t.ok(printed.includes(`admin\tadmin@casebridge.test\t${DEMO_PASSWORDS.admin}`))
})

t.test('user add: each role can then log in', async (t) => {
  const { app, db } = await testApp(t)

  t.same(
    await cli(db, 'user', 'add', '--role', 'client', '--email', 'Zoe@Acme.test', '--name', 'Zoe Client', '--account', 'Acme Corporation', '--password', 'zoe-secret-pass'),
    ['added client zoe@acme.test']
  )
  const client = new Agent(app)
  t.equal((await client.login('zoe@acme.test', 'zoe-secret-pass')).headers.location, '/portal', 'the client lands in the portal')
  const account = await client.get('/account')
  t.equal(account.statusCode, 200)
  t.match(account.body, 'Zoe Client')

  const deskId = (await db.selectFrom('desk').select('id').where('name', '=', 'Product Support').executeTakeFirstOrThrow()).id
  await cli(db, 'user', 'add', '--role', 'staff', '--email', 'sam@casebridge.test', '--name', 'Sam Staff', '--desk', 'Service Desk', '--desk', String(deskId), '--password', 'sam-secret-pass')
  const staff = new Agent(app)
  t.equal((await staff.login('sam@casebridge.test', 'sam-secret-pass')).headers.location, '/desk', 'staff land in the desk')
  const sam = await db.selectFrom('staff').select(['id', 'role']).where('email', '=', 'sam@casebridge.test').executeTakeFirstOrThrow()
  t.equal(sam.role, 'staff')
  const desks = await db.selectFrom('desk_member').innerJoin('desk', 'desk.id', 'desk_member.desk_id')
    .select('desk.name').where('staff_id', '=', sam.id).orderBy('desk.name').execute()
  t.same(desks.map((d) => d.name), ['Product Support', 'Service Desk'], 'desks by name or by id')

  const printed = await cli(db, 'user', 'add', '--role', 'admin', '--email', 'root@casebridge.test', '--name', 'Rita Root')
  const m = printed[0].match(/^added admin root@casebridge\.test with password (\S+)$/)
  t.ok(m, 'without --password a password is generated and printed')
  const admin = new Agent(app)
  t.equal((await admin.login('root@casebridge.test', m![1])).headers.location, '/desk')
  const rita = await db.selectFrom('staff').select('role').where('email', '=', 'root@casebridge.test').executeTakeFirstOrThrow()
  t.equal(rita.role, 'admin')

  await cli(db, 'user', 'add', '--role', 'client', '--email', 'mia@globex.test', '--name', 'Mia Manager', '--account', 'Globex Industries', '--account', 'Initech Ltd', '--manager', '--password', 'mia-secret-pass')
  const links = await db.selectFrom('contact_account').innerJoin('contact', 'contact.id', 'contact_account.contact_id')
    .select(['account_id', 'is_manager']).where('contact.email', '=', 'mia@globex.test').execute()
  t.equal(links.length, 2, 'a client can belong to several accounts')
  t.ok(links.every((l) => l.is_manager === 1), '--manager makes them account manager')
})

t.test('user add: refused paths add nobody', async (t) => {
  const { db } = await testApp(t)
  const before = await peopleCount(db)
  const base = ['user', 'add', '--name', 'Some One', '--password', 'long-enough-pass']
  const refused: [string, string[], RegExp][] = [
    ['duplicate e-mail', [...base, '--role', 'client', '--email', 'ALICE@acme.test', '--account', 'Acme Corporation'], /already exists/],
    ['duplicate e-mail across staff and clients', [...base, '--role', 'staff', '--email', 'alice@acme.test'], /already exists/],
    ['client without an account', [...base, '--role', 'client', '--email', 'new@acme.test'], /needs at least one --account/],
    ['unknown account', [...base, '--role', 'client', '--email', 'new@acme.test', '--account', 'No Such Ltd'], /account not found: No Such Ltd/],
    ['unknown desk', [...base, '--role', 'staff', '--email', 'new@casebridge.test', '--desk', 'Nowhere'], /desk not found: Nowhere/],
    ['bad role', [...base, '--role', 'superuser', '--email', 'new@acme.test'], /--role must be client, staff or admin/],
    ['missing role', [...base, '--email', 'new@acme.test'], /--role must be/],
    ['bad e-mail', [...base, '--role', 'staff', '--email', 'not-an-email'], /--email must be an e-mail address/],
    ['missing name', ['user', 'add', '--role', 'staff', '--email', 'new@casebridge.test', '--password', 'long-enough-pass'], /--name is required/],
    ['short password', ['user', 'add', '--role', 'staff', '--email', 'new@casebridge.test', '--name', 'Short', '--password', 'short'], /--password must have at least \d+ characters/]
  ]
  for (const [what, argv, message] of refused) {
    await t.rejects(cli(db, ...argv), { constructor: UsageError, message }, what)
  }
  t.equal(await peopleCount(db), before, 'nobody was added')
  await t.rejects(cli(db, 'user', 'remove'), { constructor: UsageError, message: /^unknown command: user remove \(user takes add, invite, disable or enable\); casebridge --help lists the commands$/ },
    'an unknown subcommand names the right ones and points to --help')
})

t.test('help: every command and its options; a mistyped command gets a short error', async (t) => {
  const { db } = await testApp(t)
  for (const asked of [['--help'], ['-h'], ['help'], ['user', 'add', '--help'], ['desk', 'list', '-h']]) {
    t.same(await cli(db, ...asked), [USAGE], `${asked.join(' ')} prints the usage`)
  }
  const commands = ['migrate', 'seed --demo', 'user add', 'user invite', 'user disable', 'user enable', 'desk list', 'desk add', 'desk set',
    'product list', 'product add', 'catalog list', 'catalog add', 'staff list', 'staff set', 'calendar list', 'calendar add', 'calendar set',
    'token create', 'sync', 'emulator', 'backup --to', 'restore --from', 'doctor', 'db copy --to']
  for (const command of commands) t.match(USAGE, new RegExp(`^  ${command}`, 'm'), `the usage has ${command}`)
  for (const option of ['--role', '--account', '--manager', '--invite', '--auto-close-days', '--inbound-default', '--rate', '--holiday', '--test-mode', '--force', '--repair', '--files']) {
    t.match(USAGE, option, `and ${option}`)
  }
  const longest = Math.max(...USAGE.split('\n').map((line) => line.length))
  t.ok(longest <= 120, `lines fit a terminal (${longest} characters at most)`)

  const mistakes: [string[], string][] = [
    [['frobnicate'], 'unknown command: frobnicate; casebridge --help lists the commands'],
    [['user'], 'user needs a subcommand (add, invite, disable or enable); casebridge --help lists the commands'],
    [['token', '--email', 'bob@acme.test'], 'token needs a subcommand (create); casebridge --help lists the commands'],
    [['desk', 'remove'], 'unknown command: desk remove (desk takes list, add or set); casebridge --help lists the commands']
  ]
  for (const [argv, message] of mistakes) await t.rejects(cli(db, ...argv), { constructor: UsageError, message }, argv.join(' '))
  await t.rejects(cli(db), { constructor: UsageError, message: USAGE }, 'no command at all: the usage, as an error')
})

t.test('token create prints only the token, and the token authenticates', async (t) => {
  const { db, ids } = await testApp(t)
  const printed = await cli(db, 'token', 'create', '--email', 'bob@acme.test')
  t.equal(printed.length, 1, 'one line')
  const token = printed[0].trim()
  t.equal(printed[0], token, 'nothing but the token')
  t.match(token, /^[A-Za-z0-9_-]{24,}$/)
  t.match(await findTokenOwner(db, token), { kind: 'contact', id: ids.contact['bob@acme.test'], tokenId: Number })

  const staffToken = (await cli(db, 'token', 'create', '--email', 'ana@casebridge.test', '--name', 'integration'))[0]
  t.match(await findTokenOwner(db, staffToken), { kind: 'staff', id: ids.staff['ana@casebridge.test'] })
  const row = await db.selectFrom('api_token').selectAll().where('staff_id', '=', ids.staff['ana@casebridge.test']).executeTakeFirstOrThrow()
  t.equal(row.name, 'integration')
  t.not(row.token_hash, staffToken, 'only a hash is stored')

  t.equal(await findTokenOwner(db, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), undefined, 'a wrong token authenticates nobody')
  await t.rejects(cli(db, 'token', 'create', '--email', 'nobody@nowhere.test'), { message: /nobody with e-mail/ })
  await t.rejects(cli(db, 'token', 'create'), { message: /--email is required/ })
})

// The spawned CLI uses its own SQLite data directory whatever the suite's database: once is enough.
t.test('the real bin/casebridge.js', { skip: sqliteOnly('the spawned CLI runs on its own SQLite file') }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-bin-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const run = promisify(execFile)
  const env = { ...process.env, DATA_DIR: dir, DATABASE_URL: '', LOG_LEVEL: 'silent' }
  const bin = join(ROOT, 'bin/casebridge.js')

  const migrated = await run(process.execPath, [bin, 'migrate'], { env, cwd: ROOT })
  t.match(migrated.stdout, /^applied: /)
  const seeded = await run(process.execPath, [bin, 'seed', '--demo', '--json'], { env, cwd: ROOT })
  const seed = JSON.parse(seeded.stdout) as { logins: { email: string }[] }
  t.ok(seed.logins.some((l) => l.email === 'admin@casebridge.test'), 'prints valid JSON with the demo logins')

  const token = await run(process.execPath, [bin, 'token', 'create', '--email', 'admin@casebridge.test'], { env, cwd: ROOT })
  t.match(token.stdout, /^[A-Za-z0-9_-]{24,}\n$/, 'prints only the token')
  const db = await createDb(`sqlite:${join(dir, 'casebridge.db')}`)
  t.teardown(() => db.destroy())
  await migrateToLatest(db)
  t.match(await findTokenOwner(db, token.stdout.trim()), { kind: 'staff' }, 'the token is in the database the CLI used')

  const bad = await run(process.execPath, [bin, 'user', 'add', '--role', 'wizard', '--email', 'x@y.test', '--name', 'X'], { env, cwd: ROOT })
    .then(() => null, (err: { code: number; stderr: string; stdout: string }) => err)
  t.ok(bad, 'a refused command fails')
  t.equal(bad?.code, 2, 'with exit code 2')
  t.match(bad?.stderr, /^casebridge: --role must be client, staff or admin/)
  t.equal(bad?.stdout, '')

  const fresh = mkdtempSync(join(tmpdir(), 'casebridge-bin-help-'))
  t.teardown(() => rmSync(fresh, { recursive: true, force: true }))
  for (const asked of [['--help'], ['-h'], ['help'], ['emulator', '--help']]) {
    // a bad setting does not stand between anyone and the usage
    const help = await run(process.execPath, [bin, ...asked], { env: { ...env, DATA_DIR: fresh, MAX_ATTACHMENT_MB: 'lots' }, cwd: ROOT })
    t.equal(help.stdout, USAGE, `${asked.join(' ')}: the usage on stdout, exit code 0`)
    t.equal(help.stderr, '')
  }
  const unknown = await run(process.execPath, [bin, 'frobnicate'], { env: { ...env, DATA_DIR: fresh }, cwd: ROOT })
    .then(() => null, (err: { code: number; stderr: string; stdout: string }) => err)
  t.equal(unknown?.code, 2, 'an unknown command fails with exit code 2')
  t.equal(unknown?.stderr, 'casebridge: unknown command: frobnicate; casebridge --help lists the commands\n', 'in one line pointing to --help')
  t.equal(unknown?.stdout, '')
  const none = await run(process.execPath, [bin], { env: { ...env, DATA_DIR: fresh }, cwd: ROOT })
    .then(() => null, (err: { code: number; stderr: string }) => err)
  t.equal(none?.code, 2, 'no command fails too')
  t.match(none?.stderr, /^casebridge: usage: casebridge <command>/, 'showing the usage')
  t.same(readdirSync(fresh), [], 'neither the usage nor a mistyped command creates a database')

  const badConfig = await run(process.execPath, [bin, 'migrate'], { env: { ...env, MAX_ATTACHMENT_MB: 'lots' }, cwd: ROOT })
    .then(() => null, (err: { code: number; stderr: string }) => err)
  t.equal(badConfig?.code, 2, 'a bad setting stops the CLI')
  t.match(badConfig?.stderr, /MAX_ATTACHMENT_MB/, 'naming the setting')
})
