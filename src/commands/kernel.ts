/**
 * What every command shares: who acts, the refusal every command answers with, and the unit of
 * work (one transaction) in which a command validates, writes its rows, and writes its history,
 * mail-outbox and CRM-outbox rows explicitly. Channels (pages, API, mail, CRM, jobs) call
 * commands and translate their refusals; nothing else changes business data.
 */
import { insertPeopleSync, type CrmPeopleEntity } from '../db/crm-people.js'
import type { Db, Executor, Trx } from '../db/index.js'
import type { ActorType } from '../db/schema.js'
import { insertEvent } from '../db/ticket-write.js'
import { insertMail, ticketParties, type MailToSend, type Parties } from '../db/mail-outbox.js'
import { insertCaseSync, insertCommentSync } from '../db/crm-outbox.js'
import { insertAudit } from '../db/admin-audit.js'
import { insertNotification, notificationRecipient } from '../db/notifications.js'
import { wantsEmail, type NotificationKind } from '../domain/notifications.js'
import { commandTransaction } from '../db/reference-cache.js'
import type { Recipient as RecipientRole } from '../domain/lifecycle.js'
import type { Role } from '../domain/lifecycle.js'
import type { RefusalCode as LifecycleRefusalCode } from '../domain/lifecycle.js'
import type { Actor } from '../domain/permissions.js'
import { hasForbiddenControl } from '../domain/text.js'
import type { FileStore } from '../storage/attachments.js'

export interface Deps {
  db: Db
  clock: () => Date
  random: () => number
  /** Where uploaded files are kept (commands that take attachments), in the command's transaction. */
  store?: FileStore<Executor>
  /**
   * Called with the command's result inside its transaction, just before the commit: the API
   * keeps it with the request's Idempotency-Key (src/commands/api-idempotency.ts).
   */
  recordOutcome?: (trx: Trx, value: unknown) => Promise<void>
}

/** The name history rows and notes give the actor. */
export interface ActorRef {
  type: ActorType
  id: number | null
  name: string | null
}

/**
 * Who performs a command. A person acts with what they may see (`person`); the system, the CRM
 * integration and an approver holding a signed link act on whatever the command is given.
 */
export interface Who {
  ref: ActorRef
  role: Role
  /** Staff permission to delete tickets (admins always may). */
  canDelete?: boolean
  person?: Actor
  /** The operator at the machine (the `casebridge` CLI): may run the administration commands. */
  operator?: boolean
}

export function roleOf(actor: Actor): Role {
  if (actor.kind === 'contact') return 'requester'
  return actor.role === 'admin' ? 'admin' : 'staff'
}

/** A logged-in person (portal, desk, API token, a known mail sender). */
export function personWho(actor: Actor): Who {
  return {
    ref: { type: actor.kind, id: actor.id, name: actor.name }, role: roleOf(actor),
    canDelete: actor.kind === 'staff' && actor.canDelete, person: actor
  }
}

export const SYSTEM: Who = { ref: { type: 'system', id: null, name: null }, role: 'system' }

/** The operator running `casebridge` on the machine: the system, allowed what an admin is (recorded as the CLI). */
export const OPERATOR: Who = { ref: { type: 'system', id: null, name: 'casebridge CLI' }, role: 'system', operator: true }

/** A CRM user, named as the CRM names them. */
export function crmWho(name: string): Who {
  return { ref: { type: 'crm', id: null, name }, role: 'crm' }
}

/** What is wrong with one input field; the channel turns it into its own words and field name. */
export type FieldProblem =
  | 'required' | 'too_long' | 'invalid_choice' | 'invalid_url' | 'file_too_large' | 'catalog_or_product'
  | 'not_on_desk' | 'not_requesters_account' | 'same_desk' | 'in_future' | 'out_of_range' | 'needs_visible' | 'too_early'
  | 'too_short' | 'mismatch' | 'wrong_password' | 'invalid_email' | 'taken'
  /** The change would leave the organisation without an active admin. */
  | 'last_admin'
  /** An admin may not do this to their own account (turn it off). */
  | 'not_yourself'
  /** A two-factor code that does not match (or was already used). */
  | 'wrong_code'
  /** A control character (other than tab and line breaks) or broken Unicode: src/domain/text.ts. */
  | 'invalid_characters'
  /** Not a calendar date (YYYY-MM-DD). */
  | 'invalid_date'
  /** Opening hours that cannot be read ("09:00-18:00, ..."), overlap or leave the week closed. */
  | 'invalid_hours'
  /** Still used by something that may not lose it (a calendar a desk counts in). */
  | 'in_use'
  /** Turned off (a client account whose contract ended): nothing new may use it. */
  | 'inactive'

