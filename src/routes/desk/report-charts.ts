// What the dashboard's charts say: its figures as chart geometry (src/domain/charts.ts), in the
// reader's language, and the words and number formats its tables and download share.
import type { CsatFigures, DashboardFigures } from '../../db/reports.js'
import type { Csat, Period } from '../../domain/csat.js'
import { barChart, lineChart, type BarChart, type LineChart, type Tone } from '../../domain/charts.js'
import type { Locale } from '../../domain/permissions.js'
import type { Translate } from '../../i18n/index.js'

const DAY = 86_400_000

export interface ReportWords {
  t: Translate
  /** 0..1 as a whole percentage ("80%"); an empty string for null. */
  percent: (share: number | null) => string
  /** A mean rating, one decimal ("4.3", "4,3"); an empty string for null. */
  average: (mean: number | null) => string
  count: (n: number) => string
  /** The days a period covers within the window ("Mar 2 – 8, 2026"). */
  periodRange: (p: Period) => string
  /** A period's short name under a chart's axis ("Mar 2", "Mar 2026"). */
  periodTick: (p: Period) => string
  /** The last day a period covers so far: its end, or today for the running one. */
  periodLastDay: (p: Period) => string
}

export function reportWords(t: Translate, locale: Locale, now: Date): ReportWords {
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 })
  const decimal = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 })
  const whole = new Intl.NumberFormat(locale)
  const range = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' })
  const week = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' })
  const month = new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' })
  const today = now.toISOString().slice(0, 10)
  const periodLastDay = (p: Period) => {
    const last = new Date(Date.parse(p.end) - DAY).toISOString().slice(0, 10)
    return last < today ? last : today
  }
  return {
    t,
    percent: (share) => (share === null ? '' : percent.format(share)),
    average: (mean) => (mean === null ? '' : decimal.format(mean)),
    count: (n) => whole.format(n),
    periodRange: (p) => range.formatRange(new Date(p.day), new Date(periodLastDay(p))),
    periodTick: (p) => (p.kind === 'week' ? week : month).format(new Date(p.day)),
    periodLastDay
  }
}

export interface DashboardCharts {
  byState: BarChart
  sla: BarChart
  perDesk: BarChart
  perAssignee: BarChart
  csatPerDesk: BarChart
  csatPerStaff: BarChart
  csatOverTime: LineChart
}

/** Bars per desk and per staff member drawn at most; the tables list every one. */
export const CHART_BARS = 25

const STATE_TONES: Record<'open' | 'in_progress' | 'on_hold', Tone> = { open: 'accent', in_progress: 'violet', on_hold: 'warn' }

export function dashboardCharts(f: DashboardFigures, csat: CsatFigures, w: ReportWords): DashboardCharts {
  const { t } = w
  const counted = (label: string, n: number, tone?: Tone) => ({ label, value: n, shown: w.count(n), tone })
  const csatBar = (name: string, c: Csat) => ({
    label: name, value: (c.csat ?? 0) * 100, shown: w.percent(c.csat),
    detail: t('csat.bar', { name, csat: w.percent(c.csat), ratings: w.count(c.ratings), average: w.average(c.average) })
  })
  const unassigned = t('ticket.unassigned')
  return {
    byState: barChart((['open', 'in_progress', 'on_hold'] as const).map((s) => counted(t(`state.${s}`), f.byState[s], STATE_TONES[s]))),
    sla: barChart([
      counted(t('charts.slaWindow', { status: t('sla.achieved') }), f.sla.achieved, 'ok'),
      counted(t('charts.slaWindow', { status: t('sla.breached') }), f.sla.breached, 'danger'),
      counted(t('charts.slaNow', { status: t('sla.at_risk') }), f.sla.at_risk, 'warn'),
      counted(t('charts.slaNow', { status: t('reports.dashboard.overdue') }), f.sla.overdue, 'danger')
    ]),
    perDesk: barChart(f.perDesk.map((d) => counted(d.deskName, d.count)), { limit: CHART_BARS }),
    perAssignee: barChart(f.perAssignee.map((a) => counted(a.assigneeName ?? unassigned, a.count, a.assigneeId === null ? 'muted' : 'accent')), { limit: CHART_BARS }),
    csatPerDesk: barChart(csat.perDesk.map((d) => csatBar(d.name ?? '', d)), { max: 100, limit: CHART_BARS }),
    csatPerStaff: barChart(csat.perStaff.map((s) => csatBar(s.name ?? unassigned, s)), { max: 100, limit: CHART_BARS }),
    csatOverTime: lineChart(csat.overTime.map((p) => ({
      label: w.periodTick(p.period),
      value: p.csat === null ? null : p.csat * 100,
      detail: p.csat === null
        ? t('csat.gap', { period: w.periodRange(p.period) })
        : t('csat.point', { period: w.periodRange(p.period), csat: w.percent(p.csat), ratings: w.count(p.ratings), average: w.average(p.average) })
    })), { max: 100, ticks: [0, 25, 50, 75, 100].map((v) => ({ value: v, label: v % 50 === 0 ? w.percent(v / 100) : null })) })
  }
}
