// How many live pages one web process holds, and what each costs: CONNECTIONS Server-Sent Events
// streams (half on ticket pages, each with its presence row; half on queues) held open against one
// process (bench/live/server.ts, SQLite, the web role alone), with
//   - memory per stream (RSS and JavaScript heap, after garbage collection, before and after),
//   - the time to open them all,
//   - how long a reply takes to reach the pages open on its ticket, and a new ticket to reach
//     every queue (the queue waits 1 s to gather changes, by design),
//   - the CPU the process spends holding them idle (the SQLite feed reads every 250 ms),
//   - and that closing them leaves no stream, listener or presence row behind.
//
//   npx tsx bench/live/sse.ts [--connections 500]
import { spawn } from 'node:child_process'
import http from 'node:http'
import { createInterface } from 'node:readline'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { DEMO_PASSWORDS } from '../../src/commands/demo.js'
import { STREAMS_PER_PERSON } from '../../src/routes/live-stream.js'
import { login } from '../portal/seeded.js'

const { values } = parseArgs({ options: { connections: { type: 'string', default: '500' } } })
const CONNECTIONS = Number(values.connections)
const PEOPLE = Math.ceil(CONNECTIONS / STREAMS_PER_PERSON)

interface Stream { got: (name: string) => Promise<number>; close: () => void }

function openStream(base: string, path: string, cookie: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const waiting = new Map<string, ((at: number) => void)[]>()
    const req = http.get(`${base}${path}`, { headers: { cookie, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`${path}: ${res.statusCode}`))
      let buffer = ''
      let opened = false
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let at
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at)
          buffer = buffer.slice(at + 2)
          const name = /^event: (.+)$/m.exec(block)?.[1]
          if (!name) continue
          if (name === 'hello' && !opened) {
            opened = true
            resolve(stream)
          }
          const now = performance.now()
          for (const fn of waiting.get(name)?.splice(0) ?? []) fn(now)
        }
      })
    })
    req.on('error', (err) => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    const stream: Stream = {
      got: (name) => new Promise((ok) => { waiting.set(name, [...(waiting.get(name) ?? []), ok]) }),
      close: () => req.destroy()
    }
  })
}


function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

