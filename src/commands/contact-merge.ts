// Merging two contacts that are the same person (entered twice, or once by hand and once from the
// CRM): the one merged away hands everything to the one kept — tickets, the notes they wrote,
// surveys, approvals asked of them, exports, account memberships (manager wherever either was),
// its CRM link when the kept one has none — and stays, turned off, pointing at the kept one, so
// mail from its address and a login with it reach the same person. Each ticket moved has a history
// row and its Case is updated in the CRM; the merge is one audit row. Nothing is deleted.
import { contactProfile } from '../db/client-admin.js'
import { mergeScope, moveContact, type MergeScope } from '../db/contact-merge.js'
import { endSessionsOf } from '../db/sessions.js'
import { closeAccountLinks } from '../db/security.js'
import { asAdmin } from './admin-common.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

export interface MergeInput {
  /** The contact that stays. */
  keepId: number
  /** The duplicate, merged into the one kept. */
  mergeId: number
}

async function checkedPair(uow: UnitOfWork, input: MergeInput) {
  const keep = await contactProfile(uow.trx, input.keepId)
  if (!keep) throw new Refused('not_found')
  const check = new FieldCheck()
  const merge = input.mergeId === keep.id ? undefined : await contactProfile(uow.trx, input.mergeId)
  if (input.mergeId === keep.id) check.add('mergeId', 'not_yourself')
  else if (!merge) check.add('mergeId', 'invalid_choice')
  else if (merge.mergedIntoId !== null) check.add('mergeId', 'invalid_choice')
  if (keep.mergedIntoId !== null) check.add('keepId', 'invalid_choice')
  check.refuse()
  return { keep, merge: merge! }
}

/** What a merge would move, for the confirmation page; refuses as the merge itself would. */
export async function previewMerge(deps: Deps, who: Who, input: MergeInput): Promise<Outcome<MergeScope & { keep: string; merge: string }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const { keep, merge } = await checkedPair(uow, input)
    return { ...(await mergeScope(uow.trx, merge.id, keep.id)), keep: keep.email, merge: merge.email }
  })
}

export async function mergeContacts(deps: Deps, who: Who, input: MergeInput): Promise<Outcome<{ tickets: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const { keep, merge } = await checkedPair(uow, input)
    const scope = await mergeScope(uow.trx, merge.id, keep.id)
    await moveContact(uow.trx, merge.id, keep.id, scope, uow.at)
    const person = { kind: 'contact' as const, id: merge.id }
    await endSessionsOf(uow.trx, person, uow.at, 'account_merged')
    await closeAccountLinks(uow.trx, person, uow.at)
    for (const ticketId of scope.ticketIds) {
      await uow.history(ticketId, { action: 'contact_merged', field: 'contact', from: `${merge.name} <${merge.email}>`, to: `${keep.name} <${keep.email}>` })
      await uow.syncCase(ticketId)
    }
    await uow.syncCrmRecord('contact', keep.id)
    await uow.audit({
      entity: 'contact', entityId: keep.id, action: 'merge', label: keep.name,
      before: { merged: `${merge.name} <${merge.email}>` },
      after: {
        merged: null, tickets: scope.ticketIds.length, notes: scope.notes, surveys: scope.surveys, approvals: scope.approvals, exports: scope.exports,
        accountsAdded: scope.newAccounts.map((a) => a.accountId)
      }
    })
    return { tickets: scope.ticketIds.length }
  })
}
