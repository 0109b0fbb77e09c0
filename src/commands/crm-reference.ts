// Reference data from the CRM (Accounts, Products, Users, Contacts) linked to or created in the
// portal. A local record newly linked to the CRM makes the Cases of its tickets owe an upsert,
// so they can name it.
import {
  linkCrmUser, ticketsWithCaseOf, upsertCrmAccount, upsertCrmContact, upsertCrmProduct, type ReferenceOutcome
} from '../db/crm-reference.js'
import { run, SYSTEM, type Deps, type UnitOfWork } from './kernel.js'
import { cleanText } from '../domain/text.js'
import { getSettings } from '../db/settings.js'
import { queueInvitation } from './account-links.js'

export interface CrmAccount { Id: string; Name: string }
export interface CrmContact { Id: string; Name: string; Email: string | null; Phone: string | null; AccountId: string | null }
export interface CrmUser { Id: string; Email: string | null; IsActive: boolean }
export interface CrmProduct { Id: string; Name: string; ProductCode: string | null; IsActive: boolean }

export type CrmReference =
  | { object: 'Account'; record: CrmAccount }
  | { object: 'Contact'; record: CrmContact }
  | { object: 'User'; record: CrmUser }
  | { object: 'Product2'; record: CrmProduct }

/** Imports one record; what it did (linked, updated, created, unchanged, unlinked, skipped). */
export async function importCrmRecord(deps: Pick<Deps, 'db' | 'clock' | 'random'>, ref: CrmReference): Promise<string> {
  // CRM text nobody can send again: kept, with what neither database stores alike taken out.
  const record = Object.fromEntries(Object.entries(ref.record).map(([key, value]) => [key, typeof value === 'string' ? cleanText(value) : value]))
  const outcome = await run(deps, SYSTEM, (uow) => importIn(uow, { ...ref, record } as CrmReference))
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}

async function importIn(uow: UnitOfWork, ref: CrmReference): Promise<string> {
  let result: ReferenceOutcome<string>
  switch (ref.object) {
    case 'Account': result = await upsertCrmAccount(uow.trx, ref.record, uow.at); break
    case 'Contact': result = await upsertCrmContact(uow.trx, ref.record, uow.at); break
    case 'User': result = await linkCrmUser(uow.trx, ref.record); break
    default: result = await upsertCrmProduct(uow.trx, ref.record, uow.at)
  }
  // New CRM contacts get the portal's invitation when the service setting asks for it.
  if (result.invitable !== undefined && (await getSettings(uow.trx)).inviteCrmContacts) {
    await queueInvitation(uow, { kind: 'contact', id: result.invitable }, 'by the CRM import (invite new CRM contacts)')
  }
  if (result.relinked) {
    for (const ticketId of await ticketsWithCaseOf(uow.trx, result.relinked.column, result.relinked.id)) await uow.syncCase(ticketId)
  }
  return result.outcome
}
