// Every lifecycle command through its own exported function (pick-up, hold, resume, escalate,
// resolve, close, cancel, accept, reject, reopen, auto-close), against a real database: the row,
// its history, the mail and the Case; each refusal code with its field, writing nothing; a stale
// version; and a failure at the last write leaving nothing behind.
import t from 'tap'
import type { Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { failsUnchanged, markRows, refusedUnchanged, writtenSince } from '../helpers/failing-writes.js'
import { crmWho, unwrap } from '../../src/commands/kernel.js'
import { setAvailability } from '../../src/commands/assignment.js'
import { saveServiceSettings } from '../../src/commands/admin.js'
import { deleteTicket } from '../../src/commands/delete-ticket.js'
import { pickUpTicket } from '../../src/commands/lifecycle/pick-up.js'
import { holdTicket } from '../../src/commands/lifecycle/hold.js'
import { resumeTicket } from '../../src/commands/lifecycle/resume.js'
import { escalateTicket } from '../../src/commands/lifecycle/escalate.js'
import { resolveTicket } from '../../src/commands/lifecycle/resolve.js'
import { closeTicket } from '../../src/commands/lifecycle/close.js'
import { cancelTicket } from '../../src/commands/lifecycle/cancel.js'
import { acceptResolution } from '../../src/commands/lifecycle/accept.js'
import { rejectResolution } from '../../src/commands/lifecycle/reject.js'
import { reopenTicket } from '../../src/commands/lifecycle/reopen.js'
import { autoCloseTicket } from '../../src/commands/lifecycle/auto-close.js'
import type { Db } from '../../src/db/index.js'

const T0 = new Date('2026-04-06T09:00:00.000Z')
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)
const MINUTE = 60_000

/** The demo organisation with Ana away: Service Desk tickets go to Bruno, Product Support ones to Carla. */
async function scene(t: Test) {
  const env = await testApp(t)
  const { db, ids } = env
  const staff = async (email: string) => performerOf(await staffActor(db, ids, email))
  const contact = async (email: string) => performerOf(await contactActor(db, ids, email))
  const who = {
    ana: await staff('ana@casebridge.test'), bruno: await staff('bruno@casebridge.test'), carla: await staff('carla@casebridge.test'),
    admin: await staff('admin@casebridge.test'), bob: await contact('bob@acme.test')
  }
  unwrap(await setAvailability(depsAt(db, T0), who.ana, { available: false }))
  const ticket = (opts: Parameters<typeof makeTicket>[2] = {}) => makeTicket(db, ids, { now: T0, ...opts })
  return { ...env, ...who, ticket, deps: (at: Date) => depsAt(db, at, () => 0) }
}

const ticketRow = (db: Db, id: number) => db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
const versionOf = async (db: Db, id: number) => (await ticketRow(db, id)).version

async function casesSent(db: Db) {
  await db.updateTable('crm_outbox').set({ status: 'done', done_at: T0.toISOString() }).where('status', '=', 'pending').execute()
}

t.test('pick-up: staff take a new ticket', async (t) => {
  const { db, bruno, bob, carla, ticket, deps } = await scene(t)
  const mine = await ticket()
  const request = await ticket({ category: 'New user account' })
  const v = await versionOf(db, mine.id)
  await refusedUnchanged(t, db, () => pickUpTicket(deps(later(5)), bob, { ticketId: mine.id }), { code: 'forbidden_role' }, 'the requester')
  await refusedUnchanged(t, db, () => pickUpTicket(deps(later(5)), carla, { ticketId: mine.id }), { code: 'not_found' }, 'staff of another desk')
  await refusedUnchanged(t, db, () => pickUpTicket(deps(later(5)), bruno, { ticketId: 999_999 }), { code: 'not_found' }, 'no such ticket')
  await refusedUnchanged(t, db, () => pickUpTicket(deps(later(5)), bruno, { ticketId: mine.id, version: v - 1 }), { code: 'conflict' }, 'a stale version')
  await refusedUnchanged(t, db, () => pickUpTicket(deps(later(5)), bruno, { ticketId: request.id }), { code: 'not_allowed_in_state' }, 'a request still awaiting approval')

  await casesSent(db)
  const mark = await markRows(db)
  t.same(unwrap(await pickUpTicket(deps(later(5)), bruno, { ticketId: mine.id, version: v })), { ticketId: mine.id, number: mine.number, state: 'in_progress', status: 'analysis' })
  const row = await ticketRow(db, mine.id)
  t.same([row.state, row.status, row.version, row.updated_at], ['in_progress', 'analysis', v + 1, later(5).toISOString()])
  const w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: mine.id, by: 'Bruno Lima', action: 'pick_up', field: 'state', from: 'open', to: 'in_progress' },
    { ticket: mine.id, by: 'Bruno Lima', action: 'pick_up', field: 'status', from: 'new', to: 'analysis' }
  ])
  t.same(w.mail, [{ ticket: mine.id, template: 'ticket.pick_up', to: 'bob@acme.test' }], 'the requester is told someone is on it')
  t.same(w.crm, [{ ticket: mine.id, kind: 'case' }])
  await refusedUnchanged(t, db, () => pickUpTicket(deps(later(6)), bruno, { ticketId: mine.id }), { code: 'not_allowed_in_state' }, 'twice')
})

