// The admin pages show what the running workers say about themselves (their heartbeats), not the
// web process's own settings: SMTP configured only on the workers still reads as configured.
import t from 'tap'
import pino from 'pino'
import { hostname } from 'node:os'
import { loadConfig } from '../../src/config.js'
import { loginAs, testApp } from '../helpers/app.js'
import { startHeartbeat } from '../../src/work/heartbeat.js'
import { publishedSettings } from '../../sync/worker.js'
import { acquireLease } from '../../src/work/lease.js'

const silent = pino({ level: 'silent' })

t.test('workers report in; the mail page reads SMTP from them', async (t) => {
  const env = await testApp(t)
  t.equal(env.config.SMTP_URL, undefined, 'the web process has no SMTP server')
  const admin = await loginAs(env.app, 'admin@casebridge.test')

  let page = await admin.get('/admin/mail')
  t.match(page.body, 'No worker process is running', 'nobody sends before a worker reports in')
  t.match((await admin.get('/admin')).body, 'No worker process has reported')

  const workerConfig = loadConfig({ DATA_DIR: env.dir, LOG_LEVEL: 'silent', SMTP_URL: 'smtp://mailer:s3cret@mail.example.com:587', IMAP_URL: 'imaps://support:hunter2@imap.example.com/INBOX' })
  const settings = publishedSettings(workerConfig, 'http://127.0.0.1:3001')
  t.notMatch(JSON.stringify(settings), /s3cret|hunter2|mailer:|support:/, 'no secret, no user name is published')
  const beat = startHeartbeat({ db: env.db, clock: () => new Date(), log: silent }, {
    holder: `${hostname()}:4242:abc`, role: 'worker', host: hostname(), pid: 4242, version: '0.1.0', settings
  }, 50)
  t.teardown(() => beat.stop())
  await new Promise((r) => setTimeout(r, 120))
  await acquireLease(env.db, 'crm-outbox', `${hostname()}:4242:abc`, new Date(), 30_000)

  page = await admin.get('/admin/mail')
  t.match(page.body, `Sent by ${hostname()}:4242 through smtp://mail.example.com:587.`, 'the worker\'s SMTP server')
  t.notMatch(page.body, 'No SMTP server is configured')
  const index = await admin.get('/admin')
  t.match(index.body, `${hostname()}:4242`)
  t.match(index.body, 'SMTP smtp://mail.example.com:587')
  t.match(index.body, 'IMAP imaps://imap.example.com/INBOX')
  t.match(index.body, 'crm-outbox', 'the leases it holds')

  await beat.stop()
  t.match((await admin.get('/admin/mail')).body, 'No worker process is running', 'a stopped worker removes its row')
})

t.test('a worker without SMTP: notifications wait, and the page says why', async (t) => {
  const env = await testApp(t)
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const beat = startHeartbeat({ db: env.db, clock: () => new Date(), log: silent }, {
    holder: 'h:1:x', role: 'all', host: 'h', pid: 1, version: '0.1.0', settings: publishedSettings(env.config)
  }, 50)
  t.teardown(() => beat.stop())
  await new Promise((r) => setTimeout(r, 120))
  t.match((await admin.get('/admin/mail')).body, 'No SMTP server is configured (SMTP_URL)')
})
