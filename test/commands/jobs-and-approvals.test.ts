// Background changes and approvals against a real database: assignment (availability, the
// backlog), sla-escalation, approval (resending the request; what test/commands/approval.test.ts
// leaves out of deciding it) and exports (a person's request, the worker's side). What each
// writes, its refusals (writing nothing), and a failure at its last write leaving nothing.
import t from 'tap'
import type { Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { allRows, failsUnchanged, markRows, refusalOf, refusedUnchanged, writtenSince } from '../helpers/failing-writes.js'
import { Refused, SYSTEM, unwrap } from '../../src/commands/kernel.js'
import { assignBacklog, setAvailability } from '../../src/commands/assignment.js'
import { escalateSla } from '../../src/commands/sla-escalation.js'
import { ApprovalRefused, decideApproval, resendApproval } from '../../src/commands/approval.js'
import {
  claimExport, completeExport, expireExport, exportsDueForExpiry, failExportJob, MAX_ACTIVE_EXPORTS, recordExportProgress, releaseExportJob, requestExport
} from '../../src/commands/exports.js'
import { setStaffAvailability } from '../../src/db/people.js'
import { composeMail, mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { approvalKey } from '../../src/security/approval-token.js'
import type { Db } from '../../src/db/index.js'
import type { Config } from '../../src/config.js'
import { createFileStore } from '../../src/db/file-store.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const T0 = new Date('2026-04-06T09:00:00.000Z')
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)

async function scene(t: Test) {
  const env = await testApp(t)
  const { db, ids } = env
  const staff = async (email: string) => performerOf(await staffActor(db, ids, email))
  const contact = async (email: string) => performerOf(await contactActor(db, ids, email))
  return {
    ...env,
    ana: await staff('ana@casebridge.test'), bruno: await staff('bruno@casebridge.test'), carla: await staff('carla@casebridge.test'),
    eva: await staff('eva@casebridge.test'), bob: await contact('bob@acme.test'),
    ticket: (opts: Parameters<typeof makeTicket>[2] = {}) => makeTicket(db, ids, { now: T0, ...opts }),
    deps: (at = later(30)) => depsAt(db, at, () => 0)
  }
}

const ticketRow = (db: Db, id: number) => db.selectFrom('ticket').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

async function casesSent(db: Db) {
  await db.updateTable('crm_outbox').set({ status: 'done', done_at: T0.toISOString() }).where('status', '=', 'pending').execute()
}

t.test('setAvailability: the unavailable get no new tickets; becoming available hands out those left without anyone', async (t) => {
  const { db, ana, bruno, bob, eva, ticket, deps } = await scene(t)
  await refusedUnchanged(t, db, () => setAvailability(deps(), bob, { available: false }), { code: 'forbidden' }, 'a client has no availability')
  await refusedUnchanged(t, db, () => setAvailability(deps(), SYSTEM, { available: false }), { code: 'forbidden' }, 'nor the system')

  let mark = await markRows(db)
  t.same(unwrap(await setAvailability(deps(), ana, { available: false })), { handedOut: 0 })
  t.same(unwrap(await setAvailability(deps(), bruno, { available: false })), { handedOut: 0 })
  t.same((await db.selectFrom('staff').select('available').where('id', 'in', [ana.ref.id!, bruno.ref.id!]).execute()).map((s) => s.available), [0, 0])
  t.same(await writtenSince(db, mark), { history: [], mail: [], crm: [], notes: [] }, 'no ticket is touched')

  const first = await ticket()
  const second = await ticket()
  t.same([(await ticketRow(db, first.id)).assignee_id, (await ticketRow(db, second.id)).assignee_id], [null, null], 'nobody on the Service Desk is available')
  await casesSent(db)
  mark = await markRows(db)
  t.same(unwrap(await setAvailability(deps(later(60)), eva, { available: true })), { handedOut: 2 })
  t.same([(await ticketRow(db, first.id)).assignee_id, (await ticketRow(db, second.id)).assignee_id], [eva.ref.id, eva.ref.id])
  const w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: first.id, by: 'system', action: 'assigned', field: 'assignee', to: 'Eva Martins' },
    { ticket: second.id, by: 'system', action: 'assigned', field: 'assignee', to: 'Eva Martins' }
  ], 'oldest first')
  t.same(w.crm, [{ ticket: first.id, kind: 'case' }, { ticket: second.id, kind: 'case' }])
  t.same(unwrap(await setAvailability(deps(), eva, { available: true })), { handedOut: 0 }, 'saying it again hands out nothing')
})

