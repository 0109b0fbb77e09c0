// Table tests of the poller's pure decisions, without a network.
import t from 'tap'
import { classifyAutomated } from '../../sync/imap/classify.js'
import { chooseThread, isParticipant, subjectTicketNumber, titleFromSubject, type ThreadInput } from '../../sync/imap/threading.js'
import { fetchBatches, hasUidValidityChanged, parseImapUrl, pendingUids, reconnectDelayMs, resumeFrom, uidSet } from '../../sync/imap/state.js'
import { htmlToSafeText, internalMarker, ourSender, stripQuotedReply } from '../../sync/imap/content.js'
import { dedupeMessageId, mayAnswerUnknownSender } from '../../sync/imap/process.js'
import { bodyMarker, messageIdFor, replyAddressFor, signToken, verifyToken } from '../../src/domain/thread-token.js'

t.test('classifyAutomated', async (t) => {
  const cases: { name: string; headers?: Record<string, string>; from?: string; subject?: string; type?: string; want: string | null }[] = [
    { name: 'a plain reply', want: null },
    { name: 'Auto-Submitted: no is a person', headers: { 'auto-submitted': 'no' }, want: null },
    { name: 'Auto-Submitted: auto-replied', headers: { 'auto-submitted': 'auto-replied' }, want: 'auto_reply' },
    { name: 'Auto-Submitted: auto-generated', headers: { 'auto-submitted': 'auto-generated' }, want: 'auto_reply' },
    { name: 'X-Autoreply', headers: { 'x-autoreply': 'yes' }, want: 'auto_reply' },
    { name: 'X-Autorespond', headers: { 'x-autorespond': 'on' }, want: 'auto_reply' },
    { name: 'Precedence: bulk', headers: { precedence: 'bulk' }, want: 'auto_reply' },
    { name: 'Precedence: junk', headers: { precedence: 'junk' }, want: 'auto_reply' },
    { name: 'Precedence: list', headers: { precedence: 'list' }, want: 'list' },
    { name: 'Precedence: first-class is a person', headers: { precedence: 'first-class' }, want: null },
    { name: 'Out of Office subject', subject: 'Out of Office: [#4] Printer', want: 'auto_reply' },
    { name: 'Automatic reply subject (Outlook)', subject: 'Automatic reply: [#4] Printer', want: 'auto_reply' },
    { name: 'Resposta automática', subject: 'Resposta automática: [#4] Impressora', want: 'auto_reply' },
    { name: 'a subject that merely mentions office', subject: 'Re: [#4] Printer in the office', want: null },
    { name: 'Exchange OOF', headers: { 'x-auto-response-type': 'OOF' }, want: 'auto_reply' },
    { name: 'multipart/report', type: 'multipart/report; report-type=delivery-status; boundary=x', want: 'bounce' },
    { name: 'MAILER-DAEMON', from: 'MAILER-DAEMON@mx.example.test', want: 'bounce' },
    { name: 'postmaster', from: 'postmaster@mx.example.test', want: 'bounce' },
    { name: 'empty Return-Path', headers: { 'return-path': '<>' }, want: 'bounce' },
    { name: 'a normal Return-Path', headers: { 'return-path': '<alice@acme.test>' }, want: null },
    { name: 'bounce beats auto-submitted', headers: { 'auto-submitted': 'auto-replied', 'return-path': '<>' }, want: 'bounce' },
    { name: 'List-Id', headers: { 'list-id': '<it.lists.acme.test>' }, want: 'list' },
    { name: 'List-Unsubscribe', headers: { 'list-unsubscribe': '<mailto:x@y>' }, want: 'list' }
  ]
  for (const c of cases) {
    const got = classifyAutomated({
      headers: new Map(Object.entries(c.headers ?? {})), from: c.from ?? 'alice@acme.test',
      subject: c.subject ?? 'Re: [#4] Printer', contentType: c.type ?? 'text/plain; charset=utf-8'
    })
    t.equal(got?.kind ?? null, c.want, c.name)
  }
})

