import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { claimNextExport, insertExport } from '../../src/db/exports.js'
import { runExportJobs } from '../../sync/jobs/exports.js'
import { renderMail, templateFile } from '../../src/mail/render.js'

const run = promisify(execFile)
const T0 = new Date('2026-06-01T10:00:00.000Z')

async function queue(env: TestEnv, email: string, query: string) {
  return insertExport(env.db, { owner: { kind: 'contact', id: env.ids.contact[email] }, area: 'portal', query, locale: 'en', now: T0.toISOString() })
}

t.test('a job is claimed by one worker only', async (t) => {
  const env = await testApp(t)
  const id = await queue(env, 'bob@acme.test', '')
  const opts = (holder: string) => ({ holder, now: T0.toISOString(), leaseUntil: new Date(T0.getTime() + 60_000).toISOString(), maxAttempts: 3 })
  const [a, b] = await Promise.all([claimNextExport(env.db, opts('a')), claimNextExport(env.db, opts('b'))])
  t.same([a, b].filter(Boolean).map((j) => j!.id), [id], 'exactly one claim succeeds')
  t.equal(await claimNextExport(env.db, opts('c')), null, 'nothing left while the lease holds')
})

t.test('two worker processes at once write each export once', async (t) => {
  const env = await testApp(t)
  for (let i = 0; i < 6; i++) await makeTicket(env.db, env.ids, { contact: 'bob@acme.test', title: `Ticket ${i}` })
  const ids = []
  for (const email of ['alice@acme.test', 'bob@acme.test', 'carol@acme.test', 'gina@globex.test', 'hank@globex.test', 'ian@initech.test']) {
    ids.push(await queue(env, email, ''))
  }
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx')
  const script = join(process.cwd(), 'test/fixtures/run-exports.ts')
  const outputs = await Promise.all(['w1', 'w2'].map((h) => run(tsx, [script, env.dir, h, env.config.databaseUrl])))
  const reports = outputs.map((o) => JSON.parse(o.stdout.trim()).report as { done: number })
  t.equal(reports[0].done + reports[1].done, 6, 'six exports written between them')
  const jobs = await env.db.selectFrom('export_job').selectAll().where('id', 'in', ids).execute()
  t.ok(jobs.every((j) => j.status === 'done' && j.attempts === 1), 'each done, on its first claim')
  const mails = await env.db.selectFrom('mail_outbox').select('data').where('template', '=', 'export.ready').execute()
  t.same(mails.map((m) => JSON.parse(m.data).exportId).sort(), [...ids].sort(), 'one e-mail per export')
})

t.test('a stopping worker hands its export back to the queue', async (t) => {
  const env = await testApp(t)
  for (let i = 0; i < 5; i++) await makeTicket(env.db, env.ids, { contact: 'bob@acme.test' })
  const id = await queue(env, 'bob@acme.test', '')
  const stop = new AbortController()
  const report = await runExportJobs({ db: env.db, config: env.config, holder: 'w', batchSize: 2, signal: stop.signal, onProgress: () => stop.abort() })
  t.same(report, { done: 0, failed: 0, expired: 0 })
  const job = await env.db.selectFrom('export_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  t.equal(job.status, 'queued', 'back in the queue for the next worker')
  t.equal(job.attempts, 0, 'the interrupted attempt does not count')
  t.equal(job.holder, null)
  t.same(await runExportJobs({ db: env.db, config: env.config, holder: 'w2' }), { done: 1, failed: 0, expired: 0 }, 'and written by the next run')
})

t.test('the "export ready" mail renders in both languages without ticket wording', async (t) => {
  t.equal(templateFile('export.ready'), 'export/ready.eta')
  for (const locale of ['en', 'pt-BR'] as const) {
    const data = JSON.stringify({ rows: '1,234', filename: 'tickets-2026-06-01-7.xlsx', expires: 'Jun 8, 2026, 10:00 AM UTC', exportsUrl: 'https://help.example.com/exports', attached: 'yes' })
    const mail = renderMail({ template: 'export.ready', locale, data }, { publicUrl: 'https://help.example.com', defaultLocale: 'en' })
    t.equal(mail.subject, locale === 'en' ? 'Your export is ready (1,234 tickets)' : 'Sua exportação está pronta (1,234 chamados)')
    t.notMatch(mail.text + mail.html, /\bmail\.[a-z_]+\.[a-z_.]+/, `${locale}: no catalog key leaks`)
    t.notMatch(mail.text, /reply above|resposta acima/i, `${locale}: no reply line`)
    t.match(mail.text, 'https://help.example.com/exports')
    t.match(mail.html, 'href="https://help.example.com/exports"')
  }
  const tooLarge = renderMail({ template: 'export.ready', locale: 'en', data: JSON.stringify({ rows: '900,000', attached: 'no', tooLarge: 'yes', exportsUrl: 'https://x/exports' }) }, { publicUrl: 'https://x', defaultLocale: 'en' })
  t.match(tooLarge.text, 'too large to send by e-mail')
})