async function main() {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/live/server.ts'], {
    env: { ...process.env, PEOPLE: String(PEOPLE) }, stdio: ['pipe', 'pipe', 'inherit']
  })
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const ask = async (what: string) => {
    child.stdin!.write(`${what}\n`)
    return JSON.parse((await lines.next()).value as string)
  }
  const ready = JSON.parse((await lines.next()).value as string) as { port: number; numbers: number[] }
  const base = `http://127.0.0.1:${ready.port}`
  const cookies: string[] = []
  for (let i = 1; i <= PEOPLE; i++) cookies.push(await login(base, `bench${i}@casebridge.test`, DEMO_PASSWORDS.staff))
  const writer = await login(base, 'bruno@casebridge.test', DEMO_PASSWORDS.staff)

  // Warm up (the code paths' first use allocates once), then let the logins' hashing memory go.
  const warm = await Promise.all(Array.from({ length: 20 }, (_, i) => openStream(base, i % 2 ? '/desk/live' : `/desk/tickets/${ready.numbers[i]}/live`, cookies[0])))
  for (const s of warm) s.close()
  await new Promise((r) => setTimeout(r, 3_000))
  await ask('mem')
  const before = await ask('mem')
  const started = performance.now()
  const streams: { stream: Stream; ticket: number | null }[] = []
  const opening: Promise<void>[] = []
  for (let i = 0; i < CONNECTIONS; i++) {
    const cookie = cookies[i % PEOPLE]
    const ticket = i % 2 === 0 ? ready.numbers[(i / 2) % ready.numbers.length] : null
    opening.push(openStream(base, ticket === null ? '/desk/live' : `/desk/tickets/${ticket}/live`, cookie).then((stream) => { streams.push({ stream, ticket }) }))
    // Browsers open pages over time, not all in one instant: 50 at a time.
    if (opening.length % 50 === 0) await Promise.all(opening.slice(-50))
  }
  await Promise.all(opening)
  const openMs = performance.now() - started
  await new Promise((r) => setTimeout(r, 2_000))
  const after = await ask('mem')
  const stats = await ask('stats')

  // Idle: what holding them costs.
  const cpu0 = await ask('cpu')
  const idle0 = performance.now()
  await new Promise((r) => setTimeout(r, 10_000))
  const cpu1 = await ask('cpu')
  const idlePct = ((cpu1.micros - cpu0.micros) / 1000) / (performance.now() - idle0) * 100

  // A reply on one ticket: the pages open on it hear it.
  const target = ready.numbers[0]
  const watchers = streams.filter((s) => s.ticket === target)
  const page = await fetch(`${base}/desk/tickets/${target}`, { headers: { cookie: writer } })
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]
  const heard = watchers.map((s) => s.stream.got('changed'))
  const form = new FormData()
  form.append('_csrf', csrf)
  form.append('mode', 'internal')
  form.append('body', 'Bench note')
  const sent = performance.now()
  const posted = await fetch(`${base}/desk/tickets/${target}/notes`, { method: 'POST', body: form, headers: { cookie: writer }, redirect: 'manual' })
  if (posted.status !== 302) throw new Error(`reply: ${posted.status}`)
  const committed = performance.now()
  const ticketLatency = (await Promise.all(heard)).map((at) => at - committed)

  // A change on the desk: every queue hears it (after its 1 s gathering; the reply's own gathering over first).
  await new Promise((r) => setTimeout(r, 2_000))
  const queues = streams.filter((s) => s.ticket === null)
  const queueHeard = queues.map((s) => s.stream.got('queue'))
  const page2 = await fetch(`${base}/desk/tickets/${ready.numbers[1]}`, { headers: { cookie: writer } })
  const form2 = new FormData()
  form2.append('_csrf', /name="_csrf" value="([^"]+)"/.exec(await page2.text())![1])
  form2.append('mode', 'internal')
  form2.append('body', 'Bench note 2')
  await fetch(`${base}/desk/tickets/${ready.numbers[1]}/notes`, { method: 'POST', body: form2, headers: { cookie: writer }, redirect: 'manual' })
  const committed2 = performance.now()
  const queueLatency = (await Promise.all(queueHeard)).map((at) => at - committed2)

  for (const s of streams) s.stream.close()
  await new Promise((r) => setTimeout(r, 2_000))
  const closed = await ask('stats')
  await ask('mem').catch(() => null)
  child.stdin!.write('quit\n')

  const n = streams.length
  const out = {
    connections: n,
    people: PEOPLE,
    openSeconds: +(openMs / 1000).toFixed(2),
    rssMb: { before: +mb(before.rss), after: +mb(after.rss) },
    heapMb: { before: +mb(before.heapUsed), after: +mb(after.heapUsed) },
    perConnectionKb: { rss: +((after.rss - before.rss) / n / 1024).toFixed(1), heap: +((after.heapUsed - before.heapUsed) / n / 1024).toFixed(1) },
    open: stats,
    idleCpuPercent: +idlePct.toFixed(2),
    replyToTicketPagesMs: { pages: ticketLatency.length, median: +median(ticketLatency).toFixed(0), max: +Math.max(...ticketLatency).toFixed(0), postMs: +(committed - sent).toFixed(0) },
    changeToQueuesMs: { pages: queueLatency.length, median: +median(queueLatency).toFixed(0), max: +Math.max(...queueLatency).toFixed(0) },
    afterClose: closed,
    machine: `${cpus().length} × ${cpus()[0].model}`,
    loadavg: loadavg().map((l) => +l.toFixed(2)),
    node: process.version
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