t.test('chooseThread follows the order and refuses forged tokens', async (t) => {
  const key = Buffer.alloc(32, 7)
  const other = Buffer.alloc(32, 9)
  const verify = (token: string) => verifyToken(token, key)
  const tok = (ticketId: number, k = key) => signToken({ ticketId }, k)
  const ref = (ticketId: number, k = key) => messageIdFor(tok(ticketId, k), 'x', 'localhost')
  const tampered = (() => {
    const good = tok(5)
    return good.slice(0, -1) + (good.endsWith('a') ? 'b' : 'a')
  })()
  const base: ThreadInput = { inReplyTo: null, references: null, recipients: ['support@localhost'], text: 'hello', subject: 'Re: hi' }
  const cases: { name: string; input: Partial<ThreadInput>; want: string }[] = [
    { name: 'nothing', input: {}, want: 'none' },
    { name: 'In-Reply-To token', input: { inReplyTo: ref(5) }, want: 'token:references:5' },
    { name: 'References: the newest genuine token wins', input: { references: `<a@b> ${ref(3)} ${ref(5)}` }, want: 'token:references:5' },
    { name: 'references beat the plus address', input: { inReplyTo: ref(5), recipients: [replyAddressFor('support@localhost', tok(6))] }, want: 'token:references:5' },
    { name: 'plus address', input: { recipients: ['x@y', `Support <${replyAddressFor('support@localhost', tok(6))}>`] }, want: 'token:address:6' },
    { name: 'plus address beats the body marker', input: { recipients: [replyAddressFor('support@localhost', tok(6))], text: bodyMarker(tok(7)) }, want: 'token:address:6' },
    { name: 'body marker', input: { text: `> ${bodyMarker(tok(7))}` }, want: 'token:body:7' },
    { name: 'subject only', input: { subject: 'Re: [#42] Printer' }, want: 'subject:42' },
    { name: 'a token beats the subject', input: { subject: 'Re: [#42] Printer', text: bodyMarker(tok(7)) }, want: 'token:body:7' },
    { name: 'a tampered token', input: { inReplyTo: messageIdFor(tampered, 'x', 'localhost') }, want: 'forged:references' },
    { name: 'a token signed with another key', input: { inReplyTo: ref(5, other) }, want: 'forged:references' },
    { name: 'a forged reference is not rescued by a genuine plus address', input: { inReplyTo: ref(5, other), recipients: [replyAddressFor('support@localhost', tok(6))] }, want: 'forged:references' },
    { name: 'a forged plus address', input: { recipients: [replyAddressFor('support@localhost', tok(6, other))] }, want: 'forged:address' },
    { name: 'a foreign Message-ID is no token', input: { inReplyTo: '<CAF00@mail.gmail.com>' }, want: 'none' }
  ]
  for (const c of cases) {
    const got = chooseThread({ ...base, ...c.input }, verify)
    const text = got.kind === 'token' ? `token:${got.source}:${got.claims.ticketId}` : got.kind === 'forged' ? `forged:${got.source}` : got.kind === 'subject' ? `subject:${got.number}` : 'none'
    t.equal(text, c.want, c.name)
  }
})

t.test('subject numbers, titles and participation', async (t) => {
  t.equal(subjectTicketNumber('Re: [#42] Printer'), 42)
  t.equal(subjectTicketNumber('Re: #42 Printer'), null)
  t.equal(subjectTicketNumber(null), null)
  t.equal(titleFromSubject('RE: Fwd: [#42] Printer jams'), 'Printer jams')
  t.equal(titleFromSubject('Res: Enc: Impressora'), 'Impressora')
  t.equal(titleFromSubject('Report: Q3'), 'Report: Q3')
  const p = { requesterContactId: 1, assigneeStaffId: 9, noteAuthors: [{ contactId: 2, staffId: null }, { contactId: null, staffId: 8 }] }
  t.ok(isParticipant({ kind: 'contact', id: 1 }, p), 'requester')
  t.ok(isParticipant({ kind: 'contact', id: 2 }, p), 'a contact who wrote on it')
  t.notOk(isParticipant({ kind: 'contact', id: 3 }, p), 'another contact')
  t.ok(isParticipant({ kind: 'staff', id: 9 }, p), 'assignee')
  t.ok(isParticipant({ kind: 'staff', id: 8 }, p), 'staff who wrote on it')
  t.notOk(isParticipant({ kind: 'staff', id: 1 }, p), 'staff with the requester’s id')
})

