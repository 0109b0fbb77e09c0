// Service hours, as an admin sets them: business-hours calendars (weekly hours in a time zone,
// holidays) that desks count their SLA targets in, and a catalog item's own targets. Every change
// is audited; a calendar a desk still uses is not deleted.
import {
  calendarProfile, deleteCalendar, desksUsingCalendar, saveCalendar, type CalendarProfile
} from '../db/calendars.js'
import { getCatalogEntry, nameTaken } from '../db/structure-admin.js'
import { itemSlaPolicies, saveItemSlaPolicies } from '../db/sla.js'
import {
  formatDayHours, isIsoDate, isTimeZone, parseDayHours, weekProblem, WEEKDAYS, type OpeningInterval, type Weekday
} from '../domain/business-hours.js'
import { PRIORITIES, type Priority } from '../domain/lifecycle.js'
import type { SlaPolicies } from '../domain/sla.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { asAdmin } from './admin-common.js'
import { checkSlaTarget } from './admin.js'
import { STRUCTURE_LIMITS } from './structure-admin.js'

export const CALENDAR_LIMITS = { holidays: 500, holidayName: 100 } as const

export interface CalendarFields {
  name: string
  timeZone: string
  /** Opening hours per ISO weekday ('1' Monday ... '7' Sunday) as written: "09:00-18:00[, ...]"; missing or empty is closed. */
  hours: Partial<Record<string, string>>
  holidays: { day: string; name: string }[]
}

async function checkedCalendar(uow: UnitOfWork, input: CalendarFields, calendarId: number | null): Promise<Omit<CalendarProfile, 'id'>> {
  const check = new FieldCheck()
  const name = input.name.trim()
  check.text('name', input.name, STRUCTURE_LIMITS.name)
  if (!check.has('name') && await nameTaken(uow.trx, 'business_calendar', name, calendarId)) check.add('name', 'taken')
  const timeZone = input.timeZone.trim()
  if (!isTimeZone(timeZone)) check.add('timeZone', 'invalid_choice')
  const week: Partial<Record<Weekday, OpeningInterval[]>> = {}
  for (const day of WEEKDAYS) {
    const text = input.hours[String(day)] ?? ''
    const intervals = parseDayHours(text)
    if (intervals === null || weekProblem({ [day]: intervals }) === 'bad_interval') check.add(`hours.${day}`, 'invalid_hours')
    else if (intervals.length > 0) week[day] = intervals
  }
  if (WEEKDAYS.every((d) => !check.has(`hours.${d}`)) && weekProblem(week) === 'no_hours') check.add('hours', 'invalid_hours')
  const holidays = new Map<string, string>()
  if (input.holidays.length > CALENDAR_LIMITS.holidays) check.add('holidays', 'out_of_range', { min: 0, max: CALENDAR_LIMITS.holidays })
  input.holidays.forEach((h, i) => {
    const day = h.day.trim()
    if (!isIsoDate(day)) check.add('holidays', 'invalid_date', { line: i + 1 })
    else check.text('holidays', h.name, CALENDAR_LIMITS.holidayName, false)
    if (!check.has('holidays')) holidays.set(day, h.name.trim())
  })
  check.refuse()
  return { name, timeZone, week, holidays: [...holidays].sort(([a], [b]) => a.localeCompare(b)).map(([day, name]) => ({ day, name })) }
}

/** A calendar's opening hours as CalendarFields write them: per ISO weekday ('1'...'7'), '' when closed. */
export function weekHours(week: CalendarProfile['week'] | undefined): Record<string, string> {
  return Object.fromEntries(WEEKDAYS.map((d) => [String(d), formatDayHours(week?.[d])]))
}

/** A calendar as the audit log shows it: hours per day as written, holidays as "date name". */
function auditView(c: Omit<CalendarProfile, 'id'>) {
  return {
    name: c.name, timeZone: c.timeZone,
    ...Object.fromEntries(Object.entries(weekHours(c.week)).map(([d, hours]) => [`hours.${d}`, hours])),
    holidays: c.holidays.map((h) => `${h.day} ${h.name}`.trim()).join('; ')
  }
}

export async function addCalendar(deps: Deps, who: Who, input: CalendarFields): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const calendar = await checkedCalendar(uow, input, null)
    const id = await saveCalendar(uow.trx, null, calendar, uow.at)
    await uow.audit({ entity: 'calendar', entityId: id, action: 'create', label: calendar.name, after: auditView(calendar) })
    return { id }
  })
}

/** Tickets already open keep their due times; new ones, and targets moved later (a hold ending), count in the new hours. */
export async function editCalendar(deps: Deps, who: Who, input: CalendarFields & { calendarId: number }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await calendarProfile(uow.trx, input.calendarId)
    if (!current) throw new Refused('not_found')
    const calendar = await checkedCalendar(uow, input, current.id)
    await saveCalendar(uow.trx, current.id, calendar, uow.at)
    return { changed: await uow.audit({ entity: 'calendar', entityId: current.id, action: 'update', label: calendar.name, before: auditView(current), after: auditView(calendar) }) }
  })
}

/** Deletes a calendar no desk uses (tickets keep the due times it gave them). */
export async function removeCalendar(deps: Deps, who: Who, calendarId: number): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await calendarProfile(uow.trx, calendarId)
    if (!current) throw new Refused('not_found')
    const desks = await desksUsingCalendar(uow.trx, calendarId)
    if (desks.length > 0) throw new Refused('invalid', { fields: { calendarId: { problem: 'in_use', params: { names: desks.join(', ') } } } })
    await deleteCalendar(uow.trx, calendarId)
    await uow.audit({ entity: 'calendar', entityId: calendarId, action: 'delete', label: current.name, before: auditView(current) })
  })
}

export type ItemTargets = Partial<Record<Priority, { responseMinutes: number; resolutionMinutes: number }>>

/**
 * A catalog item's own SLA targets, per priority; a priority left out uses the priority's
 * targets. Tickets opened from then on (and tickets moved to the item) get them.
 */
export async function setItemSlaTargets(deps: Deps, who: Who, input: { itemId: number; targets: ItemTargets }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const item = await getCatalogEntry(uow.trx, input.itemId)
    if (!item || item.parent_id === null) throw new Refused('not_found')
    const check = new FieldCheck()
    const targets: Partial<SlaPolicies> = {}
    for (const [priority, t] of Object.entries(input.targets)) {
      if (!t) continue
      checkSlaTarget(check, { priority: priority as Priority, ...t })
      targets[priority as Priority] = { responseMinutes: t.responseMinutes, resolutionMinutes: t.resolutionMinutes }
    }
    check.refuse()
    const before = (await itemSlaPolicies(uow.trx)).get(item.id) ?? {}
    await saveItemSlaPolicies(uow.trx, item.id, targets, uow.at)
    const view = (p: Partial<SlaPolicies>) => Object.fromEntries(PRIORITIES.map((pr) => [pr, p[pr] ? `${p[pr]!.responseMinutes}/${p[pr]!.resolutionMinutes}` : null]))
    return { changed: await uow.audit({ entity: 'catalog_item', entityId: item.id, action: 'sla_targets', label: item.name, before: view(before), after: view(targets) }) }
  })
}

