// The worker's exports run in a short-lived process of their own (sync/jobs/export-process.ts).
//   npx tap test/jobs/export-process.test.ts
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { insertExport } from '../../src/db/exports.js'
import { EXPORT_PROCESS_FLAGS, runExportJobsApart } from '../../sync/jobs/export-process.js'

async function queue(env: TestEnv, email: string) {
  return insertExport(env.db, { owner: { kind: 'contact', id: env.ids.contact[email] }, area: 'portal', query: '', locale: 'en', now: new Date().toISOString() })
}

t.test('an export waiting is written by a process of its own, which then ends', async (t) => {
  const env = await testApp(t)
  for (let i = 0; i < 4; i++) await makeTicket(env.db, env.ids, { contact: 'bob@acme.test', title: `Printer ${i}` })
  t.same(await runExportJobsApart({ db: env.db, config: env.config, holder: 'w', leaseMs: 60_000 }), { done: 0, failed: 0, expired: 0 },
    'nothing waiting: no process is started, nothing done')
  const first = await queue(env, 'bob@acme.test')
  const second = await queue(env, 'alice@acme.test')
  const report = await runExportJobsApart({ db: env.db, config: env.config, holder: 'w', leaseMs: 60_000 })
  t.same(report, { done: 2, failed: 0, expired: 0 }, 'both written in one run of the process')
  const jobs = await env.db.selectFrom('export_job').selectAll().where('id', 'in', [first, second]).orderBy('id').execute()
  t.same(jobs.map((j) => [j.status, j.attempts]), [['done', 1], ['done', 1]])
  t.ok(jobs[0].rows_done >= 4, `bob's tickets, the four new ones among them (${jobs[0].rows_done})`)
  if (env.config.fileStore === 'fs') t.ok(existsSync(join(env.config.exportsDir, jobs[0].file_path!)), 'the file is where the web role serves it from')
  const mails = await env.db.selectFrom('mail_outbox').select('data').where('template', '=', 'export.ready').execute()
  t.same(mails.map((m) => JSON.parse(m.data).exportId).sort(), [first, second].sort(), 'one e-mail per export, queued by that process')
  t.ok(EXPORT_PROCESS_FLAGS.some((f) => f.startsWith('--max-old-space-size=')), 'the process runs with a capped heap')
})

t.test('a stopping worker stops the export process, and the job goes back to the queue', async (t) => {
  const env = await testApp(t)
  for (let i = 0; i < 3; i++) await makeTicket(env.db, env.ids, { contact: 'bob@acme.test' })
  const id = await queue(env, 'bob@acme.test')
  const stop = new AbortController()
  stop.abort()
  t.same(await runExportJobsApart({ db: env.db, config: env.config, holder: 'w', leaseMs: 60_000, signal: stop.signal }), { done: 0, failed: 0, expired: 0 },
    'stopped before it began: no process')
  const job = await env.db.selectFrom('export_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  t.equal(job.status, 'queued')
  const later = new AbortController()
  const running = runExportJobsApart({ db: env.db, config: env.config, holder: 'w', leaseMs: 60_000, signal: later.signal })
  later.abort()
  const report = await running
  t.equal(report.failed, 0, 'a stop is not a failure')
  const after = await env.db.selectFrom('export_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  t.ok(after.status === 'queued' || after.status === 'done', `the job is back in the queue or was finished first (${after.status})`)
  t.equal(after.attempts, after.status === 'done' ? 1 : 0, 'an interrupted attempt does not count')
})