t.test('hold and resume: the SLA clock pauses and runs again', async (t) => {
  const { db, bruno, bob, ticket, deps } = await scene(t)
  const mine = await ticket()
  await refusedUnchanged(t, db, () => holdTicket(deps(later(10)), bruno, { ticketId: mine.id, reason: 'Vendor' }), { code: 'not_allowed_in_state' }, 'hold: not while New')
  unwrap(await pickUpTicket(deps(later(5)), bruno, { ticketId: mine.id }))
  const v = await versionOf(db, mine.id)
  const hold = (who: typeof bruno, input: { reason: string; version?: number }) => () => holdTicket(deps(later(60)), who, { ticketId: mine.id, ...input })
  await refusedUnchanged(t, db, hold(bob, { reason: 'Vendor' }), { code: 'forbidden_role' }, 'hold: the requester')
  await refusedUnchanged(t, db, hold(bruno, { reason: '' }), { code: 'missing_reason', field: 'reason' }, 'hold: no reason')
  await refusedUnchanged(t, db, hold(bruno, { reason: '   ' }), { code: 'missing_reason', field: 'reason' }, 'hold: a blank reason')
  await refusedUnchanged(t, db, hold(bruno, { reason: 'x'.repeat(20_001) }), { code: 'invalid', field: 'reason', fields: { reason: { problem: 'too_long', params: { max: 20_000 } } } }, 'hold: a reason over the limit')
  await refusedUnchanged(t, db, hold(bruno, { reason: 'Vendor', version: v - 1 }), { code: 'conflict' }, 'hold: a stale version')
  await refusedUnchanged(t, db, hold(bruno, { reason: '', version: v - 1 }), { code: 'conflict' }, 'hold: a stale page says so before asking for the reason')
  await refusedUnchanged(t, db, () => resumeTicket(deps(later(60)), bruno, { ticketId: mine.id }), { code: 'not_allowed_in_state' }, 'resume: not on hold')

  await casesSent(db)
  let mark = await markRows(db)
  t.same(unwrap(await hold(bruno, { reason: '  Waiting for the vendor  ', version: v })()).status, 'pending')
  let row = await ticketRow(db, mine.id)
  t.same([row.state, row.status, row.sla_paused_at, row.version], ['on_hold', 'pending', later(60).toISOString(), v + 1])
  const due = [row.response_due_at, row.resolution_due_at]
  let w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: mine.id, by: 'Bruno Lima', action: 'hold', field: 'state', from: 'in_progress', to: 'on_hold', note: 'Waiting for the vendor' },
    { ticket: mine.id, by: 'Bruno Lima', action: 'hold', field: 'status', from: 'analysis', to: 'pending' }
  ])
  t.same(w.mail, [{ ticket: mine.id, template: 'ticket.hold', to: 'bob@acme.test' }])
  const mail = await db.selectFrom('mail_outbox').select('data').where('template', '=', 'ticket.hold').executeTakeFirstOrThrow()
  t.equal(JSON.parse(mail.data).reason, 'Waiting for the vendor', 'the mail says why')
  t.same(w.crm, [{ ticket: mine.id, kind: 'case' }])

  const v2 = await versionOf(db, mine.id)
  await refusedUnchanged(t, db, () => resumeTicket(deps(later(180)), bob, { ticketId: mine.id }), { code: 'forbidden_role' }, 'resume: the requester')
  await refusedUnchanged(t, db, () => resumeTicket(deps(later(180)), bruno, { ticketId: mine.id, version: v }), { code: 'conflict' }, 'resume: a stale version')
  await casesSent(db)
  mark = await markRows(db)
  unwrap(await resumeTicket(deps(later(180)), bruno, { ticketId: mine.id, version: v2 }))
  row = await ticketRow(db, mine.id)
  t.same([row.state, row.status, row.sla_paused_at, Number(row.sla_paused_ms)], ['in_progress', 'analysis', null, 120 * MINUTE])
  t.same([row.response_due_at, row.resolution_due_at], due.map((d) => new Date(Date.parse(d!) + 120 * MINUTE).toISOString()), 'the targets move by the two hours on hold')
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.action, h.field, h.from, h.to]), [['resume', 'state', 'on_hold', 'in_progress'], ['resume', 'status', 'pending', 'analysis']])
  t.same(w.mail, [{ ticket: mine.id, template: 'ticket.resume', to: 'bob@acme.test' }])
  t.same(w.crm, [{ ticket: mine.id, kind: 'case' }])
})