export interface FieldRefusal {
  problem: FieldProblem
  params?: Record<string, string | number>
}

export type RefusalCode =
  | LifecycleRefusalCode
  /** The ticket (or thing) does not exist, or the person may not see it. */
  | 'not_found'
  /** The person may see it but not do this (e.g. a client asking for a staff-only change). */
  | 'forbidden'
  /** The row changed since the version the caller read. */
  | 'conflict'
  /** One or more fields are wrong: `fields` says which and why. */
  | 'invalid'
  /** Nothing would change (a transfer to where the ticket already is). */
  | 'nothing_to_change'
  /** A limit on how many of a thing one person may have at once (exports waiting). */
  | 'too_many'

/**
 * A command's refusal: a stable code, the field it concerns (or several), and parameters. Never
 * translated text and never a form's field name: fields are the command's input names.
 */
export class Refused extends Error {
  override name = 'Refused'
  readonly fields: Record<string, FieldRefusal>
  readonly params: Record<string, string>
  readonly field: string | undefined
  constructor(readonly code: RefusalCode, opts: { field?: string; fields?: Record<string, FieldRefusal>; params?: Record<string, string> } = {}) {
    super(code)
    this.fields = opts.fields ?? {}
    this.params = opts.params ?? {}
    this.field = opts.field ?? Object.keys(this.fields)[0] ?? this.params.field
  }
}

/** Field problems collected while checking an input; `refuse()` throws them all at once. */
export class FieldCheck {
  readonly fields: Record<string, FieldRefusal> = {}
  add(field: string, problem: FieldProblem, params?: Record<string, string | number>): void {
    this.fields[field] ??= params ? { problem, params } : { problem }
  }
  has(field: string): boolean {
    return field in this.fields
  }
  get ok(): boolean {
    return Object.keys(this.fields).length === 0
  }
  /** Text that must be there, hold only characters both databases store alike, and not be longer than `max`. */
  text(field: string, value: string, max: number, required = true): void {
    if (hasForbiddenControl(value)) this.add(field, 'invalid_characters')
    else if (required && value.trim() === '') this.add(field, 'required')
    else if (value.length > max) this.add(field, 'too_long', { max })
  }
  refuse(): void {
    if (!this.ok) throw new Refused('invalid', { fields: this.fields })
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: Refused }

/** An administration change for the audit log: what, and its fields before and after. */
export interface AuditEntry {
  entity: string
  entityId: number | null
  action: string
  /** The entity's name, so the log reads without joins. */
  label?: string | null
  /** Left out on creation. */
  before?: Record<string, unknown>
  /** Left out on deletion. */
  after?: Record<string, unknown>
}

/** What a notification says besides its kind and ticket, and the mail that may go with it. */
export interface NoticeOptions {
  /** Who caused it (default: this command's actor; null: routing or a job). */
  actorName?: string | null
  detail?: string | null
  excerpt?: string | null
  /** The mail to send when the person wants this kind by e-mail; none: in the app only. */
  mail?: { template: string; data: Record<string, unknown> }
}

export interface HistoryEntry {
  action: string
  field?: string | null
  from?: string | null
  to?: string | null
  note?: string | null
}

/**
 * One command's transaction: its clock reading, its actor, and the three kinds of rows every
 * change owes besides its own: history, mail to send, CRM work.
 */
export class UnitOfWork {
  readonly at: string
  constructor(readonly trx: Trx, readonly now: Date, readonly random: () => number, readonly who: Who) {
    this.at = now.toISOString()
  }

  /** The same transaction and clock, acting as someone else (a cascade done by the system, say). */
  as(who: Who): UnitOfWork {
    return new UnitOfWork(this.trx, this.now, this.random, who)
  }

  /** A history row (ticket_event) for this ticket, by this command's actor unless told otherwise. */
  async history(ticketId: number, entry: HistoryEntry, actor: ActorRef = this.who.ref): Promise<void> {
    await insertEvent(this.trx, {
      ticket_id: ticketId, actor_type: actor.type, actor_id: actor.id, actor_name: actor.name, action: entry.action,
      field: entry.field ?? null, from_value: entry.from ?? null, to_value: entry.to ?? null, note: entry.note ?? null, created_at: this.at
    })
  }

