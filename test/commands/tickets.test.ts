// The commands that open and change a ticket outside its lifecycle: open-ticket, edit-fields,
// transfer, delete-ticket, rate-ticket and ticket-extras, each against a real database: what it
// writes, every refusal (and that a refusal writes nothing), a stale version, and that a failure
// after its first write leaves none of its rows.
import t from 'tap'
import type { Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { allRows, failsUnchanged, markRows, refusalOf, refusedUnchanged, writtenSince } from '../helpers/failing-writes.js'
import { crmWho, SYSTEM, unwrap } from '../../src/commands/kernel.js'
import { openTicket } from '../../src/commands/open-ticket.js'
import { editTicketFields } from '../../src/commands/edit-fields.js'
import { transferTicket } from '../../src/commands/transfer.js'
import { deleteTicket } from '../../src/commands/delete-ticket.js'
import { rateTicket } from '../../src/commands/rate-ticket.js'
import { addChecklistItem, addCost, setChecklistItemDone } from '../../src/commands/ticket-extras.js'
import { setAvailability } from '../../src/commands/assignment.js'
import { resolveTicket } from '../../src/commands/lifecycle/resolve.js'
import { acceptResolution } from '../../src/commands/lifecycle/accept.js'
import { closeTicket } from '../../src/commands/lifecycle/close.js'
import { cancelTicket } from '../../src/commands/lifecycle/cancel.js'
import type { Db } from '../../src/db/index.js'

const T0 = new Date('2026-04-06T09:00:00.000Z')
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)
const MINUTE = 60_000

/**
 * The demo organisation with Ana away, so new tickets go to the one colleague left on each desk
 * (Service Desk: Bruno; Product Support: Carla) and who is told is known in advance.
 */
async function scene(t: Test) {
  const env = await testApp(t)
  const { db, ids } = env
  const staff = async (email: string) => performerOf(await staffActor(db, ids, email))
  const contact = async (email: string) => performerOf(await contactActor(db, ids, email))
  const who = {
    ana: await staff('ana@casebridge.test'), bruno: await staff('bruno@casebridge.test'), carla: await staff('carla@casebridge.test'),
    admin: await staff('admin@casebridge.test'), bob: await contact('bob@acme.test'), carol: await contact('carol@acme.test')
  }
  unwrap(await setAvailability(depsAt(db, T0), who.ana, { available: false }))
  return { ...env, ...who, deps: (at = later(30)) => depsAt(db, at, () => 0) }
}

const ticketRow = (db: Db, id: number) => db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

/** The CRM drain sent every waiting Case, so the next change owes a new case row of its own. */
async function casesSent(db: Db) {
  await db.updateTable('crm_outbox').set({ status: 'done', done_at: T0.toISOString() }).where('status', '=', 'pending').execute()
}

t.test('open-ticket: a requester opens a ticket; it is assigned, acknowledged, announced to its assignee and owed to the CRM', async (t) => {
  const { db, ids, bob, bruno, deps } = await scene(t)
  const mark = await markRows(db)
  const opened = unwrap(await openTicket(deps(T0), bob, {
    categoryId: ids.category['Printer problem'], title: 'Printer jams', description: 'Every duplex job jams.',
    url: 'https://intranet.acme.test/printers/3', contactId: ids.contact['alice@acme.test'], source: 'portal'
  }))
  const row = await ticketRow(db, opened.id)
  t.same(
    [row.title, row.state, row.status, row.contact_id, row.account_id, row.desk_id, row.assignee_id, row.priority, row.ticket_type, row.source, row.url, row.created_by_staff_id],
    ['Printer jams', 'open', 'new', ids.contact['bob@acme.test'], ids.account['Acme Corporation'], ids.desk['Service Desk'], ids.staff['bruno@casebridge.test'], 'medium', 'incident', 'portal', 'https://intranet.acme.test/printers/3', null],
    'a client opens for themself (the contact given is ignored), on the desk serving the item, assigned to the available colleague'
  )
  t.equal(opened.assigneeId, bruno.ref.id)
  t.equal(row.response_due_at, new Date(T0.getTime() + 480 * MINUTE).toISOString(), 'medium: first response within 8 h')
  t.equal(row.resolution_due_at, new Date(T0.getTime() + 4320 * MINUTE).toISOString(), 'medium: resolution within 3 days')
  const w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: opened.id, by: 'Bob Stone', action: 'created' },
    { ticket: opened.id, by: 'system', action: 'assigned', field: 'assignee', to: 'Bruno Lima' }
  ])
  t.same(w.mail, [
    { ticket: opened.id, template: 'ticket.created', to: 'bob@acme.test' },
    { ticket: opened.id, template: 'ticket.created', to: 'bruno@casebridge.test' }
  ], 'an acknowledgement to the requester, a notice to the assignee')
  t.same(w.crm, [{ ticket: opened.id, kind: 'case' }])
  t.same(w.notes, [])
})