t.test('escalate: to another desk with a reason; assigned there by least load; its manager told', async (t) => {
  const { db, ids, ana, bob, carla, ticket, deps } = await scene(t)
  const mine = await ticket()
  const v = await versionOf(db, mine.id)
  const escalate = (who: typeof ana, input: { targetDeskId: number | null; reason: string; version?: number }) => () => escalateTicket(deps(later(20)), who, { ticketId: mine.id, ...input })
  const ps = ids.desk['Product Support']
  const reason = 'Needs the product team.'
  await refusedUnchanged(t, db, escalate(bob, { targetDeskId: ps, reason }), { code: 'forbidden_role' }, 'the requester')
  await refusedUnchanged(t, db, escalate(carla, { targetDeskId: ps, reason }), { code: 'not_found' }, 'staff of the other desk do not see it yet')
  await refusedUnchanged(t, db, escalate(ana, { targetDeskId: ps, reason, version: v - 1 }), { code: 'conflict' }, 'a stale version')
  await refusedUnchanged(t, db, escalate(ana, { targetDeskId: null, reason }), { code: 'missing_target_desk', field: 'targetDeskId' }, 'no desk chosen')
  await refusedUnchanged(t, db, escalate(ana, { targetDeskId: 999_999, reason }), { code: 'invalid', field: 'targetDeskId', fields: { targetDeskId: { problem: 'invalid_choice' } } }, 'an unknown desk')
  await refusedUnchanged(t, db, escalate(ana, { targetDeskId: ids.desk['Service Desk'], reason }), { code: 'invalid', field: 'targetDeskId', fields: { targetDeskId: { problem: 'same_desk' } } }, 'the desk it is on')
  await refusedUnchanged(t, db, escalate(ana, { targetDeskId: ps, reason: ' ' }), { code: 'invalid', field: 'reason', fields: { reason: { problem: 'required' } } }, 'no reason')
  await refusedUnchanged(t, db, escalate(ana, { targetDeskId: ps, reason: 'x'.repeat(20_001) }), { code: 'invalid', field: 'reason', fields: { reason: { problem: 'too_long', params: { max: 20_000 } } } }, 'a reason over the limit')

  await casesSent(db)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT', when: "NEW.kind = 'case'" }, escalate(ana, { targetDeskId: ps, reason }), 'escalate')

  const mark = await markRows(db)
  t.same(unwrap(await escalate(ana, { targetDeskId: ps, reason: `  ${reason}  `, version: v })()),
    { ticketId: mine.id, number: mine.number, state: 'in_progress', status: 'escalated', deskName: 'Product Support', assigneeName: 'Carla Mendes' })
  const row = await ticketRow(db, mine.id)
  t.same([row.desk_id, row.assignee_id, row.state, row.status, row.version], [ps, carla.ref.id, 'in_progress', 'escalated', v + 1])
  const w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: mine.id, by: 'Ana Souza', action: 'escalate', field: 'desk', from: 'Service Desk', to: 'Product Support', note: reason },
    { ticket: mine.id, by: 'Ana Souza', action: 'assigned', field: 'assignee', from: 'Bruno Lima', to: 'Carla Mendes' },
    { ticket: mine.id, by: 'Ana Souza', action: 'escalate', field: 'state', from: 'open', to: 'in_progress', note: reason },
    { ticket: mine.id, by: 'Ana Souza', action: 'escalate', field: 'status', from: 'new', to: 'escalated' }
  ])
  // The desk's manager first: the new assignee's mail goes with their notification (their choice).
  t.same(w.mail, [
    { ticket: mine.id, template: 'ticket.escalate', to: 'bruno@casebridge.test' },
    { ticket: mine.id, template: 'ticket.escalate', to: 'carla@casebridge.test' }
  ], 'the new assignee and the desk\'s manager')
  t.same(w.crm, [{ ticket: mine.id, kind: 'case' }])

  unwrap(await holdTicket(deps(later(30)), carla, { ticketId: mine.id, reason: 'Waiting' }))
  await refusedUnchanged(t, db, () => escalateTicket(deps(later(40)), carla, { ticketId: mine.id, targetDeskId: ids.desk['Service Desk'], reason }), { code: 'not_allowed_in_state' }, 'not while on hold')
})

