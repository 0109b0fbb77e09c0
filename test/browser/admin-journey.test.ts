// Issue 14's journey in Chromium: a new admin, on an empty organisation with only themselves
// (added from the CLI, as the README says), builds it from the browser — a desk, two staff, a
// product, a catalog area and item, a client account with two contacts — and the contacts, who
// set their passwords through their invitations, open tickets that land on the new desk,
// assigned by least load; a staff member turned off gets no new tickets. Screenshots go to
// test/.artifacts/admin-*.png.
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Page } from 'playwright-core'
import { testApp } from '../helpers/app.js'
import { en, flashText, launch, listen, logIn, shoot, watch } from './lifecycle-helpers.js'
import { ROOT } from '../helpers/root.js'

const run = promisify(execFile)
const ADMIN = { email: 'lena@harbor-support.test', password: 'lead-password-2026' }

t.test('a new admin builds the organisation from the browser; tickets follow', async (t) => {
  const e = await testApp(t, { demo: false })
  // The one admin, from the command line (npm run casebridge -- user add ...).
  await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'user', 'add', '--role', 'admin', '--email', ADMIN.email, '--name', 'Lena Lead', '--password', ADMIN.password], {
    cwd: ROOT, env: { ...process.env, DATA_DIR: e.dir, DATABASE_URL: e.config.databaseUrl, LOG_LEVEL: 'silent' }
  })
  const base = await listen(e.app)
  const browser = await launch()
  t.teardown(() => browser.close())
  const errors: string[] = []
  const page = async (who: string): Promise<Page> => {
    const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })).newPage()
    watch(p, who, errors)
    return p
  }
  const admin = await page('admin')
  await logIn(admin, base, ADMIN.email, ADMIN.password, '/desk')
  const save = async (label: string) => admin.getByRole('button', { name: label }).click()

  // A desk, then two staff members on it.
  await admin.goto(`${base}/admin`)
  await admin.getByRole('link', { name: en('admin.desks.title'), exact: true }).click()
  await admin.getByRole('link', { name: en('admin.desks.add') }).click()
  await admin.getByLabel(en('admin.desks.field.name'), { exact: true }).fill('Field Service')
  await save(en('common.save'))
  t.match(await flashText(admin, 'Field Service'), 'Desk Field Service added')
  for (const [name, email] of [['Marta Costa', 'marta@harbor-support.test'], ['Nuno Alves', 'nuno@harbor-support.test']]) {
    await admin.goto(`${base}/admin/staff/new`)
    await admin.getByLabel(en('admin.staff.field.name')).fill(name)
    await admin.getByLabel(en('admin.staff.field.email')).fill(email)
    await admin.getByLabel('Field Service').check()
    await save(en('admin.staff.addAndInvite'))
    t.match(await flashText(admin, email), `An invitation was sent to ${email}`)
  }
  await shoot(admin, 'admin-staff')

  // A product and a catalog area with an item, both served by the desk.
  await admin.goto(`${base}/admin/products`)
  await admin.getByLabel(en('admin.products.field.name')).fill('Harbor Kiosk')
  await save(en('admin.products.add'))
  await flashText(admin, 'Harbor Kiosk')
  await admin.goto(`${base}/admin/catalog/entries`)
  await admin.getByLabel(en('admin.catalog.field.name')).fill('On-site')
  await admin.getByLabel(en('admin.catalog.field.type')).selectOption('request')
  await save(en('admin.catalog.add'))
  await flashText(admin, 'On-site')
  await admin.getByLabel(en('admin.catalog.field.area')).selectOption({ label: 'On-site' })
  await admin.getByLabel(en('admin.catalog.field.name')).fill('Kiosk repair')
  await save(en('admin.catalog.add'))
  await flashText(admin, 'Kiosk repair')
  await admin.goto(`${base}/admin/desks`)
  await admin.getByRole('link', { name: 'Field Service' }).click()
  await admin.getByLabel('Harbor Kiosk').check()
  await admin.getByLabel('On-site › Kiosk repair').check()
  await save(en('common.save'))
  await flashText(admin, en('admin.saved'))
  await shoot(admin, 'admin-desk')

  // A client account with two contacts; the first manages it.
  await admin.goto(`${base}/admin/accounts`)
  await admin.getByLabel(en('admin.accounts.field.name'), { exact: true }).fill('Harbor Foods')
  await save(en('admin.accounts.add'))
  await flashText(admin, 'Harbor Foods')
  const contacts = [['Olga Prado', 'olga@harborfoods.test'], ['Paulo Reis', 'paulo@harborfoods.test']]
  for (const [i, [name, email]] of contacts.entries()) {
    await admin.locator('#add-contact').getByLabel(en('admin.staff.field.name')).fill(name)
    await admin.locator('#add-contact').getByLabel(en('admin.staff.field.email')).fill(email)
    if (i === 0) await admin.locator('#add-contact').getByLabel(en('admin.contacts.field.manager')).check()
    await save(en('admin.staff.addAndInvite'))
    await flashText(admin, email)
  }
  await shoot(admin, 'admin-account')

  // Each contact follows their invitation, sets a password and opens a ticket.
  const invitation = async (email: string) => {
    const mail = await e.db.selectFrom('mail_outbox').select('data').where('recipient', '=', email).where('template', '=', 'account.invitation').executeTakeFirstOrThrow()
    return (JSON.parse(mail.data) as { linkPath: string }).linkPath
  }
  const clients: Page[] = []
  for (const [, email] of contacts) {
    const client = await page(email)
    await client.goto(`${base}${await invitation(email)}`)
    await client.getByLabel(en('auth.password.new'), { exact: true }).fill('harbor-foods-2026')
    await client.getByLabel(en('auth.password.confirm'), { exact: true }).fill('harbor-foods-2026')
    await client.getByRole('button', { name: en('recovery.setPassword') }).click()
    await client.waitForURL(`${base}/login`)
    await logIn(client, base, email, 'harbor-foods-2026', '/portal')
    clients.push(client)
  }
  const open = async (client: Page, title: string, about: { product?: string; item?: string }) => {
    await client.goto(`${base}/portal/tickets/new`)
    if (about.product) await client.getByLabel(en('ticket.product')).selectOption({ label: about.product })
    if (about.item) await client.getByLabel(en('ticket.category')).selectOption({ label: about.item })
    await client.getByLabel(en('ticket.title')).fill(title)
    await client.getByLabel(en('ticket.description')).fill(`${title}: details for the support team.`)
    await client.getByRole('button', { name: en('portal.new.save'), exact: true }).click()
    await client.waitForURL(/\/portal\/tickets\/\d+$/)
    return e.db.selectFrom('ticket').innerJoin('desk', 'desk.id', 'ticket.desk_id').leftJoin('staff', 'staff.id', 'ticket.assignee_id')
      .select(['desk.name as desk', 'staff.name as assignee']).where('ticket.title', '=', title).executeTakeFirstOrThrow()
  }
  const first = await open(clients[0], 'Kiosk screen frozen', { product: 'Harbor Kiosk' })
  const second = await open(clients[1], 'Kiosk needs a visit', { item: 'On-site › Kiosk repair' })
  await shoot(clients[1], 'admin-journey-ticket')
  t.equal(first.desk, 'Field Service', 'the product’s ticket is on the new desk')
  t.equal(second.desk, 'Field Service', 'the catalog item’s ticket too')
  t.same([first.assignee, second.assignee].sort(), ['Marta Costa', 'Nuno Alves'], 'least load: one each')

  // Marta's account is turned off: the next tickets all go to Nuno.
  await admin.goto(`${base}/admin/staff`)
  await admin.getByRole('link', { name: 'Marta Costa' }).click()
  await admin.getByRole('button', { name: en('admin.staff.disable') }).click()
  await flashText(admin, 'turned off')
  await shoot(admin, 'admin-staff-off')
  for (const title of ['Printer on kiosk 2', 'Card reader on kiosk 3']) {
    const ticket = await open(clients[0], title, { product: 'Harbor Kiosk' })
    t.equal(ticket.assignee, 'Nuno Alves', `${title}: not to the account turned off`)
  }
  const log = await e.db.selectFrom('admin_audit').select(['entity', 'action']).orderBy('id').execute()
  t.same(log.map((r) => `${r.entity} ${r.action}`), [
    'staff create', // the admin, from the CLI
    'desk create', 'staff create', 'staff create', 'product create', 'catalog_area create', 'catalog_item create', 'desk update',
    'account create', 'contact create', 'contact create', 'staff disable'
  ], 'every change in the audit log')
  t.same(errors, [], 'no script errors or failed requests')
})
