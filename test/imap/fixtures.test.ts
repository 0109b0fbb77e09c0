// Every client format and case of test/fixtures/mail, appended byte for byte to a real Dovecot
// mailbox and taken in by the poller: what becomes a note (and with which text), what opens a
// ticket, and what is quarantined with which reason.
import t from 'tap'
import { fixture, fixtureBytes, mailEnv, MAILBOX_USER, outcomes } from './support.js'

interface Expect {
  file: string
  messageId: string
  result: 'note' | 'ticket' | 'quarantined'
  reason?: string
  body?: string
  includes?: string[]
  excludes?: string[]
  kind?: string
  author?: 'staff' | 'contact'
  files?: string[]
}

const QUOTE_TRACES = ['wrote:', 'escreveu', 'Please type your reply', 'cb-ref', 'Which browser do you use', '>']

const CASES: Expect[] = [
  { file: 'gmail.eml', messageId: '<CAGmail-001@mail.gmail.test>', result: 'note', body: 'I use Chrome 131 on macOS. Clearing cookies did not help.' },
  { file: 'outlook-separator.eml', messageId: '<outlook-sep-002@acme.test>', result: 'note', includes: ['Hello Ana,', 'The problem started after the update on Friday.'], excludes: ['Original Message', 'Sent: Monday'] },
  { file: 'outlook-no-separator.eml', messageId: '<outlook-nosep-003@acme.test>', result: 'note', body: 'We also see it on the mobile app.' },
  { file: 'apple-mail.eml', messageId: '<E1B2C3D4-APPLE-0004@acme.test>', result: 'note', body: 'It works again after your fix — thanks!' },
  { file: 'thunderbird.eml', messageId: '<5f0c1d2e-tbird-0005@acme.test>', result: 'note', body: 'Here is the console log you asked for. The error appears right after the redirect.' },
  { file: 'iphone.eml', messageId: '<IPHONE-0006@acme.test>', result: 'note', body: 'Still broken on my phone too' },
  { file: 'android.eml', messageId: '<android-0007@acme.test>', result: 'note', body: 'Ok, I will try again tomorrow morning.' },
  { file: 'portuguese.eml', messageId: '<CAGmail-pt-0008@mail.gmail.test>', result: 'note', includes: ['Olá Ana, o erro continua aparecendo às 9h da manhã.'] },
  { file: 'html-only.eml', messageId: '<html-only-0009@acme.test>', result: 'note', includes: ['Please see step 3 & retry:', 'open the console', 'Thanks'], excludes: ['<', 'alert', 'pixel', 'color: red', 'looking into it'] },
  { file: 'iso-8859-1.eml', messageId: '<latin1-0010@acme.test>', result: 'note', body: 'Olá, não consigo acessar a página de relatórios (ação inválida).' },
  { file: 'windows-1252.eml', messageId: '<cp1252-0011@acme.test>', result: 'note', body: 'The invoice says “paid” but we were charged €120 – twice.' },
  { file: 'encoded-subject.eml', messageId: '<encoded-0012@acme.test>', result: 'note', body: 'Encoded subject reply: ✓ done.' },
  { file: 'attachments.eml', messageId: '<attach-0013@acme.test>', result: 'note', body: 'Screenshot and log attached.', files: ['console-log.pdf', 'original-message.eml', 'screenshot.png'] },
  // A staff reply clients read carries no raw message (it may quote a staff-only notification).
  { file: 'staff-reply.eml', messageId: '<staff-reply-0027@casebridge.test>', result: 'note', body: 'Hi Alice, please clear the cache and try again.', kind: 'reply', author: 'staff', files: [] },
  { file: 'staff-internal.eml', messageId: '<staff-internal-0028@casebridge.test>', result: 'note', body: 'Checked the logs: the session cookie domain is wrong since the release.', kind: 'internal', author: 'staff' },
  { file: 'subject-only.eml', messageId: '<subject-only-0030@acme.test>', result: 'note', body: 'Adding one more detail by subject tag: it fails in Firefox too.' },
  { file: 'new-ticket.eml', messageId: '<new-ticket-0026@acme.test>', result: 'ticket' },
  { file: 'auto-submitted.eml', messageId: '<auto-submitted-auto@acme.test>', result: 'quarantined', reason: 'auto_reply' },
  { file: 'x-autoreply.eml', messageId: '<x-autoreply-auto@acme.test>', result: 'quarantined', reason: 'auto_reply' },
  { file: 'precedence-bulk.eml', messageId: '<precedence-bulk-auto@acme.test>', result: 'quarantined', reason: 'auto_reply' },
  { file: 'precedence-junk.eml', messageId: '<precedence-junk-auto@acme.test>', result: 'quarantined', reason: 'auto_reply' },
  { file: 'precedence-list.eml', messageId: '<precedence-list-auto@acme.test>', result: 'quarantined', reason: 'list' },
  { file: 'out-of-office.eml', messageId: '<out-of-office-auto@acme.test>', result: 'quarantined', reason: 'auto_reply' },
  { file: 'bounce-report.eml', messageId: '<bounce-report-0020@mx.acme.test>', result: 'quarantined', reason: 'bounce' },
  { file: 'bounce-mailer-daemon.eml', messageId: '<bounce-daemon-0021@mx.acme.test>', result: 'quarantined', reason: 'bounce' },
  { file: 'bounce-empty-return-path.eml', messageId: '<bounce-empty-0022@acme.test>', result: 'quarantined', reason: 'bounce' },
  { file: 'list.eml', messageId: '<list-0023@lists.acme.test>', result: 'quarantined', reason: 'list' },
  { file: 'forged-token.eml', messageId: '<forged-0024@acme.test>', result: 'quarantined', reason: 'forged_token' },
  { file: 'stranger.eml', messageId: '<stranger-0025@unknown.test>', result: 'quarantined', reason: 'unknown_sender' },
  { file: 'not-allowed.eml', messageId: '<not-allowed-0029@acme.test>', result: 'quarantined', reason: 'not_allowed' },
  { file: 'broken.eml', messageId: '<broken-0031@acme.test>', result: 'quarantined', reason: 'broken' }
]

