import type { Db } from './index.js'
import { insertContact, insertStaff } from './people.js'

export interface DemoLogin {
  email: string
  password: string
  role: 'client' | 'staff' | 'admin'
  name: string
  accounts: string[]
  accountManager?: boolean
  available?: boolean
  desks?: string[]
}

export interface DemoSeed {
  logins: DemoLogin[]
}

/** A ticket the demo opens through the commands, as its requester would. */
export interface DemoTicket {
  title: string
  description: string
  contactId: number
  accountId: number
  productId: number | null
  categoryId: number | null
  deskId: number
  priority: 'low' | 'medium' | 'high' | 'critical'
}

export interface DemoOrganisation extends DemoSeed {
  tickets: DemoTicket[]
  /** The staff reply the first ticket gets. */
  firstReply: { staffId: number; body: string }
}

export const DEMO_PASSWORDS = { client: 'client-demo-pass', staff: 'staff-demo-pass', admin: 'admin-demo-pass' } as const

/**
 * The demo passwords' scrypt hashes (the same parameters as src/security/password.ts, a salt
 * derived from the role). The passwords are published (README, the login page's demo hint), so
 * a fixed hash hides nothing; it spares every demo seed three deliberately slow hashes.
 * test/domain/demo-hashes.test.ts checks each one verifies its password.
 */
export const DEMO_PASSWORD_HASHES: Record<keyof typeof DEMO_PASSWORDS, string> = {
  client: 'scrypt$32768$8$1$QYRunUfSIdZ+/o85EwrOOA==$iWq/yYHsw7bLgKT17bJvWZYT1r6eWq5/qHZjG9UX11Y=',
  staff: 'scrypt$32768$8$1$JhJ0ogyzoLXwcBb2LdndTA==$GH0hpYwBNRtCR8UHbXs6FcWzVtwtPEpnKUpGg6+Ex1g=',
  admin: 'scrypt$32768$8$1$lKIQ90+HeJlaQYABT89/Uw==$o/adYoAlgCX/8JrJXfbMho/kLphS/jEwzMWQyIDICN4='
}

export async function isEmpty(db: Db): Promise<boolean> {
  const row = await db.selectFrom('staff').select('id').limit(1).executeTakeFirst()
  return row === undefined
}

/**
 * The demo organisation's people and structure: 3 accounts, 2 desks, 5 staff (one away), an
 * admin, a catalog; its tickets are opened by src/commands/demo.ts.
 */
