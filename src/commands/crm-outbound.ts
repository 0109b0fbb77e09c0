// What the CRM outbox drain records once the CRM has answered: a ticket linked to its Case (and
// the Case fields now on both sides), a note linked to its CaseComment, each with its outbox rows
// marked done in the same transaction; and a Case owed again.
import { completeRows } from '../db/outbox.js'
import { clearShadow, saveShadow } from '../db/crm-shadow.js'
import { setCaseLink, setNoteComment } from '../db/ticket-write.js'
import { run, SYSTEM, type Deps } from './kernel.js'

export interface CaseUpserted {
  ticketId: number
  caseId: string
  caseNumber: string | null
  /** The upsert made a new Case. */
  created: boolean
  /** Every field was sent (a first send); otherwise only the changed ones. */
  full: boolean
  /** The values sent, now on the Case. */
  sent: Record<string, string | null>
  rowIds: number[]
}

type WorkDeps = Pick<Deps, 'db' | 'clock' | 'random'>

/** Cases the CRM accepted; returns the tickets whose Case was missing and must be sent whole again. */
export async function recordCasesUpserted(deps: WorkDeps, cases: CaseUpserted[]): Promise<number[]> {
  const outcome = await run(deps, SYSTEM, async (uow) => {
    const again: number[] = []
    for (const c of cases) {
      await setCaseLink(uow.trx, c.ticketId, c.caseId, c.caseNumber)
      if (c.created && !c.full) {
        // the Case was gone (deleted in the CRM) and this partial upsert made a new one: send it whole
        await clearShadow(uow.trx, c.ticketId)
        again.push(c.ticketId)
      } else {
        await saveShadow(uow.trx, c.ticketId, c.sent, uow.at)
      }
      await completeRows(uow.trx, 'crm', c.rowIds, uow.at)
    }
    for (const id of again) await uow.syncCase(id)
    return again
  })
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}

/** Comments the CRM created (or that were found there after an unknown outcome). */
export async function recordCommentsCreated(deps: WorkDeps, comments: { noteId: number; commentId: string; rowId: number }[]): Promise<void> {
  const outcome = await run(deps, SYSTEM, async (uow) => {
    for (const c of comments) {
      await setNoteComment(uow.trx, c.noteId, c.commentId)
      await completeRows(uow.trx, 'crm', [c.rowId], uow.at)
    }
  })
  if (!outcome.ok) throw outcome.refusal
}

/** A ticket's Case is owed an upsert (a comment waits for a Case that nothing is sending). */
export async function requestCaseSync(deps: WorkDeps, ticketId: number): Promise<void> {
  const outcome = await run(deps, SYSTEM, (uow) => uow.syncCase(ticketId))
  if (!outcome.ok) throw outcome.refusal
}
