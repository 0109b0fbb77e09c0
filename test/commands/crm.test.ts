// The CRM's changes coming back (crm-inbound: a Case change, a published comment) and its
// reference data (crm-reference) against a real database: what lands on the ticket and its
// history, what is owed back to the Case, the refusals, a stale version, and a failure at the
// last write leaving nothing.
import t from 'tap'
import type { Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { makeTicket, staffActor, contactActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { failsUnchanged, markRows, refusedUnchanged, writtenSince } from '../helpers/failing-writes.js'
import { crmWho, unwrap } from '../../src/commands/kernel.js'
import { setAvailability } from '../../src/commands/assignment.js'
import { applyCrmCaseChange, applyCrmComment, type CaseChange } from '../../src/commands/crm-inbound.js'
import { importCrmRecord } from '../../src/commands/crm-reference.js'
import { resolveTicket } from '../../src/commands/lifecycle/resolve.js'
import { acceptResolution } from '../../src/commands/lifecycle/accept.js'
import { closeTicket } from '../../src/commands/lifecycle/close.js'
import { deleteTicket } from '../../src/commands/delete-ticket.js'
import type { Db } from '../../src/db/index.js'

const T0 = new Date('2026-04-06T09:00:00.000Z')
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)
const carl = crmWho('Carl Cruz')

/** The demo organisation with Ana away: Service Desk tickets go to Bruno. */
async function scene(t: Test) {
  const env = await testApp(t)
  const { db, ids } = env
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  unwrap(await setAvailability(depsAt(db, T0), ana, { available: false }))
  const ticket = (opts: Parameters<typeof makeTicket>[2] = {}) => makeTicket(db, ids, { now: T0, ...opts })
  return { ...env, ana, ticket, deps: (at = later(30)) => depsAt(db, at, () => 0) }
}

const ticketRow = (db: Db, id: number) => db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
const shadowOf = async (db: Db, id: number) =>
  Object.fromEntries((await db.selectFrom('crm_shadow').selectAll().where('ticket_id', '=', id).orderBy('field').execute()).map((r) => [r.field, [r.value, r.synced_at]]))

async function casesSent(db: Db) {
  await db.updateTable('crm_outbox').set({ status: 'done', done_at: T0.toISOString() }).where('status', '=', 'pending').execute()
}

/** A ticket whose Case the CRM created (the link a first inbound change records). */
async function linked(db: Db, deps: ReturnType<Awaited<ReturnType<typeof scene>>['deps']>, id: number, caseId: string) {
  const { version } = await ticketRow(db, id)
  unwrap(await applyCrmCaseChange(deps, carl, { ticketId: id, version, link: { caseId, caseNumber: caseId.slice(-5) }, settled: {}, pushBack: false }))
}

t.test('applyCrmCaseChange: a CRM user\'s owner and priority change land as a transfer and a field edit, named after them', async (t) => {
  const { db, ids, ticket, deps } = await scene(t)
  const x = await ticket()
  await casesSent(db)
  const v = (await ticketRow(db, x.id)).version
  const mark = await markRows(db)
  const change: CaseChange = {
    ticketId: x.id, version: v, link: { caseId: '500000000000001AAA', caseNumber: '00001001' },
    transfer: { assigneeId: ids.staff['diego@casebridge.test'] }, priority: 'high',
    settled: { OwnerId: '005000000000004AAA', Priority: 'High' }, pushBack: false
  }
  t.same(unwrap(await applyCrmCaseChange(deps(), carl, change)), { applied: 2, refused: [] })
  const row = await ticketRow(db, x.id)
  t.same([row.crm_case_id, row.crm_case_number, row.assignee_id, row.priority, row.version],
    ['500000000000001AAA', '00001001', ids.staff['diego@casebridge.test'], 'high', v + 2])
  const w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: x.id, by: 'Carl Cruz', action: 'transfer', field: 'assignee', from: 'Bruno Lima', to: 'Diego Rocha' },
    { ticket: x.id, by: 'Carl Cruz', action: 'updated', field: 'priority', from: 'medium', to: 'high' }
  ])
  t.same(w.mail, [{ ticket: x.id, template: 'ticket.transfer', to: 'diego@casebridge.test' }], 'the new assignee is told, as for a desk transfer')
  t.same([w.crm, w.notes], [[], []], 'nothing goes back to the Case it came from; no note without words')
  t.same(await shadowOf(db, x.id), { OwnerId: ['005000000000004AAA', later(30).toISOString()], Priority: ['High', later(30).toISOString()] }, 'the settled values are remembered')
})