t.test('assignBacklog: least load, one ticket at a time; nobody available, nothing written; a failure leaves the ticket unassigned', async (t) => {
  const { db, ids, ana, bruno, ticket, deps } = await scene(t)
  unwrap(await setAvailability(deps(), ana, { available: false }))
  unwrap(await setAvailability(deps(), bruno, { available: false }))
  const first = await ticket()
  const second = await ticket()
  const before = await allRows(db)
  t.equal(await assignBacklog(deps()), 0, 'nobody to hand them to')
  t.same(await allRows(db), before, 'nothing written')

  // Bruno is back without saying so through the desk (the scheduled job finds the backlog).
  await setStaffAvailability(db, bruno.ref.id!, true)
  await casesSent(db)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT' }, () => assignBacklog(deps()), 'the Case is the last write')
  t.equal((await ticketRow(db, first.id)).assignee_id, null)

  const mark = await markRows(db)
  t.equal(await assignBacklog(deps(later(60)), { limit: 1 }), 1, 'within the limit')
  t.same([(await ticketRow(db, first.id)).assignee_id, (await ticketRow(db, second.id)).assignee_id], [ids.staff['bruno@casebridge.test'], null], 'the oldest first')
  const row = await ticketRow(db, first.id)
  t.equal(row.updated_at, later(60).toISOString())
  t.same((await writtenSince(db, mark)).history, [{ ticket: first.id, by: 'system', action: 'assigned', field: 'assignee', to: 'Bruno Lima' }])
})

t.test('escalateSla: each level once, to the desk\'s manager', async (t) => {
  const { db, ticket, deps } = await scene(t)
  const x = await ticket({ title: 'Printer jams' })
  const alert = { ticketId: x.id, number: x.number, title: 'Printer jams' }
  await failsUnchanged(t, db, { table: 'mail_outbox', write: 'INSERT' }, () => escalateSla(deps(), { ...alert, from: null, to: 'at_risk' }), 'the manager\'s mail is the last write')

  let mark = await markRows(db)
  t.same(unwrap(await escalateSla(deps(), { ...alert, from: null, to: 'at_risk' })), true)
  t.equal((await ticketRow(db, x.id)).sla_alert, 'at_risk')
  let w = await writtenSince(db, mark)
  t.same(w.history, [{ ticket: x.id, by: 'system', action: 'sla_escalation', field: 'sla', to: 'at_risk' }])
  t.same(w.mail, [{ ticket: x.id, template: 'ticket.sla_escalation', to: 'ana@casebridge.test' }], 'Ana manages the Service Desk')
  t.same(w.crm, [])

  const before = await allRows(db)
  t.same(unwrap(await escalateSla(deps(), { ...alert, from: null, to: 'at_risk' })), false, 'a level already reported (the job read it before)')
  t.same(await allRows(db), before, 'is not reported twice')
  mark = await markRows(db)
  t.same(unwrap(await escalateSla(deps(), { ...alert, from: 'at_risk', to: 'breached' })), true)
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.from, h.to]), [['at_risk', 'breached']])
  t.same(w.mail.map((m) => m.template), ['ticket.sla_escalation'])
})

/** The link a manager received, as the composed mail carries it. */
async function approvalToken(db: Db, config: Config, ticketId: number) {
  const row = await db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', ticketId).where('template', '=', 'ticket.approval_request').orderBy('id', 'desc').executeTakeFirstOrThrow()
  return /\/approvals\/([A-Za-z0-9_-]+)#approve/.exec(composeMail(row, mailSettings(config), mailTokenKey(config), 'x').text)![1]
}