export async function insertDemoOrganisation(db: Db, now: Date): Promise<DemoOrganisation> {
  const at = now.toISOString()
  const logins: DemoLogin[] = []
  const hashes = DEMO_PASSWORD_HASHES

  return db.transaction().execute(async (trx) => {
    const account = async (name: string) => (await trx.insertInto('account').values({ name, created_at: at }).returning('id').executeTakeFirstOrThrow()).id
    const acme = await account('Acme Corporation')
    const globex = await account('Globex Industries')
    const initech = await account('Initech Ltd')
    const accountNames: Record<number, string> = { [acme]: 'Acme Corporation', [globex]: 'Globex Industries', [initech]: 'Initech Ltd' }

    const product = async (name: string, code: string) => (await trx.insertInto('product').values({ name, code, created_at: at }).returning('id').executeTakeFirstOrThrow()).id
    const cloud = await product('Casebridge Cloud', 'CB-CLOUD')
    const onprem = await product('Casebridge On-Premises', 'CB-ONPREM')
    const mobile = await product('Mobile App', 'CB-MOBILE')
    const billing = await product('Billing', 'CB-BILL')

    const category = async (name: string, parentId: number | null, type: 'incident' | 'request' = 'incident') =>
      (await trx.insertInto('category').values({ name, parent_id: parentId, ticket_type: type, created_at: at }).returning('id').executeTakeFirstOrThrow()).id
    const access = await category('Access & accounts', null)
    const passwordReset = await category('Password reset', access, 'request')
    const newUser = await category('New user account', access, 'request')
    const hardware = await category('Hardware', null)
    const laptop = await category('Laptop problem', hardware, 'incident')
    const printer = await category('Printer problem', hardware, 'incident')
    const software = await category('Software', null)
    const install = await category('Install software', software, 'request')
    const appError = await category('Application error', software, 'incident')

    const desk = async (name: string) => (await trx.insertInto('desk').values({ name, created_at: at }).returning('id').executeTakeFirstOrThrow()).id
    const serviceDesk = await desk('Service Desk')
    const productSupport = await desk('Product Support')
    const deskNames: Record<number, string> = { [serviceDesk]: 'Service Desk', [productSupport]: 'Product Support' }
    for (const c of [passwordReset, newUser, laptop, printer, install, appError]) {
      await trx.insertInto('desk_category').values({ desk_id: serviceDesk, category_id: c }).execute()
    }
    for (const p of [cloud, onprem, mobile, billing]) {
      await trx.insertInto('desk_product').values({ desk_id: productSupport, product_id: p }).execute()
    }

    const staff = async (name: string, email: string, opts: { desks: number[]; available?: boolean; products?: number[]; rate?: number }) => {
      const id = await insertStaff(trx, {
        name, email, passwordHash: hashes.staff, role: 'staff', available: opts.available, deskIds: opts.desks,
        productIds: opts.products, hourlyRateCents: opts.rate ?? 6000, now: at
      })
      logins.push({ email, password: DEMO_PASSWORDS.staff, role: 'staff', name, accounts: [], available: opts.available !== false, desks: opts.desks.map((d) => deskNames[d]) })
      return id
    }
    const ana = await staff('Ana Souza', 'ana@casebridge.test', { desks: [serviceDesk, productSupport] })
    const bruno = await staff('Bruno Lima', 'bruno@casebridge.test', { desks: [serviceDesk] })
    await staff('Carla Mendes', 'carla@casebridge.test', { desks: [productSupport] })
    await staff('Diego Rocha', 'diego@casebridge.test', { desks: [productSupport], products: [billing], rate: 7500 })
    await staff('Eva Martins', 'eva@casebridge.test', { desks: [serviceDesk], available: false })
    await trx.updateTable('desk').set({ manager_id: ana }).where('id', '=', serviceDesk).execute()
    await trx.updateTable('desk').set({ manager_id: bruno }).where('id', '=', productSupport).execute()

    await insertStaff(trx, { name: 'Alex Admin', email: 'admin@casebridge.test', passwordHash: hashes.admin, role: 'admin', canDelete: true, deskIds: [], now: at })
    logins.push({ email: 'admin@casebridge.test', password: DEMO_PASSWORDS.admin, role: 'admin', name: 'Alex Admin', accounts: [] })

    const contact = async (name: string, email: string, accounts: { id: number; manager?: boolean }[], locale: 'en' | 'pt-BR' | null = null) => {
      const id = await insertContact(trx, {
        name, email, passwordHash: hashes.client, locale,
        accounts: accounts.map((a) => ({ accountId: a.id, isManager: Boolean(a.manager) })), now: at
      })
      logins.push({ email, password: DEMO_PASSWORDS.client, role: 'client', name, accounts: accounts.map((a) => accountNames[a.id]), accountManager: accounts.some((a) => a.manager) })
      return id
    }
    const alice = await contact('Alice Walker', 'alice@acme.test', [{ id: acme, manager: true }])
    const bob = await contact('Bob Stone', 'bob@acme.test', [{ id: acme }])
    await contact('Carol Price', 'carol@acme.test', [{ id: acme }, { id: globex }])
    await contact('Gina Gomes', 'gina@globex.test', [{ id: globex, manager: true }], 'pt-BR')
    const hank = await contact('Hank Hill', 'hank@globex.test', [{ id: globex }])
    await contact('Ian Irving', 'ian@initech.test', [{ id: initech, manager: true }])
    await contact('Jane Jones', 'jane@initech.test', [{ id: initech }])
    // Manager approval (docs/operations.md): Alice approves Bob's requests for a new user account.
    await trx.updateTable('contact').set({ manager_contact_id: alice }).where('id', '=', bob).execute()
    await trx.updateTable('category').set({ requires_approval: 1 }).where('id', '=', newUser).execute()

    const tickets: DemoTicket[] = [
      { title: 'Cannot log in to the cloud console', description: 'Since this morning the console answers "invalid session" right after login.', contactId: alice, accountId: acme, productId: cloud, categoryId: null, deskId: productSupport, priority: 'high' },
      { title: 'Printer on 3rd floor jams', description: 'The HP printer near the kitchen jams on every duplex job.', contactId: bob, accountId: acme, productId: null, categoryId: printer, deskId: serviceDesk, priority: 'medium' },
      { title: 'Invoice shows the wrong VAT rate', description: 'Invoice 2026-114 applied 21% instead of 23%.', contactId: hank, accountId: globex, productId: billing, categoryId: null, deskId: productSupport, priority: 'medium' },
      { title: 'Password reset for new intern', description: 'Please reset the password of intern.joao@acme.test.', contactId: bob, accountId: acme, productId: null, categoryId: passwordReset, deskId: serviceDesk, priority: 'low' }
    ]
    return { logins, tickets, firstReply: { staffId: ana, body: 'Thanks, we are looking into it. Which browser do you use?' } }
  })
}
