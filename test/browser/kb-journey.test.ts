import t from 'tap'
import type { Page } from 'playwright-core'
import { DEMO_PASSWORDS } from '../helpers/app.js'
import { en, flashText, journeyScene, logIn, openPortalTicket, shoot } from './lifecycle-helpers.js'

// The knowledge base in a real browser (issue 17): staff resolve a ticket and write an article
// from it, a desk manager publishes it, a client typing a similar title sees it suggested beside
// the new-ticket form, opens it, marks it helpful and leaves without opening a ticket, and the
// dashboard counts one deflection. Screenshots go to test/.artifacts/.

t.test('a solved ticket becomes an article that answers the next client before they open a ticket', async (t) => {
  const { db, seed, base, errors, page } = await journeyScene(t)
  const flashSays = async (page: Page, expected: string, message: string) => t.equal(await flashText(page, expected), expected, message)

  // Bob opens a ticket through the portal.
  const bob = await page('bob')
  await logIn(bob, base, 'bob@acme.test', DEMO_PASSWORDS.client, '/portal')
  const title = 'Scheduled report e-mails arrive empty'
  const number = await openPortalTicket(bob, base, {
    product: 'Casebridge Cloud', title,
    description: 'The weekly pipeline report arrives every Monday with headers and no rows. Contact me at bob.stone@acme.test or +1 555 0100.'
  })
  const ticket = await db.selectFrom('ticket').select(['id', 'assignee_id']).where('number', '=', number).executeTakeFirstOrThrow()
  const assignee = await db.selectFrom('staff').select(['email', 'name']).where('id', '=', ticket.assignee_id!).executeTakeFirstOrThrow()
  const author = seed.logins.find((l) => l.email === assignee.email)!

  // The assignee resolves it; the ticket page then offers to write an article from it.
  const staff = await page('staff')
  await logIn(staff, base, author.email, author.password, '/desk')
  await staff.goto(`${base}/desk/tickets/${number}`)
  t.equal(await staff.getByRole('link', { name: en('kbStaff.create'), exact: true }).count(), 0, 'no article button before the ticket is resolved')
  await staff.getByRole('button', { name: en('action.pick_up'), exact: true }).click()
  await flashSays(staff, en('desk.action.done.pick_up', { number }), 'picked up')
  const resolution = 'The report job ran before the nightly sync finished, so it found no rows. Move the schedule to 07:00 under Reports → Schedule; the next report has its rows.'
  const panel = staff.locator('details.action-resolve')
  await panel.locator('summary').click()
  await panel.getByLabel(en('desk.resolve.resolution'), { exact: true }).fill(resolution)
  await panel.getByRole('button', { name: en('desk.actions.confirm.resolve'), exact: true }).click()
  await flashSays(staff, en('desk.action.done.resolve', { number }), 'resolved')

  await staff.getByRole('link', { name: en('kbStaff.create'), exact: true }).click()
  await staff.waitForURL(`${base}/desk/kb/new?ticket=${ticket.id}`)
  const titleField = staff.getByLabel(en('kbDesk.field.title'), { exact: true })
  t.equal(await titleField.inputValue(), title, 'the draft has the ticket\'s title')
  const body = await staff.getByLabel(en('kbDesk.field.body'), { exact: true }).inputValue()
  t.match(body, 'Move the schedule to 07:00', 'and its resolution')
  t.notMatch(body, 'bob.stone@acme.test', 'without the requester\'s e-mail address')
  t.notMatch(body, '555 0100', 'or phone number')
  t.ok(await staff.getByText(en('kbDesk.fromTicket.warning')).isVisible(), 'the removed personal data is flagged for review')
  await shoot(staff, 'kb-01-draft-from-ticket')
  await staff.getByLabel(en('kbDesk.field.tags'), { exact: true }).fill('reports, schedule, e-mail')
  await staff.getByRole('button', { name: en('kbDesk.editor.saveDraft'), exact: true }).click()
  await staff.waitForURL(/\/desk\/kb\/\d+$/)
  const articleId = Number(staff.url().split('/').pop())
  await staff.getByRole('button', { name: en('kbDesk.action.submit'), exact: true }).click()
  await staff.waitForLoadState()
  t.equal((await db.selectFrom('kb_article').select('state').where('id', '=', articleId).executeTakeFirstOrThrow()).state, 'in_review', 'submitted for review')
  t.equal(await staff.getByRole('button', { name: en('kbDesk.action.publish'), exact: true }).count(), 0, 'the author cannot publish their own article')

  // A desk manager other than the author reviews and publishes it.
  const reviewerEmail = author.email === 'ana@casebridge.test' ? 'bruno@casebridge.test' : 'ana@casebridge.test'
  const reviewer = await page('reviewer')
  await logIn(reviewer, base, reviewerEmail, DEMO_PASSWORDS.staff, '/desk')
  await reviewer.goto(`${base}/desk/kb?state=in_review`)
  await reviewer.getByRole('link', { name: title, exact: true }).first().click()
  await reviewer.waitForURL(`${base}/desk/kb/${articleId}`)
  await reviewer.getByRole('button', { name: en('kbDesk.action.publish'), exact: true }).click()
  await reviewer.waitForLoadState()
  t.equal((await db.selectFrom('kb_article').select('state').where('id', '=', articleId).executeTakeFirstOrThrow()).state, 'published', 'published by the reviewer')
  await shoot(reviewer, 'kb-02-published')

  // The ticket and the article show each other.
  await staff.goto(`${base}/desk/tickets/${number}`)
  t.ok(await staff.locator(`a[href="/desk/kb/${articleId}"]`).first().isVisible(), 'the ticket shows its article')
  await staff.goto(`${base}/desk/kb/${articleId}`)
  t.ok(await staff.locator(`a[href="/desk/tickets/${number}"]`).first().isVisible(), 'the article lists the ticket it came from')

  const ticketsOf = async (email: string) => Number((await db.selectFrom('ticket').innerJoin('contact', 'contact.id', 'ticket.contact_id')
    .select((eb) => eb.fn.countAll<number>().as('n')).where('contact.email', '=', email).executeTakeFirstOrThrow()).n)
  const aliceTickets = await ticketsOf('alice@acme.test')

  // Alice starts a ticket with a similar title: the article is suggested beside the form.
  const alice = await page('alice')
  await logIn(alice, base, 'alice@acme.test', DEMO_PASSWORDS.client, '/portal')
  await alice.goto(`${base}/portal/tickets/new`)
  await alice.getByLabel(en('ticket.title'), { exact: true }).pressSequentially('Our scheduled report email is empty', { delay: 20 })
  const suggestion = alice.locator('#kb-suggest-results').getByRole('link', { name: title, exact: true })
  await suggestion.waitFor({ timeout: 10_000 })
  t.ok(await suggestion.isVisible(), 'the article is suggested while she types')
  await shoot(alice, 'kb-03-suggested')
  await suggestion.click()
  await alice.waitForURL(new RegExp(`/help/articles/${articleId}-`))
  t.equal((await alice.locator('h1').innerText()).trim(), title, 'she reads the article')
  t.match(await alice.locator('main').innerText(), 'Move the schedule to 07:00')

  // She marks it helpful and leaves without opening a ticket.
  const feedback = alice.locator('form[action$="/feedback"]')
  await feedback.getByLabel(en('help.feedback.yes'), { exact: true }).check()
  await feedback.getByRole('button', { name: en('help.feedback.send'), exact: true }).click()
  await alice.waitForLoadState()
  const votes = await db.selectFrom('kb_article').select(['helpful', 'not_helpful', 'deflections']).where('id', '=', articleId).executeTakeFirstOrThrow()
  t.match(votes, { helpful: 1, not_helpful: 0 }, 'one helpful vote')
  await shoot(alice, 'kb-04-helpful')
  await alice.getByRole('link', { name: en('help.deflect.solved'), exact: true }).click()
  await alice.waitForURL(`${base}/portal`)
  t.equal(await ticketsOf('alice@acme.test'), aliceTickets, 'she opened no ticket')

  // The dashboard counts one deflection, for this article.
  await reviewer.goto(`${base}/desk/dashboard`)
  const kb = reviewer.locator('section[aria-labelledby="kb"]')
  t.match(await kb.locator('[data-kb="deflections"]').innerText(), `${en('reports.kb.deflections')}: 1`, 'the dashboard counts one deflection')
  const row = kb.locator(`tr[data-kb-article="${articleId}"]`)
  t.equal((await row.locator('td.deflections').innerText()).trim(), '1', 'on the article\'s row')
  t.equal((await row.locator('td.helpful').innerText()).trim(), '100%', 'helpful for all who voted')
  await shoot(reviewer, 'kb-05-dashboard')

  t.same(errors, [], 'no script errors or failed resources in any browser')
})
