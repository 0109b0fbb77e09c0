import type { Db } from '../../src/db/index.js'
import { loadContactActor, loadStaffActor } from '../../src/db/people.js'
import type { ContactActor, StaffActor } from '../../src/domain/permissions.js'
import type { DemoIds } from './app.js'
import { createTicket } from './commands.js'

/** Opens a ticket for a demo contact directly through the repository. */
export async function makeTicket(db: Db, ids: DemoIds, opts: { contact?: string; account?: string; desk?: string; product?: string | null; category?: string | null; priority?: 'low' | 'medium' | 'high' | 'critical'; title?: string; parentId?: number | null; now?: Date } = {}) {
  const contact = opts.contact ?? 'bob@acme.test'
  const desk = opts.desk ?? 'Service Desk'
  const category = opts.category === undefined ? (desk === 'Service Desk' ? 'Printer problem' : null) : opts.category
  const product = opts.product === undefined ? (desk === 'Product Support' ? 'Casebridge Cloud' : null) : opts.product
  const now = (opts.now ?? new Date()).toISOString()
  return createTicket(db, {
    title: opts.title ?? 'Something broke', description: 'It does not work.', url: null,
    accountId: ids.account[opts.account ?? 'Acme Corporation'], contactId: ids.contact[contact], createdByStaffId: null,
    productId: product ? ids.product[product] : null, categoryId: category ? ids.category[category] : null,
    deskId: ids.desk[desk], priority: opts.priority ?? 'medium', ticketType: 'incident', source: 'portal', files: [],
    parentId: opts.parentId ?? null
  }, { actor: { type: 'contact', id: ids.contact[contact], name: contact }, now })
}

export async function staffActor(db: Db, ids: DemoIds, email: string): Promise<StaffActor> {
  return (await loadStaffActor(db, ids.staff[email]))!
}

export async function contactActor(db: Db, ids: DemoIds, email: string): Promise<ContactActor> {
  return (await loadContactActor(db, ids.contact[email]))!
}

export { refusal } from './commands.js'
