// Replies from several mail clients (test/fixtures/mail/replies/) appended byte for byte to a
// real Dovecot mailbox and taken in by the poller: the note says what the author wrote (answers
// between quoted lines with the lines they answer, text below the quote, a forward with its
// header; no signature, disclaimer or image placeholder), and keeps the whole text beside it.
//   npx tap test/imap/replies-dovecot.test.ts
//   TEST_DATABASE_URL=postgres://... npx tap test/imap/replies-dovecot.test.ts
import { readFileSync } from 'node:fs'
import t from 'tap'
import { fixture, mailEnv, MAILBOX_USER, outcomes } from './support.js'
import { cleaned, FIXTURE_TEXTS, REPLIES } from './reply-fixtures.js'
import { staffActor } from '../helpers/tickets.js'
import { addNote } from '../../src/commands/add-note.js'
import { personWho, unwrap } from '../../src/commands/kernel.js'

interface Case {
  name: string
  /** What the original keeps that the note does not. */
  quoted: string[]
  files?: string[]
}

const CASES: Case[] = [
  { name: 'gmail-inline', quoted: ['On Mon, Nov 23, 2026 at 10:00 AM Casebridge <support@localhost> wrote:', '> ##- Please type your reply above this line -##'] },
  { name: 'outlook-inline', quoted: ['From: Casebridge <support@localhost>', '##- Please type your reply above this line -##', 'Thanks for the details. A few questions so we can reproduce it:'] },
  { name: 'apple-inline', quoted: ['> On 23 Nov 2026, at 10:00, Casebridge <support@localhost> wrote:'] },
  { name: 'html-only-inline', quoted: ['On 23/11/2026 10:00, Casebridge wrote:', '> This is an automatic message from Casebridge.'] },
  { name: 'thunderbird-bottom', quoted: ['On 23/11/2026 10:00, Casebridge wrote:', '-- ', 'Alice Walker | Acme Corporation | +1 555 0100'] },
  { name: 'gmail-forward', quoted: [] },
  { name: 'thunderbird-forward', quoted: [] },
  { name: 'outlook-disclaimer', quoted: ['CONFIDENTIALITY NOTICE:', 'Please consider the environment before printing this e-mail.'] },
  { name: 'outlook-pt', quoted: ['Enviada em: segunda-feira, 23 de novembro de 2026 10:00', 'Antes de imprimir, pense em seu compromisso com o Meio Ambiente.'] },
  { name: 'gmail-signature-image', quoted: ['[image: image.png]', '[image: Acme logo]', 'Head of IT | Acme Corporation'] },
  { name: 'samsung-pt', quoted: ['Enviado do meu Galaxy', '-------- Mensagem original --------'] },
  { name: 'notes-pt', quoted: ['De:\tCasebridge <support@localhost>', 'AVISO LEGAL:'] },
  { name: 'gmail-only-quote', quoted: ['##- Please type your reply above this line -##'], files: ['original-message.eml', 'screenshot.png'] }
]

t.test('replies from many clients through a real Dovecot: the author\'s words, and the whole text beside them', async (t) => {
  const env = await mailEnv(t)
  const { db, dovecot, ids } = env
  // The notifications the fixtures answer: Ana's messages to Alice on ticket #1, mailed to her.
  const ana = personWho(await staffActor(db, ids, 'ana@casebridge.test'))
  for (const body of FIXTURE_TEXTS) unwrap(await addNote({ db, clock: () => new Date(), random: Math.random }, ana, { ticketId: 1, mode: 'message', body, source: 'portal' }))

  const raws = CASES.map((c) => fixture(`replies/${c.name}.eml`, env))
  await dovecot.append(MAILBOX_USER, 'INBOX', raws)
  const poller = env.poller().start()
  const report = await poller.runNow()
  await poller.stop()
  t.equal(report.fetched, CASES.length, 'every message fetched')

  const seen = await outcomes(env)
  for (const [i, c] of CASES.entries()) {
    const raw = Buffer.from(raws[i], 'utf8')
    const messageId = /^Message-I[dD]: (.+)$/m.exec(raws[i])![1].trim()
    const row = seen.get(messageId)
    t.equal(row?.result, 'note', `${c.name}: a note`)
    if (!row?.note_id) continue
    const note = await db.selectFrom('note').selectAll().where('id', '=', row.note_id).executeTakeFirstOrThrow()
    const expected = readFileSync(`${REPLIES}${c.name}.expected.txt`, 'utf8').replace(/\n$/, '')
    t.equal(note.ticket_id, 1, `${c.name}: on ticket #1`)
    t.equal(note.body, expected || '(attachments only)', `${c.name}: the note is what the author wrote`)
    const { original } = await cleaned(raw)
    t.equal(note.original_text, original, `${c.name}: the whole text is kept beside it`)
    for (const q of c.quoted) {
      t.ok(note.original_text?.includes(q), `${c.name}: the original keeps "${q}"`)
      t.notOk(note.body.includes(q.trim()), `${c.name}: the note does not`)
    }
    const files = (await db.selectFrom('attachment').select('filename').where('note_id', '=', note.id).orderBy('filename').execute()).map((f) => f.filename)
    t.same(files, c.files ?? ['original-message.eml'], `${c.name}: the original .eml stays with the note`)
  }
})