t.test('resolve: the resolution joins the conversation; open follow-ups are resolved by their origin', async (t) => {
  const { db, bruno, bob, carla, ticket, deps } = await scene(t)
  const parent = await ticket({ title: 'Printer jams' })
  const child = await ticket({ title: 'Re: Printer jams', parentId: parent.id })
  const request = await ticket({ category: 'New user account' })
  const v = await versionOf(db, parent.id)
  const resolve = (who: typeof bruno, input: { resolution: string; version?: number }, id = parent.id) => () => resolveTicket(deps(later(30)), who, { ticketId: id, ...input })
  await refusedUnchanged(t, db, resolve(bob, { resolution: 'Fixed' }), { code: 'forbidden_role' }, 'the requester')
  await refusedUnchanged(t, db, resolve(carla, { resolution: 'Fixed' }), { code: 'not_found' }, 'staff of another desk')
  await refusedUnchanged(t, db, resolve(bruno, { resolution: 'Fixed' }, request.id), { code: 'not_allowed_in_state' }, 'a request awaiting approval')
  await refusedUnchanged(t, db, resolve(bruno, { resolution: 'Fixed', version: v - 1 }), { code: 'conflict' }, 'a stale version')
  await refusedUnchanged(t, db, resolve(bruno, { resolution: '' }), { code: 'missing_resolution', field: 'resolution' }, 'no resolution')
  await refusedUnchanged(t, db, resolve(bruno, { resolution: 'x'.repeat(20_001) }), { code: 'invalid', field: 'resolution', fields: { resolution: { problem: 'too_long', params: { max: 20_000 } } } }, 'a resolution over the limit')

  await casesSent(db)
  // The last write of the whole command: the follow-up's Case.
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT', when: `NEW.kind = 'case' AND NEW.ticket_id = ${child.id}` },
    resolve(bruno, { resolution: 'Replaced the roller.' }), 'resolve with a follow-up')

  const mark = await markRows(db)
  t.same(unwrap(await resolve(bruno, { resolution: '  Replaced the roller.  ', version: v })()).status, 'waiting_for_closure')
  const row = await ticketRow(db, parent.id)
  t.same([row.state, row.status, row.resolution, row.resolved_at, row.first_response_at, row.version],
    ['resolved', 'waiting_for_closure', 'Replaced the roller.', later(30).toISOString(), later(30).toISOString(), v + 2], 'the resolution counts as a first response')
  const followUp = await ticketRow(db, child.id)
  const text = `#${parent.number}: Replaced the roller.`
  t.same([followUp.state, followUp.status, followUp.resolution], ['resolved', 'resolved_by_origin', text])
  const w = await writtenSince(db, mark)
  t.same(w.notes.map((n) => [n.ticket, n.kind, n.visibility, n.body, n.by]), [[parent.id, 'message', 'public', 'Replaced the roller.', 'Bruno Lima']])
  t.same(w.history, [
    { ticket: parent.id, by: 'Bruno Lima', action: 'message' },
    { ticket: parent.id, by: 'Bruno Lima', action: 'resolve', field: 'state', from: 'open', to: 'resolved', note: 'Replaced the roller.' },
    { ticket: parent.id, by: 'Bruno Lima', action: 'resolve', field: 'status', from: 'new', to: 'waiting_for_closure' },
    { ticket: child.id, by: 'system', action: 'resolve_by_origin', field: 'state', from: 'open', to: 'resolved', note: text },
    { ticket: child.id, by: 'system', action: 'resolve_by_origin', field: 'status', from: 'new', to: 'resolved_by_origin' }
  ])
  t.same(w.mail, [
    { ticket: parent.id, template: 'ticket.resolve', to: 'bob@acme.test' },
    { ticket: child.id, template: 'ticket.resolve_by_origin', to: 'bob@acme.test' }
  ])
  t.same(w.crm, [
    { ticket: parent.id, kind: 'comment', note: w.notes[0].id }, { ticket: parent.id, kind: 'case' }, { ticket: child.id, kind: 'case' }
  ], 'the resolution reaches the Case as a comment; both Cases are owed an update')
  await refusedUnchanged(t, db, resolve(bruno, { resolution: 'Again' }), { code: 'not_allowed_in_state' }, 'twice')
})

