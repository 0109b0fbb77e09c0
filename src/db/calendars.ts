// Business-hours calendars (weekly hours, time zone, holidays) and which desk uses which.
import type { Executor } from './index.js'
import { WEEKDAYS, type BusinessCalendar, type OpeningInterval, type Weekday } from '../domain/business-hours.js'

export interface CalendarProfile {
  id: number
  name: string
  timeZone: string
  week: BusinessCalendar['week']
  holidays: { day: string; name: string }[]
}

/** The stored week ({"1": [[540, 1080]], ...}) as the domain reads it; days stored empty are closed. */
export function parseWeek(json: string): BusinessCalendar['week'] {
  const raw = JSON.parse(json) as Record<string, [number, number][]>
  const week: Partial<Record<Weekday, readonly OpeningInterval[]>> = {}
  for (const day of WEEKDAYS) if (raw[day]?.length) week[day] = raw[day].map(([s, e]) => [s, e] as const)
  return week
}

export function weekJson(week: BusinessCalendar['week']): string {
  const out: Record<string, [number, number][]> = {}
  for (const day of WEEKDAYS) if (week[day]?.length) out[day] = week[day]!.map(([s, e]) => [s, e])
  return JSON.stringify(out)
}

export async function listCalendars(db: Executor) {
  const [calendars, desks, holidays] = await Promise.all([
    db.selectFrom('business_calendar').select(['id', 'name', 'time_zone', 'week']).orderBy('name').execute(),
    db.selectFrom('desk').select(['calendar_id', 'name']).where('calendar_id', 'is not', null).orderBy('name').execute(),
    db.selectFrom('business_holiday').select(['calendar_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('calendar_id').execute()
  ])
  return calendars.map((c) => ({
    id: c.id, name: c.name, timeZone: c.time_zone, week: parseWeek(c.week),
    desks: desks.filter((d) => d.calendar_id === c.id).map((d) => d.name),
    holidays: Number(holidays.find((h) => h.calendar_id === c.id)?.n ?? 0)
  }))
}

export async function calendarProfile(db: Executor, id: number): Promise<CalendarProfile | undefined> {
  const row = await db.selectFrom('business_calendar').select(['id', 'name', 'time_zone', 'week']).where('id', '=', id).executeTakeFirst()
  if (!row) return undefined
  const holidays = await db.selectFrom('business_holiday').select(['day', 'name']).where('calendar_id', '=', id).orderBy('day').execute()
  return { id: row.id, name: row.name, timeZone: row.time_zone, week: parseWeek(row.week), holidays }
}

/** Writes a calendar (a new one when `id` is null) and replaces its holidays; returns its id. */
export async function saveCalendar(db: Executor, id: number | null, c: Omit<CalendarProfile, 'id'>, now: string): Promise<number> {
  const values = { name: c.name, time_zone: c.timeZone, week: weekJson(c.week), updated_at: now }
  const calendarId = id ?? (await db.insertInto('business_calendar').values({ ...values, created_at: now }).returning('id').executeTakeFirstOrThrow()).id
  if (id !== null) await db.updateTable('business_calendar').set(values).where('id', '=', id).execute()
  await db.deleteFrom('business_holiday').where('calendar_id', '=', calendarId).execute()
  for (const h of c.holidays) await db.insertInto('business_holiday').values({ calendar_id: calendarId, day: h.day, name: h.name }).execute()
  return calendarId
}

/** The desks using a calendar (a calendar in use is not deleted). */
export async function desksUsingCalendar(db: Executor, id: number): Promise<string[]> {
  return (await db.selectFrom('desk').select('name').where('calendar_id', '=', id).orderBy('name').execute()).map((d) => d.name)
}

export async function deleteCalendar(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('business_holiday').where('calendar_id', '=', id).execute()
  await db.deleteFrom('business_calendar').where('id', '=', id).execute()
}

