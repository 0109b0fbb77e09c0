// Crash safety and recovery against a real Dovecot: a poller killed between commit and move,
// a UIDVALIDITY change, and Dovecot restarted while the poller sits in IDLE.
import { join } from 'node:path'
import t from 'tap'
import { spawn } from 'node:child_process'
import { fixture, mailEnv, MAILBOX_USER, waitFor } from './support.js'
import { ROOT } from '../helpers/root.js'

const CHILD = join(ROOT, 'test/imap/crash-child.ts')

async function emailNotes(env: { db: import('../../src/db/index.js').Db }) {
  return env.db.selectFrom('note').select(['id', 'body', 'ticket_id']).where('source', '=', 'email').orderBy('id').execute()
}

t.test('killed after the commit and before the move: restarted, one note, not two', async (t) => {
  const env = await mailEnv(t)
  const { dovecot, db } = env
  await dovecot.append(MAILBOX_USER, 'INBOX', [fixture('gmail.eml', env)])

  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, DATA_DIR: env.dir, DATABASE_URL: env.config.databaseUrl, IMAP_URL: env.config.IMAP_URL!, MAIL_TOKEN_SECRET: env.config.MAIL_TOKEN_SECRET!, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.equal(exit.signal, 'SIGKILL', `the child died mid-run ${stderr}`)

  t.equal((await emailNotes(env)).length, 1, 'the note was committed before the crash')
  const row = await db.selectFrom('inbound_message').selectAll().executeTakeFirstOrThrow()
  t.equal(row.moved_at, null, 'but the message was never moved')
  t.same(await dovecot.counts(MAILBOX_USER, ['INBOX', 'Casebridge/Processed']), { INBOX: 1, 'Casebridge/Processed': 0 }, 'it is still in the inbox')

  const poller = env.poller().start()
  const report = await poller.runNow()
  await poller.stop()
  t.equal(report.notes, 0, 'the restarted poller adds no note')
  t.equal(report.moved, 1, 'it finishes the move')
  t.equal((await emailNotes(env)).length, 1, 'one note, not two')
  t.same(await dovecot.counts(MAILBOX_USER, ['INBOX', 'Casebridge/Processed']), { INBOX: 0, 'Casebridge/Processed': 1 })
  t.not((await db.selectFrom('inbound_message').select('moved_at').executeTakeFirstOrThrow()).moved_at, null)
})

t.test('a UIDVALIDITY change: old mail is not processed again, new mail is', async (t) => {
  const env = await mailEnv(t, {}, 'Support')
  const { dovecot, db } = env
  const old = [fixture('gmail.eml', env), fixture('apple-mail.eml', env)]
  await dovecot.append(MAILBOX_USER, 'Support', old)
  let poller = env.poller().start()
  let report = await poller.runNow()
  await poller.stop()
  t.equal(report.notes, 2)
  const before = await db.selectFrom('mailbox_state').selectAll().executeTakeFirstOrThrow()

  // The folder is deleted and recreated (as after a server migration): same mail, new UIDs.
  await new Promise((r) => setTimeout(r, 1100))
  const admin = await dovecot.client(MAILBOX_USER)
  await admin.mailboxDelete('Support')
  await admin.mailboxCreate('Support')
  await admin.logout()
  await dovecot.append(MAILBOX_USER, 'Support', [...old, fixture('android.eml', env)])

  poller = env.poller().start()
  report = await poller.runNow()
  await poller.stop()
  t.equal(report.uidValidityChanged, true, 'the change is noticed')
  t.equal(report.duplicates, 2, 'the two old messages are recognised by Message-ID')
  t.equal(report.notes, 1, 'only the new one becomes a note')
  t.equal((await emailNotes(env)).length, 3, 'three notes in all, not five')
  const after = await db.selectFrom('mailbox_state').selectAll().executeTakeFirstOrThrow()
  t.not(after.uid_validity, before.uid_validity, 'the new UIDVALIDITY is stored')
  t.equal(after.next_uid, 4)
  t.same(await dovecot.counts(MAILBOX_USER, ['Support']), { Support: 0 }, 'the old copies are moved out too, not deleted')
})

t.test('Dovecot restarted during IDLE: the poller reconnects with backoff and carries on', async (t) => {
  const env = await mailEnv(t)
  const { dovecot } = env
  const poller = env.poller({ pollMs: 10 * 60_000 })
  const reconnects: { attempt: number; delayMs: number }[] = []
  poller.on('reconnecting', (r: { attempt: number; delayMs: number }) => reconnects.push(r))
  let connections = 0
  poller.on('connected', () => connections++)
  poller.start()
  await poller.runNow()

  // IDLE: delivered over LMTP to the plus address, picked up with no poll due for ten minutes.
  await dovecot.deliver(fixture('gmail.eml', env), 'support+abc@localhost', 'alice@acme.test')
  await waitFor(async () => (await emailNotes(env)).length === 1, 10_000, 'the IDLE pickup')
  t.pass('a message delivered during IDLE is picked up at once')

  await dovecot.stop()
  await waitFor(() => reconnects.length >= 3, 15_000, 'reconnect attempts')
  await dovecot.start()
  await waitFor(() => connections >= 2, 15_000, 'the reconnect')
  t.same(reconnects.slice(0, 3).map((r) => r.attempt), [1, 2, 3], 'attempts counted while the server is down')
  t.ok(reconnects.every((r) => r.delayMs >= 50 && r.delayMs <= 1000), 'delays stay within the backoff bounds')
  t.ok(reconnects[2].delayMs >= 200, 'the delay grows (base 100 ms doubled twice, half of it jittered)')

  await dovecot.deliver(fixture('apple-mail.eml', env), 'support+abc@localhost', 'alice@acme.test')
  await waitFor(async () => (await emailNotes(env)).length === 2, 10_000, 'the pickup after the restart')
  t.pass('after the restart, IDLE picks up new mail again')
  t.equal(poller.attempts, 0, 'the attempt counter resets once connected')
})
