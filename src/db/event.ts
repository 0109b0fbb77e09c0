import type { Executor } from './index.js'
import type { ActorType } from './schema.js'
import type { Actor } from '../domain/permissions.js'
import { enqueueCaseSync } from './crm-outbox.js'

export interface ActorRef {
  type: ActorType
  id: number | null
  name: string | null
}

export function actorRef(actor: Actor): ActorRef {
  return { type: actor.kind, id: actor.id, name: actor.name }
}

export const SYSTEM_ACTOR: ActorRef = { type: 'system', id: null, name: null }

export interface EventInput {
  ticketId: number
  actor: ActorRef
  action: string
  field?: string | null
  from?: string | null
  to?: string | null
  note?: string | null
  at: string
}

// Note events reach the CRM as comments (see addNoteIn); they leave the Case itself unchanged.
const NOTE_ACTIONS = new Set(['reply', 'internal', 'message', 'occurrence'])

/**
 * One history row; every change to a ticket writes one in the same transaction, and with it
 * the CRM outbox row that mirrors the change to the Case (changes made in the CRM need none).
 */
export async function recordEvent(db: Executor, e: EventInput): Promise<void> {
  if (e.actor.type !== 'crm' && !NOTE_ACTIONS.has(e.action)) await enqueueCaseSync(db, e.ticketId, e.at)
  await db.insertInto('ticket_event').values({
    ticket_id: e.ticketId, actor_type: e.actor.type, actor_id: e.actor.id, actor_name: e.actor.name,
    action: e.action, field: e.field ?? null, from_value: e.from ?? null, to_value: e.to ?? null,
    note: e.note ?? null, created_at: e.at
  }).execute()
}