t.test('open-ticket: staff open on a client\'s behalf; a request needing approval waits for the manager', async (t) => {
  const { db, ids, bruno, deps } = await scene(t)
  let mark = await markRows(db)
  const byPhone = unwrap(await openTicket(deps(T0), bruno, {
    contactId: ids.contact['carol@acme.test'], accountId: ids.account['Globex Industries'], productId: ids.product['Mobile App'],
    priority: 'high', title: 'App crashes on start', description: 'Since the update.', source: 'phone'
  }))
  const row = await ticketRow(db, byPhone.id)
  t.same([row.contact_id, row.account_id, row.desk_id, row.assignee_id, row.priority, row.source, row.created_by_staff_id],
    [ids.contact['carol@acme.test'], ids.account['Globex Industries'], ids.desk['Product Support'], ids.staff['carla@casebridge.test'], 'high', 'phone', bruno.ref.id])
  let w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.by, h.action]), [['Bruno Lima', 'created'], ['system', 'assigned']])
  t.same(w.mail.map((m) => [m.template, m.to]), [['ticket.created', 'carol@acme.test'], ['ticket.created', 'carla@casebridge.test']])
  t.same(w.crm, [{ ticket: byPhone.id, kind: 'case' }])

  mark = await markRows(db)
  const request = unwrap(await openTicket(deps(T0), performerOf(await contactActor(db, ids, 'bob@acme.test')), {
    categoryId: ids.category['New user account'], title: 'Account for the new intern', description: 'Starts on Monday.', source: 'portal'
  }))
  const waiting = await ticketRow(db, request.id)
  t.same([waiting.state, waiting.status, waiting.sla_paused_at, waiting.ticket_type], ['open', 'awaiting_approval', T0.toISOString(), 'request'])
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.by, h.action, h.to ?? null]), [
    ['Bob Stone', 'created', null], ['system', 'assigned', 'Bruno Lima'],
    ['system', 'approval_requested', 'awaiting_approval'], ['system', 'approval_sent', 'Alice Walker']
  ])
  t.same(w.mail.map((m) => [m.template, m.to]), [
    ['ticket.created', 'bob@acme.test'], ['ticket.created', 'bruno@casebridge.test'], ['ticket.approval_request', 'alice@acme.test']
  ], 'the manager is asked to approve')
  const approvals = await db.selectFrom('approval').selectAll().where('ticket_id', '=', request.id).execute()
  t.same(approvals.map((a) => [a.approver_contact_id, a.decided_at]), [[ids.contact['alice@acme.test'], null]])
  t.same(w.crm, [{ ticket: request.id, kind: 'case' }])
})

