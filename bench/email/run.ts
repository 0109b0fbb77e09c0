// Incoming-mail throughput: N replies (default 10,000) waiting in a real Dovecot mailbox, taken
// in by the IMAP poller as notes. Prints messages/s, notes/s and peak memory.
//
//   npx tsx bench/email/run.ts [--messages 10000] [--keep]
//
// The replies are Gmail-style (text + quoted notification), each threaded by a signed token in
// In-Reply-To to one of the demo tickets, from that ticket's requester. Loading the mailbox
// (IMAP APPEND) is not measured; the clock runs from the poller's start until every message is
// decided and moved out of the inbox.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, cpus, totalmem, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { loadConfig } from '../../src/config.js'
import { createDb, migrateToLatest } from '../../src/db/index.js'
import { seedDemo } from '../../src/commands/demo.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { messageIdFor, replyAddressFor, signToken } from '../../src/domain/thread-token.js'
import { createFileStore } from '../../src/db/file-store.js'
import { ImapPoller } from '../../sync/imap/poller.js'
import { Dovecot, freePort } from '../../test/helpers/dovecot.js'

const { values } = parseArgs({ options: { messages: { type: 'string', default: '10000' }, keep: { type: 'boolean', default: false } } })
const total = Number(values.messages)
const USER = 'support@localhost'

function reply(i: number, ticket: { id: number; number: number; title: string; email: string; name: string }, key: Uint8Array): string {
  const token = signToken({ ticketId: ticket.id, recipient: 'requester' }, key)
  const ref = messageIdFor(token, `n${i}`, 'localhost')
  return [
    `From: ${ticket.name} <${ticket.email}>`, `To: Casebridge <${replyAddressFor('support@localhost', token)}>`,
    `Subject: Re: [#${ticket.number}] ${ticket.title}`, 'Date: Mon, 23 Nov 2026 10:15:00 +0000',
    `Message-ID: <bench-${i}@mail.example.test>`, `In-Reply-To: ${ref}`, `References: ${ref}`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '',
    `Update ${i}: the problem happened again at ${10 + (i % 8)}:${String(i % 60).padStart(2, '0')}, see the log below.`,
    'Nothing else changed on our side.', '',
    `On Mon, Nov 23, 2026 at 10:00 AM Casebridge <support@localhost> wrote:`,
    '> ##- Please type your reply above this line -##', '>', `> Ticket #${ticket.number}: ${ticket.title}`, '>',
    '> Ana Souza replied on ticket:', '>', '> Thanks, we are looking into it. Which browser do you use?', '>',
    `> Reference: [cb-ref:${token}]`, ''
  ].join('\r\n')
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-bench-email-'))
  const dovecot = new Dovecot(join(dir, 'dovecot'), await freePort(), await freePort())
  await dovecot.start()
  const config = loadConfig({ DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent', MAIL_TOKEN_SECRET: 'bench-mail-token-secret-0123456789abcdef', IMAP_URL: dovecot.url(USER) })
  const db = await createDb(config.databaseUrl)
  try {
    await migrateToLatest(db)
    await seedDemo(db)
    const key = mailTokenKey(config)
    const tickets = await db.selectFrom('ticket').innerJoin('contact', 'contact.id', 'ticket.contact_id')
      .select(['ticket.id', 'ticket.number', 'ticket.title', 'contact.email', 'contact.name']).orderBy('ticket.id').execute()

    const loadStart = Date.now()
    const client = await dovecot.client(USER)
    for (let i = 0; i < total; i++) await client.append('INBOX', reply(i, tickets[i % tickets.length], key))
    await client.logout()
    const loadSeconds = (Date.now() - loadStart) / 1000

    let peakRss = 0
    let peakHeap = 0
    const sample = () => {
      const m = process.memoryUsage()
      peakRss = Math.max(peakRss, m.rss)
      peakHeap = Math.max(peakHeap, m.heapUsed)
    }
    sample()
    const baseRss = peakRss
    const sampler = setInterval(sample, 50)
    const poller = new ImapPoller({ config, db, log: pino({ level: 'silent' }), store: createFileStore(config, db) })
    const start = process.hrtime.bigint()
    const cpuStart = process.cpuUsage()
    poller.start()
    for (;;) {
      const row = await db.selectFrom('inbound_message').select((eb) => eb.fn.countAll<number>().as('n')).where('moved_at', 'is not', null).executeTakeFirstOrThrow()
      if (Number(row.n) >= total) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    const cpu = process.cpuUsage(cpuStart)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    clearInterval(sampler)
    sample()
    await poller.stop()

    const notes = await db.selectFrom('note').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', 'email').executeTakeFirstOrThrow()
    const counts = await dovecot.counts(USER, ['INBOX', 'Casebridge/Processed', 'Casebridge/Quarantine'])
    const mb = (n: number) => (n / 1048576).toFixed(0)
    const result = {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mb(totalmem())} MB RAM, Node ${process.version}`,
      messages: total,
      notes: Number(notes.n),
      seconds: Number(seconds.toFixed(2)),
      messagesPerSecond: Number((total / seconds).toFixed(1)),
      notesPerSecond: Number((Number(notes.n) / seconds).toFixed(1)),
      // Our process's CPU time: the figure that does not depend on what else the machine runs.
      cpuSeconds: Number(cpuSeconds.toFixed(2)),
      messagesPerCpuSecond: Number((total / cpuSeconds).toFixed(1)),
      loadAverage: loadavg().map((l) => Number(l.toFixed(1))),
      peakRssMb: Number(mb(peakRss)),
      rssAtStartMb: Number(mb(baseRss)),
      peakHeapMb: Number(mb(peakHeap)),
      mailboxAfter: counts,
      loadSeconds: Number(loadSeconds.toFixed(1))
    }
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } finally {
    await db.destroy()
    await dovecot.stop()
    if (!values.keep) rmSync(dir, { recursive: true, force: true })
  }
}

await main()
