import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { BrowserContext, Page } from 'playwright-core'
import { testApp, DEMO_PASSWORDS } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { transition } from '../helpers/commands.js'
import { personWho } from '../../src/commands/kernel.js'
import { en, flashText, launch, listen, logIn, shoot, watch } from './lifecycle-helpers.js'

/** The app on a real port, and Ana logged in to it in Chromium; `errors` collects the page's failures. */
async function anaInChromium(t: Test, app: FastifyInstance): Promise<{ base: string; staff: Page; errors: string[] }> {
  const base = await listen(app)
  const browser = await launch()
  t.teardown(() => browser.close())
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })
  const errors: string[] = []
  const staff = await context.newPage()
  watch(staff, 'staff', errors)
  await logIn(staff, base, 'ana@casebridge.test', DEMO_PASSWORDS.staff, '/desk')
  return { base, staff, errors }
}

// Actions where the tickets are (issue 15): staff close and delete from the queue's buttons, each
// through its confirmation page; the client works a ticket from the row menu of My requests.
t.test('staff close and delete from the queue; the client goes from a row menu to the survey and rates', async (t) => {
  const { app, db, ids } = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const toClose = await makeTicket(db, ids, { title: 'Badge reader rejects new cards' })
  const toDelete = await makeTicket(db, ids, { title: 'Duplicate: badge reader' })
  for (const tk of [toClose, toDelete]) await db.updateTable('ticket').set({ assignee_id: ana.id }).where('id', '=', tk.id).execute()
  await transition(db, personWho(ana), toClose.id, { action: 'pick_up' }, new Date())
  await transition(db, personWho(ana), toClose.id, { action: 'resolve', resolution: 'Card profiles re-synced.' }, new Date())

  const base = await listen(app)
  const browser = await launch()
  t.teardown(() => browser.close())
  const newContext = (): Promise<BrowserContext> => browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })
  const errors: string[] = []

  // Ana closes the resolved ticket from her queue: check-mark, what will happen, category, back.
  const staff = await (await newContext()).newPage()
  watch(staff, 'staff', errors)
  await logIn(staff, base, 'ana@casebridge.test', DEMO_PASSWORDS.staff, '/desk')
  await staff.goto(`${base}/desk?scope=mine&situation=all`)
  t.equal(await staff.getByRole('link', { name: en('desk.quick.delete', { number: toClose.number }) }).count(), 0, 'no trash for Ana (she may not delete)')
  await staff.getByRole('link', { name: en('desk.quick.close', { number: toClose.number }) }).click()
  await staff.waitForURL(new RegExp(`/desk/tickets/${toClose.number}/confirm/close`))
  await t.resolves(staff.getByRole('heading', { name: en('desk.confirm.close.title', { number: toClose.number }) }).waitFor(), 'the confirmation page')
  t.match(await staff.locator('.effects').innerText(), 'bob@acme.test', 'it says who is told')
  await shoot(staff, 'row-actions-confirm-close')
  await staff.getByRole('button', { name: en('desk.actions.confirm.close') }).click()
  await staff.waitForURL(new RegExp(`/desk/tickets/${toClose.number}/confirm/close|/actions/close`))
  t.equal(await staff.locator('[aria-invalid="true"]').count(), 1, 'without a closure category: asked for it, on the same page')
  await staff.getByLabel(en('desk.close.category')).selectOption({ label: 'Solved' })
  await staff.getByRole('button', { name: en('desk.actions.confirm.close') }).click()
  await staff.waitForURL(`${base}/desk?scope=mine&situation=all`)
  t.equal(await flashText(staff, en('desk.action.done.close', { number: toClose.number })), en('desk.action.done.close', { number: toClose.number }), 'back on the queue page, which says so')
  await shoot(staff, 'row-actions-queue')

  // The admin deletes the duplicate from the queue; "keep it" first leads back without a change.
  const admin = await (await newContext()).newPage()
  watch(admin, 'admin', errors)
  await logIn(admin, base, 'admin@casebridge.test', DEMO_PASSWORDS.admin, '/desk')
  await admin.goto(`${base}/desk?scope=desks&situation=all`)
  await admin.getByRole('link', { name: en('desk.quick.delete', { number: toDelete.number }) }).click()
  await admin.getByRole('link', { name: en('desk.confirm.back') }).click()
  await admin.waitForURL(`${base}/desk?scope=desks&situation=all`)
  t.notOk((await db.selectFrom('ticket').select('deleted_at').where('id', '=', toDelete.id).executeTakeFirstOrThrow()).deleted_at, 'kept, going back')
  await admin.getByRole('link', { name: en('desk.quick.delete', { number: toDelete.number }) }).click()
  await admin.getByLabel(en('desk.actions.reason.delete')).fill('Same as the other badge reader ticket.')
  await admin.getByRole('button', { name: en('desk.actions.confirm.delete') }).click()
  await admin.waitForURL(`${base}/desk?scope=desks&situation=all`)
  t.equal(await admin.getByRole('link', { name: `#${toDelete.number}`, exact: true }).count(), 0, 'gone from the queue')

  // Bob opens the row menu of the closed ticket and follows it to the survey.
  const client = await (await newContext()).newPage()
  watch(client, 'client', errors)
  await logIn(client, base, 'bob@acme.test', DEMO_PASSWORDS.client, '/portal')
  const menu = client.locator('details.row-menu', { has: client.locator(`text=#${toClose.number}`) })
  await menu.locator('summary').click()
  await shoot(client, 'row-actions-my-requests')
  await menu.getByRole('link', { name: en('portal.row.survey') }).click()
  await client.waitForURL(`${base}/portal/tickets/${toClose.number}#survey`)
  await client.getByLabel(`5 · ${en('portal.survey.r5')}`).check()
  await client.getByRole('button', { name: en('portal.survey.submit') }).click()
  await client.waitForLoadState()
  t.ok(await db.selectFrom('survey').select('rating').where('ticket_id', '=', toClose.id).executeTakeFirst(), 'rated from where the menu led')

  t.same(errors.filter((e) => !e.includes('/actions/close')), [], 'no script errors or failed requests (the refused close answered 422 on purpose)')
})