t.test('applyCrmCaseChange: a part the portal refuses is reported and the Case is put back; the rest stands', async (t) => {
  const { db, ids, ticket, deps } = await scene(t)
  const x = await ticket()
  await casesSent(db)
  let mark = await markRows(db)
  t.same(unwrap(await applyCrmCaseChange(deps(), carl, {
    ticketId: x.id, version: (await ticketRow(db, x.id)).version, transfer: { assigneeId: 999_999 }, priority: 'critical', settled: { Priority: 'Critical' }, pushBack: false
  })), { applied: 1, refused: [{ fields: ['assigneeId'], code: 'invalid' }] }, 'an owner with no active staff member behind it')
  t.equal((await ticketRow(db, x.id)).priority, 'critical')
  let w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.action, h.field]), [['updated', 'priority']])
  t.same(w.crm, [{ ticket: x.id, kind: 'case' }], 'the Case is sent again with the portal\'s owner')

  const bruno = performerOf(await staffActor(db, ids, 'bruno@casebridge.test'))
  unwrap(await resolveTicket(deps(later(40)), bruno, { ticketId: x.id, resolution: 'Fixed' }))
  unwrap(await acceptResolution(deps(later(50)), performerOf(await contactActor(db, ids, 'bob@acme.test')), { ticketId: x.id }))
  unwrap(await closeTicket(deps(later(55)), bruno, { ticketId: x.id, closureCategory: 'solved' }))
  await casesSent(db)
  mark = await markRows(db)
  t.same(unwrap(await applyCrmCaseChange(deps(later(60)), carl, {
    ticketId: x.id, version: (await ticketRow(db, x.id)).version, transfer: { productId: null }, priority: 'low', settled: {}, pushBack: false
  })), { applied: 0, refused: [{ fields: ['productId'], code: 'not_allowed_in_state' }, { fields: ['priority'], code: 'not_allowed_in_state' }] }, 'a closed ticket keeps its values')
  w = await writtenSince(db, mark)
  t.same([w.history, w.mail, w.crm], [[], [], [{ ticket: x.id, kind: 'case' }]])
})

t.test('applyCrmCaseChange: refusals and a stale version write nothing, not even the link', async (t) => {
  const { db, ids, ticket, deps } = await scene(t)
  const x = await ticket()
  const v = (await ticketRow(db, x.id)).version
  const change = (over: Partial<CaseChange>): CaseChange => ({
    ticketId: x.id, version: v, link: { caseId: '500000000000009AAA', caseNumber: '00009' }, transfer: { assigneeId: ids.staff['diego@casebridge.test'] }, settled: { OwnerId: '005X' }, pushBack: true, ...over
  })
  await refusedUnchanged(t, db, () => applyCrmCaseChange(deps(), carl, change({ version: v - 1 })), { code: 'conflict' }, 'the ticket changed since the sync read it')
  await refusedUnchanged(t, db, () => applyCrmCaseChange(deps(), carl, change({ ticketId: 999_999 })), { code: 'not_found' }, 'no such ticket')
  const admin = performerOf(await staffActor(db, ids, 'admin@casebridge.test'))
  unwrap(await deleteTicket(deps(), admin, { ticketId: x.id, reason: 'Spam' }))
  await refusedUnchanged(t, db, () => applyCrmCaseChange(deps(), carl, change({ version: v + 1 })), { code: 'not_found' }, 'a deleted ticket')
})

