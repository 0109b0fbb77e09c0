// Test shorthands over the commands: build a scene (tickets, notes, transfers) the way the
// channels do, with a fixed clock where a test needs one. Each goes through the real command.
import type { Db, Trx } from '../../src/db/index.js'
import type { Level, NoteKind, Priority, TicketSource, TicketType, Visibility } from '../../src/db/schema.js'
import type { StoredFile, UploadedFile } from '../../src/storage/attachments.js'
import { personWho, Refused, run, unwrap, UnitOfWork, type ActorRef, type Deps, type Outcome, type Who } from '../../src/commands/kernel.js'
import { insertNewTicket } from '../../src/commands/open-ticket.js'
import { addNote as addNoteCommand, addNoteRows, type AddNoteInput } from '../../src/commands/add-note.js'
import { registerOccurrence as occurrenceCommand, type OccurrenceInput } from '../../src/commands/register-occurrence.js'
import { transferTicket as transferCommand, type TransferInput } from '../../src/commands/transfer.js'
import { editTicketFields, type EditFieldsInput } from '../../src/commands/edit-fields.js'
import { deleteTicket as deleteCommand } from '../../src/commands/delete-ticket.js'
import { rateTicket as rateCommand } from '../../src/commands/rate-ticket.js'
import { addChecklistItem as addItemCommand, addCost, setChecklistItemDone as tickCommand } from '../../src/commands/ticket-extras.js'
import { performTransition, type TransitionAction } from '../../src/commands/lifecycle/index.js'
import { autoCloseTicket } from '../../src/commands/lifecycle/auto-close.js'
import type { Actor } from '../../src/domain/permissions.js'

export { personWho as performerOf, SYSTEM as SYSTEM_PERFORMER } from '../../src/commands/kernel.js'

/** Command dependencies at a fixed instant (now by default). */
export function depsAt(db: Db, now?: Date, random: () => number = Math.random): Deps {
  return { db, clock: () => now ?? new Date(), random }
}

/** Someone named by a history-style reference (staff unless the CRM or the system). */
export function whoOf(actor: ActorRef | Actor | Who): Who {
  if ('role' in actor && 'ref' in actor) return actor as Who
  if ('kind' in actor) return personWho(actor)
  const ref = actor as ActorRef
  return { ref, role: ref.type === 'crm' ? 'crm' : ref.type === 'system' ? 'system' : ref.type === 'contact' ? 'requester' : 'staff' }
}

export interface TransitionRequest {
  action: TransitionAction | 'auto_close'
  reason?: string | null
  resolution?: string | null
  closureCategory?: string | null
  closureNote?: string | null
  targetDeskId?: number | null
  expectedVersion?: number
}

/** A lifecycle action by name; throws the refusal (see `refusal`). */
export async function transition(db: Db, who: Who, ticketId: number, req: TransitionRequest, now: Date, random: () => number = Math.random) {
  const deps = depsAt(db, now, random)
  const moved = unwrap(req.action === 'auto_close'
    ? await autoCloseTicket(deps, ticketId)
    : await performTransition(deps, who, req.action, { ticketId, version: req.expectedVersion, ...req }))
  return { state: moved.state, status: moved.status }
}

type NoteDeps = { db: Db; clock: () => Date; random?: () => number; store?: Deps['store'] }

export async function addTicketNote(deps: NoteDeps, who: Who, ticketId: number, req: Omit<AddNoteInput, 'ticketId' | 'source'> & { source?: TicketSource }) {
  return unwrap(await addNoteCommand({ random: Math.random, ...deps }, who, { source: 'portal', ...req, ticketId }))
}

export async function registerOccurrence(deps: NoteDeps, who: Who, ticketId: number, req: Omit<OccurrenceInput, 'ticketId' | 'source'> & { source?: TicketSource }) {
  return unwrap(await occurrenceCommand({ random: Math.random, ...deps }, who, { source: 'portal', ...req, ticketId }))
}

export interface TicketInput {
  title: string
  description: string
  url: string | null
  accountId: number
  contactId: number
  createdByStaffId: number | null
  productId: number | null
  categoryId: number | null
  deskId: number
  priority: Priority
  impact?: Level | null
  urgency?: Level | null
  ticketType: TicketType
  source: TicketSource
  files: StoredFile[]
  parentId?: number | null
}

