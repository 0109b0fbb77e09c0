// A real Dovecot (IMAP + LMTP) per test file: free ports, its own temp directories, stopped on
// teardown. Started through scripts/dovecot-start.sh, kept in the foreground in its own process
// group so that stopping it signals exactly that group.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { ImapFlow } from 'imapflow'
import { ROOT } from './root.js'

const SCRIPT = join(ROOT, 'scripts/dovecot-start.sh')
const PASSWORD = 'test-pass'

interface Tap {
  teardown(fn: () => unknown): void
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    const done = (ok: boolean) => {
      sock.destroy()
      resolve(ok)
    }
    sock.setTimeout(1000, () => done(false))
    sock.once('data', (d) => done(d.toString().startsWith('* OK')))
    sock.once('error', () => done(false))
  })
}

export class Dovecot {
  private child: ChildProcess | null = null
  readonly password = PASSWORD

  constructor(readonly dir: string, readonly imapPort: number, readonly lmtpPort: number) {}

  /** IMAP_URL for a user (any name works; its mailbox is created on first use). */
  url(user: string, mailbox = 'INBOX'): string {
    return `imap://${encodeURIComponent(user)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${this.imapPort}/${encodeURIComponent(mailbox)}`
  }

  async start(): Promise<void> {
    const child = spawn('bash', [SCRIPT, this.dir, String(this.imapPort), String(this.lmtpPort), PASSWORD], {
      env: { ...process.env, FOREGROUND: '1' }, detached: true, stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr?.on('data', (d) => { stderr += d })
    this.child = child
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`dovecot exited (${child.exitCode}): ${stderr}`)
      if (await greets(this.imapPort)) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`dovecot did not start on ${this.imapPort}: ${stderr}`)
  }

  async stop(): Promise<void> {
    const child = this.child
    this.child = null
    if (!child || child.exitCode !== null || child.pid === undefined) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      return
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, 5000)
    await exited
    clearTimeout(timer)
    // Its children (imap, lmtp) leave with the master; wait until the port is really free.
    const deadline = Date.now() + 5000
    while (Date.now() < deadline && (await greets(this.imapPort))) await new Promise((r) => setTimeout(r, 100))
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  /** Delivers a raw message over LMTP, as an MTA would (Dovecot adds Return-Path/Delivered-To). */
  async deliver(raw: string | Buffer, to: string, from = 'sender@example.test'): Promise<void> {
    const transport = nodemailer.createTransport({ lmtp: true, host: '127.0.0.1', port: this.lmtpPort } as never)
    try {
      await transport.sendMail({ envelope: { from, to: [to] }, raw })
    } finally {
      transport.close()
    }
  }

  /** A logged-in IMAP client for a user (the caller logs out). */
  async client(user: string): Promise<ImapFlow> {
    const client = new ImapFlow({ host: '127.0.0.1', port: this.imapPort, secure: false, auth: { user, pass: PASSWORD }, logger: false })
    client.on('error', () => undefined)
    await client.connect()
    return client
  }

  /** Appends raw messages to a mailbox byte for byte (headers exactly as written). */
  async append(user: string, mailbox: string, raws: (string | Buffer)[]): Promise<void> {
    const client = await this.client(user)
    try {
      const existing = new Set((await client.list()).map((m) => m.path))
      if (!existing.has(mailbox)) await client.mailboxCreate(mailbox).catch(() => undefined)
      for (const raw of raws) await client.append(mailbox, raw)
    } finally {
      await client.logout()
    }
  }

  /** How many messages each named folder holds. */
  async counts(user: string, folders: string[]): Promise<Record<string, number>> {
    const client = await this.client(user)
    const out: Record<string, number> = {}
    try {
      for (const f of folders) {
        const status = await client.status(f, { messages: true }).catch(() => null)
        out[f] = status ? (status.messages ?? 0) : 0
      }
    } finally {
      await client.logout()
    }
    return out
  }
}

/** Starts a Dovecot for this test file on free ports; it is stopped and removed on teardown. */
export async function startDovecot(t: Tap): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-dovecot-'))
  const dovecot = new Dovecot(dir, await freePort(), await freePort())
  await dovecot.start()
  t.teardown(async () => {
    await dovecot.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return dovecot
}