t.test('open-ticket: every field refusal names its field and writes nothing', async (t) => {
  const { db, ids, bob, ana, deps } = await scene(t)
  const printer = ids.category['Printer problem']
  const base = { categoryId: printer, title: 'Printer jams', description: 'Every duplex job.', source: 'portal' }
  const cases: [string, typeof ana, Parameters<typeof openTicket>[2], Record<string, unknown>][] = [
    ['staff name no contact', ana, { ...base, source: 'phone' }, { contactId: { problem: 'required' } }],
    ['an unknown contact', ana, { ...base, contactId: 999_999, source: 'phone' }, { contactId: { problem: 'invalid_choice' } }],
    ['a contact of two accounts needs one chosen', ana, { ...base, contactId: ids.contact['carol@acme.test'], source: 'phone' }, { accountId: { problem: 'required' } }],
    ['an account the contact is not in', bob, { ...base, accountId: ids.account['Globex Industries'] }, { accountId: { problem: 'invalid_choice' } }],
    ['neither catalog item nor product', bob, { ...base, categoryId: null }, { productId: { problem: 'catalog_or_product' } }],
    ['an unknown product', bob, { ...base, productId: 999_999 }, { productId: { problem: 'invalid_choice' } }],
    ['a catalog area is not an item', bob, { ...base, categoryId: ids.category['Hardware'] }, { categoryId: { problem: 'invalid_choice' } }],
    ['an unknown desk', bob, { ...base, deskId: 999_999 }, { deskId: { problem: 'invalid_choice' } }],
    ['no desk serves a mail without item or product', bob, { ...base, categoryId: null, source: 'email' }, { deskId: { problem: 'required' } }],
    ['an unknown priority', bob, { ...base, priority: 'urgent' }, { priority: { problem: 'invalid_choice' } }],
    ['a blank title', bob, { ...base, title: '   ' }, { title: { problem: 'required' } }],
    ['a long title', bob, { ...base, title: 'x'.repeat(201) }, { title: { problem: 'too_long', params: { max: 200 } } }],
    ['no description', bob, { ...base, description: '' }, { description: { problem: 'required' } }],
    ['a description over the limit', bob, { ...base, description: 'x'.repeat(20_001) }, { description: { problem: 'too_long', params: { max: 20_000 } } }],
    ['a link that is not a web address', bob, { ...base, url: 'javascript:alert(1)' }, { url: { problem: 'invalid_url' } }],
    ['a link with a control character in it', bob, { ...base, url: 'https://intranet.acme.test/a\u0000b' }, { url: { problem: 'invalid_url' } }],
    ['a link with a line break in it', bob, { ...base, url: 'https://intranet.acme.test/a\nb' }, { url: { problem: 'invalid_url' } }],
    ['a file cut at the upload limit', bob, { ...base, files: [{ filename: 'scan.pdf', contentType: 'application/pdf', size: 1, sha256: 'x', tmpPath: '/nonexistent', truncated: true }] },
      { attachments: { problem: 'file_too_large', params: { filename: 'scan.pdf' } } }],
    ['a channel that does not exist', bob, { ...base, source: 'fax' }, { source: { problem: 'invalid_choice' } }],
    ['staff cannot say it came from the CRM', ana, { ...base, contactId: ids.contact['bob@acme.test'], source: 'crm' }, { source: { problem: 'invalid_choice' } }],
    ['all at once', bob, { ...base, title: '', description: '', priority: 'soon' },
      { priority: { problem: 'invalid_choice' }, title: { problem: 'required' }, description: { problem: 'required' } }]
  ]
  for (const [what, who, input, fields] of cases) {
    await refusedUnchanged(t, db, () => openTicket(deps(T0), who, input), { code: 'invalid', field: Object.keys(fields)[0], fields }, what)
  }
})

t.test('open-ticket: a failure at its last write (the Case) leaves no ticket, number, history, approval or mail', async (t) => {
  const { db, ids, bob, deps } = await scene(t)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT', when: "NEW.kind = 'case'" }, () => openTicket(deps(T0), bob, {
    categoryId: ids.category['New user account'], title: 'Account for the new intern', description: 'Starts on Monday.', source: 'portal'
  }), 'open a request that needs approval')
  const before = await allRows(db)
  const next = unwrap(await openTicket(deps(T0), bob, { categoryId: ids.category['Printer problem'], title: 'Printer jams', description: 'x', source: 'portal' }))
  t.notSame(await allRows(db), before, 'without the fault the same command writes its rows')
  const numbers = (await db.selectFrom('ticket').select('number').orderBy('number').execute()).map((r) => r.number)
  t.equal(next.number, numbers.length, 'the failed ticket used up no number')
})

