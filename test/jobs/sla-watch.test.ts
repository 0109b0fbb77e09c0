// The SLA job reads only the tickets whose watch instant has come (an index range, in batches),
// and every write to a ticket's SLA columns stores that instant again. The instant itself is
// checked against slaStatus: just before it the level cannot have moved, at it it has.
import t from 'tap'
import { sql } from 'kysely'
import { onPostgres, testApp } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { addTicketNote, depsAt, performerOf, transition } from '../helpers/commands.js'
import { SLA_BATCH, slaEscalationJob } from '../../sync/jobs/index.js'
import { editTicketFields } from '../../src/commands/edit-fields.js'
import { deleteTicket } from '../../src/commands/delete-ticket.js'
import { unwrap } from '../../src/commands/kernel.js'
import { dueForSlaCheck } from '../../src/db/ticket.js'
import { slaStatus, slaWatchAt, type SlaWatched } from '../../src/domain/sla.js'

const T0 = new Date('2026-03-02T09:00:00.000Z')
const at = (hours: number) => new Date(T0.getTime() + hours * 3600_000)

t.test('slaWatchAt is the first instant the level can pass what was reported', async (t) => {
  const base: SlaWatched = {
    state: 'in_progress', created_at: T0.toISOString(), response_due_at: at(1).toISOString(), resolution_due_at: at(4).toISOString(),
    first_response_at: at(0.5).toISOString(), resolved_at: null, sla_paused_at: null, sla_paused_ms: 0, sla_at_risk_at: null, sla_alert: null
  }
  const cases: [string, Partial<SlaWatched>, string | null][] = [
    ['on track: when it becomes at risk (75 % of 4 h)', {}, at(3).toISOString()],
    ['reported at risk: when it is breached', { sla_alert: 'at_risk' }, new Date(at(4).getTime() + 1).toISOString()],
    ['no first answer yet: the response target comes first', { first_response_at: null }, new Date(at(1).getTime() + 1).toISOString()],
    ['a past hold widens nothing but shifts the share', { sla_paused_ms: 3_600_000, resolution_due_at: at(5).toISOString() }, at(4).toISOString()],
    ['reported breached: never again', { sla_alert: 'breached' }, null],
    ['on hold within its target', { sla_paused_at: at(2).toISOString() }, null],
    ['on hold after its target: breached at once', { sla_paused_at: at(5).toISOString() }, at(5).toISOString()],
    ['resolved', { state: 'resolved', resolved_at: at(2).toISOString() }, null],
    ['cancelled', { state: 'cancelled' }, null],
    ['deleted', { deleted_at: at(1).toISOString() }, null],
    ['no target', { resolution_due_at: null, response_due_at: null }, null]
  ]
  for (const [what, over, expected] of cases) {
    const ticket = { ...base, ...over }
    const watch = slaWatchAt(ticket)
    t.equal(watch, expected, what)
    if (watch === null) continue
    const levels = ['on_track', 'at_risk', 'breached']
    const rank = (s: string) => Math.max(0, levels.indexOf(s))
    const reported = rank(ticket.sla_alert ?? 'on_track')
    if (!ticket.sla_paused_at) t.ok(rank(slaStatus(ticket, new Date(Date.parse(watch) - 1))) <= reported, `${what}: not a moment before`)
    t.ok(rank(slaStatus(ticket, new Date(watch))) > reported, `${what}: at it`)
  }
})

t.test('every write to a ticket keeps its watch instant', async (t) => {
  const env = await testApp(t)
  const ana = performerOf(await staffActor(env.db, env.ids, 'ana@casebridge.test'))
  const tickets = []
  for (const priority of ['critical', 'high', 'medium', 'low'] as const) tickets.push(await makeTicket(env.db, env.ids, { now: T0, priority }))
  const [a, b, c, d] = tickets
  await transition(env.db, ana, a.id, { action: 'pick_up' }, at(0.1))
  await addTicketNote({ db: env.db, clock: () => at(0.2) }, ana, a.id, { body: 'Looking into it.', mode: 'reply' })
  await transition(env.db, ana, b.id, { action: 'pick_up' }, at(0.1))
  await transition(env.db, ana, b.id, { action: 'hold', reason: 'vendor' }, at(1))
  await transition(env.db, ana, c.id, { action: 'pick_up' }, at(0.1))
  await transition(env.db, ana, c.id, { action: 'hold', reason: 'vendor' }, at(1))
  await transition(env.db, ana, c.id, { action: 'resume' }, at(3))
  unwrap(await editTicketFields(depsAt(env.db, at(3.5)), ana, { ticketId: d.id, priority: 'critical' }))
  await transition(env.db, ana, a.id, { action: 'resolve', resolution: 'Fixed' }, at(1))
  const admin = performerOf(await staffActor(env.db, env.ids, 'admin@casebridge.test'))
  unwrap(await deleteTicket(depsAt(env.db, at(2)), admin, { ticketId: b.id, reason: 'Opened twice by mistake' }))
  t.ok(await slaEscalationJob(env.db, at(100)) > 0, 'the job reported something')
  const rows = await env.db.selectFrom('ticket').selectAll().execute()
  t.ok(rows.length > 4, `${rows.length} tickets (demo data and these)`)
  for (const row of rows) {
    const expected = slaWatchAt(row)
    if (row.sla_watch_at !== expected) t.fail(`ticket ${row.number}: stored ${row.sla_watch_at}, expected ${expected}`)
  }
  t.pass('every stored instant is the one its row gives')
})

t.test('the job reads only tickets whose instant has come, through the index, in batches', async (t) => {
  const env = await testApp(t)
  const ids = env.ids
  const count = SLA_BATCH * 2 + 50
  for (let i = 0; i < count; i++) await makeTicket(env.db, ids, { now: T0, priority: 'critical', title: `T${i}` })
  t.same((await dueForSlaCheck(env.db, at(1).toISOString(), 1000)).length, 0, 'an hour in, no ticket needs a look (the demo tickets are opened later)')
  t.equal(await slaEscalationJob(env.db, at(1)), 0)

  const due = await dueForSlaCheck(env.db, at(3.5).toISOString(), 10_000)
  t.equal(due.length, count, 'at 3.5 h every one of them is at risk (or past its response target)')
  t.equal(await slaEscalationJob(env.db, at(3.5)), count, 'reported across several batches')
  t.equal((await dueForSlaCheck(env.db, at(3.5).toISOString(), 10_000)).length, 0, 'and none is looked at again until its next instant')

  if (!onPostgres) {
    const plan = await sql<{ detail: string }>`EXPLAIN QUERY PLAN SELECT id FROM ticket WHERE sla_watch_at IS NOT NULL AND sla_watch_at <= ${at(1).toISOString()} ORDER BY sla_watch_at, id LIMIT 200`.execute(env.db)
    t.match(plan.rows.map((r) => r.detail).join('\n'), /ticket_sla_watch_idx/, 'SQLite reads the watch index')
  }
})
