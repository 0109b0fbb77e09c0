// A worker process holding the CRM outbox lease is SIGKILLed mid-drain: another process takes the
// drain over once the dead one's lease runs out (LEASE_SECONDS, 15 by default: it beats every
// third of that; a worker's CRM sync runs every 15 s, so within 30 s of the kill), and nothing is
// lost or sent twice.
import t from 'tap'
import { spawn } from 'node:child_process'
import { syncEnv, assertExactlyOnce, ticketsWithNotes } from './helpers.js'
import { createSyncContext } from '../../sync/crm/context.js'
import { drainOutbox } from '../../sync/outbox.js'
import { ROOT } from '../helpers/root.js'


t.test('SIGKILL the process holding the CRM outbox lease mid-drain: another takes over within the lease, exactly once', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  await ticketsWithNotes(env, 6)
  t.equal(env.config.LEASE_SECONDS, 15, 'the default lease')
  // node with tsx's loader (not the tsx wrapper), so the kill reaches the process itself
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sync/fixtures/drain-child.ts'], {
    cwd: ROOT, env: { ...process.env, DATA_DIR: env.dir, DATABASE_URL: env.config.databaseUrl, LOG_LEVEL: 'silent', CRM_URL: env.crm.url, CRASH_AFTER: 'comments' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
  child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c })
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const deadline = Date.now() + 60_000
  while (!out.includes('CALLED comments')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the child did not reach the comments call:\n${out}\n${err}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  const killedAt = Date.now()
  t.equal(await exited, 'SIGKILL', 'the worker was killed right after the CRM created the comments')
  const holder = await env.db.selectFrom('job_lease').select(['holder', 'expires_at']).where('name', '=', 'crm-outbox').executeTakeFirst()
  t.equal(holder?.holder, 'child-worker', 'the dead worker still holds the outbox lease')

  // Another worker tries every second, as its schedule would, on the real clock.
  const next = createSyncContext({ db: env.db, crm: env.adapter, config: env.config, log: env.ctx.log, random: () => 0.5, holder: 'another-worker' })
  let report = await drainOutbox(next)
  t.equal(report.skipped, 'leased', 'not while the dead worker\'s lease lasts')
  let recovered = 0
  for (;;) {
    if (Date.now() - killedAt > 45_000) throw new Error('the outbox was not taken over within 45 s')
    await new Promise((r) => setTimeout(r, 1000))
    report = await drainOutbox(next)
    recovered += report.commentsRecovered
    // Done once nothing is left: rows the dead worker claimed come back when their own claims run
    // out, which (it extended them before its last call) can be a moment after its lease did.
    const left = await env.db.selectFrom('crm_outbox').select('id').where('status', '=', 'pending').executeTakeFirst()
    if (report.skipped === null && report.claimed === 0 && !left) break
  }
  const waited = (Date.now() - killedAt) / 1000
  t.ok(waited <= 30, `taken over ${waited.toFixed(1)} s after the kill (lease ${env.config.LEASE_SECONDS} s, tried every second)`)
  t.ok(recovered > 0, `the ${recovered} comments the dead worker created were found in the CRM and linked, not sent again`)
  await assertExactlyOnce(t, env)
})