t.test('resendApproval: earlier links closed, a new one to the approver found or chosen', async (t) => {
  const { db, ids, ana, bob, carla, ticket, deps } = await scene(t)
  const request = await ticket({ category: 'New user account' })
  const plain = await ticket()
  const resend = (who: typeof ana, approverId: number | null, id = request.id) => () => resendApproval(deps(), who, { ticketId: id, approverId })
  await refusedUnchanged(t, db, resend(carla, null), { code: 'not_found' }, 'staff of another desk')
  await refusedUnchanged(t, db, resend(bob, null), { code: 'forbidden_role' }, 'the requester')
  await refusedUnchanged(t, db, resend(ana, null, plain.id), { code: 'not_allowed_in_state' }, 'a ticket that waits for no approval')
  t.same(refusalOf(await resend(bob, null, plain.id)()), { code: 'forbidden_role' }, 'the requester, on a ticket that waits for nothing')
  await refusedUnchanged(t, db, resend(ana, ids.contact['hank@globex.test']), { code: 'invalid', field: 'approverId', fields: { approverId: { problem: 'invalid_choice' } } }, 'someone of another account')
  await refusedUnchanged(t, db, resend(ana, ids.contact['bob@acme.test']), { code: 'invalid', field: 'approverId', fields: { approverId: { problem: 'invalid_choice' } } }, 'the requester themself')
  await failsUnchanged(t, db, { table: 'ticket_event', write: 'INSERT' }, resend(ana, null), 'the history row is the last write')

  const first = await db.selectFrom('approval').select('id').where('ticket_id', '=', request.id).executeTakeFirstOrThrow()
  const mark = await markRows(db)
  const again = unwrap(await resend(ana, ids.contact['carol@acme.test'])())
  t.same([again.approver.id, again.approver.name], [ids.contact['carol@acme.test'], 'Carol Price'])
  const approvals = await db.selectFrom('approval').select(['id', 'approver_contact_id', 'decision', 'decided_at', 'requested_by_staff_id']).where('ticket_id', '=', request.id).orderBy('id').execute()
  t.same(approvals, [
    { id: first.id, approver_contact_id: ids.contact['alice@acme.test'], decision: 'superseded', decided_at: later(30).toISOString(), requested_by_staff_id: null },
    { id: again.approvalId, approver_contact_id: ids.contact['carol@acme.test'], decision: null, decided_at: null, requested_by_staff_id: ana.ref.id }
  ])
  const w = await writtenSince(db, mark)
  t.same(w.history, [{ ticket: request.id, by: 'Ana Souza', action: 'approval_resent', field: 'approver', from: 'Alice Walker', to: 'Carol Price' }])
  t.same(w.mail, [{ ticket: request.id, template: 'ticket.approval_request', to: 'carol@acme.test' }])
  t.equal((await ticketRow(db, request.id)).status, 'awaiting_approval', 'the ticket still waits')

  const ginas = await ticket({ contact: 'gina@globex.test', account: 'Globex Industries', category: 'New user account' })
  await refusedUnchanged(t, db, resend(ana, null, ginas.id), { code: 'invalid', field: 'approverId', fields: { approverId: { problem: 'required' } } }, 'nobody found to approve: staff must choose')
  t.equal(unwrap(await resend(ana, ids.contact['hank@globex.test'], ginas.id)()).approver.name, 'Hank Hill')
})