t.test('bulk in the queue: a page ticked at once and picked up, then 50 tickets matching a search closed with one note, one refused', async (t) => {
  const { app, db, ids } = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const made = []
  for (let i = 0; i < 50; i++) made.push(await makeTicket(db, ids, { title: `Badge reader ${i} offline` }))
  await db.updateTable('ticket').set({ assignee_id: ana.id }).where('id', 'in', made.map((m) => m.id)).execute()
  for (const tk of made.slice(25)) await transition(db, personWho(ana), tk.id, { action: 'pick_up' }, new Date())
  // All but one resolved: closing that one waits for its requester.
  for (const tk of made.slice(1)) {
    if (made.indexOf(tk) < 25) await transition(db, personWho(ana), tk.id, { action: 'pick_up' }, new Date())
    await transition(db, personWho(ana), tk.id, { action: 'resolve', resolution: 'Reader firmware updated.' }, new Date())
  }
  await db.updateTable('ticket').set({ status: 'new', state: 'open' }).where('id', '=', made[0].id).execute()

  const { base, staff, errors } = await anaInChromium(t, app)

  // The new ticket is the one left Open / New: tick the whole page with the head box, pick up.
  await staff.goto(`${base}/desk?scope=mine`)
  await staff.getByRole('checkbox', { name: en('desk.bulk.pickPage') }).check()
  const ticked = await staff.locator('input[form="bulk"][name="tickets"]:checked').count()
  t.ok(ticked >= 1, `the head box ticks the page (${ticked})`)
  await staff.locator('#bulk').getByLabel(en('desk.bulk.action')).selectOption({ label: en('desk.bulk.action.pick_up') })
  t.equal(await staff.locator('#bulk').getByLabel(en('desk.bulk.assignee')).isVisible(), false, 'only the chosen action\'s inputs are shown')
  await staff.locator('#bulk').getByRole('button', { name: en('desk.bulk.apply') }).click()
  await staff.waitForURL(`${base}/desk/bulk`)
  t.match(await staff.locator('.bulk-summary').innerText(), /\d+ done, \d+ refused\./)

  // Every ticket matching "Badge reader": closed with one note; the one still being worked is refused.
  await staff.goto(`${base}/desk?scope=desks&situation=all&q=${encodeURIComponent('Badge reader')}`)
  await staff.locator('#bulk summary').click()
  await staff.locator('#bulk').getByLabel(/Every ticket matching this search \(50\)/).check()
  await staff.locator('#bulk').getByLabel(en('desk.bulk.action')).selectOption({ label: en('desk.bulk.action.close') })
  await staff.locator('#bulk').getByLabel(en('desk.close.category')).selectOption({ label: 'Solved' })
  await staff.locator('#bulk').getByLabel(en('desk.bulk.note')).fill('Closed after the firmware roll-out; write back if a reader is still offline.')
  await staff.locator('#bulk').getByRole('button', { name: en('desk.bulk.apply') }).click()
  await staff.waitForURL(`${base}/desk/bulk`)
  t.equal(await staff.locator('.bulk-summary').innerText(), '49 done, 1 refused.')
  t.equal(await staff.locator('tr.bulk-refused').count(), 1)
  t.match(await staff.locator('tr.bulk-refused').innerText(), `#${made[0].number}`, 'the refused one is named, with why')
  await shoot(staff, 'bulk-close-results')
  const closed = await db.selectFrom('ticket').select('id').where('id', 'in', made.map((m) => m.id)).where('state', '=', 'closed').execute()
  t.equal(closed.length, 49)
  t.same(errors, [], 'no script errors or failed requests')
})