t.test('edit-fields: priority, the impact × urgency matrix, the desk (re-assigned), catalog and source', async (t) => {
  const { db, ids, ana, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  await casesSent(db)
  let mark = await markRows(db)
  const v0 = (await ticketRow(db, ticket.id)).version
  t.same(unwrap(await editTicketFields(deps(), ana, { ticketId: ticket.id, version: v0, priority: 'high' })), { changed: ['priority'], priority: 'high', fromMatrix: false })
  let row = await ticketRow(db, ticket.id)
  t.same([row.priority, row.version, row.updated_at], ['high', v0 + 1, later(30).toISOString()])
  t.equal(row.response_due_at, new Date(T0.getTime() + 240 * MINUTE).toISOString(), 'the targets follow the new priority, from the ticket\'s start')
  t.equal(row.resolution_due_at, new Date(T0.getTime() + 1440 * MINUTE).toISOString())
  let w = await writtenSince(db, mark)
  t.same(w.history, [{ ticket: ticket.id, by: 'Ana Souza', action: 'updated', field: 'priority', from: 'medium', to: 'high' }])
  t.same(w.crm, [{ ticket: ticket.id, kind: 'case' }], 'the Case is owed the change')
  t.same(w.mail, [], 'nobody is mailed about a field edit')

  await casesSent(db)
  mark = await markRows(db)
  t.same(unwrap(await editTicketFields(deps(), ana, { ticketId: ticket.id, priority: null, impact: 'high', urgency: 'high' })),
    { changed: ['impact', 'urgency', 'priority'], priority: 'critical', fromMatrix: true })
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.field, h.from ?? null, h.to]), [['impact', null, 'high'], ['urgency', null, 'high'], ['priority', 'high', 'critical']])

  await casesSent(db)
  mark = await markRows(db)
  t.same(unwrap(await editTicketFields(deps(), ana, {
    ticketId: ticket.id, deskId: ids.desk['Product Support'], categoryId: ids.category['Laptop problem'], source: 'phone'
  })).changed, ['source', 'category', 'desk', 'assignee'])
  row = await ticketRow(db, ticket.id)
  t.same([row.desk_id, row.assignee_id, row.category_id, row.source], [ids.desk['Product Support'], ids.staff['carla@casebridge.test'], ids.category['Laptop problem'], 'phone'])
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.action, h.field, h.from, h.to]), [
    ['updated', 'source', 'portal', 'phone'],
    ['updated', 'category', 'Printer problem', 'Laptop problem'],
    ['updated', 'desk', 'Service Desk', 'Product Support'],
    ['assigned', 'assignee', 'Bruno Lima', 'Carla Mendes']
  ], 'a desk the assignee is not on hands the ticket to someone there')
  t.same(w.crm, [{ ticket: ticket.id, kind: 'case' }])

  const before = await allRows(db)
  t.same(unwrap(await editTicketFields(deps(), ana, { ticketId: ticket.id, priority: 'critical', source: 'phone' })).changed, [], 'the same values change nothing')
  t.same(await allRows(db), before, 'and write nothing')

  await casesSent(db)
  mark = await markRows(db)
  unwrap(await editTicketFields(deps(), crmWho('Carl Cruz'), { ticketId: ticket.id, priority: 'low' }))
  w = await writtenSince(db, mark)
  t.same(w.history, [{ ticket: ticket.id, by: 'Carl Cruz', action: 'updated', field: 'priority', from: 'critical', to: 'low' }], 'a CRM user\'s change is named after them')
  t.same(w.crm, [], 'and is not sent back to the Case it came from')
})

