// Business hours: a desk's calendar (weekly opening hours in a time zone, and holidays) and the
// SLA clock counted in it. Wall-clock arithmetic in a zone (daylight saving, offsets) is Luxon's;
// this module only walks the opening intervals.
import { DateTime, IANAZone } from 'luxon'

/** Weekdays as ISO numbers: 1 = Monday ... 7 = Sunday. */
export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const
export type Weekday = (typeof WEEKDAYS)[number]

/** An opening interval in minutes after local midnight, start before end (end at most 24:00). */
export type OpeningInterval = readonly [startMinute: number, endMinute: number]

export interface BusinessCalendar {
  timeZone: string
  /** Opening intervals per weekday, sorted and not overlapping; a missing day is closed. */
  week: Partial<Record<Weekday, readonly OpeningInterval[]>>
  /** Local dates (YYYY-MM-DD) on which the desk is closed all day. */
  holidays: ReadonlySet<string>
}

/** No calendar: the clock runs all the time (the SLA counts calendar time). */
export const ALWAYS_OPEN = null

const MINUTE = 60_000
const DAY_MINUTES = 24 * 60
/** A calendar open at least once a week never needs more; bounds the walk over a broken one. */
const MAX_DAYS = 3 * 366

export function isTimeZone(zone: string): boolean {
  return zone.length > 0 && IANAZone.isValidZone(zone)
}

/** Minutes after midnight of "HH:MM" (00:00 to 24:00), or null. */
export function parseClock(text: string): number | null {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text.trim())
  if (!m) return null
  const minutes = Number(m[1]) * 60 + Number(m[2])
  return minutes <= DAY_MINUTES ? minutes : null
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

/**
 * One day's opening hours as written on the calendar form: "09:00-18:00", or several separated by
 * commas ("08:00-12:00, 13:00-17:00"); empty is closed. Null when it cannot be read.
 */
export function parseDayHours(text: string): OpeningInterval[] | null {
  const out: OpeningInterval[] = []
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$/.exec(part)
    const start = m && parseClock(m[1].padStart(5, '0'))
    const end = m && parseClock(m[2].padStart(5, '0'))
    if (start === null || end === null) return null
    out.push([start, end])
  }
  return out
}

export function formatDayHours(intervals: readonly OpeningInterval[] | undefined): string {
  return (intervals ?? []).map(([s, e]) => `${formatClock(s)}-${formatClock(e)}`).join(', ')
}

/** A real calendar date written YYYY-MM-DD. */
export function isIsoDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && DateTime.fromISO(text, { zone: 'UTC' }).isValid
}

/** Why a weekly schedule cannot be used, or null: intervals in order, within the day, not overlapping, some hours open. */
export function weekProblem(week: BusinessCalendar['week']): 'no_hours' | 'bad_interval' | null {
  let open = 0
  for (const day of WEEKDAYS) {
    let last = -1
    for (const [start, end] of week[day] ?? []) {
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > DAY_MINUTES || start >= end || start < last) return 'bad_interval'
      last = end
      open += end - start
    }
  }
  return open > 0 ? null : 'no_hours'
}

/** A day's opening intervals as instants, in order (none on a holiday or a closed weekday). */
function openingsOn(calendar: BusinessCalendar, day: DateTime): [number, number][] {
  if (calendar.holidays.has(day.toISODate()!)) return []
  return (calendar.week[day.weekday as Weekday] ?? []).map(([start, end]) => [
    day.plus({ minutes: start }).toMillis(),
    // 24:00 is the next midnight (a 23- or 25-hour day keeps its real length).
    end === DAY_MINUTES ? day.plus({ days: 1 }).toMillis() : day.plus({ minutes: end }).toMillis()
  ])
}

/** Calls `visit` with each open stretch from `from` onwards until it returns true. */
function walkOpenings(calendar: BusinessCalendar, from: number, visit: (start: number, end: number) => boolean): void {
  let day = DateTime.fromMillis(from, { zone: calendar.timeZone }).startOf('day')
  for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 }).startOf('day')) {
    for (const [start, end] of openingsOn(calendar, day)) {
      if (end <= from) continue
      if (visit(Math.max(start, from), end)) return
    }
  }
  throw new Error('business calendar has no opening hours within three years')
}

/**
 * The instant `minutes` of open time after `startIso`. With no calendar, plain calendar time.
 * Opening Friday 17:55 with 60 minutes to go in a Mon–Fri 9–18 calendar gives Monday 09:55.
 */
export function addBusinessMinutes(calendar: BusinessCalendar | null, startIso: string, minutes: number): string {
  return addBusinessMillis(calendar, startIso, Math.round(minutes * MINUTE))
}

/** The instant `millis` of open time after `startIso`. */
export function addBusinessMillis(calendar: BusinessCalendar | null, startIso: string, millis: number): string {
  const from = Date.parse(startIso)
  if (calendar === null || millis <= 0) return new Date(from + Math.max(0, calendar === null ? millis : 0)).toISOString()
  let left = millis
  let at = from
  walkOpenings(calendar, from, (start, end) => {
    if (end - start >= left) {
      at = start + left
      return true
    }
    left -= end - start
    return false
  })
  return new Date(at).toISOString()
}

/** The open time between two instants, in milliseconds (0 when `to` is not after `from`). */
export function businessMillisBetween(calendar: BusinessCalendar | null, fromIso: string, toIso: string): number {
  const from = Date.parse(fromIso)
  const to = Date.parse(toIso)
  if (to <= from) return 0
  if (calendar === null) return to - from
  let total = 0
  walkOpenings(calendar, from, (start, end) => {
    if (start >= to) return true
    total += Math.min(end, to) - start
    return end >= to
  })
  return total
}
