// A Server-Sent Events client for tests: opens a stream on a listening app with an agent's
// cookies and collects its events; `next` waits for the next event of a name.
import http from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Agent } from './app.js'

export interface SseEvent {
  event: string
  data: any
}

export interface SseStream {
  status: number
  events: SseEvent[]
  /** Resolves with the next event named `name` not yet taken (or rejects after `ms`). */
  next(name: string, ms?: number): Promise<SseEvent>
  /** True when no event named `name` arrives within `ms`. */
  none(name: string, ms: number): Promise<boolean>
  close(): void
  closed: Promise<void>
}

/** The app listening on a free port (closed with the app). */
export async function listening(app: FastifyInstance): Promise<string> {
  const address = app.server.address()
  if (address && typeof address === 'object') return `http://127.0.0.1:${address.port}`
  await app.listen({ port: 0, host: '127.0.0.1' })
  const a = app.server.address()
  if (!a || typeof a !== 'object') throw new Error('not listening')
  return `http://127.0.0.1:${a.port}`
}

export async function openSse(base: string, path: string, agent: Agent): Promise<SseStream> {
  const cookie = [...agent.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ')
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      const events: SseEvent[] = []
      let taken = 0
      const waiters: (() => void)[] = []
      let buffer = ''
      let ended: () => void
      const closed = new Promise<void>((r) => { ended = r })
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let at
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at)
          buffer = buffer.slice(at + 2)
          let event = 'message'
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data.push(line.slice(6))
          }
          if (data.length === 0) continue
          const text = data.join('\n')
          let parsed: unknown = text
          try { parsed = JSON.parse(text) } catch { /* plain text */ }
          events.push({ event, data: parsed })
          for (const w of waiters.splice(0)) w()
        }
      })
      res.on('end', () => { ended(); for (const w of waiters.splice(0)) w() })
      res.on('close', () => { ended(); for (const w of waiters.splice(0)) w() })
      void taken
      const consumed = new Set<number>()
      const find = (name: string) => events.findIndex((e, i) => e.event === name && !consumed.has(i))
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        events,
        next(name, ms = 5_000) {
          return new Promise((ok, fail) => {
            let waiting = true
            const timer = setTimeout(() => {
              waiting = false
              fail(new Error(`no '${name}' event within ${ms} ms (got: ${events.map((e) => e.event).join(', ')})`))
            }, ms)
            const look = () => {
              if (!waiting) return
              const i = find(name)
              if (i >= 0) {
                consumed.add(i)
                clearTimeout(timer)
                ok(events[i])
              } else waiters.push(look)
            }
            look()
          })
        },
        async none(name, ms) {
          try {
            await stream.next(name, ms)
            return false
          } catch {
            return true
          }
        },
        close() {
          req.destroy()
        },
        closed
      }
      resolve(stream)
    })
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err)
    })
  })
}
