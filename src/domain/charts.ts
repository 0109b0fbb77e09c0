// Chart geometry for server-rendered SVG (views/partials/chart-bars.eta, chart-line.eta): no
// script in the browser, the figures stay in a table beside each chart. Pure: positions in
// viewBox units, words already translated and formatted by the caller; the templates escape them.
//
// The drawing is 320 units wide and the SVG is as wide as its box, so on a 375 px phone it is
// drawn at about its own size (text about 11 px) and on a wide screen it grows with the box.

export const CHART_WIDTH = 320

/** Colours with at least 4.5:1 against white (so at least 3:1 for bars), the page's own palette. */
export const TONES = {
  accent: '#1f5fbf',
  ok: '#1e7d34',
  danger: '#b3261e',
  warn: '#9a6700',
  violet: '#6d28d9',
  muted: '#5b6475'
} as const
export type Tone = keyof typeof TONES

export const INK = '#1d2330'
export const MUTED_INK = TONES.muted
export const GRID = '#d9dee8'

export interface BarInput {
  label: string
  value: number
  /** The value as the chart writes it beside the bar ("12", "80%"). */
  shown: string
  /** A longer description for the bar's tooltip; the label and `shown` when absent. */
  detail?: string
  tone?: Tone
}

export interface Bar {
  label: string
  detail: string
  shown: string
  fill: string
  tone: Tone
  labelY: number
  barY: number
  barHeight: number
  barWidth: number
  valueX: number
  valueY: number
}

export interface BarChart {
  kind: 'bars'
  width: number
  height: number
  bars: Bar[]
  /** The axis the bars grow from. */
  axis: { x: number; y1: number; y2: number }
  /** Bars left out (beyond `limit`); the table lists them. */
  omitted: number
}

const ROW = 38
const TOP = 4
const BAR_HEIGHT = 14
/** Room kept right of the longest bar for its value. */
const VALUE_ROOM = 64
const LABEL_FONT = 13
/** Characters of a label the width holds at LABEL_FONT (a generous average glyph width). */
const LABEL_CHARS = Math.floor(CHART_WIDTH / (LABEL_FONT * 0.62))

/** A label cut to what fits on its line, whole characters (not halves of a surrogate pair). */
export function fitLabel(label: string, chars: number = LABEL_CHARS): string {
  const glyphs = [...label.replace(/\s+/g, ' ').trim()]
  return glyphs.length <= chars ? glyphs.join('') : `${glyphs.slice(0, chars - 1).join('').trimEnd()}…`
}

/**
 * Horizontal bars, one per row: the label on its own line (the full width, so long desk and staff
 * names fit a phone), the bar under it and the value at its end. `max` fixes the scale (100 for
 * percentages); otherwise the largest value fills the width. At most `limit` bars are drawn.
 */
export function barChart(input: BarInput[], opts: { max?: number; limit?: number } = {}): BarChart {
  const shown = opts.limit !== undefined ? input.slice(0, opts.limit) : input
  const largest = Math.max(0, ...shown.map((b) => (Number.isFinite(b.value) ? b.value : 0)))
  const max = opts.max ?? largest
  const room = CHART_WIDTH - VALUE_ROOM
  const bars = shown.map((b, i): Bar => {
    const value = Number.isFinite(b.value) && b.value > 0 ? Math.min(b.value, max) : 0
    // A bar that is not nothing stays visible, however small beside the largest.
    const width = max > 0 && value > 0 ? Math.max(2, (value / max) * room) : 0
    const top = TOP + i * ROW
    const tone = b.tone ?? 'accent'
    return {
      label: fitLabel(b.label), detail: b.detail ?? `${b.label}: ${b.shown}`, shown: b.shown, tone, fill: TONES[tone],
      labelY: top + LABEL_FONT, barY: top + 18, barHeight: BAR_HEIGHT, barWidth: round(width),
      valueX: round(width + 6), valueY: top + 18 + BAR_HEIGHT - 2
    }
  })
  const height = TOP + Math.max(1, bars.length) * ROW + 2
  return { kind: 'bars', width: CHART_WIDTH, height, bars, axis: { x: 0.5, y1: TOP + 16, y2: height - 4 }, omitted: input.length - shown.length }
}

export interface LinePointInput {
  /** The period's short name under the axis ("3 Mar", "Mar 2026"). */
  label: string
  /** 0..max, or null for a period without data: a gap in the line, not a zero. */
  value: number | null
  detail: string
}

export interface LineChart {
  kind: 'line'
  width: number
  height: number
  plot: { left: number; right: number; top: number; bottom: number }
  grid: { y: number; label: string | null }[]
  /** SVG path data of each run of periods with data ("M x y L x y ..."). */
  paths: string[]
  points: { cx: number; cy: number; detail: string }[]
  /** The periods without data, marked on the axis so a gap reads as "none". */
  gaps: { x: number; detail: string }[]
  xLabels: { x: number; label: string }[]
}

const PLOT = { left: 40, right: CHART_WIDTH - 8, top: 10, bottom: 142 }
const AXIS_FONT = 11

/**
 * A line over periods on a fixed scale 0..max (100 for percentages): one point per period with
 * data, joined to the next one only when that one has data too, so a period without data is a gap.
 * `ticks` are the gridlines' values with their labels.
 */
export function lineChart(input: LinePointInput[], opts: { max: number; ticks: { value: number; label: string | null }[] }): LineChart {
  const { left, right, top, bottom } = PLOT
  const slot = input.length > 0 ? (right - left) / input.length : right - left
  const xOf = (i: number) => round(left + (i + 0.5) * slot)
  const yOf = (v: number) => round(bottom - (Math.min(Math.max(v, 0), opts.max) / opts.max) * (bottom - top))
  const points: LineChart['points'] = []
  const gaps: LineChart['gaps'] = []
  const paths: string[] = []
  let run: string[] = []
  input.forEach((p, i) => {
    if (p.value === null || !Number.isFinite(p.value)) {
      gaps.push({ x: xOf(i), detail: p.detail })
      if (run.length > 1) paths.push(run.join(' '))
      run = []
      return
    }
    const cx = xOf(i)
    const cy = yOf(p.value)
    points.push({ cx, cy, detail: p.detail })
    run.push(`${run.length === 0 ? 'M' : 'L'}${cx} ${cy}`)
  })
  if (run.length > 1) paths.push(run.join(' '))
  // As many labels as fit side by side, evenly taken, the first always among them.
  const longest = Math.max(1, ...input.map((p) => [...p.label].length))
  const step = Math.max(1, Math.ceil((longest * AXIS_FONT * 0.6 + 8) / slot))
  // Centred under its point, but never past either edge of the drawing.
  const half = (label: string) => ([...label].length * AXIS_FONT * 0.6) / 2
  const xLabels = input.flatMap((p, i) => (i % step === 0
    ? [{ x: round(Math.min(Math.max(xOf(i), half(p.label)), CHART_WIDTH - half(p.label))), label: p.label }]
    : []))
  return {
    kind: 'line', width: CHART_WIDTH, height: bottom + 26, plot: PLOT,
    grid: opts.ticks.map((t) => ({ y: yOf(t.value), label: t.label })),
    paths, points, gaps, xLabels
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