t.test('edit-fields: refusals', async (t) => {
  const { db, ids, ana, bob, carla, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const product = await makeTicket(db, ids, { now: T0, desk: 'Product Support' })
  const version = (await ticketRow(db, ticket.id)).version
  const edit = (who: typeof ana, input: Omit<Parameters<typeof editTicketFields>[2], 'ticketId'>, id = ticket.id) => () => editTicketFields(deps(), who, { ticketId: id, ...input })
  await refusedUnchanged(t, db, edit(carla, { priority: 'high' }), { code: 'not_found' }, 'staff of another desk do not see it')
  await refusedUnchanged(t, db, edit(ana, { priority: 'high' }, 999_999), { code: 'not_found' }, 'no such ticket')
  await refusedUnchanged(t, db, edit(bob, { priority: 'high' }), { code: 'forbidden_role' }, 'the requester does not categorize')
  await refusedUnchanged(t, db, edit(ana, { version: version - 1, priority: 'high' }), { code: 'conflict' }, 'a stale version')
  await refusedUnchanged(t, db, edit(ana, { version: version + 1, priority: 'high' }), { code: 'conflict' }, 'a version from the future')
  const fieldCases: [string, Omit<Parameters<typeof editTicketFields>[2], 'ticketId'>, Record<string, unknown>, number?][] = [
    ['an unknown catalog item', { categoryId: 999_999 }, { categoryId: { problem: 'invalid_choice' } }],
    ['an unknown product', { productId: 999_999 }, { productId: { problem: 'invalid_choice' } }],
    ['clearing the only thing that says what it is about', { categoryId: null }, { productId: { problem: 'catalog_or_product' } }],
    ['clearing the product of a product ticket', { productId: null }, { productId: { problem: 'catalog_or_product' } }, product.id],
    ['an unknown desk', { deskId: 999_999 }, { deskId: { problem: 'invalid_choice' } }],
    ['an unknown impact', { impact: 'huge' }, { impact: { problem: 'invalid_choice' } }],
    ['an unknown urgency', { urgency: 'now' }, { urgency: { problem: 'invalid_choice' } }],
    ['an unknown priority', { priority: 'urgent' }, { priority: { problem: 'invalid_choice' } }],
    ['a channel staff may not set', { source: 'crm' }, { source: { problem: 'invalid_choice' } }]
  ]
  for (const [what, input, fields, id] of fieldCases) {
    await refusedUnchanged(t, db, edit(ana, input, id), { code: 'invalid', field: Object.keys(fields)[0], fields }, what)
  }
  // The command's type takes any string for a priority; an empty one slips past the check (`if (input.priority && ...)`).
  const before = await allRows(db)
  const blank = await editTicketFields(deps(), ana, { ticketId: ticket.id, priority: '' }).catch((err: Error) => ({ ok: false as const, error: err.message }))
  t.same(blank.ok === false && 'refusal' in blank ? refusalOf(blank) : blank, { code: 'invalid', field: 'priority', fields: { priority: { problem: 'invalid_choice' } } }, 'an empty priority')
  t.same(await allRows(db), before, 'an empty priority: nothing written')
  unwrap(await resolveTicket(deps(), ana, { ticketId: ticket.id, resolution: 'Replaced the roller.' }))
  await refusedUnchanged(t, db, edit(ana, { priority: 'high' }), { code: 'not_allowed_in_state' }, 'a resolved ticket is no longer categorized')
})

t.test('edit-fields: a failure at its last write (the Case) leaves the ticket and its history as they were', async (t) => {
  const { db, ids, ana, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  await casesSent(db)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT' },
    () => editTicketFields(deps(), ana, { ticketId: ticket.id, priority: 'critical', deskId: ids.desk['Product Support'] }), 'priority and desk')
})

t.test('transfer: to a colleague with a note; account and product; by a CRM user', async (t) => {
  const { db, ids, bruno, ana, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  await casesSent(db)
  let mark = await markRows(db)
  const v0 = (await ticketRow(db, ticket.id)).version
  t.same(unwrap(await transferTicket(deps(), bruno, { ticketId: ticket.id, version: v0, assigneeId: ana.ref.id, note: '  Ana knows this printer.  ' })), { changed: ['assignee'] })
  const row = await ticketRow(db, ticket.id)
  t.same([row.assignee_id, row.version > v0], [ana.ref.id, true])
  let w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: ticket.id, by: 'Bruno Lima', action: 'transfer', field: 'assignee', from: 'Bruno Lima', to: 'Ana Souza', note: 'Ana knows this printer.' },
    { ticket: ticket.id, by: 'Bruno Lima', action: 'internal' }
  ])
  t.same(w.notes.map((n) => [n.kind, n.visibility, n.body, n.by]), [['internal', 'internal', 'Ana knows this printer.', 'Bruno Lima']], 'the note is kept for colleagues')
  t.same(w.crm, [{ ticket: ticket.id, kind: 'case' }, { ticket: ticket.id, kind: 'comment', note: w.notes[0].id }], 'the Case and a private comment')
  t.same(w.mail, [{ ticket: ticket.id, template: 'ticket.transfer', to: 'ana@casebridge.test' }], 'the new assignee is told')

  const carols = await makeTicket(db, ids, { now: T0, contact: 'carol@acme.test', desk: 'Product Support' })
  await casesSent(db)
  mark = await markRows(db)
  t.same(unwrap(await transferTicket(deps(), ana, {
    ticketId: carols.id, accountId: ids.account['Globex Industries'], productId: ids.product['Mobile App'], note: 'Globex runs the app.'
  })), { changed: ['account', 'product'] })
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.action, h.field ?? null, h.from ?? null, h.to ?? null]), [
    ['transfer', 'account', 'Acme Corporation', 'Globex Industries'], ['transfer', 'product', 'Casebridge Cloud', 'Mobile App'], ['internal', null, null, null]
  ])
  t.same(w.mail, [], 'the assignee stays, nobody is told')

  await casesSent(db)
  mark = await markRows(db)
  t.same(unwrap(await transferTicket(deps(), crmWho('Carl Cruz'), {
    ticketId: ticket.id, assigneeId: ids.staff['diego@casebridge.test'], accountId: ids.account['Initech Ltd'], source: 'crm'
  })), { changed: ['assignee', 'account'] }, 'the CRM may give the Case to anyone and move it to any account')
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.by, h.field, h.to, h.note ?? null]), [['Carl Cruz', 'assignee', 'Diego Rocha', null], ['Carl Cruz', 'account', 'Initech Ltd', null]])
  t.same([w.notes, w.crm], [[], []], 'no note, and nothing sent back to the Case')
  t.same(w.mail, [{ ticket: ticket.id, template: 'ticket.transfer', to: 'diego@casebridge.test' }])
})

