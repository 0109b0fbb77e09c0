import t from 'tap'
import { mkdirSync } from 'node:fs'
import { testApp, DEMO_PASSWORDS } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { ARTIFACTS, en, launch, listen, logIn, shoot, watch } from './lifecycle-helpers.js'

// The advanced search in a real browser: a staff member narrows the queue through "More
// filters", the address keeps the search (reload, bookmark), a wrong date is marked on the
// form, and the export of the result is requested.

t.test('staff narrow the queue with the advanced search and keep it in the address', async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true })
  const { app, db, ids } = await testApp(t, { env: { COOKIE_SECURE: 'true' } })
  await makeTicket(db, ids, { title: 'Toner warning on every print', priority: 'high' })
  await makeTicket(db, ids, { title: 'Toner smudges', priority: 'low' })
  await makeTicket(db, ids, { title: 'Cloud login loops', desk: 'Product Support', priority: 'high' })
  const base = await listen(app)

  const browser = await launch()
  t.teardown(() => browser.close())
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage()
  const errors: string[] = []
  watch(page, 'staff', errors)
  await logIn(page, base, 'ana@casebridge.test', DEMO_PASSWORDS.staff, '/desk')

  await page.getByText(en('search.more')).click()
  await page.getByLabel(en('search.title'), { exact: true }).fill('toner')
  await page.getByLabel(en('search.priority'), { exact: true }).selectOption({ label: en('priority.high') })
  await page.getByLabel(en('search.desk'), { exact: true }).selectOption({ label: 'Service Desk' })
  await page.getByLabel(en('search.item'), { exact: true }).selectOption({ label: 'Printer problem' })
  await page.getByRole('button', { name: en('search.search') }).click()
  await page.waitForURL(/title=toner/)
  const url = new URL(page.url())
  t.equal(url.searchParams.get('priority'), 'high', 'the search is in the address')
  t.equal(url.searchParams.get('desk'), String(ids.desk['Service Desk']))
  t.equal(url.searchParams.get('item'), String(ids.category['Printer problem']))
  const rows = page.locator('table.queue tbody tr')
  t.equal(await rows.count(), 1)
  t.match(await rows.first().innerText(), 'Toner warning on every print')
  t.ok(await page.locator('details.more-filters[open]').count(), 'the filters in use are shown open')
  await shoot(page, '06-desk-search')

  // The address alone brings the same search back (a bookmark in another tab).
  const again = await page.context().newPage()
  await again.goto(page.url())
  t.equal(await again.locator('table.queue tbody tr').count(), 1, 'a bookmarked search gives the same list')
  t.equal(await again.getByLabel(en('search.priority'), { exact: true }).inputValue(), 'high', 'with the form filled in')
  await again.close()

  // A wrong range is marked on the form and left out.
  await page.getByLabel(en('search.from')).first().fill('2026-05-10')
  await page.getByLabel(en('search.to')).first().fill('2026-05-01')
  await page.getByRole('button', { name: en('search.search') }).click()
  await page.waitForURL(/opened_to=2026-05-01/)
  t.ok(await page.getByText(en('search.error.endBeforeStart')).isVisible(), 'an end before the start is explained')

  // Clearing goes back to the plain queue (by name: a bare /desk would bring back the last search).
  await page.getByRole('link', { name: en('search.clear') }).click()
  await page.waitForURL(`${base}/desk?reset=1`)
  t.ok(await page.locator('table.queue tbody tr').count() >= 3, 'the whole queue again')

  t.same(errors, [], 'no script errors or failed resources')
})