t.test('decideApproval: a rejection needs a reason; what approving and rejecting write; a failure decides nothing', async (t) => {
  const { db, config, ticket, deps } = await scene(t)
  const key = approvalKey(config)
  const rejected = await ticket({ category: 'New user account' })
  const token = await approvalToken(db, config, rejected.id)
  for (const [what, reason, problem] of [['no reason', '  ', { problem: 'required' }], ['a reason over the limit', 'x'.repeat(2_001), { problem: 'too_long', params: { max: 2_000 } }]] as const) {
    const before = await allRows(db)
    const err = await decideApproval(deps(), key, token, null, { approve: false, reason }).then(() => null, (e: unknown) => e)
    t.ok(err instanceof Refused, `${what}: refused`)
    t.same(refusalOf({ ok: false, refusal: err as Refused }), { code: 'invalid', field: 'reason', fields: { reason: problem } }, what)
    t.same(await allRows(db), before, `${what}: nothing written`)
  }
  await casesSent(db)
  await failsUnchanged(t, db, { table: 'crm_outbox', write: 'INSERT' }, () => decideApproval(deps(), key, token, null, { approve: false, reason: 'No budget' }), 'the Case is the last write')

  let mark = await markRows(db)
  const link = await decideApproval(deps(), key, token, null, { approve: false, reason: ' No budget this year. ' })
  t.equal(link.ticket_id, rejected.id)
  const approval = await db.selectFrom('approval').select(['decision', 'reason', 'decided_at']).where('id', '=', link.id).executeTakeFirstOrThrow()
  t.same(approval, { decision: 'rejected', reason: 'No budget this year.', decided_at: later(30).toISOString() })
  const row = await ticketRow(db, rejected.id)
  t.same([row.state, row.status, row.cancel_reason, row.closed_at], ['cancelled', 'cancelled', 'No budget this year.', later(30).toISOString()])
  let w = await writtenSince(db, mark)
  t.same(w.history, [
    { ticket: rejected.id, by: 'Alice Walker', action: 'reject_approval', field: 'state', from: 'open', to: 'cancelled', note: 'No budget this year.' },
    { ticket: rejected.id, by: 'Alice Walker', action: 'reject_approval', field: 'status', from: 'awaiting_approval', to: 'cancelled' }
  ], 'the history names the manager who decided')
  t.same(w.mail, [{ ticket: rejected.id, template: 'ticket.reject_approval', to: 'bob@acme.test' }])
  t.same(w.crm, [{ ticket: rejected.id, kind: 'case' }])
  const used = await decideApproval(deps(), key, token, null, { approve: true }).then(() => null, (e: unknown) => e)
  t.same([used instanceof ApprovalRefused, (used as ApprovalRefused).code], [true, 'used'], 'a link decides once')

  const approved = await ticket({ category: 'New user account' })
  await casesSent(db)
  mark = await markRows(db)
  await decideApproval(deps(later(60)), key, await approvalToken(db, config, approved.id), null, { approve: true })
  t.same(await ticketRow(db, approved.id).then((r) => [r.state, r.status, r.sla_paused_at]), ['open', 'new', null])
  w = await writtenSince(db, mark)
  t.same(w.history.map((h) => [h.by, h.action, h.field, h.from, h.to]), [['Alice Walker', 'approve', 'status', 'awaiting_approval', 'new']])
  t.same(w.mail, [{ ticket: approved.id, template: 'ticket.approve', to: 'bob@acme.test' }])
  t.same(w.crm, [{ ticket: approved.id, kind: 'case' }])
})

t.test('requestExport: a few waiting at a time per person; a failure leaves no job', async (t) => {
  const { db, ids, bob, ana, deps } = await scene(t)
  await refusedUnchanged(t, db, () => requestExport(deps(), SYSTEM, { area: 'desk', query: '', locale: 'en' }), { code: 'forbidden' }, 'nobody in particular')
  await failsUnchanged(t, db, { table: 'export_job', write: 'INSERT' }, () => requestExport(deps(), bob, { area: 'portal', query: 'q=printer', locale: 'en' }), 'a command that writes no ticket')
  const mark = await markRows(db)
  const jobs: number[] = []
  for (let i = 0; i < MAX_ACTIVE_EXPORTS; i++) jobs.push(unwrap(await requestExport(deps(), bob, { area: 'portal', query: `q=printer&page=${i}`, locale: 'pt-BR' })).exportId)
  const rows = await db.selectFrom('export_job').selectAll().where('id', 'in', jobs).orderBy('id').execute()
  t.same(rows.map((r) => [r.contact_id, r.staff_id, r.area, r.query, r.locale, r.status, r.created_at]),
    jobs.map((_, i) => [ids.contact['bob@acme.test'], null, 'portal', `q=printer&page=${i}`, 'pt-BR', 'queued', later(30).toISOString()]))
  t.equal(new Set(rows.map((r) => r.file_key)).size, MAX_ACTIVE_EXPORTS, 'each file its own unguessable name')
  t.same(await writtenSince(db, mark), { history: [], mail: [], crm: [], notes: [] }, 'no ticket rows')

  const before = await allRows(db)
  const outcome = await requestExport(deps(), bob, { area: 'portal', query: 'q=more', locale: 'en' })
  t.same(refusalOf(outcome), { code: 'too_many' })
  t.same(!outcome.ok && outcome.refusal.params, { max: String(MAX_ACTIVE_EXPORTS), active: String(MAX_ACTIVE_EXPORTS) })
  t.same(await allRows(db), before, 'nothing written')
  t.ok(unwrap(await requestExport(deps(), ana, { area: 'desk', query: '', locale: 'en' })).exportId, 'the limit is per person')
})

