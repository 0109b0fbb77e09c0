// Customer satisfaction (CSAT) from the requesters' ratings (1–5, one per closed ticket): the share
// of ratings that are 4 or 5, beside how many there were and their average. Pure: the periods a
// window is cut into and the figures of a group of ratings.

/** The lowest rating that counts as satisfied. */
export const SATISFIED_FROM = 4

/** Windows up to this many days are shown week by week; longer ones month by month. */
export const WEEKLY_UP_TO_DAYS = 92

export type PeriodKind = 'week' | 'month'

/** A period of a window: [start, end) as UTC ISO timestamps; `day` is its first day (YYYY-MM-DD). */
export interface Period {
  kind: PeriodKind
  day: string
  start: string
  end: string
}

/** What is summed of a group of ratings. */
export interface RatingTotals {
  ratings: number
  satisfied: number
  sum: number
}

export interface Csat extends RatingTotals {
  /** satisfied / ratings, 0..1; null without ratings. */
  csat: number | null
  /** The mean rating, 1..5; null without ratings. */
  average: number | null
}

export function csatOf(t: RatingTotals): Csat {
  return {
    ...t,
    csat: t.ratings > 0 ? t.satisfied / t.ratings : null,
    average: t.ratings > 0 ? t.sum / t.ratings : null
  }
}

export function addTotals(a: RatingTotals, b: RatingTotals): RatingTotals {
  return { ratings: a.ratings + b.ratings, satisfied: a.satisfied + b.satisfied, sum: a.sum + b.sum }
}

export const NO_RATINGS: RatingTotals = { ratings: 0, satisfied: 0, sum: 0 }

const DAY = 86_400_000

export function periodKind(days: number): PeriodKind {
  return days <= WEEKLY_UP_TO_DAYS ? 'week' : 'month'
}

/** The calendar period (ISO week from Monday, or month; UTC) that holds `at`. */
function calendarStart(at: Date, kind: PeriodKind): Date {
  if (kind === 'month') return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1))
  const midnight = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate())
  const sinceMonday = (at.getUTCDay() + 6) % 7
  return new Date(midnight - sinceMonday * DAY)
}

function nextStart(start: Date, kind: PeriodKind): Date {
  return kind === 'month'
    ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1))
    : new Date(start.getTime() + 7 * DAY)
}

/**
 * The periods of the window [since, now], oldest first: calendar weeks (windows up to
 * WEEKLY_UP_TO_DAYS days) or months, the first one starting at `since` itself (a part of its week
 * or month) and the last one ending after `now`. Every instant of the window is in exactly one.
 */
export function windowPeriods(since: string, now: Date, days: number): Period[] {
  const kind = periodKind(days)
  const first = new Date(since)
  const periods: Period[] = []
  let start = first
  while (start.getTime() <= now.getTime()) {
    const end = nextStart(calendarStart(start, kind), kind)
    periods.push({ kind, day: start.toISOString().slice(0, 10), start: start.toISOString(), end: end.toISOString() })
    start = end
  }
  return periods
}
