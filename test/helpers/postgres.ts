// A PostgreSQL server for tests that need one whatever database the suite runs on (moving an
// installation from SQLite to PostgreSQL): TEST_DATABASE_URL's when scripts/pg-test.sh set it,
// else a throwaway cluster started here by that same script (KEEP_PG=1) from Debian's binaries,
// stopped and deleted when the test file ends. Without the binaries, tests skip and say why.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './root.js'

const run = promisify(execFile)

interface Tap {
  teardown(fn: () => unknown): void
}

export interface PgServer {
  adminUrl: string
  /** A new, empty database (not migrated) on the server; dropped when the test file ends. */
  emptyDatabase(t: Tap): Promise<string>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function admin(adminUrl: string, statement: string): Promise<void> {
  const pg = await import('pg')
  const client = new pg.default.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

/** Stops a cluster by its postmaster's id (immediate shutdown) and deletes its folder. */
async function stopCluster(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid')
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
    try {
      process.kill(pid, 'SIGQUIT')
      for (let i = 0; i < 200; i++) {
        process.kill(pid, 0)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } catch {
      // gone
    }
  }
  rmSync(dirname(dataDir), { recursive: true, force: true })
}

/**
 * The server, or the reason there is none. PG_PORT picks the throwaway cluster's port (a free
 * one otherwise).
 */
export async function postgresServer(t: Tap): Promise<PgServer | { skip: string }> {
  let adminUrl = process.env.TEST_DATABASE_URL ?? ''
  if (!/^postgres(ql)?:/.test(adminUrl)) {
    const port = process.env.PG_PORT ?? String(await freePort())
    const started = await run('bash', [join(ROOT, 'scripts/pg-test.sh')], { cwd: ROOT, env: { ...process.env, KEEP_PG: '1', PG_PORT: port } })
      .then((r) => ({ ok: true as const, stderr: r.stderr }), (err: { stderr?: string; code?: number }) => ({ ok: false as const, stderr: err.stderr ?? String(err) }))
    const left = /left running: TEST_DATABASE_URL=(\S+) \(data in (\S+)\)/.exec(started.stderr)
    if (left) t.teardown(() => stopCluster(left[2]))
    if (!started.ok && /binaries not found|needs a 'postgres' user/.test(started.stderr)) {
      return { skip: `no PostgreSQL to copy into: ${started.stderr.replace(/^pg-test: /gm, '').trim().split('\n')[0]}` }
    }
    if (!started.ok || !left) throw new Error(`scripts/pg-test.sh could not start PostgreSQL:\n${started.stderr}`)
    adminUrl = left[1]
  }
  const server = adminUrl
  return {
    adminUrl: server,
    async emptyDatabase(t: Tap) {
      const name = `casebridge_copy_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
      await admin(server, `CREATE DATABASE ${name}`)
      t.teardown(async () => {
        // A closed pool's connections may still be on their way out; PostgreSQL waits for them a little.
        await admin(server, `DROP DATABASE IF EXISTS ${name}`).catch(() => admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
      })
      const url = new URL(server)
      url.pathname = `/${name}`
      return url.toString()
    }
  }
}