t.test('mailbox state decisions', async (t) => {
  t.equal(hasUidValidityChanged(undefined, 5n), false, 'first run: nothing to compare')
  t.equal(hasUidValidityChanged({ uidValidity: '5', nextUid: 9 }, 5n), false)
  t.equal(hasUidValidityChanged({ uidValidity: '5', nextUid: 9 }, 6n), true)
  t.equal(hasUidValidityChanged({ uidValidity: '18446744073709551615', nextUid: 1 }, 18446744073709551615n), false, '64-bit values compare as text')
  t.equal(resumeFrom(undefined, 5n), 1)
  t.equal(resumeFrom({ uidValidity: '5', nextUid: 9 }, 5n), 9)
  t.equal(resumeFrom({ uidValidity: '5', nextUid: 9 }, 7n), 1, 'a new UIDVALIDITY starts over')
  t.same(pendingUids([8, 3, 9, 9, 12], 9), [9, 12], 'N:* may return one below N')
  t.same(fetchBatches([{ uid: 1, size: 10 }, { uid: 2, size: 10 }, { uid: 3, size: 10 }], 2, 100), [[1, 2], [3]])
  t.same(fetchBatches([{ uid: 1, size: 60 }, { uid: 2, size: 60 }, { uid: 3, size: 10 }], 10, 100), [[1], [2, 3]], 'bounded by bytes')
  t.equal(uidSet([5, 1, 2, 3, 9, 10]), '1:3,5,9:10')
  const delays = [1, 2, 3, 4, 10].map((a) => reconnectDelayMs(a, { baseMs: 1000, maxMs: 60_000 }, () => 1))
  t.same(delays, [1000, 2000, 4000, 8000, 60_000], 'exponential, capped')
  t.equal(reconnectDelayMs(3, { baseMs: 1000, maxMs: 60_000 }, () => 0), 2000, 'jitter keeps at least half')
  const target = parseImapUrl('imap://support%40acme.test:p%40ss@127.0.0.1:1143/Support%2FIn')
  t.same({ ...target }, { secure: false, host: '127.0.0.1', port: 1143, user: 'support@acme.test', pass: 'p@ss', mailbox: 'Support/In', key: 'support@acme.test@127.0.0.1:1143/Support/In' })
  t.equal(parseImapUrl('imaps://u:p@mail.example.test').port, 993)
  t.equal(parseImapUrl('imaps://u:p@mail.example.test').mailbox, 'INBOX')
  t.throws(() => parseImapUrl('http://u:p@x/INBOX'))
})