t.test('exports, the worker\'s side: claim, progress, done with its mail (once), failed, released, expired', async (t) => {
  const { db, bob, deps, config } = await scene(t)
  const first = unwrap(await requestExport(deps(T0), bob, { area: 'portal', query: 'q=a', locale: 'en' })).exportId
  const second = unwrap(await requestExport(deps(T0), bob, { area: 'portal', query: 'q=b', locale: 'en' })).exportId
  const job = (id: number) => db.selectFrom('export_job').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const lease = { leaseMs: 60_000, maxAttempts: 3 }

  const claimed = await claimExport(deps(later(1)), { holder: 'w1', ...lease })
  t.same([claimed?.id, claimed?.status, claimed?.holder, claimed?.attempts], [first, 'running', 'w1', 1], 'the oldest first')
  t.equal((await job(first)).lease_until, later(2).toISOString())
  t.equal(await recordExportProgress(deps(later(1.5)), { exportId: first, holder: 'w1', rowsDone: 500, rowsTotal: 1200, leaseMs: 60_000 }), true)
  t.same(await job(first).then((j) => [j.rows_done, j.rows_total, j.lease_until]), [500, 1200, later(2.5).toISOString()], 'progress renews the claim')
  t.equal(await recordExportProgress(deps(later(1.5)), { exportId: first, holder: 'w2', rowsDone: 1, leaseMs: 60_000 }), false, 'not by another worker')

  // The worker's file as it leaves the spreadsheet writer: the command moves it into the store.
  const store = createFileStore(config, db)
  const written = () => {
    const file = join(config.exportsDir, `a-${Math.random().toString(36).slice(2)}.xlsx.part`)
    mkdirSync(config.exportsDir, { recursive: true })
    writeFileSync(file, 'spreadsheet')
    return file
  }
  const finish = (at: Date, holder: string) => completeExport({ ...deps(at), store }, { exportId: first, holder, localFile: written(), done, mail })
  const done = { rowsDone: 1200, filePath: 'a.xlsx', fileSize: 11, expiresAt: later(60 * 24).toISOString() }
  const mail = { ticketId: null, recipient: 'bob@acme.test', locale: 'en', template: 'export.ready', data: { exportId: first } }
  await failsUnchanged(t, db, { table: 'mail_outbox', write: 'INSERT' }, () => finish(later(2), 'w1'), 'the owner\'s mail is the last write')
  await store.remove('export', 'a.xlsx')
  let before = await allRows(db)
  t.equal(await finish(later(2), 'w2'), false, 'taken over: not ours to finish')
  t.same(await allRows(db), before, 'and nothing written')
  t.equal(await store.size('export', 'a.xlsx'), null, 'nor stored')
  const mark = await markRows(db)
  t.equal(await finish(later(2), 'w1'), true)
  t.same(await job(first).then((j) => [j.status, j.rows_done, j.file_path, j.file_size, j.expires_at, j.finished_at, j.holder]),
    ['done', 1200, 'a.xlsx', 11, done.expiresAt, later(2).toISOString(), null])
  t.same((await writtenSince(db, mark)).mail, [{ ticket: null, template: 'export.ready', to: 'bob@acme.test' }])
  t.equal((await store.read('export', 'a.xlsx'))?.toString(), 'spreadsheet', 'the file is in the store')
  before = await allRows(db)
  t.equal(await finish(later(3), 'w1'), false, 'finishing twice')
  t.same(await allRows(db), before, 'sends no second mail')

  const next = await claimExport(deps(later(3)), { holder: 'w1', ...lease })
  t.equal(next?.id, second)
  await releaseExportJob(deps(later(4)), { exportId: second, holder: 'w1' })
  t.same(await job(second).then((j) => [j.status, j.holder, j.attempts]), ['queued', null, 0], 'a stopping worker gives it back; the attempt does not count')
  await claimExport(deps(later(5)), { holder: 'w3', ...lease })
  t.equal(await failExportJob(deps(later(6)), { exportId: second, holder: 'w3', error: 'too_many_rows: 200000' }), true)
  t.same(await job(second).then((j) => [j.status, j.error, j.finished_at]), ['failed', 'too_many_rows: 200000', later(6).toISOString()])
  t.equal(await claimExport(deps(later(7)), { holder: 'w1', ...lease }), null, 'nothing left to claim')

  t.same(await exportsDueForExpiry(deps(later(60 * 24 - 1))), [], 'not yet')
  const due = await exportsDueForExpiry(deps(later(60 * 24)))
  t.same(due.map((d) => [d.id, d.file_path]), [[first, 'a.xlsx']])
  await expireExport({ ...deps(later(60 * 24)), store }, due[0])
  t.same(await job(first).then((j) => [j.status, j.file_path]), ['expired', null])
  t.equal(await store.size('export', 'a.xlsx'), null, 'and its file is deleted')
})
