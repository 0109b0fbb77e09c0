// Refused paths against a real Dovecot: a stranger, a forged token, a bounce, an out-of-office
// and a 60 MB mail. None becomes a note; each is listed in the admin quarantine with its reason,
// and the messages after them still flow.
import t from 'tap'
import { loginAs } from '../helpers/app.js'
import { fixture, mailEnv, MAILBOX_USER, outcomes } from './support.js'

function bigMail(mb: number): Buffer {
  const line = 'x'.repeat(76) + '\r\n'
  const head = [
    'From: Alice Walker <alice@acme.test>', 'To: Casebridge <support@localhost>', 'Subject: Huge log dump',
    'Date: Mon, 23 Nov 2026 10:30:00 +0000', 'Message-ID: <huge-0040@acme.test>', 'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii', '', ''
  ].join('\r\n')
  return Buffer.concat([Buffer.from(head), Buffer.from(line.repeat(Math.ceil((mb * 1024 * 1024) / line.length)))])
}

t.test('refused mail never becomes a note and is visible in quarantine', async (t) => {
  const env = await mailEnv(t)
  const { db, dovecot, app } = env
  const notesBefore = await db.selectFrom('note').select('id').execute()
  const huge = bigMail(60)
  t.ok(huge.length > 60 * 1024 * 1024, 'the big mail is over 60 MB')
  await dovecot.append(MAILBOX_USER, 'INBOX', [
    fixture('stranger.eml', env), fixture('forged-token.eml', env), fixture('bounce-report.eml', env),
    fixture('out-of-office.eml', env), huge, fixture('gmail.eml', env)
  ])

  const poller = env.poller().start()
  const report = await poller.runNow()
  await poller.stop()
  t.equal(report.quarantined, 5, 'five refused')
  t.equal(report.notes, 1, 'the reply after them still became a note')

  const seen = await outcomes(env)
  const expected: [string, string][] = [
    ['<stranger-0025@unknown.test>', 'unknown_sender'], ['<forged-0024@acme.test>', 'forged_token'],
    ['<bounce-report-0020@mx.acme.test>', 'bounce'], ['<out-of-office-auto@acme.test>', 'auto_reply'], ['<huge-0040@acme.test>', 'too_large']
  ]
  for (const [messageId, reason] of expected) {
    t.equal(seen.get(messageId)?.result, 'quarantined', `${messageId} quarantined`)
    t.equal(seen.get(messageId)?.reason_code, reason, `${messageId}: ${reason}`)
  }
  const notesAfter = await db.selectFrom('note').select(['id', 'body']).where('id', 'not in', notesBefore.map((n) => n.id)).execute()
  t.equal(notesAfter.length, 1, 'only the genuine reply made a note')
  t.equal(notesAfter[0].body, 'I use Chrome 131 on macOS. Clearing cookies did not help.')

  const huge0 = await db.selectFrom('mail_quarantine').selectAll().where('message_id', '=', '<huge-0040@acme.test>').executeTakeFirstOrThrow()
  t.equal(huge0.raw_sha256, null, 'the over-size mail was not downloaded')
  t.ok(huge0.raw_size > 60 * 1024 * 1024, 'its size is recorded')
  t.equal(huge0.subject, 'Huge log dump', 'its subject comes from the envelope')

  const counts = await dovecot.counts(MAILBOX_USER, ['INBOX', 'Casebridge/Processed', 'Casebridge/Quarantine'])
  t.same(counts, { INBOX: 0, 'Casebridge/Processed': 1, 'Casebridge/Quarantine': 5 }, 'refused mail kept in the quarantine folder')

  const admin = await loginAs(app, 'admin@casebridge.test')
  const page = await admin.get('/admin/quarantine')
  t.equal(page.statusCode, 200)
  for (const text of ['Unknown sender', 'someone@unknown.test', 'Forged or tampered thread token', 'Bounce (delivery failure)',
    'Undelivered Mail Returned to Sender', 'Automatic reply (e.g. out of office)', 'Out of Office: [#1] Cannot log in to the cloud console',
    'Too large', 'Huge log dump', 'Open (5)']) {
    t.ok(page.body.includes(text.replace(/&/g, '&amp;')), `quarantine page shows "${text}"`)
  }

  const stranger = await db.selectFrom('mail_quarantine').selectAll().where('reason_code', '=', 'unknown_sender').executeTakeFirstOrThrow()
  const detail = await admin.get(`/admin/quarantine/${stranger.id}`)
  t.equal(detail.statusCode, 200)
  t.match(detail.body, /Help with my account/)
  const raw = await admin.get(`/admin/quarantine/${stranger.id}/raw`)
  t.equal(raw.statusCode, 200)
  t.match(raw.headers['content-disposition'], /^attachment;/, 'the original downloads, never renders')
  t.match(raw.body, /Hi, I cannot log in to your product/)
  const noRaw = await admin.get(`/admin/quarantine/${huge0.id}`)
  t.match(noRaw.body, /stays in the quarantine folder/)

  const released = await admin.post(`/admin/quarantine/${stranger.id}/release`, {}, { csrfFrom: `/admin/quarantine/${stranger.id}` })
  t.equal(released.statusCode, 302)
  const after = await admin.get('/admin/quarantine')
  t.match(after.body, /Open \(4\)/, 'released mail leaves the open list')

  const client = await loginAs(app, 'alice@acme.test')
  t.equal((await client.get('/admin/quarantine')).statusCode, 404, 'clients cannot see the quarantine')
  const staff = await loginAs(app, 'ana@casebridge.test')
  t.equal((await staff.get('/admin/quarantine')).statusCode, 404, 'nor can non-admin staff')
})

t.test('unknown senders get one pointer to the portal when the setting is on', async (t) => {
  const env = await mailEnv(t, { UNKNOWN_SENDER_REPLY: 'true' })
  const { db, dovecot } = env
  const second = fixture('stranger.eml', env).replace('<stranger-0025@unknown.test>', '<stranger-0026@unknown.test>')
  const automated = fixture('stranger.eml', env)
    .replace('<stranger-0025@unknown.test>', '<stranger-auto@other.test>')
    .replace(/someone@unknown\.test/g, 'robot@other.test')
    .replace('MIME-Version: 1.0', 'Auto-Submitted: auto-replied\r\nMIME-Version: 1.0')
  await dovecot.append(MAILBOX_USER, 'INBOX', [fixture('stranger.eml', env), second, automated])
  const poller = env.poller().start()
  await poller.runNow()
  await poller.stop()

  const mails = await db.selectFrom('mail_outbox').selectAll().where('template', '=', 'inbound.unknown_sender').execute()
  t.equal(mails.length, 1, 'answered once, not once per message')
  t.equal(mails[0].recipient, 'someone@unknown.test')
  t.match(mails[0].data, /\/login/, 'the answer points to the portal')
  const quarantined = await db.selectFrom('mail_quarantine').select(['reason_code', 'from_address']).execute()
  t.equal(quarantined.length, 3, 'all three are still quarantined')
  t.ok(quarantined.some((q) => q.from_address === 'robot@other.test' && q.reason_code === 'auto_reply'), 'auto-submitted mail is never answered')
})