  /**
   * An audit row (admin_audit) naming each field whose value differs between `before` and
   * `after`. An update that changes nothing writes nothing; returns whether a row was written.
   */
  async audit(entry: AuditEntry): Promise<boolean> {
    const before = entry.before ?? {}
    const after = entry.after ?? {}
    const changes: Record<string, [unknown, unknown]> = {}
    for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const was = before[field] ?? null
      const now = after[field] ?? null
      if (JSON.stringify(was) !== JSON.stringify(now)) changes[field] = [was, now]
    }
    if (entry.before && entry.after && Object.keys(changes).length === 0) return false
    const actor = this.who.ref
    await insertAudit(this.trx, {
      actorType: actor.type, actorId: actor.id, actorName: actor.name, entity: entry.entity, entityId: entry.entityId,
      action: entry.action, label: entry.label ?? null, changes, at: this.at
    })
    return true
  }

  /**
   * One notification per party named, never to the person acting, never twice to one address.
   * `parties`: the ticket's as the caller just read them (several notices of one change).
   */
  async notify(ticketId: number, recipients: readonly RecipientRole[], template: string, data: Record<string, unknown>, opts: { skipActor?: boolean; parties?: Parties } = {}): Promise<void> {
    if (recipients.length === 0) return
    const parties = opts.parties ?? await ticketParties(this.trx, ticketId)
    const me = this.who.ref
    const seen = new Set<string>()
    for (const role of recipients) {
      const p = parties[role]
      if (!p || seen.has(p.email)) continue
      if (opts.skipActor !== false && me.id === p.id && me.type === p.kind) continue
      seen.add(p.email)
      await insertMail(this.trx, { ticketId, recipient: p.email, locale: p.locale, template, data: { ...data, recipientRole: role } }, this.at)
    }
  }

  /**
   * An in-app notification for a staff member (the bell), in this transaction, and the mail that
   * goes with it when they want this kind by e-mail (their choice, or the kind's default). Never
   * to the person acting, nor to a staff member turned off. True when written.
   */
  async alert(staffId: number, kind: NotificationKind, ticketId: number, opts: NoticeOptions = {}): Promise<boolean> {
    const me = this.who.ref
    if (me.type === 'staff' && me.id === staffId) return false
    const to = await notificationRecipient(this.trx, staffId, kind)
    if (!to || to.active !== 1) return false
    await insertNotification(this.trx, {
      staffId, kind, ticketId, actorName: opts.actorName === undefined ? me.name : opts.actorName, detail: opts.detail ?? null, excerpt: opts.excerpt ?? null
    }, this.at)
    if (opts.mail && wantsEmail(kind, to.email_pref)) {
      await insertMail(this.trx, { ticketId, recipient: to.email, locale: to.locale, template: opts.mail.template, data: { recipientRole: 'assignee', ...opts.mail.data } }, this.at)
    }
    return true
  }

  /** A mail to an address the command names itself (approval request, export ready, a pointer to the portal). */
  async mail(mail: MailToSend): Promise<void> {
    await insertMail(this.trx, mail, this.at)
  }

  /** The ticket's Case owes the CRM an upsert (coalesced with one already waiting). */
  async syncCase(ticketId: number): Promise<void> {
    await insertCaseSync(this.trx, ticketId, this.at)
  }

  /** The account or contact, as it now is, is owed to the CRM (created there, or linked by name or e-mail, or updated). */
  async syncCrmRecord(entity: CrmPeopleEntity, id: number): Promise<void> {
    await insertPeopleSync(this.trx, entity, id, this.at)
  }

  /** The note owes the CRM a CaseComment. */
  async syncComment(ticketId: number, noteId: number): Promise<void> {
    await insertCommentSync(this.trx, ticketId, noteId, this.at)
  }
}

/**
 * Runs a command's body in one transaction. A refusal rolls everything back and comes back as
 * `{ ok: false }`; any other error is a fault and propagates.
 */
export async function run<T>(deps: Pick<Deps, 'db' | 'clock' | 'random' | 'recordOutcome'>, who: Who, body: (uow: UnitOfWork) => Promise<T>): Promise<Outcome<T>> {
  const now = deps.clock()
  try {
    const value = await deps.db.transaction().execute(async (trx) => {
      // Desks, products, SLA targets and the like come from the process's copy, confirmed by one read.
      commandTransaction(trx, deps.db)
      const result = await body(new UnitOfWork(trx, now, deps.random, who))
      await deps.recordOutcome?.(trx, result)
      return result
    })
    return { ok: true, value }
  } catch (err) {
    if (err instanceof Refused) return { ok: false, refusal: err }
    throw err
  }
}

/** The value of an outcome, or the refusal thrown (for callers inside another command, and tests). */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string }
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === '23505' || /UNIQUE constraint failed/i.test(e?.message ?? '')
}