t.test('close: from Resolved with a closure category; from an open status only where the setting allows', async (t) => {
  const { db, bruno, bob, admin, ticket, deps } = await scene(t)
  const resolved = await ticket()
  unwrap(await resolveTicket(deps(later(30)), bruno, { ticketId: resolved.id, resolution: 'Fixed' }))
  const v = await versionOf(db, resolved.id)
  const close = (who: typeof bruno, input: { closureCategory: string; closureNote?: string | null; version?: number }, id = resolved.id) => () => closeTicket(deps(later(60)), who, { ticketId: id, ...input })
  await refusedUnchanged(t, db, close(bob, { closureCategory: 'solved' }), { code: 'forbidden_role' }, 'the requester')
  await refusedUnchanged(t, db, close(bruno, { closureCategory: 'solved', version: v - 1 }), { code: 'conflict' }, 'a stale version')
  await refusedUnchanged(t, db, close(bruno, { closureCategory: '' }), { code: 'missing_closure_category', field: 'closureCategory' }, 'no category')
  await refusedUnchanged(t, db, close(bruno, { closureCategory: 'fixed' }), { code: 'invalid', field: 'closureCategory', fields: { closureCategory: { problem: 'invalid_choice' } } }, 'a category not on the list')
  await refusedUnchanged(t, db, close(bruno, { closureCategory: 'solved', closureNote: 'x'.repeat(20_001) }), { code: 'invalid', field: 'closureNote', fields: { closureNote: { problem: 'too_long', params: { max: 20_000 } } } }, 'a note over the limit')

  await casesSent(db)
  let mark = await markRows(db)
  t.same(unwrap(await close(bruno, { closureCategory: 'solved', closureNote: ' Confirmed by phone. ', version: v })()).status, 'completed')
  let row = await ticketRow(db, resolved.id)
  t.same([row.state, row.status, row.closure_category, row.closure_note, row.closed_at, row.resolved_at],
    ['closed', 'completed', 'solved', 'Confirmed by phone.', later(60).toISOString(), later(30).toISOString()])
  let w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: resolved.id, by: 'Bruno Lima', action: 'close', field: 'state', from: 'resolved', to: 'closed', note: 'Confirmed by phone.' },
    { ticket: resolved.id, by: 'Bruno Lima', action: 'close', field: 'status', from: 'waiting_for_closure', to: 'completed' }
  ])
  t.same(w.mail, [{ ticket: resolved.id, template: 'ticket.close', to: 'bob@acme.test' }])
  t.same(w.crm, [{ ticket: resolved.id, kind: 'case' }])
  await refusedUnchanged(t, db, close(bruno, { closureCategory: 'solved' }), { code: 'not_allowed_in_state' }, 'a closed ticket')

  const open = await ticket()
  unwrap(await pickUpTicket(deps(later(5)), bruno, { ticketId: open.id }))
  await refusedUnchanged(t, db, close(bruno, { closureCategory: 'duplicate' }, open.id), { code: 'close_needs_requester' }, 'without the setting, the requester has the last word')
  unwrap(await saveServiceSettings(deps(later(50)), admin, { staffMayCloseWithoutRequester: true, occurrenceViaPortal: true, autoCloseDays: 7, staffTwoFactorRequired: false }))
  mark = await markRows(db)
  unwrap(await close(bruno, { closureCategory: 'duplicate' }, open.id)())
  row = await ticketRow(db, open.id)
  t.same([row.state, row.status, row.closure_category, row.closure_note, row.resolved_at, row.closed_at],
    ['closed', 'completed', 'duplicate', null, later(60).toISOString(), later(60).toISOString()], 'closing an open ticket resolves it at the same time')
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.field, h.from, h.to, h.note ?? null]), [['state', 'in_progress', 'closed', null], ['status', 'analysis', 'completed', null]])
})