t.test('applyCrmCaseChange: a failure at its last write leaves no link, transfer, history, mail or shadow', async (t) => {
  const { db, ids, ticket, deps } = await scene(t)
  const x = await ticket()
  await casesSent(db)
  const change = async (pushBack: boolean): Promise<CaseChange> => ({
    ticketId: x.id, version: (await ticketRow(db, x.id)).version, link: { caseId: '500000000000001AAA', caseNumber: '00001001' },
    transfer: { assigneeId: ids.staff['diego@casebridge.test'] }, priority: 'high', settled: { OwnerId: '005D', Priority: 'High' }, pushBack
  })
  const quiet = await change(false)
  await failsUnchanged(t, db, { table: 'crm_shadow', write: 'INSERT' }, () => applyCrmCaseChange(deps(), carl, quiet), 'the shadow is the last write')
  const loud = await change(true)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT' }, () => applyCrmCaseChange(deps(), carl, loud), 'the Case sent back is the last write')
})

t.test('applyCrmComment: a published comment becomes a staff reply, linked to its comment', async (t) => {
  const { db, ids, ticket, deps } = await scene(t)
  const x = await ticket()
  await linked(db, deps(), x.id, '500000000000001AAA')
  await casesSent(db)
  const mark = await markRows(db)
  const { noteId } = unwrap(await applyCrmComment(deps(), carl, { ticketId: x.id, commentId: '00a000000000001AAA', body: '  Called the client.  ' }))
  const note = await db.selectFrom('note').selectAll().where('id', '=', noteId!).executeTakeFirstOrThrow()
  t.same([note.kind, note.visibility, note.body, note.author_name, note.source, note.crm_comment_id, note.author_staff_id],
    ['reply', 'public', 'Called the client.', 'Carl Cruz', 'crm', '00a000000000001AAA', null])
  const w = await writtenSince(db, mark)
  t.same(w.history, [{ ticket: x.id, by: 'Carl Cruz', action: 'reply' }])
  t.same(w.mail, [{ ticket: x.id, template: 'note.reply', to: 'bob@acme.test' }], 'the requester reads it')
  t.same(w.crm, [], 'never sent back as a new comment')

  await refusedUnchanged(t, db, () => applyCrmComment(deps(), carl, { ticketId: x.id, commentId: '00a2', body: '   ' }), { code: 'invalid', field: 'body', fields: { body: { problem: 'required' } } }, 'an empty comment')
  await refusedUnchanged(t, db, () => applyCrmComment(deps(), carl, { ticketId: 999_999, commentId: '00a3', body: 'Hi' }), { code: 'not_found' }, 'no such ticket')
  await failsUnchanged(t, db, { table: 'note', write: 'UPDATE' }, () => applyCrmComment(deps(), carl, { ticketId: x.id, commentId: '00a4', body: 'Second call.' }), 'linking the comment is the last write')
  const bruno = performerOf(await staffActor(db, ids, 'bruno@casebridge.test'))
  unwrap(await resolveTicket(deps(later(40)), bruno, { ticketId: x.id, resolution: 'Fixed' }))
  unwrap(await acceptResolution(deps(later(50)), performerOf(await contactActor(db, ids, 'bob@acme.test')), { ticketId: x.id }))
  unwrap(await closeTicket(deps(later(55)), bruno, { ticketId: x.id, closureCategory: 'solved' }))
  await refusedUnchanged(t, db, () => applyCrmComment(deps(later(60)), carl, { ticketId: x.id, commentId: '00a5', body: 'Too late' }), { code: 'not_allowed_in_state' }, 'a closed Case takes no comments into the portal')
})