t.test('bulk assign: 50 tickets ticked on one page handed to Bruno with one note, one refused', async (t) => {
  const { app, db, ids } = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const made = []
  for (let i = 0; i < 50; i++) made.push(await makeTicket(db, ids, { title: `Scanner ${i} jams` }))
  await db.updateTable('ticket').set({ assignee_id: ana.id }).where('id', 'in', made.map((m) => m.id)).execute()
  // One was cancelled meanwhile: a cancelled ticket is handed to nobody.
  await transition(db, personWho(ana), made[7].id, { action: 'cancel', reason: 'Duplicate.' }, new Date())

  const { base, staff, errors } = await anaInChromium(t, app)
  await staff.goto(`${base}/desk?scope=mine&situation=all&q=Scanner&per_page=50`)
  await staff.getByRole('checkbox', { name: en('desk.bulk.pickPage') }).check()
  t.equal(await staff.locator('input[form="bulk"][name="tickets"]:checked').count(), 50, 'the 50 rows of the page ticked')
  await staff.locator('#bulk').getByLabel(en('desk.bulk.action')).selectOption({ label: en('desk.bulk.action.assign') })
  await staff.locator('#bulk').getByLabel(en('desk.bulk.assignee')).selectOption({ label: 'Bruno Lima' })
  await staff.locator('#bulk').getByLabel(en('desk.bulk.note')).fill('Bruno covers the scanners this week.')
  await staff.locator('#bulk').getByRole('button', { name: en('desk.bulk.apply') }).click()
  await staff.waitForURL(`${base}/desk/bulk`)
  t.equal(await staff.locator('.bulk-summary').innerText(), '49 done, 1 refused.')
  t.match(await staff.locator('tr.bulk-refused').innerText(), `#${made[7].number}`, 'the cancelled one is named, with why')
  const bruno = await db.selectFrom('ticket').select('id').where('id', 'in', made.map((m) => m.id)).where('assignee_id', '=', ids.staff['bruno@casebridge.test']).execute()
  t.equal(bruno.length, 49, 'Bruno has the 49 others')
  t.same(errors, [], 'no script errors or failed requests')
})

t.test('a canned response written once, then inserted in a reply by typing "/" and its title, filled in for the ticket', async (t) => {
  const { app, db, ids } = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const ticket = await makeTicket(db, ids, { title: 'Label printer prints blank labels' })
  await db.updateTable('ticket').set({ assignee_id: ana.id }).where('id', '=', ticket.id).execute()
  const { base, staff, errors } = await anaInChromium(t, app)

  await staff.getByRole('link', { name: en('nav.canned') }).click()
  await staff.getByLabel(en('desk.canned.titleField')).fill('Label roll upside down')
  await staff.getByLabel(en('desk.canned.scope')).selectOption({ label: en('desk.canned.sharedWith', { desk: 'Service Desk' }) })
  await staff.getByLabel(en('desk.canned.bodyEn')).fill('Hello {{requester.first_name}},\nThe label roll of ticket #{{ticket.number}} is likely upside down: turn it so the shiny side faces the print head.\n{{me.name}}')
  await staff.getByRole('button', { name: en('desk.canned.add') }).click()
  t.equal(await flashText(staff, en('desk.canned.added', { title: 'Label roll upside down' })), en('desk.canned.added', { title: 'Label roll upside down' }))

  await staff.goto(`${base}/desk/tickets/${ticket.number}`)
  const body = staff.getByLabel(en('desk.reply.body'), { exact: true })
  await body.click()
  await body.type('/')
  const search = staff.getByRole('searchbox', { name: en('desk.canned.search') })
  await search.waitFor()
  await search.type('roll')
  await search.press('Enter')
  const expected = `Hello Bob,\nThe label roll of ticket #${ticket.number} is likely upside down: turn it so the shiny side faces the print head.\nAna Souza`
  t.equal(await body.inputValue(), expected, 'the "/" became the response, filled in for this ticket')
  await shoot(staff, 'canned-inserted')
  await staff.getByLabel(en('desk.reply.kindReply')).check()
  await Promise.all([staff.waitForEvent('load'), staff.getByRole('button', { name: en('desk.reply.submit') }).click()])
  const note = await db.selectFrom('note').select('body').where('ticket_id', '=', ticket.id).where('kind', '=', 'reply').executeTakeFirst()
  t.equal(note?.body.replace(/\r\n/g, '\n'), expected, 'and went out as the reply (the browser sends line breaks as CRLF)')
  t.same(errors, [], 'no script errors or failed requests')
})
