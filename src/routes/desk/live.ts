// The desk's live pages: a ticket page hears its ticket's changes and who else has it open (and
// whether they are writing), the queue hears that tickets of its desks changed. Each page opens
// one stream (public/live.js) and fetches itself again when told; the stream carries no ticket
// content, only that something changed, so what a page shows is always what the page's own route
// would show the person now.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { presentOn } from '../../db/live.js'
import { countUnread } from '../../db/notifications.js'
import { UNREAD_CAP, unreadLabel } from '../../domain/notifications.js'
import { enterPresence, leavePresence, setActivity } from '../../commands/presence.js'
import { personWho } from '../../commands/kernel.js'
import type { Actor, StaffActor } from '../../domain/permissions.js'
import { notFound } from '../../plugins/app.js'
import { PRESENCE_STALE_MS, type LiveChange } from '../../plugins/live.js'
import { Form, Choice } from '../forms.js'
import { gather, openStream, stillSees, type LiveStream } from '../live-stream.js'
import { NumberParams, staffOf, ticketByNumber } from './shared.js'

/** A ticket page asks again at most this often, however many changes come (a bulk action's). */
const TICKET_GATHER_MS = 150
const QUEUE_GATHER_MS = 1_000

const PresenceForm = Form({ presence: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }), activity: Choice(['viewing', 'replying'] as const) })

/** Whether a change to a ticket of this desk matters to a staff member's queue. */
export function queueHears(actor: StaffActor, change: LiveChange): boolean {
  if (change.kind === 'presence' || change.kind === 'notification') return false
  return actor.role === 'admin' || (change.desk_id !== null && actor.deskIds.includes(change.desk_id))
}

/** Whether the changes include the staff member's own bell (a notification for them, or one they read). */
export function bellHears(staffId: number, changes: readonly LiveChange[]): boolean {
  return changes.some((c) => c.kind === 'notification' && c.staff_id === staffId)
}

export default async function live(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()
  const deps = { db: fastify.db, clock: fastify.clock, random: fastify.random }

  /** Keeps the page's bell current: the unread count, as the layout shows it. */
  function ringer(request: FastifyRequest, streamOf: () => LiveStream, staffId: number) {
    return gather<LiveChange>(TICKET_GATHER_MS, () => void (async () => {
      const stream = streamOf()
      if (!(await stream.recheck())) return
      const count = await countUnread(fastify.db, staffId, UNREAD_CAP)
      const text = unreadLabel(count)
      stream.send('bell', { count, text, label: count > 0 ? request.t('notifications.bell', { count: text }) : request.t('notifications.bellNone') })
    })().catch((err) => request.log.warn({ err }, 'live stream: the bell failed')))
  }

  fastify.get('/tickets/:number/live', { schema: { params: NumberParams } }, async (request, reply) => {
    const ticket = await ticketByNumber(fastify, request, request.params.number)
    let actor: Actor = staffOf(request)
    const feed = fastify.live
    const entered = await enterPresence(deps, personWho(actor), { ticketId: ticket.id, process: feed.process })
    if (!entered.ok) throw notFound()
    const presenceId = entered.value.presenceId
    feed.presenceRows++
    // Set once the stream is open; the gatherers below only run later (after their first change).
    let stream!: LiveStream
    const sendPresence = async () => {
      const since = new Date(fastify.clock().getTime() - PRESENCE_STALE_MS).toISOString()
      const people = (await presentOn(fastify.db, ticket.id, since)).filter((p) => p.staff_id !== actor.id)
      stream.send('presence', { people: people.map((p) => ({ name: p.name, activity: p.activity })) })
    }
    const hear = gather<LiveChange>(TICKET_GATHER_MS, (batch) => void (async () => {
      const person = await stream.recheck()
      if (!person) return
      actor = person
      const now = await stillSees(fastify, stream, person, ticket.id)
      if (!now) return
      if (batch.some((c) => c.kind !== 'presence')) stream.send('changed', { version: now.version })
      if (batch.some((c) => c.kind === 'presence')) await sendPresence()
    })().catch((err) => request.log.warn({ err }, 'live stream: telling the page failed')))
    const ring = ringer(request, () => stream, actor.id)
    try {
      stream = await openStream(fastify, request, reply, actor, (changes) => {
        const mine = changes.filter((c) => c.ticket_id === ticket.id && c.kind !== 'notification')
        if (mine.length > 0) hear(mine)
        if (bellHears(actor.id, changes)) ring([])
      })
    } catch (err) {
      feed.presenceRows--
      await leavePresence(deps, { presenceId }).catch(() => {})
      throw err
    }
    stream.onClose(() => {
      feed.presenceRows--
      leavePresence(deps, { presenceId }).catch((err) => request.log.warn({ err }, 'live stream: leaving the ticket failed'))
    })

    stream.send('hello', { presence: presenceId, version: ticket.version })
    await sendPresence()
  })

  /** The page's composer: its person started or stopped writing. */
  fastify.post('/tickets/:number/presence', { schema: { params: NumberParams, body: PresenceForm } }, async (request, reply) => {
    const outcome = await setActivity(deps, personWho(staffOf(request)), { presenceId: request.body.presence, activity: request.body.activity })
    if (!outcome.ok) throw notFound()
    return reply.code(204).send()
  })

  fastify.get('/live', async (request, reply) => {
    let actor = staffOf(request)
    let stream!: LiveStream
    const hear = gather<LiveChange>(QUEUE_GATHER_MS, (batch) => void (async () => {
      const person = await stream.recheck()
      if (!person || person.kind !== 'staff') return
      actor = person
      stream.send('queue', { tickets: new Set(batch.map((c) => c.ticket_id)).size })
    })().catch((err) => request.log.warn({ err }, 'live stream: telling the queue failed')))
    const ring = ringer(request, () => stream, actor.id)
    stream = await openStream(fastify, request, reply, actor, (changes) => {
      const heard = changes.filter((c) => queueHears(actor, c))
      if (heard.length > 0) hear(heard)
      if (bellHears(actor.id, changes)) ring([])
    })
    stream.send('hello', {})
  })
}
