import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { syncEnv } from './helpers.js'
import { TEST_CLIENT } from '../emulator/helpers.js'
import { loginAs } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { loadConfig } from '../../src/config.js'
import { runCli } from '../../src/cli.js'
import { crmSyncBadge } from '../../src/db/sync-overview.js'
import { ROOT } from '../helpers/root.js'

t.test('casebridge sync: one pass against the configured org, with a summary', async (t) => {
  const env = await syncEnv(t)
  const config = loadConfig({ DATA_DIR: env.dir, LOG_LEVEL: 'silent', SALESFORCE_LOGIN_URL: env.crm.url, SALESFORCE_CLIENT_ID: TEST_CLIENT.clientId, SALESFORCE_CLIENT_SECRET: TEST_CLIENT.clientSecret })
  const lines: string[] = []
  await runCli(['sync'], env.db, (l) => lines.push(l), config)
  const text = lines.join('\n')
  t.match(text, new RegExp(`CRM: ${env.crm.url.replace(/[.]/g, '\\.')}`))
  t.match(text, /outbound: \d+ changes, 4 Cases sent \(4 new\), 1 comments, 0 to retry, 0 failed; \d+ API calls/)
  t.match(text, /inbound: \d+ Cases read, 0 ticket changes applied/)
  t.match(text, /outbox: 0 waiting, 0 failed/)
  const tickets = await env.db.selectFrom('ticket').select('crm_case_number').execute()
  t.ok(tickets.every((tk) => tk.crm_case_number), 'every ticket has its Case number')
})

t.test('casebridge emulator --port N runs the emulator alone', async (t) => {
  const root = ROOT
  const env = await syncEnv(t, { mirror: false })
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'emulator', '--port', '0'], {
    cwd: root, env: { ...process.env, DATA_DIR: env.dir }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const deadline = Date.now() + 60_000
  let m: RegExpMatchArray | null = null
  while (!(m = out.match(/listening on (http:\/\/\S+) \(data: (\S+)\)/))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`emulator did not start:\n${out}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(m[2], join(env.dir, 'emulator.db'), 'its data lives under DATA_DIR')
  const file = join(env.dir, 'emulator-credentials.json')
  t.equal(statSync(file).mode & 0o777, 0o600, 'its credentials are generated under DATA_DIR, for its owner only')
  const creds = JSON.parse(readFileSync(file, 'utf8')) as { clientId: string; clientSecret: string }
  t.match(out, `client id ${creds.clientId}, secret: clientSecret in ${file}`, 'it says where they are')
  t.notMatch(out, creds.clientSecret, 'without printing the secret')
  const token = (id: string, secret: string) => fetch(`${m![1]}/services/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret })
  })
  t.equal((await token('any', 'any')).status, 400, 'no token for any client id and secret')
  t.equal((await token(creds.clientId, creds.clientSecret)).status, 200, 'but one for the generated ones')
  t.equal((await fetch(`${m[1]}/__emulator/faults`)).status, 404, 'no fault control outside test mode')
  child.kill('SIGTERM')
  t.equal(await exited, 0)
})

t.test('admin sync page: CRM, outbox, last success, API usage; ticket badge states', async (t) => {
  const env = await syncEnv(t)
  const { db, ids } = env
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  let page = await admin.get('/admin/sync')
  t.equal(page.statusCode, 200)
  t.match(page.body, /The local Salesforce emulator at/, 'no org configured: the emulator is the CRM')
  t.match(page.body, /Waiting<\/dt><dd>5/, 'the outbox depth')
  t.match((await admin.get('/admin')).body, /href="\/admin\/sync"/, 'linked from the admin home')

  const ticket = await makeTicket(db, ids, { title: 'Badge me' })
  t.match(await crmSyncBadge(db, ticket.id), { state: 'pending', caseNumber: null })
  await env.drainAll()
  await env.poll()
  const badge = await crmSyncBadge(db, ticket.id, new Date(Date.now() + 3 * 60_000))
  t.match(badge, { state: 'synced', caseNumber: /^\d{8}$/, minutesAgo: 3 })
  page = await admin.get('/admin/sync')
  t.match(page.body, /Waiting<\/dt><dd>0/)
  t.match(page.body, /\d+ of 100000 daily API requests/, 'API usage from Sforce-Limit-Info')
  t.match(page.body, /Nothing failed\./)
  t.notMatch(page.body, /Last check for CRM changes<\/dt><dd>never/, 'the last inbound success is shown')

  env.crm.emu.faults.lockNextWrites(1)
  await makeTicket(db, ids, { title: 'Locked' }).then(async (tk) => {
    await env.drain()
    t.match(await crmSyncBadge(db, tk.id), { state: 'error', error: /UNABLE_TO_LOCK_ROW/ })
  })

  const staff = await loginAs(env.app, 'ana@casebridge.test')
  t.equal((await staff.get('/admin/sync')).statusCode, 404, 'staff who are not admins do not see it')
})

t.test('the badge partial renders each state', async (t) => {
  const { Eta } = await import('eta')
  const { translator } = await import('../../src/i18n/index.js')
  const eta = new Eta({ views: join(ROOT, 'views') })
  const render = (crm: unknown, locale: 'en' | 'pt-BR' = 'en') => eta.render('/partials/crm-badge', { t: translator(locale), fmtDate: (v: string) => v, crm })
  t.match(render({ caseNumber: '00001042', state: 'synced', syncedAt: '2026-01-01T00:00:00Z', minutesAgo: 5, error: null }), /Case 00001042[\s\S]*synced 5 min ago/)
  t.match(render({ caseNumber: '00001042', state: 'synced', syncedAt: '2026-01-01T00:00:00Z', minutesAgo: 0, error: null }), /synced just now/)
  t.match(render({ caseNumber: null, state: 'pending', syncedAt: null, minutesAgo: null, error: null }), /No Case yet[\s\S]*sync pending/)
  t.match(render({ caseNumber: '1', state: 'error', syncedAt: null, minutesAgo: null, error: 'UNABLE_TO_LOCK_ROW: <x>' }), /title="UNABLE_TO_LOCK_ROW: &lt;x&gt;"[\s\S]*sync failed, retrying/)
  t.match(render({ caseNumber: '1', state: 'dead', syncedAt: null, minutesAgo: null, error: 'E' }, 'pt-BR'), /Caso 1[\s\S]*falha na sincroniza/)
  t.equal(render(null).trim(), '', 'nothing for a ticket with no sync state')
})
