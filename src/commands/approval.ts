import type { Db } from '../db/index.js'
import {
  approverCandidates, closeOpenApprovals, decideApprovalRow, findApprover, getApprovalLink, getContactForApproval,
  issueApprovalIn, latestApproval, type ApprovalLink, type Approver
} from '../db/approval.js'
import { recordEvent, type ActorRef } from '../db/event.js'
import { lockTicket } from '../db/ticket.js'
import type { Actor, StaffActor } from '../domain/permissions.js'
import { nonceMatches, verifyApprovalToken, type ApprovalClaims } from '../security/approval-token.js'
import { transitionIn, TransitionRefused, type Performer } from './transitions.js'

/**
 * Why an approval link is refused, each with the status its page answers:
 * invalid (malformed, tampered, unknown) 404, wrong_person 403, used 409, superseded 410,
 * expired 410, closed (the request stopped waiting, e.g. the requester cancelled it) 409.
 */
export const APPROVAL_REFUSALS = {
  invalid: 404,
  wrong_person: 403,
  used: 409,
  superseded: 410,
  expired: 410,
  closed: 409
} as const
export type ApprovalRefusal = keyof typeof APPROVAL_REFUSALS

export class ApprovalRefused extends Error {
  readonly statusCode: number
  constructor(readonly code: ApprovalRefusal, readonly link: ApprovalLink | null = null) {
    super(code)
    this.statusCode = APPROVAL_REFUSALS[code]
  }
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000)

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

/** The approval a link names, when it may still be decided; otherwise ApprovalRefused. Reads only. */
export async function openApprovalLink(db: Db, key: Uint8Array, token: string, viewer: Actor | null, now: Date): Promise<ApprovalLink> {
  const claims = verifyApprovalToken(token, key)
  if (!claims) throw new ApprovalRefused('invalid')
  const link = await getApprovalLink(db, claims.approvalId)
  const refusal = approvalRefusal(link, claims, viewer, now)
  if (refusal) throw new ApprovalRefused(refusal, refusal === 'invalid' || refusal === 'wrong_person' ? null : link ?? null)
  return link!
}

export type ApprovalChoice = { approve: true } | { approve: false; reason: string }

export interface ApprovalDeps {
  db: Db
  clock: () => Date
  random: () => number
}

/**
 * The approver's decision: in one transaction the link is checked again under the ticket's
 * lock, its row closed (only one decision can win), and the ticket moved by the lifecycle
 * (`approve` → New, `reject_approval` → Cancelled with the reason) with history rows naming the
 * approver and the requester's notification. Any refusal leaves everything as it was.
 */
export async function decideApproval(deps: ApprovalDeps, key: Uint8Array, token: string, viewer: Actor | null, choice: ApprovalChoice): Promise<ApprovalLink> {
  const now = deps.clock()
  const at = now.toISOString()
  const claims = verifyApprovalToken(token, key)
  if (!claims) throw new ApprovalRefused('invalid')
  const first = await getApprovalLink(deps.db, claims.approvalId)
  if (!first) throw new ApprovalRefused('invalid')
  try {
    return await deps.db.transaction().execute(async (trx) => {
      await lockTicket(trx, first.ticket_id)
      const link = await getApprovalLink(trx, claims.approvalId)
      const refusal = approvalRefusal(link, claims, viewer, now)
      if (refusal) throw new ApprovalRefused(refusal, refusal === 'invalid' || refusal === 'wrong_person' ? null : link ?? null)
      const reason = choice.approve ? null : choice.reason.trim()
      if (!(await decideApprovalRow(trx, link!.id, choice.approve ? 'approved' : 'rejected', reason, at))) throw new ApprovalRefused('used', link ?? null)
      // The lifecycle gives approvals to the system role; the history names the manager who decided.
      const performer: Performer = { ref: { type: 'contact', id: link!.approver_contact_id, name: link!.approver_name }, role: 'system' }
      await transitionIn(trx, performer, link!.ticket_id, choice.approve ? { action: 'approve' } : { action: 'reject_approval', reason }, now, deps.random)
      return link!
    })
  } catch (err) {
    if (err instanceof TransitionRefused) throw new ApprovalRefused('closed', first)
    throw err
  }
}

export class ApprovalResendRefused extends Error {
  constructor(readonly code: 'not_waiting' | 'no_approver' | 'invalid_approver') {
    super(code)
  }
}

/**
 * Staff send the approval request again (to the approver found, or one they chose among the
 * account's contacts): earlier links are closed, so they are refused from now on, and a new one
 * goes out, all in one transaction with a history row.
 */
export async function resendApproval(deps: ApprovalDeps, staff: StaffActor, ticketId: number, chosenApproverId: number | null) {
  const at = deps.clock().toISOString()
  return deps.db.transaction().execute(async (trx) => {
    await lockTicket(trx, ticketId)
    const ticket = await trx.selectFrom('ticket')
      .select(['id', 'number', 'title', 'description', 'contact_id', 'account_id', 'category_id', 'status', 'deleted_at'])
      .where('id', '=', ticketId).executeTakeFirstOrThrow()
    if (ticket.status !== 'awaiting_approval' || ticket.deleted_at) throw new ApprovalResendRefused('not_waiting')
    let approver: Approver | undefined
    if (chosenApproverId !== null) {
      const allowed = await approverCandidates(trx, ticket.account_id, ticket.contact_id)
      if (!allowed.some((c) => c.id === chosenApproverId)) throw new ApprovalResendRefused('invalid_approver')
      approver = await getContactForApproval(trx, chosenApproverId)
    } else {
      approver = await findApprover(trx, ticket.contact_id, ticket.account_id)
    }
    if (!approver) throw new ApprovalResendRefused('no_approver')
    const previous = await latestApproval(trx, ticketId)
    await closeOpenApprovals(trx, ticketId, at)
    const issued = await issueApprovalIn(trx, {
      id: ticket.id, number: ticket.number, title: ticket.title, description: ticket.description,
      contactId: ticket.contact_id, accountId: ticket.account_id, categoryId: ticket.category_id
    }, approver, { now: at, staffId: staff.id })
    const actor: ActorRef = { type: 'staff', id: staff.id, name: staff.name }
    await recordEvent(trx, { ticketId, actor, action: 'approval_resent', field: 'approver', from: previous?.approver_name ?? null, to: approver.name, at })
    return { approvalId: issued.id, approver }
  })
}