t.test('stripQuotedReply per client', async (t) => {
  // Who sends our notifications, as the poller passes it from MAIL_FROM and REPLY_TO_ADDRESS.
  const OURS = ourSender('Casebridge <support@x>', 'support@x')
  const q = '> Ticket #1: Printer\n> Reference: [cb-ref:abcdefghijklmnop]'
  const cases: { name: string; text: string; want: string }[] = [
    { name: 'Gmail', text: `Fine now.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Casebridge <support@x> wrote:\n\n${q}`, want: 'Fine now.' },
    { name: 'Gmail, wrapped attribution', text: `Fine now.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Casebridge <support+abc@x>\nwrote:\n\n${q}`, want: 'Fine now.' },
    { name: 'Outlook with separator', text: 'Fine now.\n\n-----Original Message-----\nFrom: Casebridge <support@x>\nSent: Monday\n\nTicket #1', want: 'Fine now.' },
    { name: 'Outlook with underscores', text: 'Fine now.\n\n________________________________\nFrom: Casebridge <support@x>\nSent: Monday\n\nTicket #1', want: 'Fine now.' },
    { name: 'Outlook without separator', text: 'Fine now.\n\nFrom: Casebridge Support\nSent: Monday, November 23, 2026 10:00\nTo: Alice\n\nTicket #1', want: 'Fine now.' },
    { name: 'Outlook in Portuguese', text: 'Resolvido.\n\nDe: Casebridge <support@x>\nEnviado: segunda-feira\nPara: Alice\n\nChamado #1', want: 'Resolvido.' },
    { name: 'Apple Mail', text: `Fine now.\n\n> On 23 Nov 2026, at 10:00, Casebridge <support@x> wrote:\n>\n${q}`, want: 'Fine now.' },
    { name: 'Thunderbird with signature', text: `Fine now.\n\n-- \nAlice Walker\nAcme\n\nOn 23/11/2026 10:00, Casebridge wrote:\n${q}`, want: 'Fine now.' },
    { name: 'iPhone', text: `Fine now.\n\nSent from my iPhone\n\n> On Nov 23, 2026, at 10:00, Casebridge <support@x> wrote:\n${q}`, want: 'Fine now.' },
    { name: 'Android (Samsung)', text: 'Fine now.\n\nSent from my Galaxy\n\n-------- Original message --------\nFrom: Casebridge <support@x>\n', want: 'Fine now.' },
    { name: 'Portuguese Gmail', text: `Resolvido, obrigado.\n\nEm seg., 23 de nov. de 2026 às 10:00, Casebridge <support@x>\nescreveu:\n\n${q}`, want: 'Resolvido, obrigado.' },
    { name: 'Portuguese iPhone', text: `Resolvido.\n\nEnviado do meu iPhone\n\nEm 23 de nov. de 2026, às 10:00, Casebridge <support@x> escreveu:\n${q}`, want: 'Resolvido.' },
    { name: 'our reply-above banner', text: 'Fine now.\n\n##- Please type your reply above this line -##\nTicket #1', want: 'Fine now.' },
    { name: 'our banner in Portuguese', text: 'Resolvido.\n\n##- Digite sua resposta acima desta linha -##\nChamado #1', want: 'Resolvido.' },
    { name: 'no quote at all', text: 'Just this.\nTwo lines.', want: 'Just this.\nTwo lines.' },
    { name: 'a quote that is not ours stays', text: '> quoted only', want: '> quoted only' },
    { name: 'CRLF and a stray marker', text: 'Fine now. [cb-ref:abcdefghijklmnop]\r\n', want: 'Fine now.' },
    {
      name: 'answers between quoted lines keep the line they answer',
      text: `Hi,\n\nOn Mon, Casebridge <support@x> wrote:\n> ##- Please type your reply above this line -##\n>\n> Which browser?\n\nFirefox.\n\n> Since when?\nMonday.\n>\n${q}\n\nAlice`,
      want: 'Hi,\n\n> Which browser?\n\nFirefox.\n\n> Since when?\n\nMonday.\n\nAlice'
    },
    { name: 'written below the quote', text: `On Mon, Casebridge <support@x> wrote:\n${q}\n\nFine now.\n\n-- \nAlice`, want: 'Fine now.' },
    {
      name: 'a forward keeps its header',
      text: 'See below.\n\n---------- Forwarded message ---------\nFrom: Vendor <v@vendor.test>\nDate: Mon, Nov 23, 2026\nSubject: Declined\n\nCard declined.',
      want: 'See below.\n\n---------- Forwarded message ---------\nFrom: Vendor <v@vendor.test>\nDate: Mon, Nov 23, 2026\nSubject: Declined\n\nCard declined.'
    },
    {
      name: 'a disclaimer and a print line go, the sign-off stays',
      text: 'Fine now.\n\nKind regards,\nAna\n\nThis e-mail is confidential and intended only for the addressee. If you received it in error, delete it.\n\nPlease consider the environment before printing this e-mail.',
      want: 'Fine now.\n\nKind regards,\nAna'
    },
    { name: 'a word about confidentiality in the middle stays', text: 'Keep the report confidential, it is intended for the auditors only.\n\nThanks', want: 'Keep the report confidential, it is intended for the auditors only.\n\nThanks' },
    { name: 'image placeholders go', text: 'See:\n[image: image.png]\nIt fails. [cid:image001.png@01DB3D5A.7F1E2B30]', want: 'See:\nIt fails.' },
    { name: 'nothing but our quote is nothing', text: `On Mon, Casebridge <support@x> wrote:\n${q}`, want: '' },
    { name: '"On ... wrote:" of someone else stays', text: 'On Monday the vendor wrote:\nCard declined.\n\nIs it related?', want: 'On Monday the vendor wrote:\nCard declined.\n\nIs it related?' }
  ]
  for (const c of cases) t.equal(stripQuotedReply(c.text, OURS), c.want, c.name)
  t.equal(stripQuotedReply('Fine.\n\nOn 23/11/2026 10:00, Casebridge wrote:\n> Which browser?'), 'Fine.\n\nOn 23/11/2026 10:00, Casebridge wrote:\n> Which browser?', 'a trimmed quote is ours only when its header names our sender')
  t.equal(stripQuotedReply('Fine.\n\nOn 23/11/2026 10:00, Casebridge wrote:\n> Which browser?', OURS), 'Fine.', 'named: dropped')
})

