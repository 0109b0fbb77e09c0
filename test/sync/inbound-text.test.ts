// Text from the CRM or from mail is cleaned, never dropped: a NUL or a broken surrogate in a
// CaseComment or a mail is removed and the rest arrives, the same on SQLite and PostgreSQL.
//   npx tap test/sync/inbound-text.test.ts
//   scripts/pg-test.sh test/sync/inbound-text.test.ts
import t from 'tap'
import pino from 'pino'
import { syncEnv } from './helpers.js'
import { testApp } from '../helpers/app.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { applyMessage, prepareMessage, type InboundDeps } from '../../sync/imap/process.js'

t.test('a CRM comment with a NUL becomes a reply without it', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  await env.poll()
  const ticket = await env.db.selectFrom('ticket').selectAll().where('title', '=', 'Cannot log in to the cloud console').executeTakeFirstOrThrow()
  const crm = await env.crmUser()
  await crm.sobject('CaseComment').create({ ParentId: ticket.crm_case_id!, CommentBody: 'Reset\u0000 your session \uD83D cookie.', IsPublished: true })
  await crm.sobject('CaseComment').create({ ParentId: ticket.crm_case_id!, CommentBody: '\u0000\u0001', IsPublished: true })
  const report = await env.poll()
  t.equal(report.replies, 1, 'the comment arrives')
  t.equal(report.failed, 0, 'nothing failed')
  const notes = await env.db.selectFrom('note').select(['body', 'kind']).where('ticket_id', '=', ticket.id).where('source', '=', 'crm').execute()
  t.same(notes, [{ body: 'Reset your session \uFFFD cookie.', kind: 'reply' }], 'cleaned: NUL removed, the broken surrogate replaced; a comment of nothing but controls is empty and skipped')
})

const MAIL = (subject: string, body: string) => Buffer.from([
  'From: Alice Walker <alice@acme.test>',
  'To: Casebridge <support@localhost>',
  `Subject: ${subject}`,
  'Date: Mon, 23 Nov 2026 10:21:00 +0000',
  'Message-ID: <nul-0001@acme.test>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=UTF-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  body,
  ''
].join('\r\n'))

t.test('a mail whose subject and body carry NUL opens a ticket, cleaned', async (t) => {
  const env = await testApp(t, { env: { MAIL_TOKEN_SECRET: 'test-mail-token-secret-0123456789abcdef' } })
  const deps: InboundDeps = {
    db: env.db, store: env.app.store, key: mailTokenKey(env.config), clock: () => new Date(), random: Math.random,
    log: pino({ level: 'silent' }),
    settings: { maxInboundBytes: 10 * 1024 * 1024, maxAttachmentBytes: 5 * 1024 * 1024, unknownSenderReply: false, inboundDesk: null, publicUrl: 'https://support.example.com', defaultLocale: 'en' }
  }
  const key = { mailbox: 'INBOX', uidValidity: '1', uid: 1 }
  const source = MAIL('=?UTF-8?Q?VPN=00_drops_every=01_hour?=', 'Since Monday=00 the VPN=\r\n disconnects=0B every hour.')
  const prepared = await prepareMessage(deps, key, { uid: 1, size: source.length, source })
  const outcome = await applyMessage(deps, key, prepared)
  t.match(outcome, { result: 'ticket' }, 'a ticket, not a quarantine')
  if (outcome.result !== 'ticket') return
  const ticket = await env.db.selectFrom('ticket').select(['title', 'description', 'source']).where('id', '=', outcome.ticketId!).executeTakeFirstOrThrow()
  t.same(ticket, { title: 'VPN drops every hour', description: 'Since Monday the VPN disconnects every hour.', source: 'email' })
})