/** Opens a ticket exactly as given (assigned by least load, acknowledged, owed to the CRM), as a test's scene needs it. */
export async function createTicket(db: Db, input: TicketInput, ctx: { actor: ActorRef; now: string; random?: () => number }) {
  const opened = unwrap(await run(depsAt(db, new Date(ctx.now), ctx.random), whoOf(ctx.actor), (uow) => insertNewTicket(uow, input, input.files)))
  return { ...opened, assignee_id: opened.assigneeId }
}

/** The same inside a caller's transaction. */
export async function createTicketIn(trx: Trx, input: TicketInput, ctx: { actor: ActorRef; now: string; random?: () => number }) {
  const uow = new UnitOfWork(trx, new Date(ctx.now), ctx.random ?? Math.random, whoOf(ctx.actor))
  const opened = await insertNewTicket(uow, input, input.files)
  return { ...opened, assignee_id: opened.assigneeId }
}

/** A note written as given, past the lifecycle (scene-building): the rows a note writes. */
export async function addNote(db: Db, input: { ticketId: number; kind: NoteKind; visibility: Visibility; body: string; source: TicketSource; files: StoredFile[]; minutesSpent?: number | null }, ctx: { actor: ActorRef; now: string }) {
  const id = unwrap(await run(depsAt(db, new Date(ctx.now)), whoOf(ctx.actor), (uow) => addNoteRows(uow, { id: input.ticketId }, input)))
  return { id }
}

export async function transferTicket(db: Db, ticketId: number, input: Omit<TransferInput, 'ticketId'>, ctx: { actor: ActorRef | Who; now: string }) {
  return unwrap(await transferCommand(depsAt(db, new Date(ctx.now)), whoOf(ctx.actor), { ...input, ticketId }))
}

export async function updateTicketFields(db: Db, ticketId: number, input: Omit<EditFieldsInput, 'ticketId'>, ctx: { actor: ActorRef | Who; now: string; random?: () => number }) {
  return unwrap(await editTicketFields(depsAt(db, new Date(ctx.now), ctx.random), whoOf(ctx.actor), { ...input, ticketId }))
}

export async function deleteTicket(db: Db, who: Who, ticketId: number, reason: string | null, now: Date) {
  unwrap(await deleteCommand(depsAt(db, now), who, { ticketId, reason }))
  return true
}

export async function rateTicket(db: Db, who: Who, ticketId: number, rating: number, comment: string | null, now: Date) {
  return unwrap(await rateCommand(depsAt(db, now), who, { ticketId, rating, comment }))
}

export async function addChecklistItem(db: Db, ticketId: number, label: string, ctx: { actor: ActorRef; now: string }) {
  return unwrap(await addItemCommand(depsAt(db, new Date(ctx.now)), whoOf(ctx.actor), { ticketId, label })).itemId
}

/** False when the item (or its ticket) is not there. */
export async function setChecklistItemDone(db: Db, ticketId: number, itemId: number, done: boolean, ctx: { actor: ActorRef; now: string }) {
  const outcome = await tickCommand(depsAt(db, new Date(ctx.now)), whoOf(ctx.actor), { ticketId, itemId, done })
  if (!outcome.ok && outcome.refusal.code === 'not_found') return false
  unwrap(outcome)
  return true
}

export async function addCostItem(db: Db, ticketId: number, description: string, amountCents: number, ctx: { actor: ActorRef; now: string }) {
  unwrap(await addCost(depsAt(db, new Date(ctx.now)), whoOf(ctx.actor), { ticketId, description, amountCents }))
}

/** The refusal code a command ends with ('allowed' when it went through); `invalid` names its first field. */
export async function refusal(p: Promise<unknown>): Promise<string> {
  let value: unknown
  try {
    value = await p
  } catch (err) {
    if (err instanceof Refused) return err.code
    throw err
  }
  const outcome = value as Outcome<unknown> | undefined
  if (outcome && typeof outcome === 'object' && 'ok' in outcome && outcome.ok === false) return outcome.refusal.code
  return 'allowed'
}

export type { UploadedFile }
