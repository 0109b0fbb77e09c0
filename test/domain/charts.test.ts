import t from 'tap'
import { barChart, CHART_WIDTH, fitLabel, lineChart, TONES } from '../../src/domain/charts.js'
import { csatOf, periodKind, windowPeriods, WEEKLY_UP_TO_DAYS } from '../../src/domain/csat.js'

/** WCAG contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl
  }
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi + 0.05) / (lo + 0.05)
}

t.test('every tone reads on white: 4.5:1 for text, so more than 3:1 for bars', async (t) => {
  for (const [name, hex] of Object.entries(TONES)) t.ok(contrast(hex, '#ffffff') >= 4.5, `${name} ${hex}: ${contrast(hex, '#ffffff').toFixed(2)}:1`)
  t.ok(contrast('#1d2330', '#ffffff') >= 4.5, 'the labels\' ink')
})

t.test('bars: the largest fills the room left for values, the others in proportion', async (t) => {
  const c = barChart([
    { label: 'Open', value: 10, shown: '10' },
    { label: 'In progress', value: 5, shown: '5', tone: 'violet' },
    { label: 'On hold', value: 0, shown: '0', tone: 'warn' }
  ])
  t.equal(c.width, CHART_WIDTH)
  t.same(c.bars.map((b) => b.barWidth), [256, 128, 0], 'one bar\'s value beside it always fits: 320 - 64')
  t.same(c.bars.map((b) => b.fill), [TONES.accent, TONES.violet, TONES.warn])
  t.same(c.bars.map((b) => b.valueX), [262, 134, 6], 'the value just past the bar\'s end')
  t.ok(c.bars.every((b, i) => i === 0 || b.labelY > c.bars[i - 1].barY + c.bars[i - 1].barHeight), 'each label below the bar before it')
  t.equal(c.height, 4 + 3 * 38 + 2, 'as tall as its rows')
  t.equal(c.bars[1].detail, 'In progress: 5', 'a tooltip by default')
})

t.test('bars on a fixed scale, tiny and odd values, a cap on how many', async (t) => {
  const pct = barChart([{ label: 'A', value: 50, shown: '50%' }, { label: 'B', value: 0.1, shown: '0%' }, { label: 'C', value: 150, shown: '150%' }], { max: 100 })
  t.same(pct.bars.map((b) => b.barWidth), [128, 2, 256], 'half of the scale is half the width; not nothing stays visible; past the scale is capped')
  const odd = barChart([{ label: 'NaN', value: Number.NaN, shown: '?' }, { label: 'neg', value: -3, shown: '-3' }])
  t.same(odd.bars.map((b) => b.barWidth), [0, 0], 'no bar for what is not a positive number')
  t.equal(barChart([]).height, 4 + 38 + 2, 'an empty chart keeps a row\'s height')
  const many = barChart(Array.from({ length: 30 }, (_, i) => ({ label: `Desk ${i}`, value: 30 - i, shown: String(30 - i) })), { limit: 25 })
  t.equal(many.bars.length, 25)
  t.equal(many.omitted, 5, 'the table lists the rest')
})

t.test('labels are cut to their line, whole characters, whitespace folded', async (t) => {
  t.equal(fitLabel('Service Desk'), 'Service Desk')
  t.equal(fitLabel('  two\n lines  '), 'two lines')
  const long = fitLabel('x'.repeat(100))
  t.equal([...long].length, 39)
  t.ok(long.endsWith('…'))
  t.equal(fitLabel('😀'.repeat(50), 10), `${'😀'.repeat(9)}…`, 'never half of a character')
  t.equal(fitLabel('<script>alert(1)</script>'), '<script>alert(1)</script>', 'kept as written: the templates escape it')
})

t.test('a line over periods: gaps where there is no data, never zeros', async (t) => {
  const points = [
    { label: 'W1', value: null, detail: 'W1: none' },
    { label: 'W2', value: 50, detail: 'W2' },
    { label: 'W3', value: null, detail: 'W3: none' },
    { label: 'W4', value: 0, detail: 'W4' },
    { label: 'W5', value: 100, detail: 'W5' }
  ]
  const c = lineChart(points, { max: 100, ticks: [{ value: 0, label: '0%' }, { value: 50, label: null }, { value: 100, label: '100%' }] })
  t.equal(c.points.length, 3, 'a point per period with data, zero included')
  t.same(c.gaps.map((g) => g.detail), ['W1: none', 'W3: none'])
  t.equal(c.paths.length, 1, 'only W4–W5 are joined: W2 stands alone between two gaps')
  const [w2, w4, w5] = c.points
  t.equal(c.paths[0], `M${w4.cx} ${w4.cy} L${w5.cx} ${w5.cy}`)
  t.equal(w4.cy, c.plot.bottom, '0% on the axis')
  t.equal(w5.cy, c.plot.top, '100% at the top')
  t.equal(w2.cy, (c.plot.top + c.plot.bottom) / 2)
  t.same(c.grid.map((g) => g.label), ['0%', null, '100%'])
  t.ok(c.points.every((p, i) => i === 0 || p.cx > c.points[i - 1].cx), 'left to right, oldest first')
  t.ok(c.points.every((p) => p.cx > c.plot.left && p.cx < c.plot.right))
})

t.test('axis labels: as many as fit, never past the edges', async (t) => {
  const many = Array.from({ length: 14 }, (_, i) => ({ label: `Week ${i + 1} of 2026`, value: 50, detail: '' }))
  const c = lineChart(many, { max: 100, ticks: [] })
  t.ok(c.xLabels.length < 14 && c.xLabels.length >= 2, `${c.xLabels.length} of 14 labels`)
  t.equal(c.xLabels[0].label, 'Week 1 of 2026', 'the first always')
  for (let i = 1; i < c.xLabels.length; i++) t.ok(c.xLabels[i].x - c.xLabels[i - 1].x >= 'Week 10 of 2026'.length * 11 * 0.6, 'no two overlap')
  const half = ('Week 14 of 2026'.length * 11 * 0.6) / 2
  t.ok(c.xLabels.every((l) => l.x - half >= -0.1 && l.x + half <= CHART_WIDTH + 0.1), 'inside the drawing')
  t.equal(lineChart([{ label: 'Mar 2', value: 80, detail: '' }], { max: 100, ticks: [] }).paths.length, 0, 'one point is a dot, not a line')
})

t.test('periods: weeks from Monday for windows up to 92 days, months beyond; the first from the window\'s first day', async (t) => {
  t.equal(periodKind(WEEKLY_UP_TO_DAYS), 'week')
  t.equal(periodKind(WEEKLY_UP_TO_DAYS + 1), 'month')
  const now = new Date('2026-03-25T12:00:00.000Z') // a Wednesday
  const weeks = windowPeriods('2026-02-24T00:00:00.000Z', now, 29)
  t.same(weeks.map((p) => [p.day, p.end.slice(0, 10)]), [
    ['2026-02-24', '2026-03-02'], ['2026-03-02', '2026-03-09'], ['2026-03-09', '2026-03-16'], ['2026-03-16', '2026-03-23'], ['2026-03-23', '2026-03-30']
  ], 'Tuesday to Sunday first, then whole weeks, the running one last')
  t.equal(weeks[0].start, '2026-02-24T00:00:00.000Z')
  const months = windowPeriods('2025-11-25T00:00:00.000Z', now, 120)
  t.same(months.map((p) => p.day), ['2025-11-25', '2025-12-01', '2026-01-01', '2026-02-01', '2026-03-01'], 'across a new year')
  t.same(months.map((p) => p.kind), ['month', 'month', 'month', 'month', 'month'])
  t.equal(windowPeriods('2026-03-25T00:00:00.000Z', now, 1).length, 1, 'a one-day window is one period')
  const year = windowPeriods('2025-03-25T00:00:00.000Z', now, 365)
  t.equal(year.length, 13)
  for (let i = 1; i < year.length; i++) t.equal(year[i].start, year[i - 1].end, 'each period starts where the last ended')
  t.ok(year[0].start === '2025-03-25T00:00:00.000Z' && year[year.length - 1].end > now.toISOString(), 'together they cover the window, now included')
})

t.test('CSAT: the share rated 4 or 5, the average, nothing without ratings', async (t) => {
  t.same(csatOf({ ratings: 7, satisfied: 4, sum: 24 }), { ratings: 7, satisfied: 4, sum: 24, csat: 4 / 7, average: 24 / 7 })
  t.same(csatOf({ ratings: 0, satisfied: 0, sum: 0 }), { ratings: 0, satisfied: 0, sum: 0, csat: null, average: null })
  t.equal(csatOf({ ratings: 1, satisfied: 0, sum: 1 }).csat, 0, 'no 4 or 5 is 0%, not nothing')
})
