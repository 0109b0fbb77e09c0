import cluster from 'node:cluster'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { loadConfig, ConfigError, type Config } from './config.js'
import { createDb, migrateToLatest } from './db/index.js'
import { isEmpty, seedDemo, type DemoLogin } from './commands/demo.js'
import { buildApp } from './app.js'
import { createLogger } from './log.js'
import { isWebChild, startWebCluster } from './web-cluster.js'

function printLogins(logins: DemoLogin[], url: string) {
  const lines = [
    '',
    `Casebridge demo organisation loaded. Open ${url} and log in as:`,
    ...logins.map((l) => `  ${l.role.padEnd(6)} ${l.email.padEnd(26)} ${l.password}${l.accountManager ? '   (account manager)' : ''}${l.available === false ? '   (unavailable)' : ''}`),
    ''
  ]
  process.stdout.write(lines.join('\n') + '\n')
}

/** Where a person opens the portal: PUBLIC_URL when set, otherwise this machine at the port it listens on. */
function portalUrl(config: Config, port: number): string {
  if (config.PUBLIC_URL) return config.publicUrl
  const host = ['', '0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(config.HOST) ? 'localhost' : config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST
  return `http://${host}:${port}`
}

/** The line a person reads on a start without demo logins to show (the JSON log lines are for machines). */
function printRunning(url: string, nobody: boolean) {
  const lines = ['', `Casebridge is running: open ${url} in a browser.`]
  if (nobody) lines.push('Nobody can log in yet. Add an administrator: npx casebridge user add --role admin --email E --name N')
  process.stdout.write(lines.join('\n') + '\n\n')
}

async function main() {
  const { values } = parseArgs({ options: { role: { type: 'string' } } })
  // A web process forked by the main process (WEB_CONCURRENCY > 1) serves the web role only; the
  // main process has migrated and seeded before forking it.
  const webChild = isWebChild()
  const config = loadConfig(process.env, webChild ? { ROLE: 'web' } : values.role ? { ROLE: values.role as 'web' | 'worker' | 'all' } : {})
  const log = createLogger(config.LOG_LEVEL)
  const db = await createDb(config.databaseUrl, { sqliteCacheMb: config.SQLITE_CACHE_MB })
  // The demo logins are printed once the portal listens, with the address it really has.
  let demoLogins: DemoLogin[] | undefined
  if (!webChild) {
    const applied = await migrateToLatest(db)
    if (applied.length > 0) log.info({ applied }, 'database migrated')
    if (config.SEED === 'demo' && (await isEmpty(db))) demoLogins = (await seedDemo(db, new Date(), { ratings: true, knowledge: true })).logins
  }

  // Signal handlers come first: a stop during start-up closes whatever has started so far.
  const closers: (() => Promise<void>)[] = []
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    for (const close of [...closers].reverse()) await close().catch((err) => log.error({ err }, 'error while closing'))
    await db.destroy()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
  // A web process whose main process is gone stops too (no orphan keeps the port).
  if (webChild) process.on('disconnect', () => void stop('disconnect'))
  const web = config.ROLE === 'web' || config.ROLE === 'all'
  let port: number | undefined
  if (web && !webChild && config.webProcesses > 1) {
    // PORT=0 lets the system choose; the web processes share the port the first one was given.
    cluster.once('listening', (_child, address) => { port = address.port })
    const webCluster = await startWebCluster({ processes: config.webProcesses, log })
    closers.push(() => webCluster.stop())
    // SIGHUP: a graceful restart, one web process at a time (after a deploy, say).
    process.on('SIGHUP', () => {
      log.info('restarting the web processes one at a time')
      webCluster.restart().then(() => log.info('web processes restarted'), (err: unknown) => log.error({ err }, 'web restart failed'))
    })
  } else if (web) {
    const app = await buildApp({ config, db, logger: log })
    await app.listen({ port: config.PORT, host: config.HOST })
    port = (app.server.address() as AddressInfo).port
    closers.push(() => app.close())
  }
  let crmUrl: string | undefined
  if (webChild) return
  if ((config.ROLE === 'worker' || config.ROLE === 'all') && !config.crm.salesforce) {
    // no Salesforce org configured: the bundled emulator is the CRM (closed after the worker stops)
    const { startLocalEmulator } = await import('../sync/crm/local.js')
    const emulator = await startLocalEmulator({ config, db, log })
    crmUrl = emulator.url ?? undefined
    closers.push(() => emulator.close())
  }
  if (config.ROLE === 'worker' || config.ROLE === 'all') {
    const { startWorker } = await import('../sync/worker.js')
    const worker = await startWorker({ config, db, log: log.child({ role: 'worker' }), crmUrl })
    closers.push(() => worker.stop())
  }

  if (port !== undefined) {
    const url = portalUrl(config, port)
    log.info({ url }, 'portal ready')
    if (demoLogins) printLogins(demoLogins, url)
    else printRunning(url, await isEmpty(db))
  } else if (demoLogins) {
    printLogins(demoLogins, config.publicUrl)
  }
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`casebridge: ${err.message}\n`)
  } else {
    process.stderr.write(`casebridge: failed to start: ${(err as Error).stack ?? err}\n`)
  }
  process.exit(1)
})
