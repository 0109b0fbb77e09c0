import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { loadConfig, type Config } from '../../src/config.js'
import { createDb, migrateToLatest, type Db } from '../../src/db/index.js'
import { buildApp } from '../../src/app.js'
import { seedDemo, DEMO_PASSWORDS, type DemoSeed } from '../../src/commands/demo.js'
import type { Clock } from '../../src/domain/clock.js'
import { createApiToken } from '../../src/commands/people.js'
import { unwrap } from '../../src/commands/kernel.js'

export { DEMO_PASSWORDS }

interface Tap {
  teardown(fn: () => unknown): void
}

export interface TestEnv {
  app: FastifyInstance
  db: Db
  config: Config
  dir: string
  seed: DemoSeed
  ids: DemoIds
}

export interface DemoIds {
  account: Record<string, number>
  contact: Record<string, number>
  staff: Record<string, number>
  desk: Record<string, number>
  product: Record<string, number>
  category: Record<string, number>
}

/** Maps names/emails to ids so tests can say `ids.staff['ana@casebridge.test']`. */
export async function demoIds(db: Db): Promise<DemoIds> {
  const toMap = (rows: { id: number; key: string }[]) => Object.fromEntries(rows.map((r) => [r.key, r.id]))
  return {
    account: toMap(await db.selectFrom('account').select(['id', 'name as key']).execute()),
    contact: toMap(await db.selectFrom('contact').select(['id', 'email as key']).execute()),
    staff: toMap(await db.selectFrom('staff').select(['id', 'email as key']).execute()),
    desk: toMap(await db.selectFrom('desk').select(['id', 'name as key']).execute()),
    product: toMap(await db.selectFrom('product').select(['id', 'name as key']).execute()),
    category: toMap(await db.selectFrom('category').select(['id', 'name as key']).execute())
  }
}

export interface TestAppOptions {
  env?: Record<string, string>
  clock?: Clock
  random?: () => number
  /** Load the demo organisation (default true). */
  demo?: boolean
}

/**
 * Opt-in: with `TEST_DATABASE_URL=postgres://...` (a role allowed to create databases, e.g.
 * from scripts/pg-test.sh) each test gets its own fresh PostgreSQL database instead of a
 * SQLite file. Tests that rely on SQLite itself skip with `{ skip: sqliteOnly('why') }`.
 */
export const onPostgres = /^postgres(ql)?:/.test(process.env.TEST_DATABASE_URL ?? '')

/** A skip reason under PostgreSQL (`false`, i.e. run, on SQLite). */
export function sqliteOnly(reason: string): string | false {
  return onPostgres && `SQLite only: ${reason}`
}

/**
 * The name of a database on the server that holds the migrated schema, made once per server and
 * set of migration files (the first test file to need it makes it, under an advisory lock; the
 * others wait). Copying it (CREATE DATABASE ... TEMPLATE) takes a fraction of the time of running
 * every migration again for each test.
 */
let templateReady: Promise<string> | null = null
function migratedTemplate(adminUrl: string): Promise<string> {
  templateReady ??= (async () => {
    const name = `casebridge_template_${migrationsHash()}`
    const pg = await import('pg')
    const client = new pg.default.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      await client.query('SELECT pg_advisory_lock(4242)')
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
      if (exists.rowCount === 0) {
        const building = `${name}_building_${process.pid}`
        await client.query(`CREATE DATABASE ${building}`)
        const url = new URL(adminUrl)
        url.pathname = `/${building}`
        const db = await createDb(url.toString())
        await migrateToLatest(db)
        await db.destroy()
        // A closed pool's connections may still be on their way out: a template must have none.
        for (let i = 0; i < 100; i++) {
          const left = await client.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1', [building])
          if (left.rowCount === 0) break
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        // Renamed once complete, so a half-built template is never copied.
        await client.query(`ALTER DATABASE ${building} RENAME TO ${name}`)
      }
      await client.query('SELECT pg_advisory_unlock(4242)')
    } finally {
      await client.end()
    }
    return name
  })()
  return templateReady
}

/** The migration files' fingerprint: a template made from other migrations is never used. */
function migrationsHash(): string {
  const dir = join(process.cwd(), 'src/db/migrations')
  const hash = createHash('sha256')
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)))
  return hash.digest('hex').slice(0, 16)
}

/**
 * A migrated SQLite file for this set of migrations, in the temporary directory, shared by the
 * test processes (the first to need it makes it, under a name of its own, then renames it into
 * place, so a half-made one is never copied). A test's database starts as a copy of it: a file
 * copy instead of running every migration again.
 */
let sqliteTemplate: Promise<string> | null = null
function migratedSqliteFile(): Promise<string> {
  sqliteTemplate ??= (async () => {
    const path = join(tmpdir(), `casebridge-template-${migrationsHash()}.sqlite`)
    if (existsSync(path)) return path
    const building = mkdtempSync(join(tmpdir(), 'casebridge-template-'))
    const db = await createDb(`sqlite:${join(building, 'db.sqlite')}`)
    await migrateToLatest(db)
    await db.destroy()
    renameSync(join(building, 'db.sqlite'), path)
    rmSync(building, { recursive: true, force: true })
    return path
  })()
  return sqliteTemplate
}

