// What every live page's stream shares (Server-Sent Events, text/event-stream): the response
// itself, a comment every PING_MS so proxies keep it open, the session checked again while it
// lasts (a logout, a password change or an account turned off ends the stream at once), a cap on
// streams per person, and the way it ends (the page went away, or the server stops).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { canSeeTicket, type Actor } from '../domain/permissions.js'
import { ticketScope } from '../db/live.js'
import { findLiveSession } from '../db/sessions.js'
import { loadActor } from '../db/people.js'
import { hashSecretToken } from '../security/token.js'
import { SESSION_IDLE_MS } from '../commands/sessions.js'
import { HttpError } from '../plugins/app.js'
import type { LiveChange } from '../plugins/live.js'

const PING_MS = 25_000
/** How often a stream asks whether its session still holds, without any change to send. */
const RECHECK_MS = 60_000
/** Open streams one person may hold in one process (tabs, and pages left open). */
export const STREAMS_PER_PERSON = 20

export interface LiveStream {
  /** Sends one event; JSON data. */
  send(event: string, data: unknown): void
  /** The person as the session now says (null: the session ended; the stream is then closed). */
  recheck(): Promise<Actor | null>
  end(): void
  readonly closed: boolean
  onClose(fn: () => void): void
}

function personKey(actor: Actor): string {
  return `${actor.kind}:${actor.id}`
}

/**
 * Turns the request into an event stream for `actor`. Refuses with 429 when the person already
 * holds STREAMS_PER_PERSON streams here. Every change the feed reads is handed to `onChanges`.
 */
export async function openStream(
  fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, actor: Actor,
  onChanges: (changes: LiveChange[], stream: LiveStream) => void
): Promise<LiveStream> {
  const feed = fastify.live
  const key = personKey(actor)
  const counts = feed.perPerson
  if ((counts.get(key) ?? 0) >= STREAMS_PER_PERSON) throw new HttpError(429, 'too_many_streams', 'too many live pages open')
  // Subscribed before the response is taken over, so a database that cannot be read is an ordinary error page.
  let deliver: ((changes: LiveChange[]) => void) | null = null
  const unsubscribe = await feed.subscribe((changes) => deliver?.(changes))
  counts.set(key, (counts.get(key) ?? 0) + 1)

  const token = request.session.get('sid') as string | undefined
  const raw = reply.raw
  reply.hijack()
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff'
  })
  // The browser reconnects on its own after a dropped connection; three seconds apart.
  raw.write('retry: 3000\n\n')

  const endings: (() => void)[] = []
  let closed = false

  const stream: LiveStream = {
    get closed() {
      return closed
    },
    send(event, data) {
      if (closed) return
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    },
    async recheck() {
      if (closed || !token) return null
      const since = new Date(fastify.clock().getTime() - SESSION_IDLE_MS).toISOString()
      const session = await findLiveSession(fastify.db, hashSecretToken(token), since)
      const person = session && !session.secondFactorPending ? await loadActor(fastify.db, session.person.kind, session.person.id) : undefined
      if (!person || person.kind !== actor.kind || person.id !== actor.id) {
        stream.send('gone', { reason: 'session' })
        stream.end()
        return null
      }
      return person
    },
    end() {
      if (closed) return
      closed = true
      clearInterval(ping)
      clearInterval(check)
      feed.streams.delete(stream.end)
      unsubscribe()
      const left = (counts.get(key) ?? 1) - 1
      if (left > 0) counts.set(key, left)
      else counts.delete(key)
      raw.end()
      for (const fn of endings) {
        try {
          fn()
        } catch (err) {
          request.log.warn({ err }, 'live stream: cleaning up failed')
        }
      }
    },
    onClose(fn) {
      endings.push(fn)
    }
  }
  feed.streams.add(stream.end)
  const ping = setInterval(() => raw.write(': ping\n\n'), PING_MS)
  const check = setInterval(() => void stream.recheck().catch((err) => request.log.warn({ err }, 'live stream: session check failed')), RECHECK_MS)
  ping.unref()
  check.unref()
  request.raw.on('close', () => stream.end())
  raw.on('error', () => stream.end())
  deliver = (changes) => onChanges(changes, stream)
  return stream
}

/**
 * Calls `fn` at most once per `ms` with every change gathered meanwhile: a bulk action touching
 * a thousand tickets is one refresh, not a thousand.
 */
export function gather<T>(ms: number, fn: (items: T[]) => void): (items: T[]) => void {
  let pending: T[] = []
  let timer: NodeJS.Timeout | null = null
  return (items) => {
    pending.push(...items)
    if (timer) return
    timer = setTimeout(() => {
      timer = null
      const batch = pending
      pending = []
      fn(batch)
    }, ms)
    timer.unref()
  }
}

/**
 * Whether the stream's person may still see its ticket; when not (moved to another desk, deleted,
 * no longer their account's), the page is told so and the stream ends. The ticket as it is now.
 */
export async function stillSees(fastify: FastifyInstance, stream: LiveStream, person: Actor, ticketId: number) {
  const now = await ticketScope(fastify.db, ticketId)
  if (now && canSeeTicket(person, now)) return now
  stream.send('gone', { reason: 'ticket' })
  stream.end()
  return null
}