t.test('cancel: by the requester or staff with a reason; the other side is told', async (t) => {
  const { db, bruno, bob, ticket, deps } = await scene(t)
  const mine = await ticket()
  const hanks = await ticket({ contact: 'hank@globex.test', account: 'Globex Industries' })
  const v = await versionOf(db, mine.id)
  const cancel = (who: typeof bruno, input: { reason: string; version?: number }, id = mine.id) => () => cancelTicket(deps(later(20)), who, { ticketId: id, ...input })
  await refusedUnchanged(t, db, cancel(bob, { reason: 'Mine now' }, hanks.id), { code: 'not_found' }, 'another client\'s ticket')
  await refusedUnchanged(t, db, cancel(crmWho('Carl Cruz'), { reason: 'Closed in the CRM' }), { code: 'forbidden_role' }, 'a CRM user')
  await refusedUnchanged(t, db, cancel(bob, { reason: 'Fixed itself', version: v - 1 }), { code: 'conflict' }, 'a stale version')
  await refusedUnchanged(t, db, cancel(bob, { reason: '' }), { code: 'missing_reason', field: 'reason' }, 'no reason')
  await refusedUnchanged(t, db, cancel(bob, { reason: 'x'.repeat(20_001) }), { code: 'invalid', field: 'reason', fields: { reason: { problem: 'too_long', params: { max: 20_000 } } } }, 'a reason over the limit')

  await casesSent(db)
  let mark = await markRows(db)
  t.same(unwrap(await cancel(bob, { reason: ' Fixed itself. ', version: v })()).state, 'cancelled')
  const row = await ticketRow(db, mine.id)
  t.same([row.state, row.status, row.cancel_reason, row.closed_at], ['cancelled', 'cancelled', 'Fixed itself.', later(20).toISOString()])
  let w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: mine.id, by: 'Bob Stone', action: 'cancel', field: 'state', from: 'open', to: 'cancelled', note: 'Fixed itself.' },
    { ticket: mine.id, by: 'Bob Stone', action: 'cancel', field: 'status', from: 'new', to: 'cancelled' }
  ])
  t.same(w.mail, [{ ticket: mine.id, template: 'ticket.cancel', to: 'bruno@casebridge.test' }], 'the requester cancels: the assignee is told')
  t.same(w.crm, [{ ticket: mine.id, kind: 'case' }])
  await refusedUnchanged(t, db, cancel(bob, { reason: 'Again' }), { code: 'not_allowed_in_state' }, 'a cancelled ticket')

  const other = await ticket({ contact: 'alice@acme.test' })
  mark = await markRows(db)
  unwrap(await cancel(bruno, { reason: 'Duplicate of another' }, other.id)())
  w = await writtenSince(db, mark)
  t.same(w.mail, [{ ticket: other.id, template: 'ticket.cancel', to: 'alice@acme.test' }], 'staff cancel: the requester is told')
})

