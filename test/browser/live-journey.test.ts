import t from 'tap'
import type { BrowserContext } from 'playwright-core'
import { testApp, DEMO_PASSWORDS } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { en, flashText, launch, listen, logIn, shoot, watch } from './lifecycle-helpers.js'

// Live pages (issue 15): two staff members on one ticket, each in their own browser. Ana sees
// Bruno arrive and start writing; his reply appears on her open page within two seconds without
// a reload while her own half-written reply stays as it is, and the reply she then sends is held
// back once because the ticket changed since she loaded it. Bob's portal page follows too.
t.test('one staff member\'s reply appears on the other\'s open page, and her reply is held back once', async (t) => {
  const { app, db, ids } = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  const ticket = await makeTicket(db, ids, { title: 'Label printer prints blank labels' })
  const base = await listen(app)
  const browser = await launch()
  t.teardown(() => browser.close())
  const newContext = (): Promise<BrowserContext> => browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })
  const errors: string[] = []
  const url = `${base}/desk/tickets/${ticket.number}`

  const ana = await (await newContext()).newPage()
  watch(ana, 'ana', errors)
  await logIn(ana, base, 'ana@casebridge.test', DEMO_PASSWORDS.staff, '/desk')
  await ana.goto(url)
  const bruno = await (await newContext()).newPage()
  watch(bruno, 'bruno', errors)
  await logIn(bruno, base, 'bruno@casebridge.test', DEMO_PASSWORDS.staff, '/desk')
  await bruno.goto(url)
  const client = await (await newContext()).newPage()
  watch(client, 'client', errors)
  await logIn(client, base, 'bob@acme.test', DEMO_PASSWORDS.client, '/portal')
  await client.goto(`${base}/portal/tickets/${ticket.number}`)

  const presence = ana.locator('#presence')
  await t.resolves(presence.filter({ hasText: en('live.viewing', { name: 'Bruno Lima' }) }).waitFor({ timeout: 5_000 }), 'Ana sees Bruno arrive')
  await bruno.getByLabel(en('desk.reply.body'), { exact: true }).fill('The blank labels come from a worn print head; ')
  await t.resolves(presence.filter({ hasText: en('live.replying', { name: 'Bruno Lima' }) }).waitFor({ timeout: 5_000 }), 'and start writing')

  // Ana is writing too; a mark on her page's window tells a reload from a live update.
  await ana.evaluate(() => { (window as unknown as { mark: number }).mark = 1 })
  const anaBox = ana.getByLabel(en('desk.reply.body'), { exact: true })
  await anaBox.fill('Could you send a photo of a blank label?')
  await bruno.getByLabel(en('desk.reply.body'), { exact: true }).fill('The blank labels come from a worn print head; a new one is on its way.')
  const sent = Date.now()
  await bruno.getByRole('button', { name: en('desk.reply.submit') }).click()
  await bruno.waitForURL(new RegExp(`/desk/tickets/${ticket.number}`))
  await ana.locator('#live-conversation').getByText('a new one is on its way.').waitFor({ timeout: 5_000 })
  const took = Date.now() - sent
  t.ok(took < 2_000, `Bruno's reply is on Ana's page within 2 s (${took} ms, his page's submit and redirect included)`)
  t.equal(await ana.evaluate(() => (window as unknown as { mark?: number }).mark), 1, 'without a reload')
  t.equal(await anaBox.inputValue(), 'Could you send a photo of a blank label?', 'her reply is as she left it')
  await t.resolves(ana.locator('#reply-changed').filter({ hasText: 'Bruno Lima' }).waitFor({ timeout: 5_000 }), 'and the reply box says Bruno wrote meanwhile')
  await t.resolves(client.getByText('a new one is on its way.').waitFor({ timeout: 5_000 }), 'Bob\'s open portal page shows the reply too')
  t.ok(await ana.locator('#live-notice').isHidden(), `no "reload" notice: only the reply box was kept (${await ana.locator('#live-notice').getAttribute('data-held')})`)
  await shoot(ana, 'live-ticket-changed')

  await ana.getByRole('button', { name: en('desk.reply.submit') }).click()
  await ana.locator('.flash-error, .form-error, [role="alert"]').filter({ hasText: 'Your reply was not sent yet' }).first().waitFor({ timeout: 5_000 })
  t.pass('her reply is held back with what changed')
  t.equal(await anaBox.inputValue(), 'Could you send a photo of a blank label?', 'still there to send')
  await ana.getByRole('button', { name: en('desk.reply.submit') }).click()
  t.equal(await flashText(ana, en('desk.reply.sent')), en('desk.reply.sent'), 'sent the second time')
  const bodies = (await db.selectFrom('note').select('body').where('ticket_id', '=', ticket.id).orderBy('id').execute()).map((n) => n.body)
  t.same(bodies.slice(-2), ['The blank labels come from a worn print head; a new one is on its way.', 'Could you send a photo of a blank label?'])
  await t.resolves(bruno.locator('#live-conversation').getByText('Could you send a photo of a blank label?').waitFor({ timeout: 5_000 }), 'and it appears on Bruno\'s page')

  t.same(errors.filter((e) => !/ 409 .*\/notes$/.test(e)), [], 'no script errors or failed requests besides the held-back reply')
})

