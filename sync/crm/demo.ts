/**
 * Gives an empty emulator the portal's accounts, products, contacts and staff users, so the
 * default set-up (and tests) show Cases with their account, contact, product and owner. Only for
 * the emulator: a real org is the master of its reference data.
 */
import type { Connection } from 'jsforce'
import type { Db } from '../../src/db/index.js'
import { unlinkedPortalRecords } from '../../src/db/crm-reference.js'

export interface MirrorResult {
  accounts: number
  products: number
  users: number
  contacts: number
}

export function splitName(name: string): { FirstName: string | null; LastName: string } {
  const parts = name.trim().split(/\s+/)
  if (parts.length === 1) return { FirstName: null, LastName: parts[0] || 'Unknown' }
  return { FirstName: parts.slice(0, -1).join(' '), LastName: parts[parts.length - 1] }
}

async function createAll(conn: Connection, type: string, records: Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < records.length; i += 200) {
    const res = await conn.sobject(type).create(records.slice(i, i + 200), { allOrNone: true }) as unknown as Array<{ success: boolean; id?: string; errors?: unknown[] }>
    for (const r of res) {
      if (!r.success || !r.id) throw new Error(`could not create ${type}: ${JSON.stringify(r.errors)}`)
      ids.push(r.id)
    }
  }
  return ids
}

/**
 * Creates in the CRM every portal account, product, contact and staff member it lacks (staff as
 * Users with the staff e-mail; `createUser` lets the emulator give them a password). The reference
 * import then links them by name and e-mail.
 */
export async function mirrorPortalToCrm(db: Db, conn: Connection, createUser?: (u: { username: string; email: string; firstName: string | null; lastName: string }) => string): Promise<MirrorResult> {
  const existingAccounts = new Map(((await conn.query<{ Id: string; Name: string }>('SELECT Id, Name FROM Account')).records).map((a) => [a.Name.toLowerCase(), a.Id]))
  const { accounts, products: allProducts, staff: allStaff, contacts: allContacts } = await unlinkedPortalRecords(db)
  const newAccounts = accounts.filter((a) => !existingAccounts.has(a.name.toLowerCase()))
  const accountIds = await createAll(conn, 'Account', newAccounts.map((a) => ({ Name: a.name })))
  newAccounts.forEach((a, i) => existingAccounts.set(a.name.toLowerCase(), accountIds[i]))

  const existingProducts = new Set(((await conn.query<{ Name: string }>('SELECT Name FROM Product2')).records).map((p) => p.Name.toLowerCase()))
  const products = allProducts
    .filter((p) => !existingProducts.has(p.name.toLowerCase()))
  await createAll(conn, 'Product2', products.map((p) => ({ Name: p.name, ProductCode: p.code, IsActive: p.active === 1 })))

  const existingUsers = new Set(((await conn.query<{ Email: string }>('SELECT Email FROM User')).records).map((u) => (u.Email ?? '').toLowerCase()))
  const staff = allStaff
    .filter((s) => !existingUsers.has(s.email.toLowerCase()))
  for (const s of staff) {
    const n = splitName(s.name)
    if (createUser) createUser({ username: s.email, email: s.email, firstName: n.FirstName, lastName: n.LastName })
    else await createAll(conn, 'User', [{ Username: s.email, Email: s.email, ...n }])
  }

  const existingContacts = new Set(((await conn.query<{ Email: string | null }>('SELECT Email FROM Contact')).records).map((c) => (c.Email ?? '').toLowerCase()))
  const contacts = allContacts
    .filter((c, i, all) => all.findIndex((o) => o.id === c.id) === i && !existingContacts.has(c.email.toLowerCase()))
  await createAll(conn, 'Contact', contacts.map((c) => ({
    ...splitName(c.name), Email: c.email, Phone: c.phone, AccountId: c.account_name ? existingAccounts.get(c.account_name.toLowerCase()) ?? null : null
  })))
  return { accounts: newAccounts.length, products: products.length, users: staff.length, contacts: contacts.length }
}
