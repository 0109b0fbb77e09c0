// The client's live ticket page: told when their ticket changes in a way their page shows (a
// visible note, its state, the fields they see), never about internal notes or the desk's own
// bookkeeping, and only while the session holds and they may still see the ticket.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { LiveChange } from '../../plugins/live.js'
import { gather, openStream, stillSees, type LiveStream } from '../live-stream.js'
import { loadTicket, Params } from './ticket-page.js'

/** Whether a change is one the requester's page could show. */
export function clientHears(ticketId: number, change: LiveChange): boolean {
  return change.ticket_id === ticketId && change.audience === 'public' && change.kind !== 'presence'
}

export default async function live(instance: FastifyInstance) {
  const fastify = instance.withTypeProvider<TypeBoxTypeProvider>()

  fastify.get('/tickets/:number/live', { schema: { params: Params } }, async (request, reply) => {
    const ticket = await loadTicket(fastify, request)
    // Set once the stream is open; the gatherer only runs later (after its first change).
    let stream!: LiveStream
    const hear = gather<LiveChange>(150, () => void (async () => {
      const person = await stream.recheck()
      if (!person) return
      if (await stillSees(fastify, stream, person, ticket.id)) stream.send('changed', {})
    })().catch((err) => request.log.warn({ err }, 'live stream: telling the page failed')))
    stream = await openStream(fastify, request, reply, request.actor!, (changes) => {
      const heard = changes.filter((c) => clientHears(ticket.id, c))
      if (heard.length > 0) hear(heard)
    })
    stream.send('hello', {})
  })
}
