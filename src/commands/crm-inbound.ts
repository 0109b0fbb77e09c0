// What CRM users change on a Case comes back to its ticket through the same rules as the
// portal's: owner, account and product as a transfer, priority as a field edit, published
// comments as staff replies. The sync (sync/inbound.ts) compares the Case with the ticket it
// read; this applies the outcome in one transaction, only if the ticket is still as it was read.
import type { Priority } from '../db/schema.js'
import { saveShadow } from '../db/crm-shadow.js'
import { setCaseLink, setNoteComment } from '../db/ticket-write.js'
import { Refused, run, type Deps, type Outcome, type Who } from './kernel.js'
import { checkVersion, lockVisible } from './ticket-access.js'
import { transferIn } from './transfer.js'
import { editFieldsIn } from './edit-fields.js'
import { addNoteIn } from './add-note.js'

export interface CaseChange {
  ticketId: number
  /** The version the sync compared the Case against: a change since is a conflict (compare again). */
  version: number
  /** The Case, when the ticket is not linked to it yet (or has no CaseNumber). */
  link?: { caseId: string; caseNumber: string | null }
  transfer?: { assigneeId?: number; accountId?: number; productId?: number | null }
  priority?: Priority
  /** Case field values now known to be on both sides (the shadow, for echo suppression). */
  settled: Record<string, string | null>
  /** The ticket's values stand against some of the Case's: send the Case again. */
  pushBack: boolean
}

export interface CaseChangeApplied {
  /** Ticket fields changed. */
  applied: number
  /** Changes the portal's rules refused (a closed ticket, say): the Case is put back. */
  refused: { fields: string[]; code: string }[]
}

export async function applyCrmCaseChange(deps: Deps, who: Who, change: CaseChange): Promise<Outcome<CaseChangeApplied>> {
  return run(deps, who, async (uow) => {
    const ticket = await lockVisible(uow, change.ticketId)
    checkVersion(ticket, change.version)
    if (change.link) await setCaseLink(uow.trx, ticket.id, change.link.caseId, change.link.caseNumber)
    const result: CaseChangeApplied = { applied: 0, refused: [] }
    let pushBack = change.pushBack
    // Each part is checked before it writes anything, so a refused part leaves the others standing.
    const attempt = async (fields: string[], write: () => Promise<{ changed: string[] }>) => {
      try {
        result.applied += (await write()).changed.length
      } catch (err) {
        if (!(err instanceof Refused) || err.code === 'conflict') throw err
        result.refused.push({ fields, code: err.code })
        pushBack = true
      }
    }
    if (change.transfer && Object.keys(change.transfer).length > 0) {
      const transfer = change.transfer
      await attempt(Object.keys(transfer), () => transferIn(uow, { ticketId: ticket.id, ...transfer, source: 'crm' }))
    }
    if (change.priority) {
      const priority = change.priority
      await attempt(['priority'], () => editFieldsIn(uow, { ticketId: ticket.id, priority }))
    }
    await saveShadow(uow.trx, ticket.id, change.settled, uow.at)
    if (pushBack) await uow.syncCase(ticket.id)
    return result
  })
}

/** A published comment by a CRM user becomes a staff reply, linked to the comment so it is never imported twice. */
export async function applyCrmComment(deps: Deps, who: Who, input: { ticketId: number; commentId: string; body: string }): Promise<Outcome<{ noteId: number | null }>> {
  return run(deps, who, async (uow) => {
    const res = await addNoteIn(uow, deps, { ticketId: input.ticketId, mode: 'reply', body: input.body.trim(), source: 'crm' })
    if (res.noteId !== null) await setNoteComment(uow.trx, res.noteId, input.commentId)
    return { noteId: res.noteId }
  })
}
