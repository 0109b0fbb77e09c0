import t from 'tap'
import { dueTimes, pause, resume, slaStatus, DEFAULT_SLA_POLICIES, type SlaTicket } from '../../src/domain/sla.js'

const created = '2026-01-05T08:00:00.000Z'
const due = dueTimes(created, { responseMinutes: 60, resolutionMinutes: 240 })
const base: SlaTicket = {
  state: 'in_progress', created_at: created, response_due_at: due.responseDueAt, resolution_due_at: due.resolutionDueAt,
  first_response_at: '2026-01-05T08:10:00.000Z', resolved_at: null, sla_paused_at: null, sla_at_risk_at: null
}
const at = (iso: string) => new Date(iso)

t.test('due times follow the policy', async (t) => {
  t.equal(due.responseDueAt, '2026-01-05T09:00:00.000Z')
  t.equal(due.resolutionDueAt, '2026-01-05T12:00:00.000Z')
  t.ok(DEFAULT_SLA_POLICIES.critical.resolutionMinutes < DEFAULT_SLA_POLICIES.low.resolutionMinutes)
})

t.test('status over time', async (t) => {
  const cases: [string, Partial<SlaTicket>, string, string][] = [
    ['early', {}, '2026-01-05T09:00:00.000Z', 'on_track'],
    ['at 75% of the window', {}, '2026-01-05T11:00:00.000Z', 'at_risk'],
    ['just before due', {}, '2026-01-05T11:59:59.000Z', 'at_risk'],
    ['after due', {}, '2026-01-05T12:00:01.000Z', 'breached'],
    ['no response after response due', { first_response_at: null }, '2026-01-05T09:00:01.000Z', 'breached'],
    ['no response before response due', { first_response_at: null }, '2026-01-05T08:59:00.000Z', 'on_track'],
    ['resolved in time', { state: 'resolved', resolved_at: '2026-01-05T11:00:00.000Z' }, '2026-01-09T00:00:00.000Z', 'achieved'],
    ['resolved late', { state: 'resolved', resolved_at: '2026-01-05T12:30:00.000Z' }, '2026-01-09T00:00:00.000Z', 'breached'],
    ['closed in time', { state: 'closed', resolved_at: '2026-01-05T10:00:00.000Z' }, '2026-01-09T00:00:00.000Z', 'achieved'],
    ['on hold', { state: 'on_hold', sla_paused_at: '2026-01-05T09:00:00.000Z' }, '2026-01-08T00:00:00.000Z', 'paused'],
    ['on hold after breach', { state: 'on_hold', sla_paused_at: '2026-01-05T13:00:00.000Z' }, '2026-01-08T00:00:00.000Z', 'breached'],
    ['cancelled', { state: 'cancelled' }, '2026-01-08T00:00:00.000Z', 'none'],
    ['no policy', { resolution_due_at: null }, '2026-01-08T00:00:00.000Z', 'none']
  ]
  for (const [name, patch, now, expected] of cases) {
    t.equal(slaStatus({ ...base, ...patch }, at(now)), expected, name)
  }
})

t.test('a pause pushes the open targets back by the time on hold', async (t) => {
  const state = { sla_paused_at: null, sla_paused_ms: 0, response_due_at: base.response_due_at, resolution_due_at: base.resolution_due_at, first_response_at: null, sla_at_risk_at: null }
  const paused = pause(state, at('2026-01-05T09:00:00.000Z'))
  t.equal(paused.sla_paused_at, '2026-01-05T09:00:00.000Z')
  t.same(pause({ ...state, ...paused }, at('2026-01-05T10:00:00.000Z')), paused, 'pausing twice keeps the first start')
  const resumed = resume({ ...state, ...paused }, at('2026-01-05T11:00:00.000Z'))
  t.equal(resumed.sla_paused_at, null)
  t.equal(resumed.sla_paused_ms, 2 * 3600_000)
  t.equal(resumed.resolution_due_at, '2026-01-05T14:00:00.000Z')
  t.equal(resumed.response_due_at, '2026-01-05T11:00:00.000Z', 'response target moves when not yet answered')
  const answered = resume({ ...state, ...paused, first_response_at: '2026-01-05T08:30:00.000Z' }, at('2026-01-05T11:00:00.000Z'))
  t.equal(answered.response_due_at, base.response_due_at, 'an answered response target stays')
  const ticket = { ...base, ...resumed, state: 'in_progress' }
  t.equal(slaStatus(ticket, at('2026-01-05T12:30:00.000Z')), 'on_track', 'no longer breached at the old due time')
  t.same(resume({ ...state }, at('2026-01-05T11:00:00.000Z')).resolution_due_at, state.resolution_due_at, 'resume without pause changes nothing')
})