t.test('accept, reject and reopen: the requester answers the resolution', async (t) => {
  const { db, bruno, bob, ticket, deps } = await scene(t)
  const resolvedOne = async () => {
    const x = await ticket()
    unwrap(await resolveTicket(deps(later(30)), bruno, { ticketId: x.id, resolution: 'Replaced the roller.' }))
    return x
  }
  const open = await ticket()
  for (const [what, command] of [
    ['accept', (id: number, who = bob) => acceptResolution(deps(later(60)), who, { ticketId: id })],
    ['reject', (id: number, who = bob) => rejectResolution(deps(later(60)), who, { ticketId: id, reason: 'Still jams' })],
    ['reopen', (id: number, who = bob) => reopenTicket(deps(later(60)), who, { ticketId: id })]
  ] as const) {
    await refusedUnchanged(t, db, () => command(open.id), { code: 'not_allowed_in_state' }, `${what}: nothing to answer yet`)
  }

  const accepted = await resolvedOne()
  let v = await versionOf(db, accepted.id)
  await refusedUnchanged(t, db, () => acceptResolution(deps(later(60)), bruno, { ticketId: accepted.id }), { code: 'forbidden_role' }, 'accept: staff')
  await refusedUnchanged(t, db, () => acceptResolution(deps(later(60)), bob, { ticketId: accepted.id, version: v - 1 }), { code: 'conflict' }, 'accept: a stale version')
  await casesSent(db)
  let mark = await markRows(db)
  t.same(unwrap(await acceptResolution(deps(later(60)), bob, { ticketId: accepted.id, version: v })).status, 'accepted')
  let row = await ticketRow(db, accepted.id)
  t.same([row.state, row.status, row.closed_at, row.resolution], ['resolved', 'accepted', null, 'Replaced the roller.'], 'an acceptance rests in Resolved/Accepted')
  let w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.by, h.action, h.field, h.from, h.to]), [['Bob Stone', 'accept', 'status', 'waiting_for_closure', 'accepted']])
  t.same(w.mail, [{ ticket: accepted.id, template: 'ticket.accept', to: 'bruno@casebridge.test' }])
  t.same(w.crm, [{ ticket: accepted.id, kind: 'case' }])
  await refusedUnchanged(t, db, () => acceptResolution(deps(later(61)), bob, { ticketId: accepted.id }), { code: 'not_allowed_in_state' }, 'accept: twice')
  // Staff close it with a closure category: Closed/Completed.
  mark = await markRows(db)
  t.same(unwrap(await closeTicket(deps(later(70)), bruno, { ticketId: accepted.id, closureCategory: 'solved' })).status, 'completed')
  row = await ticketRow(db, accepted.id)
  t.same([row.state, row.status, row.closed_at, row.closure_category], ['closed', 'completed', later(70).toISOString(), 'solved'])
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.by, h.action, h.field, h.from, h.to]), [
    ['Bruno Lima', 'close', 'state', 'resolved', 'closed'], ['Bruno Lima', 'close', 'status', 'accepted', 'completed']
  ])

  const rejected = await resolvedOne()
  v = await versionOf(db, rejected.id)
  const reject = (who: typeof bob, input: { reason: string; version?: number }) => () => rejectResolution(deps(later(60)), who, { ticketId: rejected.id, ...input })
  await refusedUnchanged(t, db, reject(bruno, { reason: 'No' }), { code: 'forbidden_role' }, 'reject: staff')
  await refusedUnchanged(t, db, reject(bob, { reason: 'Still jams', version: v - 1 }), { code: 'conflict' }, 'reject: a stale version')
  await refusedUnchanged(t, db, reject(bob, { reason: '' }), { code: 'missing_reason', field: 'reason' }, 'reject: no reason')
  await refusedUnchanged(t, db, reject(bob, { reason: 'x'.repeat(20_001) }), { code: 'invalid', field: 'reason', fields: { reason: { problem: 'too_long', params: { max: 20_000 } } } }, 'reject: a reason over the limit')
  await casesSent(db)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT', when: "NEW.kind = 'case'" }, reject(bob, { reason: 'Still jams' }), 'reject with its reply')
  mark = await markRows(db)
  unwrap(await reject(bob, { reason: ' Still jams on duplex. ', version: v })())
  row = await ticketRow(db, rejected.id)
  t.same([row.state, row.status, row.reopen_count, row.resolution, row.resolved_at, row.version], ['in_progress', 'analysis', 1, null, null, v + 2])
  w = await writtenSince(db, mark)
  t.same(w.notes.map((n) => [n.kind, n.visibility, n.body, n.by]), [['reply', 'public', 'Still jams on duplex.', 'Bob Stone']], 'the reason joins the conversation')
  t.same(w.history.map((h) => [h.action, h.field ?? null, h.from ?? null, h.to ?? null, h.note ?? null]), [
    ['reply', null, null, null, null],
    ['reject', 'state', 'resolved', 'in_progress', 'Still jams on duplex.'],
    ['reject', 'status', 'waiting_for_closure', 'rejected', null],
    ['reject', 'status', 'rejected', 'analysis', null]
  ], 'the rejection is recorded as Resolved/Rejected on the way back to work')
  t.same(w.mail, [{ ticket: rejected.id, template: 'ticket.reject', to: 'bruno@casebridge.test' }])
  t.same(w.crm, [{ ticket: rejected.id, kind: 'comment', note: w.notes[0].id }, { ticket: rejected.id, kind: 'case' }])

  const reopened = await resolvedOne()
  v = await versionOf(db, reopened.id)
  await refusedUnchanged(t, db, () => reopenTicket(deps(later(60)), bruno, { ticketId: reopened.id }), { code: 'forbidden_role' }, 'reopen: staff')
  await refusedUnchanged(t, db, () => reopenTicket(deps(later(60)), bob, { ticketId: reopened.id, version: v + 1 }), { code: 'conflict' }, 'reopen: a version not read')
  await casesSent(db)
  mark = await markRows(db)
  unwrap(await reopenTicket(deps(later(60)), bob, { ticketId: reopened.id, version: v }))
  row = await ticketRow(db, reopened.id)
  t.same([row.state, row.status, row.reopen_count, row.resolution], ['in_progress', 'analysis', 1, null])
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.action, h.field, h.from, h.to]), [['reopen', 'state', 'resolved', 'in_progress'], ['reopen', 'status', 'waiting_for_closure', 'analysis']])
  t.same(w.mail, [{ ticket: reopened.id, template: 'ticket.reopen', to: 'bruno@casebridge.test' }])
  t.same([w.notes, w.crm], [[], [{ ticket: reopened.id, kind: 'case' }]])
})

