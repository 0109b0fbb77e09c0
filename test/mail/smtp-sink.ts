// A real SMTP server (smtp-server) on a free port that keeps what it receives, for tests.
import { SMTPServer } from 'smtp-server'
import type { AddressInfo } from 'node:net'

export interface ReceivedMail {
  envelopeTo: string[]
  raw: string
  headers: Map<string, string[]>
  header(name: string): string | undefined
  text: string
  html: string
}

function parseHeaders(block: string): Map<string, string[]> {
  const headers = new Map<string, string[]>()
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()])
  }
  return headers
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '7bit').toLowerCase()
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (enc === 'quoted-printable') {
    const bytes = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1')
    return bytes.toString('utf8')
  }
  return body
}

/** The decoded text/plain and text/html parts of a (possibly multipart) message. */
function parts(headers: Map<string, string[]>, body: string): { text: string; html: string } {
  const type = headers.get('content-type')?.[0] ?? 'text/plain'
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1]
  if (!boundary) {
    const decoded = decodeBody(body, headers.get('content-transfer-encoding')?.[0])
    return type.startsWith('text/html') ? { text: '', html: decoded } : { text: decoded, html: '' }
  }
  const out = { text: '', html: '' }
  for (const chunk of body.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break
    const split = chunk.indexOf('\r\n\r\n')
    const inner = parts(parseHeaders(chunk.slice(0, split).trim()), chunk.slice(split + 4).replace(/\r\n$/, ''))
    out.text ||= inner.text
    out.html ||= inner.html
  }
  return out
}

export function parseMail(raw: string, envelopeTo: string[] = []): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n')
  const headers = parseHeaders(raw.slice(0, split))
  const { text, html } = parts(headers, raw.slice(split + 4))
  return { envelopeTo, raw, headers, header: (name) => headers.get(name.toLowerCase())?.[0], text: text.replace(/\r\n/g, '\n'), html }
}

export interface SmtpSink {
  port: number
  url: string
  received: ReceivedMail[]
  /** Recipients the server answers with 550 (a permanent refusal). */
  refuse: Set<string>
  /** While true, a received message is kept but not answered (the sender waits, as on a slow server). */
  hold: boolean
  close(): Promise<void>
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const received: ReceivedMail[] = []
  const refuse = new Set<string>()
  const state = { hold: false }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    // Senders keep pooled connections open: closing the sink ends them at once instead of waiting 30 s.
    closeTimeout: 200,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refuse.has(address.address.toLowerCase())) {
        const err = new Error('mailbox unavailable') as Error & { responseCode: number }
        err.responseCode = 550
        return callback(err)
      }
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        received.push(parseMail(Buffer.concat(chunks).toString('latin1'), session.envelope.rcptTo.map((r) => r.address)))
        if (!state.hold) callback()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as AddressInfo).port
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuse,
    get hold() { return state.hold },
    set hold(value: boolean) { state.hold = value },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** A port nothing listens on: connecting is refused at once. */
export async function closedPort(): Promise<number> {
  const sink = await startSmtpSink()
  await sink.close()
  return sink.port
}
