// The CRM ids the push of accounts and contacts learnt (sync/people.ts): each record is linked to
// its CRM twin, and the Cases of its tickets are owed an upsert so they can name it.
import { crmIdOf, setCrmId, type CrmPeopleEntity } from '../db/crm-people.js'
import { ticketsWithCaseOf } from '../db/crm-reference.js'
import { run, SYSTEM, unwrap, type Deps } from './kernel.js'

export interface CrmLink {
  entity: CrmPeopleEntity
  id: number
  crmId: string
}

/** Stores the links in one transaction; a CRM id another record already holds is left alone (returned). */
export async function recordCrmLinks(deps: Pick<Deps, 'db' | 'clock' | 'random'>, links: CrmLink[]): Promise<CrmLink[]> {
  if (links.length === 0) return []
  return unwrap(await run(deps, SYSTEM, async (uow) => {
    const clashes: CrmLink[] = []
    for (const link of links) {
      const current = await crmIdOf(uow.trx, link.entity, link.id)
      if (current === undefined || current === link.crmId) continue
      if (!(await setCrmId(uow.trx, link.entity, link.id, link.crmId))) {
        clashes.push(link)
        continue
      }
      for (const ticketId of await ticketsWithCaseOf(uow.trx, link.entity === 'account' ? 'account_id' : 'contact_id', link.id)) await uow.syncCase(ticketId)
    }
    return clashes
  }))
}
