import t from 'tap'
import {
  addBusinessMinutes, businessMillisBetween, formatClock, isTimeZone, parseClock, weekProblem, type BusinessCalendar
} from '../../src/domain/business-hours.js'
import { dueTimes, pause, resume, slaStatus, slaWatchAt } from '../../src/domain/sla.js'

const NINE_TO_SIX = [[9 * 60, 18 * 60]] as const
const weekdays = (hours: readonly (readonly [number, number])[]) => ({ 1: hours, 2: hours, 3: hours, 4: hours, 5: hours })
const cal = (timeZone: string, holidays: string[] = [], week: BusinessCalendar['week'] = weekdays(NINE_TO_SIX)): BusinessCalendar =>
  ({ timeZone, week, holidays: new Set(holidays) })

const utc = cal('UTC')

t.test('open time is counted only inside the weekly hours', async (t) => {
  // 2027-01-01 is a Friday.
  const cases: [string, string, number, string][] = [
    ['Friday 17:55 + 1 h is Monday 09:55', '2027-01-01T17:55:00.000Z', 60, '2027-01-04T09:55:00.000Z'],
    ['inside one day', '2027-01-04T10:00:00.000Z', 120, '2027-01-04T12:00:00.000Z'],
    ['ends exactly at closing', '2027-01-04T17:00:00.000Z', 60, '2027-01-04T18:00:00.000Z'],
    ['one minute past closing goes to the next morning', '2027-01-04T17:00:00.000Z', 61, '2027-01-05T09:01:00.000Z'],
    ['opened before opening time', '2027-01-04T06:30:00.000Z', 30, '2027-01-04T09:30:00.000Z'],
    ['opened on Saturday', '2027-01-02T12:00:00.000Z', 60, '2027-01-04T10:00:00.000Z'],
    ['a whole working week (45 h)', '2027-01-04T09:00:00.000Z', 45 * 60, '2027-01-08T18:00:00.000Z'],
    ['three days of nine hours from Friday afternoon', '2027-01-01T15:00:00.000Z', 27 * 60, '2027-01-06T15:00:00.000Z'],
    ['zero minutes is the start itself', '2027-01-02T12:00:00.000Z', 0, '2027-01-02T12:00:00.000Z']
  ]
  for (const [name, start, minutes, expected] of cases) t.equal(addBusinessMinutes(utc, start, minutes), expected, name)
  t.equal(addBusinessMinutes(null, '2027-01-01T17:55:00.000Z', 60), '2027-01-01T18:55:00.000Z', 'no calendar: calendar time')
})

t.test('holidays are skipped', async (t) => {
  const withHolidays = cal('UTC', ['2027-01-04', '2027-01-05'])
  t.equal(addBusinessMinutes(withHolidays, '2027-01-01T17:55:00.000Z', 60), '2027-01-06T09:55:00.000Z', 'Monday and Tuesday off: Wednesday 09:55')
  t.equal(addBusinessMinutes(withHolidays, '2027-01-04T10:00:00.000Z', 30), '2027-01-06T09:30:00.000Z', 'opened on a holiday')
  t.equal(businessMillisBetween(withHolidays, '2027-01-01T17:00:00.000Z', '2027-01-06T10:00:00.000Z'), 2 * 3_600_000, 'Friday 17-18 and Wednesday 9-10')
})

t.test('time zones are honoured, daylight saving included', async (t) => {
  const saoPaulo = cal('America/Sao_Paulo')
  // 17:55 in São Paulo (UTC-3) on Friday is 20:55 UTC; Monday 09:55 there is 12:55 UTC.
  t.equal(addBusinessMinutes(saoPaulo, '2027-01-01T20:55:00.000Z', 60), '2027-01-04T12:55:00.000Z')
  // Friday 17:55 UTC is 14:55 in São Paulo: an hour later, still Friday.
  t.equal(addBusinessMinutes(saoPaulo, '2027-01-01T17:55:00.000Z', 60), '2027-01-01T18:55:00.000Z')
  const berlin = cal('Europe/Berlin')
  // Clocks go forward on Sunday 2027-03-28: Friday 17:30 CET (16:30 UTC) + 1 h is Monday 09:30 CEST (07:30 UTC).
  t.equal(addBusinessMinutes(berlin, '2027-03-26T16:30:00.000Z', 60), '2027-03-29T07:30:00.000Z')
  // Asia/Kolkata is UTC+5:30: Monday 09:00 there is 03:30 UTC.
  t.equal(addBusinessMinutes(cal('Asia/Kolkata'), '2027-01-03T12:00:00.000Z', 15), '2027-01-04T03:45:00.000Z')
  // A holiday is a local date: 2027-01-04 in Tokyo begins at 2027-01-03T15:00Z.
  const tokyo = cal('Asia/Tokyo', ['2027-01-04'])
  t.equal(addBusinessMinutes(tokyo, '2027-01-03T23:00:00.000Z', 60), '2027-01-05T01:00:00.000Z', 'Tuesday 10:00 in Tokyo')
})

t.test('round-the-clock days, split days and weekends', async (t) => {
  const allWeek = cal('UTC', [], { 1: [[0, 1440]], 2: [[0, 1440]], 3: [[0, 1440]], 4: [[0, 1440]], 5: [[0, 1440]], 6: [[0, 1440]], 7: [[0, 1440]] })
  t.equal(addBusinessMinutes(allWeek, '2027-01-01T17:55:00.000Z', 3 * 24 * 60), '2027-01-04T17:55:00.000Z', '24/7 equals calendar time')
  const split = cal('UTC', [], weekdays([[8 * 60, 12 * 60], [13 * 60, 17 * 60]]))
  t.equal(addBusinessMinutes(split, '2027-01-04T11:30:00.000Z', 60), '2027-01-04T13:30:00.000Z', 'the lunch break does not count')
  const saturdays = cal('UTC', [], { 6: [[10 * 60, 14 * 60]] })
  t.equal(addBusinessMinutes(saturdays, '2027-01-04T10:00:00.000Z', 5 * 60), '2027-01-16T11:00:00.000Z', 'one short day a week')
})

