// Manager approval of catalog requests: the request is started when the ticket is opened, the
// manager decides from a signed link, staff may send the request again to another approver.
import {
  approvalLinkDays, approverCandidates, closeOpenApprovals, decideApprovalRow, findApprover, getApprovalLink, getContactForApproval,
  approvalItemName, insertApproval, latestApproval, requiresApproval, type ApprovalLink, type Approver
} from '../db/approval.js'
import { getContact } from '../db/people.js'
import { updateTicket } from '../db/ticket-write.js'
import { APPROVAL_TEMPLATE, excerptOf } from '../domain/notifications.js'
import { ticketAssignee } from '../db/notifications.js'
import type { Actor } from '../domain/permissions.js'
import { LIMITS } from '../domain/ticket.js'
import { newNonce, nonceHash, nonceMatches, verifyApprovalToken, type ApprovalClaims } from '../security/approval-token.js'
import { FieldCheck, Refused, run, SYSTEM, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { lockVisible } from './ticket-access.js'
import { transitionTicket, withReason } from './lifecycle/step.js'

/**
 * Why an approval link is refused: invalid (malformed, tampered, unknown), wrong_person (a
 * browser logged in as someone else), used, superseded, expired, closed (the request stopped
 * waiting, e.g. the requester cancelled it).
 */
export const APPROVAL_REFUSALS = ['invalid', 'wrong_person', 'used', 'superseded', 'expired', 'closed'] as const
export type ApprovalRefusal = (typeof APPROVAL_REFUSALS)[number]

export class ApprovalRefused extends Error {
  override name = 'ApprovalRefused'
  constructor(readonly code: ApprovalRefusal, readonly link: ApprovalLink | null = null) {
    super(code)
  }
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000)
/** The manager reads the request in the mail; the page shows it whole. */
const MAIL_DESCRIPTION_CHARS = 2_000

/**
 * Judges a link against its row, in a fixed order: a forged or unknown link says nothing about
 * any ticket; the wrong person learns nothing about its state; then superseded, already used,
 * expired, and a request that is no longer waiting. Pure: the caller loaded the row.
 */
export function approvalRefusal(link: ApprovalLink | undefined, claims: ApprovalClaims, viewer: Actor | null, now: Date): ApprovalRefusal | null {
  if (!link || !nonceMatches(claims.nonce, link.nonce_hash) || seconds(link.expires_at) !== Math.floor(claims.expiresAt.getTime() / 1000)) return 'invalid'
  if (link.deleted_at) return 'invalid'
  // The link is the credential, so anyone may use it; but a browser logged in as someone else
  // is a forwarded or misdirected link, and is refused.
  if (viewer && !(viewer.kind === 'contact' && viewer.id === link.approver_contact_id)) return 'wrong_person'
  if (link.decision === 'superseded') return 'superseded'
  if (link.decision === 'expired') return 'expired'
  if (link.decided_at !== null) return 'used'
  if (now.getTime() >= Date.parse(link.expires_at)) return 'expired'
  if (link.status !== 'awaiting_approval') return 'closed'
  return null
}

function refusedFor(refusal: ApprovalRefusal, link: ApprovalLink | undefined): ApprovalRefused {
  return new ApprovalRefused(refusal, refusal === 'invalid' || refusal === 'wrong_person' ? null : link ?? null)
}

/** The approval a link names, when it may still be decided; otherwise ApprovalRefused. Reads only. */
export async function openApprovalLink(deps: Pick<Deps, 'db'>, key: Uint8Array, token: string, viewer: Actor | null, now: Date): Promise<ApprovalLink> {
  const claims = verifyApprovalToken(token, key)
  if (!claims) throw new ApprovalRefused('invalid')
  const link = await getApprovalLink(deps.db, claims.approvalId)
  const refusal = approvalRefusal(link, claims, viewer, now)
  if (refusal) throw refusedFor(refusal, link)
  return link!
}

export type ApprovalChoice = { approve: true } | { approve: false; reason: string }

/**
 * The approver's decision: in one transaction the link is checked again under the ticket's
 * lock, its row closed (only one decision can win), and the ticket moved by the lifecycle
 * (`approve` → New, `reject_approval` → Cancelled with the reason) with history rows naming the
 * approver and the requester's notification. Any refusal leaves everything as it was.
 */
export async function decideApproval(deps: Pick<Deps, 'db' | 'clock' | 'random'>, key: Uint8Array, token: string, viewer: Actor | null, choice: ApprovalChoice): Promise<ApprovalLink> {
  const claims = verifyApprovalToken(token, key)
  if (!claims) throw new ApprovalRefused('invalid')
  const first = await getApprovalLink(deps.db, claims.approvalId)
  if (!first) throw new ApprovalRefused('invalid')
  if (!choice.approve) {
    const check = new FieldCheck()
    check.text('reason', choice.reason, LIMITS.comment)
    check.refuse()
  }
  // The lifecycle gives approvals to the system role; the history names the manager who decided.
  const approver: Who = { ref: { type: 'contact', id: first.approver_contact_id, name: first.approver_name }, role: 'system' }
  const outcome = await run(deps, approver, async (uow) => {
    await lockVisible(uow, first.ticket_id)
    const link = await getApprovalLink(uow.trx, claims.approvalId)
    const refusal = approvalRefusal(link, claims, viewer, uow.now)
    if (refusal) throw refusedFor(refusal, link)
    const reason = choice.approve ? null : choice.reason.trim()
    if (!(await decideApprovalRow(uow.trx, link!.id, choice.approve ? 'approved' : 'rejected', reason, uow.at))) throw new ApprovalRefused('used', link ?? null)
    if (choice.approve) await transitionTicket(uow, link!.ticket_id, 'approve', {}, () => ({}))
    else await transitionTicket(uow, link!.ticket_id, 'reject_approval', { input: { reason } }, () => withReason(reason!, (r) => ({ set: { cancel_reason: r, closed_at: uow.at } })))
    await alertDecision(uow, link!.ticket_id, choice.approve, reason)
    return link!
  })
  if (!outcome.ok) throw new ApprovalRefused('closed', first)
  return outcome.value
}

/** The ticket's assignee hears of the decision: in the app, and by mail if they want it (the requester's mail is the lifecycle's). */
async function alertDecision(uow: UnitOfWork, ticketId: number, approved: boolean, reason: string | null): Promise<void> {
  const ticket = await ticketAssignee(uow.trx, ticketId)
  if (!ticket || ticket.assignee_id === null) return
  const template = approved ? 'ticket.approve' : 'ticket.reject_approval'
  await uow.alert(ticket.assignee_id, 'approval_decided', ticketId, {
    detail: approved ? 'approved' : 'rejected', excerpt: reason ? excerptOf(reason) : null,
    mail: { template, data: { number: ticket.number, title: ticket.title, reason, actorName: uow.who.ref.name } }
  })
}

export interface ApprovalTicket {
  id: number
  number: number
  title: string
  description: string
  contactId: number
  accountId: number
  categoryId: number | null
}

/**
 * Writes an approval row and queues the request mail to the approver. The mail row carries the
 * row's nonce; the signed links are made when the mail is composed (mail/compose.ts), where the
 * key is. Expiry is kept to whole seconds, as the token carries it.
 */
async function issueApproval(uow: UnitOfWork, ticket: ApprovalTicket, approver: Approver, staffId: number | null): Promise<{ id: number; expiresAt: string }> {
  const days = await approvalLinkDays(uow.trx)
  const expires = new Date(Math.floor((uow.now.getTime() + days * 86_400_000) / 1000) * 1000).toISOString()
  const nonce = newNonce()
  const id = await insertApproval(uow.trx, {
    ticket_id: ticket.id, approver_contact_id: approver.id, nonce_hash: nonceHash(nonce), expires_at: expires,
    requested_by_staff_id: staffId, created_at: uow.at
  })
  await uow.mail({
    ticketId: ticket.id, recipient: approver.email, locale: approver.locale, template: APPROVAL_TEMPLATE,
    data: {
      number: ticket.number, title: ticket.title, actorName: (await getContact(uow.trx, ticket.contactId))?.name ?? null,
      itemName: await approvalItemName(uow.trx, ticket.categoryId), description: ticket.description.slice(0, MAIL_DESCRIPTION_CHARS),
      approverName: approver.name, recipientRole: 'approver',
      approvalId: id, expiresAt: expires, nonce: nonce.toString('hex')
    }
  })
  return { id, expiresAt: expires }
}

/**
 * When a ticket is opened for a catalog item that requires approval: auto-approved items only get
 * a history row; otherwise the ticket waits as Open / Awaiting approval (the SLA clock paused)
 * and the requester's manager is sent the links. With no approver found the ticket still
 * waits, and the desk shows that staff must choose one. Follow-ups are not asked again.
 */
export async function startApproval(uow: UnitOfWork, ticket: ApprovalTicket & { parentId: number | null; version: number }): Promise<void> {
  if (ticket.categoryId === null || ticket.parentId !== null) return
  const rule = await requiresApproval(uow.trx, ticket.categoryId)
  if (rule === 'none') return
  const system = SYSTEM.ref
  if (rule === 'auto') {
    await uow.history(ticket.id, { action: 'auto_approved' }, system)
    return
  }
  if (!(await updateTicket(uow.trx, ticket.id, ticket.version, { status: 'awaiting_approval', sla_paused_at: uow.at }, uow.at))) throw new Refused('conflict')
  await uow.history(ticket.id, { action: 'approval_requested', field: 'status', from: 'new', to: 'awaiting_approval' }, system)
  const approver = await findApprover(uow.trx, ticket.contactId, ticket.accountId)
  if (!approver) {
    await uow.history(ticket.id, { action: 'approval_no_approver' }, system)
    return
  }
  await issueApproval(uow, ticket, approver, null)
  await uow.history(ticket.id, { action: 'approval_sent', field: 'approver', to: approver.name }, system)
}

/**
 * Staff send the approval request again (to the approver found, or one they chose among the
 * account's contacts): earlier links are closed, so they are refused from now on, and a new one
 * goes out, all in one transaction with a history row. Refusals: not_allowed_in_state (the
 * ticket no longer waits), invalid with field approverId (not an allowed approver, or none found).
 */
export async function resendApproval(deps: Deps, who: Who, input: { ticketId: number; approverId: number | null }): Promise<Outcome<{ approvalId: number; approver: Approver }>> {
  return run(deps, who, async (uow) => {
    const ticket = await lockVisible(uow, input.ticketId)
    if (uow.who.role !== 'staff' && uow.who.role !== 'admin') throw new Refused('forbidden_role')
    if (ticket.status !== 'awaiting_approval') throw new Refused('not_allowed_in_state', { params: { status: ticket.status } })
    const check = new FieldCheck()
    let approver: Approver | undefined
    if (input.approverId !== null) {
      const allowed = await approverCandidates(uow.trx, ticket.account_id, ticket.contact_id)
      if (!allowed.some((c) => c.id === input.approverId)) check.add('approverId', 'invalid_choice')
      else approver = await getContactForApproval(uow.trx, input.approverId)
    } else {
      approver = await findApprover(uow.trx, ticket.contact_id, ticket.account_id)
      if (!approver) check.add('approverId', 'required')
    }
    check.refuse()
    const previous = await latestApproval(uow.trx, ticket.id)
    await closeOpenApprovals(uow.trx, ticket.id, uow.at)
    const issued = await issueApproval(uow, {
      id: ticket.id, number: ticket.number, title: ticket.title, description: ticket.description,
      contactId: ticket.contact_id, accountId: ticket.account_id, categoryId: ticket.category_id
    }, approver!, uow.who.ref.type === 'staff' ? uow.who.ref.id : null)
    await uow.history(ticket.id, { action: 'approval_resent', field: 'approver', from: previous?.approver_name ?? null, to: approver!.name })
    return { approvalId: issued.id, approver: approver! }
  })
}