t.test('auto-close: the system closes a ticket left waiting for closure or accepted', async (t) => {
  const { db, bruno, bob, admin, ticket, deps } = await scene(t)
  const open = await ticket()
  await refusedUnchanged(t, db, () => autoCloseTicket(deps(later(60)), open.id), { code: 'not_allowed_in_state' }, 'a ticket not waiting')
  await refusedUnchanged(t, db, () => autoCloseTicket(deps(later(60)), 999_999), { code: 'not_found' }, 'no such ticket')
  const waiting = await ticket()
  unwrap(await resolveTicket(deps(later(30)), bruno, { ticketId: waiting.id, resolution: 'Fixed' }))
  await casesSent(db)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT' }, () => autoCloseTicket(deps(later(60)), waiting.id), 'auto-close')
  const mark = await markRows(db)
  t.same(unwrap(await autoCloseTicket(deps(later(10_080)), waiting.id)).status, 'completed')
  const row = await ticketRow(db, waiting.id)
  t.same([row.state, row.status, row.closed_at, row.closure_category], ['closed', 'completed', later(10_080).toISOString(), 'no_response'])
  const w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: waiting.id, by: 'system', action: 'auto_close', field: 'state', from: 'resolved', to: 'closed' },
    { ticket: waiting.id, by: 'system', action: 'auto_close', field: 'status', from: 'waiting_for_closure', to: 'completed' }
  ])
  t.same(w.mail, [{ ticket: waiting.id, template: 'ticket.auto_close', to: 'bob@acme.test' }])
  t.same(w.crm, [{ ticket: waiting.id, kind: 'case' }])

  // An accepted resolution is closed as Solved.
  const accepted = await ticket()
  unwrap(await resolveTicket(deps(later(30)), bruno, { ticketId: accepted.id, resolution: 'Fixed' }))
  unwrap(await acceptResolution(deps(later(40)), bob, { ticketId: accepted.id }))
  t.same(unwrap(await autoCloseTicket(deps(later(10_080)), accepted.id)).status, 'completed')
  const acceptedRow = await ticketRow(db, accepted.id)
  t.same([acceptedRow.state, acceptedRow.status, acceptedRow.closure_category], ['closed', 'completed', 'solved'])

  const deleted = await ticket()
  unwrap(await resolveTicket(deps(later(30)), bruno, { ticketId: deleted.id, resolution: 'Fixed' }))
  unwrap(await deleteTicket(deps(later(40)), admin, { ticketId: deleted.id, reason: 'Test ticket' }))
  await refusedUnchanged(t, db, () => autoCloseTicket(deps(later(10_080)), deleted.id), { code: 'not_found' }, 'a deleted ticket is left alone')
})

t.test('a ticket whose status does not match its state is refused by every lifecycle command, writing nothing', async (t) => {
  const { db, bruno, bob, ticket, deps } = await scene(t)
  const x = await ticket()
  // Not something a command writes: a row damaged by hand or by a faulty import.
  await db.updateTable('ticket').set({ status: 'pending' }).where('id', '=', x.id).execute()
  const at = deps(later(10))
  for (const [what, command] of [
    ['pick up', () => pickUpTicket(at, bruno, { ticketId: x.id })],
    ['resume', () => resumeTicket(at, bruno, { ticketId: x.id })],
    ['resolve', () => resolveTicket(at, bruno, { ticketId: x.id, resolution: 'Fixed' })],
    ['cancel', () => cancelTicket(at, bob, { ticketId: x.id, reason: 'Gone' })],
    ['auto-close', () => autoCloseTicket(at, x.id)]
  ] as const) {
    await refusedUnchanged(t, db, command, { code: 'inconsistent_state' }, what)
  }
})