/** Creates a database on the TEST_DATABASE_URL server with the migrated schema; returns its URL and a dropper. */
async function freshPgDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const pg = await import('pg')
  const name = `casebridge_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  const admin = async (statement: string) => {
    const client = new pg.default.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  }
  await admin(`CREATE DATABASE ${name} TEMPLATE ${await migratedTemplate(adminUrl)}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  // Not WITH (FORCE) at once: a closed pool's connections may still be on their way out (pg's
  // pool.end() does not wait for them), and PostgreSQL waits a few seconds for them by itself;
  // terminating them instead makes their clients throw. FORCE only for a connection left open.
  const drop = async () => {
    try {
      await admin(`DROP DATABASE IF EXISTS ${name}`)
    } catch (err) {
      if ((err as { code?: string }).code !== '55006') throw err
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  }
  return { url: url.toString(), drop }
}

/** A fresh data directory and SQLite file (or PostgreSQL database, see onPostgres), migrated (and seeded), with the app built in-process. */
export async function testApp(t: Tap, opts: TestAppOptions = {}): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-test-'))
  const pgDatabase = onPostgres ? await freshPgDatabase(process.env.TEST_DATABASE_URL!) : null
  const dbEnv = pgDatabase ? { DATABASE_URL: pgDatabase.url } : {}
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', COOKIE_SECURE: 'false', ...dbEnv, ...opts.env })
  if (config.databaseUrl === `sqlite:${join(dir, 'casebridge.db')}`) copyFileSync(await migratedSqliteFile(), join(dir, 'casebridge.db'))
  const db = await createDb(config.databaseUrl)
  await migrateToLatest(db)
  const seed = opts.demo === false ? { logins: [] } : await seedDemo(db)
  const app = await buildApp({ config, db, clock: opts.clock, random: opts.random, logger: false })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await db.destroy()
    rmSync(dir, { recursive: true, force: true })
    await pgDatabase?.drop()
  })
  return { app, db, config, dir, seed, ids: await demoIds(db) }
}

export function csrfFrom(html: string): string {
  const m = html.match(/name="_csrf" value="([^"]+)"/)
  if (!m) throw new Error('no CSRF token in page')
  return m[1]
}

export interface FileInput {
  name: string
  filename: string
  content: Buffer | string
  type?: string
}

/** A cookie-keeping client over app.inject, acting like one browser. */
export class Agent {
  cookies = new Map<string, string>()
  constructor(readonly app: FastifyInstance, readonly headers: Record<string, string> = {}) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ')
  }

  private keep(res: LightMyRequestResponse) {
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const expired = c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())
      if (expired || c.value === '') this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
  }

  async request(opts: InjectOptions): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ ...opts, headers: { ...this.headers, cookie: this.cookieHeader(), ...(opts.headers ?? {}) } })
    this.keep(res)
    return res
  }

  get(url: string) {
    return this.request({ method: 'GET', url })
  }

  /** Fetches a CSRF token from a page the agent can see (the login page by default). */
  async csrf(fromUrl = '/login'): Promise<string> {
    const res = await this.get(fromUrl)
    return csrfFrom(res.body)
  }

  async post(url: string, form: Record<string, string | string[]>, opts: { csrfFrom?: string; noCsrf?: boolean } = {}) {
    const fields = new URLSearchParams()
    if (!opts.noCsrf) fields.append('_csrf', await this.csrf(opts.csrfFrom ?? '/login'))
    for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) fields.append(k, one)
    return this.request({ method: 'POST', url, payload: fields.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  }

  async postMultipart(url: string, form: Record<string, string>, files: FileInput[] = [], opts: { csrfFrom?: string; noCsrf?: boolean } = {}) {
    const data = new FormData()
    if (!opts.noCsrf) data.append('_csrf', await this.csrf(opts.csrfFrom ?? '/login'))
    for (const [k, v] of Object.entries(form)) data.append(k, v)
    for (const f of files) data.append(f.name, new Blob([typeof f.content === "string" ? f.content : new Uint8Array(f.content)], { type: f.type ?? 'application/octet-stream' }), f.filename)
    const encoded = new Response(data)
    const payload = Buffer.from(await encoded.arrayBuffer())
    return this.request({ method: 'POST', url, payload, headers: { 'content-type': encoded.headers.get('content-type')! } })
  }

  async login(email: string, password: string) {
    const res = await this.post('/login', { email, password })
    if (res.statusCode !== 302) throw new Error(`login as ${email} failed: ${res.statusCode}`)
    return res
  }
}

export async function loginAs(app: FastifyInstance, email: string, password?: string): Promise<Agent> {
  const agent = new Agent(app)
  const role = email.endsWith('@casebridge.test') ? (email.startsWith('admin') ? 'admin' : 'staff') : 'client'
  await agent.login(email, password ?? DEMO_PASSWORDS[role])
  return agent
}

/** A fresh API token for a person of the test organisation, by e-mail. */
export async function apiToken(db: Db, email: string): Promise<string> {
  return unwrap(await createApiToken({ db, clock: () => new Date(), random: Math.random }, { email, name: 'test' })).token
}
