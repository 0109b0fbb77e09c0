// The whole loop with real servers: a client opens a ticket in the portal; the assignee's
// notification goes out over SMTP (smtp-server); the assignee answers it from a mail client and
// the answer is delivered into Dovecot over LMTP; the poller adds it as a staff reply; the
// client's notification goes out over SMTP; the note reaches the CRM emulator as a CaseComment.
import t from 'tap'
import pino from 'pino'
import { loginAs } from '../helpers/app.js'
import { startDovecot } from '../helpers/dovecot.js'
import { syncEnv, commentsOf } from '../sync/helpers.js'
import { startSmtpSink } from '../mail/smtp-sink.js'
import { drainMailOutbox, smtpTransport } from '../../src/mail/deliver.js'
import { mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { ImapPoller } from '../../sync/imap/poller.js'
import { createFileStore } from '../../src/db/file-store.js'
import { TOKEN_SECRET, MAILBOX_USER, waitFor } from './support.js'

t.test('portal ticket → SMTP notice → staff answers by mail → IMAP → staff reply → client notice → CaseComment', async (t) => {
  const dovecot = await startDovecot(t)
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const env = await syncEnv(t, {
    env: {
      MAIL_TOKEN_SECRET: TOKEN_SECRET, IMAP_URL: dovecot.url(MAILBOX_USER), SMTP_URL: sink.url,
      MAIL_FROM: 'Casebridge <support@localhost>', REPLY_TO_ADDRESS: 'support@localhost'
    }
  })
  const { app, db, ids, config } = env
  const transport = smtpTransport(sink.url)
  t.teardown(() => transport.close?.())
  const drainMail = () => drainMailOutbox({ db, settings: mailSettings(config), key: mailTokenKey(config), transport }, new Date())

  // 1. The client opens a ticket in the portal.
  const alice = await loginAs(app, 'alice@acme.test')
  const res = await alice.postMultipart('/portal/tickets', {
    product_id: String(ids.product['Casebridge Cloud']), priority: 'high', title: 'Dashboard shows no data',
    description: 'Since this morning the dashboard is empty.'
  }, [], { csrfFrom: '/portal/tickets/new' })
  t.equal(res.statusCode, 302)
  const number = Number(/\/portal\/tickets\/(\d+)$/.exec(res.headers.location as string)?.[1])
  const ticket = await db.selectFrom('ticket').innerJoin('staff', 'staff.id', 'ticket.assignee_id')
    .select(['ticket.id', 'ticket.number', 'staff.email as assignee_email', 'staff.name as assignee_name'])
    .where('ticket.number', '=', number).executeTakeFirstOrThrow()

  // 2. The assignee's notification arrives over SMTP.
  await drainMail()
  const notice = sink.received.find((m) => m.envelopeTo.includes(ticket.assignee_email) && (m.header('subject') ?? '').includes(`[#${number}]`))
  t.ok(notice, `the assignee ${ticket.assignee_email} is notified over SMTP`)
  if (!notice) return
  t.match(notice.header('subject') ?? '', `[#${number}]`)
  const replyTo = notice.header('reply-to')!
  const messageId = notice.header('message-id')!
  t.match(replyTo, /^support\+[a-z2-7]+@localhost$/, 'plus-addressed Reply-To')

  // 3. The assignee answers from a mail client; the MTA delivers it into the mailbox (LMTP).
  const answer = [
    `From: ${ticket.assignee_name} <${ticket.assignee_email}>`, `To: ${replyTo}`, `Subject: Re: ${notice.header('subject')}`,
    'Date: Mon, 23 Nov 2026 11:00:00 +0000', `Message-ID: <staff-answer-${number}@casebridge.test>`,
    `In-Reply-To: ${messageId}`, `References: ${messageId}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '',
    'We restarted the collector; the dashboard fills again within 10 minutes.', '',
    `On Mon, Nov 23, 2026 at 10:00 AM Casebridge <${replyTo}> wrote:`,
    ...notice.text.split('\n').map((l) => `> ${l}`), ''
  ].join('\r\n')
  await dovecot.deliver(answer, replyTo, ticket.assignee_email)

  // 4. The poller (IDLE) adds it to the ticket as a staff reply.
  const poller = new ImapPoller({ config, db, log: pino({ level: 'silent' }), store: createFileStore(config, db), backoff: { baseMs: 100, maxMs: 1000 } })
  t.teardown(() => poller.stop())
  poller.start()
  const note = await waitFor(() => db.selectFrom('note').selectAll().where('ticket_id', '=', ticket.id).where('source', '=', 'email').executeTakeFirst(), 15_000, 'the staff reply')
  t.equal(note.kind, 'reply')
  t.equal(note.visibility, 'public', 'a public staff reply')
  t.equal(note.author_name, ticket.assignee_name)
  t.equal(note.body, 'We restarted the collector; the dashboard fills again within 10 minutes.', 'quoted notification stripped')
  const page = await alice.get(`/portal/tickets/${number}`)
  t.match(page.body, 'We restarted the collector', 'the client sees the reply in the portal')

  // 5. The client gets the notification over SMTP.
  const before = sink.received.length
  await drainMail()
  const toClient = sink.received.slice(before).find((m) => m.envelopeTo.includes('alice@acme.test'))
  t.ok(toClient, 'the client is notified over SMTP')
  t.match(toClient?.text ?? '', 'We restarted the collector')

  // 6. The note is a CaseComment in the CRM emulator.
  await env.drainAll({ skipWaits: true })
  const synced = await db.selectFrom('ticket').select('crm_case_id').where('id', '=', ticket.id).executeTakeFirstOrThrow()
  t.ok(synced.crm_case_id, 'the ticket has its Case')
  const comments = await commentsOf(await env.reader(), synced.crm_case_id!)
  const comment = comments.find((c) => String(c.CommentBody).includes('We restarted the collector'))
  t.ok(comment, 'the mailed reply is a CaseComment')
  t.equal(comment?.IsPublished, true, 'published, as a public reply')
})
