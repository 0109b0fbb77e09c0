// Shared pieces of the IMAP tests: fixtures with live thread tokens, a poller wired to the
// test app's database, and waiting for conditions.
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import pino from 'pino'
import { testApp, type TestEnv } from '../helpers/app.js'
import { startDovecot, type Dovecot } from '../helpers/dovecot.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { messageIdFor, signToken, type RecipientKind } from '../../src/domain/thread-token.js'
import { ImapPoller, type ImapPollerOptions } from '../../sync/imap/poller.js'
import { ROOT } from '../helpers/root.js'

const FIXTURES = join(ROOT, 'test/fixtures/mail/')
export const TOKEN_SECRET = 'test-mail-token-secret-0123456789abcdef'
export const MAILBOX_USER = 'support@localhost'

interface Tap {
  teardown(fn: () => unknown): void
}

export interface ThreadVars {
  ticketId: number
  number: number
  noteId?: number
  recipient?: RecipientKind
}

/** A fixture with its placeholders filled: %TOKEN% (signed), %REF% (our Message-ID), %NUMBER%. */
export function fixture(name: string, env: TestEnv, vars: ThreadVars = { ticketId: 1, number: 1 }): string {
  const key = mailTokenKey(env.config)
  const token = signToken({ ticketId: vars.ticketId, noteId: vars.noteId ?? null, recipient: vars.recipient ?? 'requester' }, key)
  const ref = messageIdFor(token, 'n1', 'localhost')
  return readFileSync(FIXTURES + name, 'utf8').replaceAll('%TOKEN%', token).replaceAll('%REF%', ref).replaceAll('%NUMBER%', String(vars.number))
}

/** The raw bytes of a fixture whose charset is not UTF-8 (placeholders filled byte-wise). */
export function fixtureBytes(name: string, env: TestEnv, vars: ThreadVars = { ticketId: 1, number: 1 }): Buffer {
  const key = mailTokenKey(env.config)
  const token = signToken({ ticketId: vars.ticketId, noteId: vars.noteId ?? null, recipient: vars.recipient ?? 'requester' }, key)
  const ref = messageIdFor(token, 'n1', 'localhost')
  const text = readFileSync(FIXTURES + name).toString('latin1')
  return Buffer.from(text.replaceAll('%TOKEN%', token).replaceAll('%REF%', ref).replaceAll('%NUMBER%', String(vars.number)), 'latin1')
}

export interface MailEnv extends TestEnv {
  dovecot: Dovecot
  /** A poller on the support mailbox (not started); stopped on teardown. */
  poller(opts?: Partial<ImapPollerOptions>): ImapPoller
}

/** The test app (demo organisation) plus a Dovecot and the settings the poller reads. */
export async function mailEnv(t: Tap, env: Record<string, string> = {}, mailbox = 'INBOX'): Promise<MailEnv> {
  const dovecot = await startDovecot(t)
  const app = await testApp(t, { env: { MAIL_TOKEN_SECRET: TOKEN_SECRET, IMAP_URL: dovecot.url(MAILBOX_USER, mailbox), ...env } })
  const pollers: ImapPoller[] = []
  t.teardown(async () => {
    for (const p of pollers) await p.stop()
  })
  return {
    ...app,
    dovecot,
    poller(opts = {}) {
      const p = new ImapPoller({
        config: app.config, db: app.db, log: pino({ level: process.env.IMAP_TEST_LOG ?? 'silent' }),
        store: app.app.store, pollMs: 60_000, backoff: { baseMs: 100, maxMs: 1000 }, ...opts
      })
      pollers.push(p)
      return p
    }
  }
}

/** Waits until `check` returns something truthy (polling), or fails after `ms`. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value as T
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Outcome rows of the messages handled, by Message-ID. */
export async function outcomes(env: TestEnv) {
  const rows = await env.db.selectFrom('inbound_message')
    .leftJoin('mail_quarantine', 'mail_quarantine.id', 'inbound_message.quarantine_id')
    .select(['inbound_message.message_id', 'inbound_message.result', 'inbound_message.ticket_id', 'inbound_message.note_id', 'mail_quarantine.reason_code', 'mail_quarantine.reason_text'])
    .execute()
  return new Map(rows.map((r) => [r.message_id, r]))
}