t.test('the queue shows a new ticket without a reload; the keyboard moves through it and its tickets', async (t) => {
  const { app, db, ids } = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  const first = await makeTicket(db, ids, { title: 'Projector flickers in room 4' })
  const second = await makeTicket(db, ids, { title: 'Projector remote lost' })
  const base = await listen(app)
  const browser = await launch()
  t.teardown(() => browser.close())
  const errors: string[] = []
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage()
  watch(page, 'bruno', errors)
  await logIn(page, base, 'bruno@casebridge.test', DEMO_PASSWORDS.staff, '/desk')
  await page.goto(`${base}/desk?reset=1&q=Projector&sort=number&order=asc`)
  await page.evaluate(() => { (window as unknown as { mark: number }).mark = 1 })
  // The stream is open once the page's script ran; a ticket opened meanwhile appears in the list.
  await page.waitForTimeout(500)
  const third = await makeTicket(db, ids, { title: 'Projector bulb dead' })
  await t.resolves(page.locator('table.queue').getByRole('link', { name: `#${third.number}`, exact: true }).waitFor({ timeout: 5_000 }), 'the new ticket appears in the open queue')
  t.equal(await page.evaluate(() => (window as unknown as { mark?: number }).mark), 1, 'without a reload')
  // Someone mentions Bruno: the bell in his open page's header counts it.
  const before = await page.locator('a.bell').getAttribute('aria-label')
  await db.insertInto('notification').values({
    staff_id: ids.staff['bruno@casebridge.test'], kind: 'mentioned', ticket_id: third.id, actor_name: 'Ana Souza', detail: null, excerpt: 'Have a look', created_at: new Date().toISOString(), read_at: null
  }).execute()
  await page.waitForFunction((was) => document.querySelector('a.bell')?.getAttribute('aria-label') !== was, before, { timeout: 5_000 })
  t.match(await page.locator('a.bell').getAttribute('aria-label'), /unread/, `the bell says so (${await page.locator('a.bell').getAttribute('aria-label')})`)

  // j / k move through the rows, Enter opens; on the ticket, j opens the next one of that list.
  await page.locator('body').click({ position: { x: 5, y: 5 } })
  await page.keyboard.press('j')
  t.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), `#${first.number}`, 'j: the first row')
  await page.keyboard.press('j')
  await page.keyboard.press('k')
  t.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), `#${first.number}`, 'j then k: back to it')
  await page.keyboard.press('Enter')
  await page.waitForURL(`${base}/desk/tickets/${first.number}`)
  await page.keyboard.press('?')
  await t.resolves(page.getByRole('dialog', { name: en('shortcuts.title') }).waitFor(), '? lists the shortcuts')
  await page.keyboard.press('Escape')
  await page.keyboard.press('n')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'note-body', 'n: the composer, focused')
  t.ok(await page.locator('#reply input[name="mode"][value="internal"]').isChecked(), 'set to an internal note')
  await page.keyboard.type('Typing j here does not move anywhere.')
  t.equal(page.url(), `${base}/desk/tickets/${first.number}`, 'keys typed in a field are text')
  await page.locator('#note-body').fill('')
  await page.locator('#note-body').blur()
  await page.keyboard.press('j')
  await page.waitForURL(`${base}/desk/tickets/${second.number}`)
  t.pass('j: the next ticket of the queue it was opened from')
  await page.keyboard.press('r')
  t.ok(await page.locator('#reply input[name="mode"][value="reply"]').isChecked(), 'r: a reply')
  t.same(errors, [], 'no script errors or failed requests')
})