t.test('answers typed into a quote without ">" are told apart by what we sent', async (t) => {
  const text = 'Hi Ana,\n\nFrom: Casebridge <support@x>\nSent: Monday\nTo: Alice\nSubject: [#1] Printer\n\n##- Please type your reply above this line -##\n\nTicket #1: Printer\n\nAna Souza replied to your ticket:\n\nWhich tray?\nTRAY 2\n\nView ticket #1: https://x.test/portal/tickets/1\n\nReference: [cb-ref:abcdefghijklmnop]'
  t.equal(stripQuotedReply(text, { ...ourSender('Casebridge <support@x>', null), texts: ['Which tray?'] }), 'Hi Ana,\n\n> Which tray?\n\nTRAY 2')
  t.equal(stripQuotedReply(text, ourSender('Casebridge <support@x>', null)), 'Hi Ana,', 'without what we sent, the quote goes whole')
  const wrapped = text.replace('Which tray?', 'Which tray do you print from when the paper jams in the\nduplex unit?')
  t.equal(stripQuotedReply(wrapped, { texts: ['Which tray do you print from when the paper jams in the duplex unit?'] }),
    'Hi Ana,\n\n> Which tray do you print from when the paper jams in the\n> duplex unit?\n\nTRAY 2', 'a line the client rewrapped is still ours')
  t.same(ourSender('"Example Support" <help@example.test>', 'help@example.test'), { names: ['Example Support'], addresses: ['help@example.test'] })
  t.same(ourSender('help@example.test', undefined), { names: [], addresses: ['help@example.test'] })
})

t.test('htmlToSafeText and #internal', async (t) => {
  const html = '<html><head><style>p{}</style><script>alert(1)</script></head><body><p>Hi <b>there</b> &amp; <a href="https://x.test/a">link</a></p><img src="x" onerror="alert(2)"><div class="gmail_quote">On Mon, Casebridge wrote:<blockquote>old<div style="white-space:pre-wrap">two\nlines</div></blockquote></div></body></html>'
  const text = htmlToSafeText(html)
  t.equal(text, 'Hi there & link [https://x.test/a]\n\nOn Mon, Casebridge wrote:\n\n> old\n>\n> two\n> lines', 'the whole text: scripts, styles and images gone, quotes marked, CSS line breaks kept')
  t.equal(stripQuotedReply(text, { names: ['Casebridge'] }), 'Hi there & link [https://x.test/a]')
  t.same(internalMarker('#internal\nSecret note'), { internal: true, body: 'Secret note' })
  t.same(internalMarker('  #INTERNAL  \n\nSecret'), { internal: true, body: 'Secret' })
  t.same(internalMarker('Public #internal later'), { internal: false, body: 'Public #internal later' })
})

t.test('unknown-sender answers and message ids', async (t) => {
  const now = new Date('2026-11-23T12:00:00Z')
  t.equal(mayAnswerUnknownSender(null, now), true, 'never answered')
  t.equal(mayAnswerUnknownSender('2026-11-23T08:00:00Z', now), false, 'answered today')
  t.equal(mayAnswerUnknownSender('2026-11-22T11:00:00Z', now), true, 'answered yesterday')
  const key = { mailbox: 'm', uidValidity: '1', uid: 7 }
  t.equal(dedupeMessageId(' <a@b> ', null, key), '<a@b>')
  t.match(dedupeMessageId(null, Buffer.from('x'), key), /^<sha256\.[0-9a-f]{64}@casebridge\.invalid>$/, 'derived from the bytes')
  t.equal(dedupeMessageId(null, Buffer.from('x'), key), dedupeMessageId('', Buffer.from('x'), { ...key, uid: 8 }), 'the same bytes dedupe across UIDs')
})
