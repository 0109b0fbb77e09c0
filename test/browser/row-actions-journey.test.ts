import t from 'tap'
import type { BrowserContext } from 'playwright-core'
import { testApp, DEMO_PASSWORDS } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { transition } from '../helpers/commands.js'
import { personWho } from '../../src/commands/kernel.js'
import { en, flashText, launch, listen, logIn, shoot, watch } from './lifecycle-helpers.js'

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
