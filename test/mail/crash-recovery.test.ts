// The mail sender is SIGKILLed mid-send (the SMTP server has the message but has not answered):
// another drain sends it again once the dead one's claim runs out (LEASE_SECONDS), and the mail
// sent again is the same message: the same Message-ID, so the recipient's mail client shows one.
import t from 'tap'
import { spawn } from 'node:child_process'
import pino from 'pino'
import { testApp } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { startSmtpSink } from './smtp-sink.js'
import { drainMailOutbox, smtpTransport } from '../../src/mail/deliver.js'
import { mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { ROOT } from '../helpers/root.js'


t.test('SIGKILL the mail sender mid-send: sent again within the claim, with the same Message-ID', async (t) => {
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const env = await testApp(t, { env: { SMTP_URL: sink.url } })
  await env.db.deleteFrom('mail_outbox').execute()
  const ticket = await makeTicket(env.db, env.ids, { title: 'Mail that must arrive once' })
  const row = await env.db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', ticket.id).where('template', '=', 'ticket.created')
    .where('recipient', '=', 'bob@acme.test').executeTakeFirstOrThrow()
  // Only Bob's acknowledgement is due; the assignee's notice waits for later.
  await env.db.updateTable('mail_outbox').set({ next_attempt_at: '2999-01-01T00:00:00.000Z' }).where('id', '!=', row.id).execute()
  t.ok(row.message_key, 'the Message-ID was fixed when the mail was queued')

  sink.hold = true
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/mail/fixtures/send-child.ts'], {
    cwd: ROOT, env: { ...process.env, DATA_DIR: env.dir, DATABASE_URL: env.config.databaseUrl, LOG_LEVEL: 'silent', SMTP_URL: sink.url },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
  child.stderr.setEncoding('utf8').on('data', (c: string) => { out += c })
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const deadline = Date.now() + 60_000
  while (sink.received.length === 0) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the child sent nothing:\n${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  const killedAt = Date.now()
  t.equal(await exited, 'SIGKILL', 'the sender died before the server answered')
  sink.hold = false
  const after = await env.db.selectFrom('mail_outbox').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()
  t.same([after.status, after.attempts], ['pending', 1], 'the row is still claimed, its try counted')

  // Another worker's mail drain, every second on the real clock.
  const transport = smtpTransport(sink.url)
  t.teardown(() => transport.close?.())
  const deps = { db: env.db, settings: mailSettings(env.config), key: mailTokenKey(env.config), transport, log: pino({ level: 'silent' }), leaseMs: env.config.LEASE_SECONDS * 1000 }
  t.same(await drainMailOutbox(deps, new Date()), { sent: 0, retried: 0, dead: 0 }, 'not while the dead sender\'s claim lasts')
  for (;;) {
    if (Date.now() - killedAt > 45_000) throw new Error('the mail was not sent again within 45 s')
    await new Promise((r) => setTimeout(r, 1000))
    if ((await drainMailOutbox(deps, new Date())).sent === 1) break
  }
  const waited = (Date.now() - killedAt) / 1000
  t.ok(waited <= 30, `sent again ${waited.toFixed(1)} s after the kill (claims last ${env.config.LEASE_SECONDS} s)`)
  t.equal(sink.received.length, 2, 'the server got it twice: once from the dead sender, once again')
  const [first, second] = sink.received
  t.equal(second.header('message-id'), first.header('message-id'), 'the same Message-ID both times: one message for the mail client')
  t.match(first.header('message-id'), new RegExp(`\\.${row.message_key}@`), 'the one fixed when it was queued')
  const done = await env.db.selectFrom('mail_outbox').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()
  t.same([done.status, done.attempts], ['sent', 2])
  t.same(await drainMailOutbox(deps, new Date()), { sent: 0, retried: 0, dead: 0 }, 'and never again')
})
