import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jsforce from 'jsforce'
import { createDb } from '../src/db/index.js'
import { browserSession } from './emulator/helpers.js'
import { ROOT } from './helpers/root.js'

// The server started exactly as the README says, with `npm start`, in its own process.
const CONFIG_KEYS = ['PORT', 'HOST', 'DATA_DIR', 'DATABASE_URL', 'DATABASE_URL_FILE', 'PUBLIC_URL', 'SESSION_SECRET', 'SESSION_SECRET_FILE',
  'COOKIE_SECURE', 'MAX_ATTACHMENT_MB', 'SEED', 'LOG_LEVEL', 'DEFAULT_LOCALE', 'LOGIN_RATE_LIMIT', 'TRUST_PROXY', 'ROLE', 'METRICS_TOKEN', 'WEB_CONCURRENCY']

interface Server {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>
}

function dataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function start(t: Test, env: Record<string, string>, args: string[] = []): Server {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONFIG_KEYS.includes(k)))
  const child = spawn('npm', ['start', '--silent', ...(args.length ? ['--', ...args] : [])], {
    // One web process unless a test asks for more (the default, one per core, would make each
    // start as slow as the machine is wide); the WEB_CONCURRENCY test asks for two.
    cwd: ROOT, env: { ...clean, PORT: '0', LOG_LEVEL: 'info', WEB_CONCURRENCY: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a failed test can stop npm and the server under it together.
    detached: true
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
      await exited
    }
  })
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Waits until stdout has a line matching `pattern`; fails if the process ends first. */
async function waitFor(server: Server, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const m = server.stdout().match(pattern)
    if (m) return m
    if (server.child.exitCode !== null) throw new Error(`server exited (${server.child.exitCode}) before ${pattern}:\n${server.stdout()}\n${server.stderr()}`)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${server.stdout()}\n${server.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function listening(server: Server): Promise<string> {
  return (await waitFor(server, /Server listening at (http:\/\/[^"\s]+)/))[1]
}

/** With ROLE=all the worker starts after the web role listens; the signal handlers come last. */
async function fullyStarted(server: Server): Promise<string> {
  const url = await listening(server)
  await waitFor(server, /"msg":"worker started"/)
  return url
}

async function stop(t: Test, server: Server) {
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'SIGTERM (to npm) shuts it down with exit code 0')
  t.match(server.stdout(), /"signal":"SIGTERM".*"msg":"shutting down"/, 'and says so')
}

async function countPeople(dir: string): Promise<number> {
  const db = await createDb(`sqlite:${join(dir, 'casebridge.db')}`)
  try {
    const staff = await db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    const contacts = await db.selectFrom('contact').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    return Number(staff.n) + Number(contacts.n)
  } finally {
    await db.destroy()
  }
}

t.test('npm start on an empty data directory: migrates, seeds, prints the logins, serves', async (t) => {
  const dir = dataDir(t)
  const server = start(t, { DATA_DIR: dir, METRICS_TOKEN: 'server-test-metrics-token' })
  const url = await fullyStarted(server)
  const out = server.stdout()
  t.match(out, /"msg":"database migrated"/, 'migrates the new database')
  t.match(out, 'Casebridge demo organisation loaded')
  for (const line of [/admin\s+admin@casebridge\.test\s+admin-demo-pass/, /staff\s+ana@casebridge\.test\s+staff-demo-pass/,
    /staff\s+eva@casebridge\.test\s+staff-demo-pass\s+\(unavailable\)/, /client\s+alice@acme\.test\s+client-demo-pass\s+\(account manager\)/]) {
    t.match(out, line, `prints ${line.source.split('\\s')[1]}`)
  }
  t.ok(existsSync(join(dir, 'casebridge.db')), 'the SQLite file is under DATA_DIR')
  const port = new URL(url).port
  t.match(out, `Casebridge demo organisation loaded. Open http://localhost:${port} and log in as:`, 'with the address it listens on')
  t.match(out, `"url":"http://localhost:${port}","msg":"portal ready"`, 'which the log has too')
  t.notMatch(out, 'Casebridge is running', 'the logins are the readable lines of a first start')

  const health = await fetch(`${url}/healthz`)
  t.equal(health.status, 200, '/healthz answers')
  t.same(await health.json(), { status: 'ok' }, 'alive')
  // Ready once this process's own worker has beaten (ROLE=all).
  let ready = await fetch(`${url}/readyz`)
  for (const deadline = Date.now() + 15_000; ready.status !== 200 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    ready = await fetch(`${url}/readyz`)
  }
  t.equal(ready.status, 200, '/readyz: ready')
  t.match(await ready.json(), { status: 'ready', checks: { database: { ok: true }, migrations: { ok: true }, worker: { ok: true, detail: /^1 running/ } } })
  const metrics = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer server-test-metrics-token' } })
  t.equal(metrics.status, 200, '/metrics with the token')
  const exposition = await metrics.text()
  t.match(exposition, /^casebridge_workers 1$/m, 'the worker reports through the database')
  t.match(exposition, /^casebridge_worker_info\{host="[^"]+",pid="\d+",role="all",version="[^"]+"\} 1$/m, 'by host and pid')
  t.match(exposition, /^casebridge_worker_crm_calls_total\{host="[^"]+",pid="\d+"\} \d+$/m, 'with its counts')
  t.equal((await fetch(`${url}/metrics`)).status, 401, 'not without it')

  const login = await fetch(`${url}/login`)
  t.equal(login.status, 200, '/login answers')
  t.match(login.headers.get('content-type'), /text\/html/, 'with a page')
  const html = await login.text()
  t.match(html, /<form[^>]+action="\/login"/, 'the login form')
  t.match(html, /name="password"/)

  // The printed password works against the running server.
  const csrf = html.match(/name="_csrf" value="([^"]+)"/)![1]
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const post = await fetch(`${url}/login`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: csrf, email: 'admin@casebridge.test', password: 'admin-demo-pass' }),
    headers: { cookie }
  })
  t.equal(post.status, 302, 'the printed admin login works')
  t.equal(post.headers.get('location'), '/desk', 'and leads to the desk')
  t.match(post.headers.get('set-cookie'), /casebridge_session=.*HttpOnly.*Secure/i, 'session cookies are Secure by default')

  await stop(t, server)

  // A second start on the same data keeps it: nothing to migrate, nothing seeded again.
  const again = start(t, { DATA_DIR: dir })
  const againUrl = await fullyStarted(again)
  t.notMatch(again.stdout(), 'database migrated', 'a restart has nothing to migrate')
  t.notMatch(again.stdout(), 'demo organisation loaded', 'and seeds nothing again')
  const running = await waitFor(again, /^Casebridge is running: open (\S+) in a browser\.$/m)
  t.equal(running[1], `http://localhost:${new URL(againUrl).port}`, 'but says in words where to open the portal')
  t.match(again.stdout(), /"msg":"portal ready"/, 'beside the JSON log lines')
  t.notMatch(again.stdout(), 'Nobody can log in yet', 'people are there to log in')
  t.equal((await fetch(`${running[1]}/login`)).status, 200, 'and the portal is there')
  await stop(t, again)
  t.equal(await countPeople(dir), 13, 'the demo people once')
})

t.test('SEED=none leaves the database without people; ROLE=web runs no worker', async (t) => {
  const dir = dataDir(t)
  const server = start(t, { DATA_DIR: dir, SEED: 'none', ROLE: 'web', PUBLIC_URL: 'https://support.example.test/' })
  const url = await listening(server)
  await waitFor(server, /^Casebridge is running: open https:\/\/support\.example\.test in a browser\.$/m)
  t.pass('the readable line gives PUBLIC_URL, where people open it')
  t.match(server.stdout(), /^Nobody can log in yet\. Add an administrator: npx casebridge user add --role admin/m, 'and how to add the first person')
  t.equal((await fetch(`${url}/healthz`)).status, 200, 'serves')
  const ready = await fetch(`${url}/readyz`)
  t.equal(ready.status, 503, 'but is not ready without any worker')
  t.match(await ready.json(), { status: 'not_ready', checks: { database: { ok: true }, migrations: { ok: true }, worker: { ok: false } } })
  t.equal((await fetch(`${url}/metrics`)).status, 404, 'no METRICS_TOKEN, no /metrics')
  t.notMatch(server.stdout(), 'demo organisation loaded', 'no logins printed')
  t.notMatch(server.stdout(), 'worker started', 'no worker in the web role')
  await stop(t, server)
  t.equal(await countPeople(dir), 0, 'nobody in the database')
})

/** One GET on a connection of its own (the cluster hands out connections, not requests): status and serving pid. */
function getOnce(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/healthz`, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

/** The pids that logged a completed request since `from` in the output. */
function servingPids(out: string): Set<number> {
  return new Set([...out.matchAll(/"pid":(\d+)[^\n]*"msg":"request completed"/g)].map((m) => Number(m[1])))
}

t.test('WEB_CONCURRENCY=2: two web processes serve one port; a killed one is replaced; SIGHUP restarts them with no failed request', async (t) => {
  const dir = dataDir(t)
  const server = start(t, { DATA_DIR: dir, SEED: 'none', WEB_CONCURRENCY: '2', ROLE: 'web' })
  const url = await listening(server)
  const started = await waitFor(server, /"pid":(\d+)[^\n]*"webPids":\[(\d+),(\d+)\][^\n]*"msg":"web processes started"/)
  const main = Number(started[1])
  const first = [Number(started[2]), Number(started[3])]
  t.not(first[0], first[1], 'two processes')
  await waitFor(server, new RegExp(`^Casebridge is running: open http://localhost:${new URL(url).port} in a browser\\.$`, 'm'))
  t.pass('the main process says where to open the portal, at the port the system chose')

  const byNumber = (a: number, b: number) => a - b
  // Connections go to whichever web process is free: send them 20 at a time until both have answered.
  const serve = async (want: number[]) => {
    const mark = server.stdout().length
    const statuses: number[] = []
    while (statuses.length < 400) {
      statuses.push(...await Promise.all(Array.from({ length: 20 }, () => getOnce(url))))
      const pids = servingPids(server.stdout().slice(mark))
      if (want.every((pid) => pids.has(pid))) break
    }
    return { statuses: [...new Set(statuses)], pids: [...servingPids(server.stdout().slice(mark))].sort(byNumber) }
  }
  const both = await serve(first)
  t.same(both.statuses, [200], 'requests answered')
  t.same(both.pids, [...first].sort(byNumber), 'by both web processes')

  process.kill(first[0], 'SIGKILL')
  const replaced = await waitFor(server, /"webPid":(\d+),?[^\n]*"msg":"web process started"/)
  const replacement = Number(replaced[1])
  t.notOk(first.includes(replacement), `a new web process (${replacement}) replaced the killed one`)
  const after = await serve([first[1], replacement])
  t.same(after.statuses, [200], 'requests keep being answered')
  t.same(after.pids, [first[1], replacement].sort(byNumber), 'by the survivor and the replacement')

  // A graceful restart while requests keep coming: none fails.
  let sending = true
  const during: number[] = []
  const load = (async () => {
    while (sending) during.push(await getOnce(url).catch(() => -1))
  })()
  process.kill(main, 'SIGHUP')
  await waitFor(server, /"msg":"web processes restarted"/)
  sending = false
  await load
  t.ok(during.length > 10, `${during.length} requests during the restart`)
  t.same([...new Set(during)], [200], 'every one answered')
  const now = [...server.stdout().matchAll(/"oldPid":(\d+),"webPid":(\d+)[^\n]*"msg":"web process replaced"/g)]
  t.equal(now.length, 2, 'each web process replaced once')
  await stop(t, server)
  for (const pid of [first[1], replacement, ...now.map((m) => Number(m[2]))]) {
    t.throws(() => process.kill(pid, 0), 'no web process outlives the main one')
  }
})

t.test('--role worker runs the worker without listening', async (t) => {
  const dir = dataDir(t)
  const server = start(t, { DATA_DIR: dir, SEED: 'none' }, ['--role', 'worker'])
  await waitFor(server, /"msg":"worker started"/)
  t.notMatch(server.stdout(), 'Server listening', 'no HTTP port')
  t.notMatch(server.stdout(), 'Casebridge is running', 'and no address to open')
  await stop(t, server)
})

t.test('a bad setting stops the start with a message naming it', async (t) => {
  const dir = dataDir(t)
  const server = start(t, { DATA_DIR: dir, PORT: 'abc' })
  t.equal(await server.exited, 1, 'exit code 1')
  t.match(server.stderr(), /casebridge: invalid configuration:\n\s+PORT: /, 'names PORT')
  t.notMatch(server.stderr(), /\n\s+at /, 'no stack trace')
  t.notMatch(server.stdout(), 'Server listening', 'never listens')

  const role = start(t, { DATA_DIR: dir, ROLE: 'everything' })
  t.equal(await role.exited, 1, 'a bad ROLE stops it too')
  t.match(role.stderr(), /ROLE: /, 'naming ROLE')
})

t.test('npm start with no CRM configured: the bundled emulator wants its generated credentials, and the sync has them', async (t) => {
  const dir = dataDir(t)
  const server = start(t, { DATA_DIR: dir, EMULATOR_PORT: '0', SYNC_INTERVAL_SECONDS: '1' })
  await fullyStarted(server)
  const crmUrl = (await waitFor(server, /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"Salesforce emulator started/))[1]
  const file = join(dir, 'emulator-credentials.json')
  t.match(server.stdout(), `"credentials":"${file}"`, 'the log says where the credentials are')
  t.equal(statSync(file).mode & 0o777, 0o600, 'generated under DATA_DIR, for the owner only')
  const creds = JSON.parse(readFileSync(file, 'utf8')) as { clientId: string; clientSecret: string; crmUserPassword: string }
  t.notMatch(server.stdout(), creds.clientSecret, 'the secret is never logged')
  t.notMatch(server.stdout(), creds.crmUserPassword, 'nor the password')

  const token = await fetch(`${crmUrl}/services/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=any&client_secret=any'
  })
  t.equal(token.status, 400, 'no token for any client id and secret')
  t.equal((await token.json() as { error: string }).error, 'invalid_client_id')
  t.equal((await fetch(`${crmUrl}/`, { redirect: 'manual' })).status, 302, 'the Case browser wants a sign-in')
  t.equal((await fetch(`${crmUrl}/__emulator/faults`)).status, 404, 'no fault control')

  // the worker syncs the demo tickets to Cases with the generated credentials
  const db = await createDb(`sqlite:${join(dir, 'casebridge.db')}`)
  t.teardown(() => db.destroy())
  let synced: { id: number; title: string; crm_case_id: string | null } | undefined
  for (const deadline = Date.now() + 60_000; !synced && Date.now() < deadline;) {
    synced = await db.selectFrom('ticket').select(['id', 'title', 'crm_case_id']).where('crm_case_id', 'is not', null).orderBy('id').executeTakeFirst()
    if (!synced) await new Promise((resolve) => setTimeout(resolve, 250))
  }
  t.ok(synced, 'a ticket got its Case')
  const conn = new jsforce.Connection({ oauth2: { loginUrl: crmUrl, clientId: creds.clientId, clientSecret: creds.clientSecret }, version: '62.0' })
  await conn.authorize({ grant_type: 'client_credentials' })
  const found = await conn.query<{ Id: string; Subject: string }>(`SELECT Id, Subject FROM Case WHERE Portal_Ticket_Id__c = '${synced!.id}'`)
  t.same(found.records.map((r) => [r.Id, r.Subject]), [[synced!.crm_case_id, synced!.title]], 'the Case in the emulator is the ticket\'s')
  const cookie = await browserSession(crmUrl, 'crm.user@casebridge.emulator', creds.crmUserPassword)
  t.match((await fetch(`${crmUrl}/`, { headers: { cookie } }).then((r) => r.text())), synced!.title, 'and a CRM user signed in with the generated password sees it')
  await stop(t, server)
})