t.test('open time between two instants is the inverse of adding it', async (t) => {
  const cals = [utc, cal('Europe/Berlin', ['2027-03-29']), cal('America/New_York', [], weekdays([[7 * 60, 11 * 60], [12 * 60, 24 * 60]]))]
  let seed = 7
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647)
  for (let i = 0; i < 300; i++) {
    const c = cals[i % cals.length]
    const start = new Date(Date.parse('2027-03-20T00:00:00.000Z') + Math.floor(random() * 20 * 86_400_000)).toISOString()
    const minutes = Math.floor(random() * 5000)
    const end = addBusinessMinutes(c, start, minutes)
    if (businessMillisBetween(c, start, end) !== minutes * 60_000) {
      t.fail(`${c.timeZone} from ${start} + ${minutes} min = ${end}, but counted ${businessMillisBetween(c, start, end) / 60_000}`)
      return
    }
  }
  t.pass('300 random spans agree')
})

t.test('schedules and clocks are checked', async (t) => {
  t.equal(weekProblem(weekdays(NINE_TO_SIX)), null)
  t.equal(weekProblem({}), 'no_hours')
  t.equal(weekProblem({ 1: [[600, 540]] }), 'bad_interval', 'start after end')
  t.equal(weekProblem({ 1: [[540, 720], [700, 800]] }), 'bad_interval', 'overlapping')
  t.equal(weekProblem({ 1: [[0, 1441]] }), 'bad_interval', 'past midnight')
  t.equal(parseClock('09:30'), 570)
  t.equal(parseClock('24:00'), 1440)
  t.equal(parseClock('24:01'), null)
  t.equal(parseClock('9:30'), null)
  t.equal(formatClock(570), '09:30')
  t.ok(isTimeZone('America/Sao_Paulo'))
  t.notOk(isTimeZone('Mars/Olympus'))
  t.notOk(isTimeZone(''))
})

t.test('the SLA clock in business hours', async (t) => {
  const targets = { responseMinutes: 60, resolutionMinutes: 8 * 60 }
  const due = dueTimes('2027-01-01T17:55:00.000Z', targets, utc)
  t.equal(due.responseDueAt, '2027-01-04T09:55:00.000Z', 'response: Monday 09:55')
  t.equal(due.resolutionDueAt, '2027-01-04T16:55:00.000Z', 'resolution: 8 open hours = 5 min on Friday + 7 h 55 on Monday')
  t.equal(due.atRiskAt, '2027-01-04T14:55:00.000Z', 'at risk after 6 open hours')
  const ticket = {
    state: 'in_progress', created_at: '2027-01-01T17:55:00.000Z', response_due_at: due.responseDueAt, resolution_due_at: due.resolutionDueAt,
    first_response_at: '2027-01-04T09:10:00.000Z', resolved_at: null, sla_paused_at: null, sla_paused_ms: 0, sla_at_risk_at: due.atRiskAt
  }
  t.equal(slaStatus(ticket, new Date('2027-01-03T12:00:00.000Z')), 'on_track', 'Sunday: half the calendar time gone, no open time')
  t.equal(slaStatus(ticket, new Date('2027-01-04T14:54:59.000Z')), 'on_track')
  t.equal(slaStatus(ticket, new Date('2027-01-04T14:55:00.000Z')), 'at_risk')
  t.equal(slaStatus(ticket, new Date('2027-01-04T16:56:00.000Z')), 'breached')
  t.equal(slaWatchAt({ ...ticket, sla_alert: null }), '2027-01-04T14:55:00.000Z', 'the SLA job looks when it turns at risk')
  t.equal(slaWatchAt({ ...ticket, sla_alert: 'at_risk' }), '2027-01-04T16:55:00.001Z', 'then when it is breached')

  // On hold from Monday 10:00 to Tuesday 11:00: ten open hours pass (8 on Monday, 2 on Tuesday),
  // and the open time that was left (6 h 55 to resolution, 4 h 55 to at risk) is kept.
  const held = { ...ticket, ...pause(ticket, new Date('2027-01-04T10:00:00.000Z')) }
  t.equal(slaStatus({ ...held, state: 'on_hold' }, new Date('2027-01-05T10:00:00.000Z')), 'paused')
  const resumed = resume(held, new Date('2027-01-05T11:00:00.000Z'), utc)
  t.equal(resumed.resolution_due_at, '2027-01-05T17:55:00.000Z', '6 h 55 of open time after Tuesday 11:00')
  t.equal(resumed.sla_at_risk_at, '2027-01-05T15:55:00.000Z', 'the at-risk instant keeps its open time too')
  t.equal(resumed.response_due_at, ticket.response_due_at, 'an answered response target stays')
  t.equal(resumed.sla_paused_ms, 25 * 3_600_000, 'time on hold is still recorded in calendar time')
  // A target already passed before the hold stays passed.
  const late = resume({ ...ticket, sla_paused_at: '2027-01-04T18:30:00.000Z' }, new Date('2027-01-05T11:00:00.000Z'), utc)
  t.equal(late.resolution_due_at, ticket.resolution_due_at)
})
