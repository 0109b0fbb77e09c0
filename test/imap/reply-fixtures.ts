// The reply fixtures (test/fixtures/mail/replies/): each client's message with the text its
// author wrote beside it (NAME.expected.txt), cleaned the way the poller cleans a message. Shared
// by test/imap/replies.test.ts and scripts/mail-score.ts.
import { join } from 'node:path'
import { readdirSync, readFileSync } from 'node:fs'
import { simpleParser } from 'mailparser'
import { messageIdFor, signToken } from '../../src/domain/thread-token.js'
import { ourSender, replyText, type Ours, type ReplyText } from '../../sync/imap/content.js'
import { hasPlainText, headerMap } from '../../sync/imap/process.js'
import { ROOT } from '../helpers/root.js'

export const REPLIES = join(ROOT, 'test/fixtures/mail/replies/')

export interface ReplyFixture {
  name: string
  /** The message with its placeholders filled (%TOKEN%, %REF%, %NUMBER%). */
  raw: Buffer
  expected: string
}

/** Placeholders filled with a token signed by a fixed key (the Dovecot tests sign their own). */
export function fillPlaceholders(text: string, number = 1): string {
  const token = signToken({ ticketId: 1, noteId: null, recipient: 'requester' }, Buffer.alloc(32, 7))
  return text.replaceAll('%TOKEN%', token).replaceAll('%REF%', messageIdFor(token, 'n1', 'localhost')).replaceAll('%NUMBER%', String(number))
}

export function replyFixtures(): ReplyFixture[] {
  return readdirSync(REPLIES).filter((f) => f.endsWith('.eml')).sort().map((file) => {
    const name = file.slice(0, -'.eml'.length)
    const expected = readFileSync(`${REPLIES}${name}.expected.txt`, 'utf8').replace(/\n$/, '')
    return { name, raw: Buffer.from(fillPlaceholders(readFileSync(REPLIES + file, 'latin1')), 'latin1'), expected }
  })
}

/** What the notifications the fixtures answer carried: the ticket's notes and its resolution. */
export const FIXTURE_TEXTS = [
  'Thanks for the details. A few questions so we can reproduce it:\n\n1. Which browser and version do you use?\n2. Does it also happen in a private window?\n3. When did it start?',
  'Obrigada pelos detalhes. Algumas perguntas para reproduzirmos o problema:\n\n1. Qual navegador e versão você usa?\n2. Acontece também numa janela anônima?\n3. Quando começou?',
  'We fixed the PDF template; new invoices render correctly again.',
  'Could you forward us the e-mail you got from the billing system?'
]

/** Our notifications as the fixtures see them: sent by `Casebridge <support@localhost>` (the default MAIL_FROM). */
export const FIXTURE_OURS: Ours = { ...ourSender('Casebridge <support@localhost>', 'support@localhost'), texts: FIXTURE_TEXTS }

/** What the poller reads of a message: its text/plain part (or its HTML as text), and what it keeps of it. */
export async function cleaned(raw: Buffer, ours: Ours = FIXTURE_OURS): Promise<ReplyText> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true })
  const plain = hasPlainText(raw, headerMap(parsed))
  return replyText({ text: parsed.text, html: typeof parsed.html === 'string' ? parsed.html : null }, plain, ours)
}