t.test('transfer: refusals', async (t) => {
  const { db, ids, bob, ana, carla, bruno, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const hanks = await makeTicket(db, ids, { now: T0, contact: 'hank@globex.test', account: 'Globex Industries' })
  const productOnly = await makeTicket(db, ids, { now: T0, desk: 'Product Support' })
  const version = (await ticketRow(db, ticket.id)).version
  const transfer = (who: typeof ana, input: Omit<Parameters<typeof transferTicket>[2], 'ticketId'>, id = ticket.id) => () => transferTicket(deps(), who, { ticketId: id, ...input })
  const note = 'Handing over.'
  await refusedUnchanged(t, db, transfer(bob, { assigneeId: ana.ref.id, note }), { code: 'forbidden' }, 'a client may not transfer their own ticket')
  await refusedUnchanged(t, db, transfer(bob, { assigneeId: ana.ref.id, note }, hanks.id), { code: 'not_found' }, 'nor learn of another\'s')
  await refusedUnchanged(t, db, transfer(carla, { assigneeId: ana.ref.id, note }), { code: 'not_found' }, 'staff of another desk do not see it')
  await refusedUnchanged(t, db, transfer(SYSTEM, { assigneeId: ana.ref.id, note }), { code: 'forbidden_role' }, 'the system does not transfer')
  await refusedUnchanged(t, db, transfer(ana, { version: version - 1, assigneeId: ana.ref.id, note }), { code: 'conflict' }, 'a stale version')
  const fieldCases: [string, Omit<Parameters<typeof transferTicket>[2], 'ticketId'>, Record<string, unknown>, number?][] = [
    ['nobody', { assigneeId: null, note }, { assigneeId: { problem: 'required' } }],
    ['someone not on the desk', { assigneeId: carla.ref.id, note }, { assigneeId: { problem: 'not_on_desk', params: { desk: 'Service Desk' } } }],
    ['an account of someone else', { accountId: ids.account['Globex Industries'], note }, { accountId: { problem: 'not_requesters_account' } }],
    ['no product and no catalog item', { productId: null, note }, { productId: { problem: 'catalog_or_product' } }, productOnly.id],
    ['an unknown product', { productId: 999_999, note }, { productId: { problem: 'invalid_choice' } }],
    ['no note', { assigneeId: ana.ref.id }, { note: { problem: 'required' } }],
    ['a blank note', { assigneeId: ana.ref.id, note: '   ' }, { note: { problem: 'required' } }],
    ['a note over the limit', { assigneeId: ana.ref.id, note: 'x'.repeat(20_001) }, { note: { problem: 'too_long', params: { max: 20_000 } } }]
  ]
  for (const [what, input, fields, id] of fieldCases) {
    await refusedUnchanged(t, db, transfer(ana, input, id), { code: 'invalid', field: Object.keys(fields)[0], fields }, what)
  }
  await refusedUnchanged(t, db, transfer(ana, { assigneeId: bruno.ref.id, note }), { code: 'nothing_to_change' }, 'to whoever has it already')
  unwrap(await cancelTicket(deps(), bob, { ticketId: ticket.id, reason: 'Fixed itself.' }))
  await refusedUnchanged(t, db, transfer(ana, { assigneeId: ana.ref.id, note }), { code: 'not_allowed_in_state' }, 'a cancelled ticket is not handed on')
})

t.test('transfer: a failure at its last write (the new assignee\'s mail) leaves no change, note, history or CRM row', async (t) => {
  const { db, ids, bruno, ana, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  await casesSent(db)
  await failsUnchanged(t, db, { table: 'mail_outbox', write: 'INSERT', when: "NEW.template = 'ticket.transfer'" },
    () => transferTicket(deps(), bruno, { ticketId: ticket.id, assigneeId: ana.ref.id, note: 'Ana knows this printer.' }), 'transfer with a note')
})

t.test('delete-ticket: admins delete with a reason; refusals; a failure leaves the ticket', async (t) => {
  const { db, ids, admin, bruno, bob, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const version = (await ticketRow(db, ticket.id)).version
  await refusedUnchanged(t, db, () => deleteTicket(deps(), bruno, { ticketId: ticket.id, reason: 'Spam' }), { code: 'missing_permission' }, 'staff without the permission')
  await refusedUnchanged(t, db, () => deleteTicket(deps(), bob, { ticketId: ticket.id }), { code: 'forbidden_role' }, 'the requester')
  await refusedUnchanged(t, db, () => deleteTicket(deps(), admin, { ticketId: ticket.id, version: version - 1 }), { code: 'conflict' }, 'a stale version')
  await refusedUnchanged(t, db, () => deleteTicket(deps(), admin, { ticketId: ticket.id, reason: 'x'.repeat(20_001) }),
    { code: 'invalid', field: 'reason', fields: { reason: { problem: 'too_long', params: { max: 20_000 } } } }, 'a reason over the limit')
  await failsUnchanged(t, db, { table: 'ticket_event', write: 'INSERT' }, () => deleteTicket(deps(), admin, { ticketId: ticket.id, reason: 'Spam' }), 'delete')

  const mark = await markRows(db)
  t.same(unwrap(await deleteTicket(deps(), admin, { ticketId: ticket.id, version, reason: '  Spam  ' })), { number: ticket.number })
  const row = await ticketRow(db, ticket.id)
  t.same([row.deleted_at, row.version], [later(30).toISOString(), version + 1], 'kept, hidden')
  const w = await writtenSince(db, mark)
  t.same(w.history, [{ ticket: ticket.id, by: 'Alex Admin', action: 'delete', note: 'Spam' }])
  t.same([w.mail, w.crm], [[], []], 'nobody mailed, the Case left as it is')
  await refusedUnchanged(t, db, () => deleteTicket(deps(), admin, { ticketId: ticket.id }), { code: 'not_found' }, 'a deleted ticket is gone')
})

t.test('rate-ticket: once per closed ticket, 1 to 5 with a comment', async (t) => {
  const { db, ids, bruno, bob, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const rate = (who: typeof bob, rating: number, comment?: string | null) => () => rateTicket(deps(later(90)), who, { ticketId: ticket.id, rating, comment })
  await refusedUnchanged(t, db, rate(bob, 5), { code: 'not_allowed_in_state' }, 'not before closure')
  unwrap(await resolveTicket(deps(later(60)), bruno, { ticketId: ticket.id, resolution: 'New roller.' }))
  unwrap(await acceptResolution(deps(later(70)), bob, { ticketId: ticket.id }))
  await refusedUnchanged(t, db, rate(bruno, 5), { code: 'forbidden_role' }, 'staff do not rate')
  await refusedUnchanged(t, db, rate(bob, 9), { code: 'invalid', field: 'rating', fields: { rating: { problem: 'out_of_range', params: { min: 1, max: 5 } } } }, 'nine stars')
  await refusedUnchanged(t, db, rate(bob, 2.5), { code: 'invalid', field: 'rating', fields: { rating: { problem: 'out_of_range', params: { min: 1, max: 5 } } } }, 'half a star')
  await refusedUnchanged(t, db, rate(bob, 4, 'x'.repeat(2_001)), { code: 'invalid', field: 'comment', fields: { comment: { problem: 'too_long', params: { max: 2_000 } } } }, 'a long comment')
  await failsUnchanged(t, db, { table: 'ticket_event', write: 'INSERT' }, rate(bob, 4, 'Quick'), 'rate')

  const mark = await markRows(db)
  unwrap(await rate(bob, 4, '  Quick, thanks  ')())
  const survey = await db.selectFrom('survey').selectAll().where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same([survey.rating, survey.comment, survey.contact_id, survey.created_at], [4, 'Quick, thanks', ids.contact['bob@acme.test'], later(90).toISOString()])
  const w = await writtenSince(db, mark)
  t.same(w.history, [{ ticket: ticket.id, by: 'Bob Stone', action: 'rate', field: 'rating', to: '4', note: 'Quick, thanks' }])
  t.same(w.mail, [{ ticket: ticket.id, template: 'ticket.rate', to: 'bruno@casebridge.test' }], 'the assignee is told of the rating')
  await refusedUnchanged(t, db, rate(bob, 5), { code: 'already_rated' }, 'only once')
})

t.test('ticket-extras: checklist items and costs, with their history; refusals', async (t) => {
  const { db, ids, ana, bob, carla, bruno, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const other = await makeTicket(db, ids, { now: T0 })
  let mark = await markRows(db)
  const { itemId } = unwrap(await addChecklistItem(deps(), ana, { ticketId: ticket.id, label: '  Check toner  ' }))
  const item = () => db.selectFrom('checklist_item').selectAll().where('id', '=', itemId).executeTakeFirstOrThrow()
  t.same(await item().then((i) => [i.ticket_id, i.label, i.done, i.created_by_staff_id]), [ticket.id, 'Check toner', 0, ana.ref.id])
  t.same(unwrap(await setChecklistItemDone(deps(later(40)), bruno, { ticketId: ticket.id, itemId, done: true })), { changed: true })
  t.same(await item().then((i) => [i.done, i.done_by_staff_id, i.done_at]), [1, bruno.ref.id, later(40).toISOString()])
  const before = await allRows(db)
  t.same(unwrap(await setChecklistItemDone(deps(), bruno, { ticketId: ticket.id, itemId, done: true })), { changed: false }, 'ticking a ticked item')
  t.same(await allRows(db), before, 'changes nothing')
  unwrap(await setChecklistItemDone(deps(), bruno, { ticketId: ticket.id, itemId, done: false }))
  unwrap(await addCost(deps(), ana, { ticketId: ticket.id, description: ' Toner ', amountCents: 4590 }))
  const cost = await db.selectFrom('cost_item').selectAll().where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow()
  t.same([cost.description, cost.amount_cents, cost.staff_id], ['Toner', 4590, ana.ref.id])
  let w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.by, h.action, h.field, h.to]), [
    ['Ana Souza', 'checklist_added', 'checklist', 'Check toner'],
    ['Bruno Lima', 'checklist_done', 'checklist', 'Check toner'],
    ['Bruno Lima', 'checklist_undone', 'checklist', 'Check toner'],
    ['Ana Souza', 'cost_added', 'cost', 'Toner (45.90)']
  ])
  t.same([w.mail, w.crm, w.notes], [[], [], []], 'staff bookkeeping: no mail, nothing for the CRM')

  await refusedUnchanged(t, db, () => addChecklistItem(deps(), ana, { ticketId: ticket.id, label: ' ' }), { code: 'invalid', field: 'label', fields: { label: { problem: 'required' } } }, 'a blank label')
  await refusedUnchanged(t, db, () => addChecklistItem(deps(), ana, { ticketId: ticket.id, label: 'x'.repeat(201) }), { code: 'invalid', field: 'label', fields: { label: { problem: 'too_long', params: { max: 200 } } } }, 'a long label')
  await refusedUnchanged(t, db, () => addChecklistItem(deps(), bob, { ticketId: ticket.id, label: 'Mine' }), { code: 'forbidden_role' }, 'the requester keeps no checklist')
  await refusedUnchanged(t, db, () => addChecklistItem(deps(), carla, { ticketId: ticket.id, label: 'Mine' }), { code: 'not_found' }, 'staff of another desk')
  await refusedUnchanged(t, db, () => setChecklistItemDone(deps(), ana, { ticketId: other.id, itemId, done: true }), { code: 'not_found', field: 'itemId' }, 'an item of another ticket')
  await refusedUnchanged(t, db, () => addCost(deps(), ana, { ticketId: ticket.id, description: '', amountCents: 100 }), { code: 'invalid', field: 'description', fields: { description: { problem: 'required' } } }, 'a cost without description')
  const noAmount = refusalOf(await addCost(deps(), ana, { ticketId: ticket.id, description: 'Toner', amountCents: 0 }))
  t.same([noAmount.code, Object.values(noAmount.fields ?? {})], ['invalid', [{ problem: 'out_of_range', params: { max: 10_000_000 } }]], 'a cost of nothing')
  t.same(noAmount, { code: 'invalid', field: 'amountCents', fields: { amountCents: { problem: 'out_of_range', params: { max: 10_000_000 } } } }, 'the refusal names the command\'s field')
  t.same(refusalOf(await addCost(deps(), ana, { ticketId: ticket.id, description: 'Toner', amountCents: 12.5 })).code, 'invalid', 'a fraction of a cent')
  await failsUnchanged(t, db, { table: 'ticket_event', write: 'INSERT' }, () => addChecklistItem(deps(), ana, { ticketId: ticket.id, label: 'Clean rollers' }), 'checklist item')
  await failsUnchanged(t, db, { table: 'ticket_event', write: 'INSERT' }, () => addCost(deps(), ana, { ticketId: ticket.id, description: 'Rollers', amountCents: 1200 }), 'cost')

  unwrap(await resolveTicket(deps(), bruno, { ticketId: ticket.id, resolution: 'Done.' }))
  unwrap(await acceptResolution(deps(), bob, { ticketId: ticket.id }))
  unwrap(await closeTicket(deps(), bruno, { ticketId: ticket.id, closureCategory: 'solved' }))
  mark = await markRows(db)
  await refusedUnchanged(t, db, () => addChecklistItem(deps(), ana, { ticketId: ticket.id, label: 'Late' }), { code: 'not_allowed_in_state' }, 'a closed ticket takes no more work')
  await refusedUnchanged(t, db, () => addCost(deps(), ana, { ticketId: ticket.id, description: 'Late', amountCents: 100 }), { code: 'not_allowed_in_state' }, 'nor costs')
  w = await writtenSince(db, mark)
  t.same(w.history, [])
})