t.test('importCrmRecord: links, updates or creates reference data; a newly linked record owes its tickets\' Cases an update', async (t) => {
  const { db, ids, ticket, deps } = await scene(t)
  const withCase = await ticket()
  await ticket() // an Acme ticket without a Case: nothing to update
  await linked(db, deps(), withCase.id, '500000000000001AAA')
  await casesSent(db)
  const d = deps()
  let mark = await markRows(db)
  t.equal(await importCrmRecord(d, { object: 'Account', record: { Id: '001000000000001AAA', Name: 'acme corporation' } }), 'linked', 'by name')
  const acme = await db.selectFrom('account').selectAll().where('id', '=', ids.account['Acme Corporation']).executeTakeFirstOrThrow()
  t.same([acme.crm_id, acme.name], ['001000000000001AAA', 'acme corporation'])
  t.same((await writtenSince(db, mark)).crm, [{ ticket: withCase.id, kind: 'case' }], 'only the ticket that has a Case')

  t.equal(await importCrmRecord(d, { object: 'Account', record: { Id: '001000000000001AAA', Name: 'acme corporation' } }), 'unchanged')
  t.equal(await importCrmRecord(d, { object: 'Account', record: { Id: '001000000000001AAA', Name: 'Acme Corp.' } }), 'updated')
  t.equal(await importCrmRecord(d, { object: 'Account', record: { Id: '001000000000002AAA', Name: 'Umbrella' } }), 'created')
  t.ok(await db.selectFrom('account').select('id').where('crm_id', '=', '001000000000002AAA').where('name', '=', 'Umbrella').executeTakeFirst())

  await casesSent(db)
  mark = await markRows(db)
  t.equal(await importCrmRecord(d, { object: 'Contact', record: { Id: '003B', Name: 'Bob Stone', Email: 'BOB@acme.test', Phone: '+1 555 0100', AccountId: null } }), 'linked', 'by e-mail')
  t.same((await writtenSince(db, mark)).crm, [{ ticket: withCase.id, kind: 'case' }])
  t.equal(await importCrmRecord(d, { object: 'Contact', record: { Id: '003N', Name: 'No Mail', Email: null, Phone: null, AccountId: null } }), 'skipped')
  t.equal(await importCrmRecord(d, { object: 'Contact', record: { Id: '003Z', Name: 'Zoe Zhang', Email: 'zoe@umbrella.test', Phone: null, AccountId: '001000000000002AAA' } }), 'created')
  const zoe = await db.selectFrom('contact').selectAll().where('crm_id', '=', '003Z').executeTakeFirstOrThrow()
  t.same([zoe.email, zoe.password_hash], ['zoe@umbrella.test', null], 'no password: they set one through the portal')
  t.equal((await db.selectFrom('contact_account').select('account_id').where('contact_id', '=', zoe.id).execute()).length, 1, 'in her CRM account')

  await casesSent(db)
  mark = await markRows(db)
  t.equal(await importCrmRecord(d, { object: 'User', record: { Id: '005B', Email: 'bruno@casebridge.test', IsActive: true } }), 'linked')
  t.same((await writtenSince(db, mark)).crm, [{ ticket: withCase.id, kind: 'case' }], 'the Case can name its owner now')
  t.equal(await importCrmRecord(d, { object: 'User', record: { Id: '005B', Email: 'bruno@casebridge.test', IsActive: false } }), 'unlinked')
  t.equal(await importCrmRecord(d, { object: 'User', record: { Id: '005Q', Email: 'nobody@elsewhere.test', IsActive: true } }), 'skipped', 'staff are never created from the CRM')
  t.equal(await importCrmRecord(d, { object: 'Product2', record: { Id: '01t1', Name: 'Cloud', ProductCode: 'CB-CLOUD', IsActive: true } }), 'linked', 'by product code')
  t.equal((await db.selectFrom('product').select('crm_id').where('id', '=', ids.product['Casebridge Cloud']).executeTakeFirstOrThrow()).crm_id, '01t1')

  const globex = await ticket({ contact: 'hank@globex.test', account: 'Globex Industries' })
  await linked(db, deps(), globex.id, '500000000000002AAA')
  await casesSent(db)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT' },
    () => importCrmRecord(d, { object: 'Account', record: { Id: '001000000000003AAA', Name: 'Globex Industries' } }), 'linking an account whose ticket has a Case')
  t.equal((await db.selectFrom('account').select('crm_id').where('id', '=', ids.account['Globex Industries']).executeTakeFirstOrThrow()).crm_id, null, 'the account is not linked')
})