const BYTE_FIXTURES = new Set(['iso-8859-1.eml', 'windows-1252.eml'])

t.test('every fixture format against a real Dovecot', async (t) => {
  const env = await mailEnv(t)
  const { db, dovecot } = env
  const ticketBefore = await db.selectFrom('ticket').select('id').execute()
  const raws = CASES.map((c) => (BYTE_FIXTURES.has(c.file) ? fixtureBytes(c.file, env) : fixture(c.file, env)))
  await dovecot.append(MAILBOX_USER, 'INBOX', raws)

  const poller = env.poller().start()
  const report = await poller.runNow()
  t.equal(report.fetched, CASES.length, 'every message fetched in one run')
  await poller.stop()

  const seen = await outcomes(env)
  for (const c of CASES) {
    const row = seen.get(c.messageId)
    t.ok(row, `${c.file}: decided`)
    if (!row) continue
    t.equal(row.result, c.result, `${c.file}: ${c.result}`)
    if (c.reason) t.equal(row.reason_code, c.reason, `${c.file}: reason ${c.reason} (${row.reason_text})`)
    if (c.result === 'quarantined') {
      t.equal(row.note_id, null, `${c.file}: no note`)
      continue
    }
    if (c.result === 'ticket') continue
    const note = await db.selectFrom('note').selectAll().where('id', '=', row.note_id!).executeTakeFirstOrThrow()
    t.equal(note.ticket_id, 1, `${c.file}: on ticket #1`)
    t.equal(note.source, 'email', `${c.file}: source email`)
    if (c.body !== undefined) t.equal(note.body, c.body, `${c.file}: only the new text`)
    for (const s of c.includes ?? []) t.ok(note.body.includes(s), `${c.file}: keeps "${s}"`)
    for (const s of [...QUOTE_TRACES, ...(c.excludes ?? [])]) t.notOk(note.body.includes(s), `${c.file}: drops "${s}"`)
    t.equal(note.kind, c.kind ?? 'reply', `${c.file}: kind ${c.kind ?? 'reply'}`)
    if (c.author === 'staff') t.ok(note.author_staff_id, `${c.file}: a staff note`)
    else t.ok(note.author_contact_id, `${c.file}: by the contact`)
    const files = (await db.selectFrom('attachment').select('filename').where('note_id', '=', note.id).orderBy('filename').execute()).map((f) => f.filename)
    t.same(files, c.files ?? ['original-message.eml'], `${c.file}: attachments (original kept)`)
    const crm = await db.selectFrom('crm_outbox').select('id').where('note_id', '=', note.id).where('kind', '=', 'comment').execute()
    t.equal(crm.length, 1, `${c.file}: queued for the CRM as a comment`)
  }

  const created = await db.selectFrom('ticket').selectAll().where('id', 'not in', ticketBefore.map((r) => r.id)).execute()
  t.equal(created.length, 1, 'one new ticket from the known contact')
  t.equal(created[0].title, 'VPN drops every hour')
  t.equal(created[0].source, 'email')
  t.equal(created[0].description, 'Since Monday the VPN disconnects every hour on the hour.')
  t.not(created[0].assignee_id, null, 'assigned by least load')

  const staffReply = await db.selectFrom('note').selectAll().where('kind', '=', 'reply').where('author_staff_id', 'is not', null).where('source', '=', 'email').executeTakeFirstOrThrow()
  t.equal(staffReply.visibility, 'public', 'a staff reply by mail is public')

  const quarantined = CASES.filter((c) => c.result === 'quarantined').length
  const counts = await dovecot.counts(MAILBOX_USER, ['INBOX', 'Casebridge/Processed', 'Casebridge/Quarantine'])
  t.same(counts, { INBOX: 0, 'Casebridge/Processed': CASES.length - quarantined, 'Casebridge/Quarantine': quarantined }, 'every message moved, none deleted')
})
