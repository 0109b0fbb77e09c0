import t from 'tap'
import type { Page } from 'playwright-core'
import { DEMO_PASSWORDS } from '../helpers/app.js'
import { en, flashText, historyRows, inOrder, journeyScene, logIn, openPortalTicket, shoot } from './lifecycle-helpers.js'

// The lifecycle in a real browser (issue 3): staff resolve, the client rejects with a reason,
// staff resolve again, the client accepts and rates, staff close it with a closure category. Screenshots go to test/.artifacts/.

const text = async (page: Page, selector: string) => (await page.locator(selector).first().innerText()).replace(/\s+/g, ' ').trim()
/** The portal head: the state badge, then the status in plain text beside it. */
const portalHead = (page: Page) => text(page, '.page-head p.muted')
/** The desk head: one badge "State · Status". */
const deskBadge = (page: Page) => text(page, '.ticket-title .badges .badge')
const deskFact = (page: Page, term: string) => text(page, `dl.facts dt:text-is("${term}") + dd`)

t.test('staff resolve, the client rejects, staff resolve again, the client accepts and rates, staff close', async (t) => {
  const { db, seed, base, errors, page } = await journeyScene(t)
  const flashSays = async (page: Page, expected: string, message: string) => t.equal(await flashText(page, expected), expected, message)

  // The client opens the ticket through the portal form.
  const client = await page('client')
  await logIn(client, base, 'bob@acme.test', DEMO_PASSWORDS.client, '/portal')
  const number = await openPortalTicket(client, base, {
    product: 'Casebridge Cloud', title: 'Scheduled report e-mails arrive empty',
    description: 'The weekly pipeline report arrives every Monday with headers and no rows, although the dashboard shows 40 open deals.'
  })
  const ticketUrl = `${base}/portal/tickets/${number}`
  t.match(await portalHead(client), `${en('state.open')} ${en('status.new')}`, 'the new ticket is Open / New')
  const assigneeName = await deskFact(client, en('ticket.assignee'))
  const assignee = seed.logins.find((l) => l.name === assigneeName && l.role === 'staff')
  t.ok(assignee, `the ticket was assigned to a staff member (${assigneeName})`)
  if (!assignee) return

  // The assignee picks it up and resolves it from the desk's action panel.
  const staff = await page('staff')
  await logIn(staff, base, assignee.email, assignee.password, '/desk')
  await staff.goto(`${base}/desk/tickets/${number}`)
  await staff.getByRole('button', { name: en('action.pick_up'), exact: true }).click()
  await flashSays(staff, en('desk.action.done.pick_up', { number }), 'staff are told they picked it up')
  t.equal(await deskBadge(staff), `${en('state.in_progress')} · ${en('status.analysis')}`, 'the ticket is In Progress / Analysis')

  const resolve = async (resolution: string) => {
    const panel = staff.locator('details.action-resolve')
    await panel.locator('summary').click()
    await panel.getByLabel(en('desk.resolve.resolution'), { exact: true }).fill(resolution)
    await panel.getByRole('button', { name: en('desk.actions.confirm.resolve'), exact: true }).click()
    await flashSays(staff, en('desk.action.done.resolve', { number }), 'staff are told the ticket waits for the requester')
    t.equal(await deskBadge(staff), `${en('state.resolved')} · ${en('status.waiting_for_closure')}`, 'the desk shows Resolved / Waiting for Closure')
    t.equal(await text(staff, `.outcome dl.facts dt:text-is("${en('desk.resolve.resolution')}") + dd`), resolution, 'and the resolution in the outcome card')
  }
  const firstResolution = 'The report job ran before the nightly sync finished. We moved it to 07:00; next Monday the report will have its rows.'
  await resolve(firstResolution)

  // The client sees the solution and rejects it with a reason.
  await client.goto(ticketUrl)
  t.match(await portalHead(client), `${en('state.resolved')} ${en('status.waiting_for_closure')}`, 'the client sees Resolved / Waiting for Closure')
  const solution = client.locator('section.solution')
  t.equal((await solution.locator('.resolution').innerText()).trim(), firstResolution, 'the client reads the resolution')
  t.ok(await solution.getByText(en('portal.solution.question')).isVisible(), 'and is asked whether it solves the problem')
  t.ok(await solution.getByRole('button', { name: en('action.accept'), exact: true }).isVisible(), 'with an Accept button')
  await shoot(client, 'lifecycle-01-client-resolved')

  const reason = 'Moved to 07:00 and this Monday the report still came with headers only. The dashboard had 41 open deals at 07:00.'
  await solution.getByLabel(en('portal.solution.rejectLabel'), { exact: true }).fill(reason)
  await solution.getByRole('button', { name: en('action.reject'), exact: true }).click()
  await flashSays(client, en('portal.action.rejected', { number }), 'the client is told the ticket is back in progress')
  t.match(await portalHead(client), `${en('state.in_progress')} ${en('status.analysis')}`, 'the ticket is In Progress / Analysis again')
  t.equal(await client.locator('section.solution').count(), 0, 'the rejected solution is no longer offered')
  t.equal(await client.getByRole('button', { name: en('action.accept'), exact: true }).count(), 0, 'nothing is left to accept')
  await shoot(client, 'lifecycle-02-client-rejected')

  // Staff see the reopen and why, then resolve again.
  await staff.reload()
  t.equal(await deskBadge(staff), `${en('state.in_progress')} · ${en('status.analysis')}`, 'the desk shows the ticket back In Progress')
  t.equal(await deskFact(staff, en('desk.ticket.reopened')), '1', 'reopened once')
  await staff.goto(`${base}/desk/tickets/${number}/history`)
  const deskHistory = await historyRows(staff)
  t.ok(deskHistory.some((r) => r[1] === 'Bob Stone' && r[2] === `${en('action.reject')}: ${en('field.state')}` && r[3].includes(reason)),
    'the desk history has the rejection with its reason')
  await shoot(staff, 'lifecycle-03-desk-history-after-reject')
  await staff.goto(`${base}/desk/tickets/${number}`)
  const secondResolution = 'The report query filtered on the owner’s old team. We fixed the filter and re-sent this week’s report: it has the 41 deals.'
  await resolve(secondResolution)

  // The client accepts the new solution and rates the service.
  await client.goto(ticketUrl)
  t.equal((await client.locator('section.solution .resolution').innerText()).trim(), secondResolution, 'the client reads the new resolution')
  await client.locator('section.solution').getByRole('button', { name: en('action.accept'), exact: true }).click()
  await flashSays(client, en('portal.action.accepted', { number }), 'the client is thanked and told the team will close it')
  t.match(await portalHead(client), `${en('state.resolved')} ${en('status.accepted')}`, 'the ticket is Resolved / Accepted')
  t.equal(await client.locator('section.solution').getByRole('button').count(), 0, 'no accept or reject is offered any more')
  const survey = client.locator('section.survey')
  t.ok(await survey.getByRole('heading', { name: en('portal.survey.title') }).isVisible(), 'the client is asked for an opinion')
  await survey.getByLabel(`4 · ${en('portal.survey.r4')}`).check()
  const comment = 'Took two tries, but the second answer found the real cause.'
  await survey.getByLabel(en('portal.survey.comment')).fill(comment)
  await survey.getByRole('button', { name: en('portal.survey.submit'), exact: true }).click()
  await flashSays(client, en('portal.survey.thanks'), 'the client is thanked for the opinion')
  t.ok(await survey.getByRole('heading', { name: en('portal.survey.yours') }).isVisible(), 'the survey card now shows the opinion')
  t.match(await text(client, 'section.survey .rating'), en('portal.survey.ratedAs', { rating: 4 }), 'with the rating')
  t.ok(await survey.getByText(comment).isVisible(), 'and the comment')
  t.equal(await survey.getByRole('button', { name: en('portal.survey.submit') }).count(), 0, 'and no second rating form')
  await shoot(client, 'lifecycle-04-client-accepted-rated')

  // Staff close it with a closure category.
  await staff.goto(`${base}/desk/tickets/${number}`)
  t.equal(await deskBadge(staff), `${en('state.resolved')} · ${en('status.accepted')}`, 'the desk shows Resolved / Accepted')
  const closePanel = staff.locator('details.action-close')
  await closePanel.locator('summary').click()
  await closePanel.getByLabel(en('desk.close.category'), { exact: true }).selectOption({ label: 'Solved' })
  await closePanel.getByRole('button', { name: en('desk.actions.confirm.close'), exact: true }).click()
  await flashSays(staff, en('desk.action.done.close', { number }), 'staff are told the ticket is closed')

  // The client's History tab tells the whole story, in order.
  await client.getByRole('link', { name: en('ticket.history'), exact: true }).click()
  await client.waitForURL(`${ticketUrl}/history`)
  const rows = await historyRows(client)
  const what = (action: string, field: string) => `${en(action)}: ${en(field)}`
  const story = inOrder(rows, [
    { what: what('action.pick_up', 'field.state'), who: assigneeName, change: `${en('state.open')} → ${en('state.in_progress')}` },
    { what: what('action.resolve', 'field.state'), who: assigneeName, change: `${en('state.in_progress')} → ${en('state.resolved')}${firstResolution}` },
    { what: what('action.resolve', 'field.status'), who: assigneeName, change: `${en('status.analysis')} → ${en('status.waiting_for_closure')}` },
    { what: what('action.reject', 'field.state'), who: 'Bob Stone', change: `${en('state.resolved')} → ${en('state.in_progress')}${reason}` },
    { what: what('action.reject', 'field.status'), who: 'Bob Stone', change: `${en('status.waiting_for_closure')} → ${en('status.rejected')}` },
    { what: what('action.reject', 'field.status'), who: 'Bob Stone', change: `${en('status.rejected')} → ${en('status.analysis')}` },
    { what: what('action.resolve', 'field.state'), who: assigneeName, change: secondResolution },
    { what: what('action.accept', 'field.status'), who: 'Bob Stone', change: `${en('status.waiting_for_closure')} → ${en('status.accepted')}` },
    { what: `${en('history.action.rate')}: ${en('field.rating')}`, who: 'Bob Stone', change: `${en('common.none')} → 4${comment}` },
    { what: what('action.close', 'field.state'), who: assigneeName, change: `${en('state.resolved')} → ${en('state.closed')}` },
    { what: what('action.close', 'field.status'), who: assigneeName, change: `${en('status.accepted')} → ${en('status.completed')}` }
  ])
  t.ok(story.ok, `the history shows resolve, reject (through Rejected), resolve, accept, rate and close in order${story.missing ? `; missing ${story.missing}` : ''}`)
  if (!story.ok) t.comment(rows.map((r) => r.join(' | ')).join('\n'))
  await shoot(client, 'lifecycle-05-client-history')

  // The desk sees the closed ticket too.
  await staff.goto(`${base}/desk/tickets/${number}`)
  t.equal(await deskBadge(staff), `${en('state.closed')} · ${en('status.completed')}`, 'the desk shows Closed / Completed')
  await shoot(staff, 'lifecycle-06-desk-closed')

  // And the database agrees with what the pages said.
  const row = await db.selectFrom('ticket').select(['id', 'state', 'status', 'reopen_count', 'resolution', 'closed_at', 'closure_category'])
    .where('number', '=', number).executeTakeFirstOrThrow()
  t.match(row, { state: 'closed', status: 'completed', reopen_count: 1, resolution: secondResolution, closure_category: 'solved' }, 'closed / completed as Solved, reopened once, with the second resolution')
  t.ok(row.closed_at, 'with a closing time')
  const surveyRow = await db.selectFrom('survey').selectAll().where('ticket_id', '=', row.id).execute()
  t.equal(surveyRow.length, 1, 'one survey row')
  t.match(surveyRow[0], { rating: 4, comment }, 'with the rating and the comment')
  const stateEvents = await db.selectFrom('ticket_event').select(['action', 'to_value', 'note'])
    .where('ticket_id', '=', row.id).where('field', '=', 'state').orderBy('id').execute()
  t.same(stateEvents.map((e) => `${e.action}:${e.to_value}`),
    ['pick_up:in_progress', 'resolve:resolved', 'reject:in_progress', 'resolve:resolved', 'close:closed'], 'one state history row per state change')
  t.equal(stateEvents.find((e) => e.action === 'reject')?.note, reason, 'the rejection keeps its reason')

  t.same(errors, [], 'no script errors or failed resources in either browser')
})
