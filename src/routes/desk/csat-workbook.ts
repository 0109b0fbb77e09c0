// The dashboard's satisfaction tables as a spreadsheet (three sheets: per desk, per staff member,
// over time), written in memory: a handful of rows per desk, person and period.
import ExcelJS from 'exceljs'
import type { CsatFigures, CsatRow } from '../../db/reports.js'
import type { ReportWords } from './report-charts.js'
import { cellText } from '../../domain/text.js'


const PERCENT = '0%'
const AVERAGE = '0.0'
const DATE = 'yyyy-mm-dd'

export async function csatWorkbook(csat: CsatFigures, w: ReportWords, now: Date): Promise<Buffer> {
  const { t } = w
  const workbook = new ExcelJS.Workbook()
  workbook.creator = t('app.name')
  workbook.created = now
  const figures = [
    { header: t('csat.col.ratings'), key: 'ratings', width: 12 },
    { header: t('csat.col.satisfied'), key: 'satisfied', width: 14 },
    { header: t('csat.col.csat'), key: 'csat', width: 10, style: { numFmt: PERCENT } },
    { header: t('csat.col.average'), key: 'average', width: 15, style: { numFmt: AVERAGE } }
  ]
  const sheet = (name: string, first: Partial<ExcelJS.Column>[]) => {
    const s = workbook.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] })
    s.columns = [...first, ...figures]
    s.getRow(1).font = { bold: true }
    return s
  }
  const people = (name: string, label: string, rows: CsatRow[], nobody: string) => {
    const s = sheet(name, [{ header: label, key: 'name', width: 30 }])
    for (const r of rows) s.addRow({ name: cellText(r.name ?? nobody) ?? '', ratings: r.ratings, satisfied: r.satisfied, csat: r.csat, average: r.average })
  }
  people(t('csat.sheet.perDesk'), t('ticket.desk'), csat.perDesk, '')
  people(t('csat.sheet.perStaff'), t('csat.col.staff'), csat.perStaff, t('ticket.unassigned'))

  const overTime = sheet(t('csat.sheet.overTime'), [
    { header: t('csat.col.from'), key: 'from', width: 12, style: { numFmt: DATE } },
    { header: t('csat.col.to'), key: 'to', width: 12, style: { numFmt: DATE } }
  ])
  // Every period, those without ratings too (0 ratings, the figures left empty): a gap, not a zero.
  for (const p of csat.overTime) {
    overTime.addRow({
      from: new Date(p.period.day), to: new Date(w.periodLastDay(p.period)),
      ratings: p.ratings, satisfied: p.satisfied, csat: p.csat, average: p.average
    })
  }
  return Buffer.from(await workbook.xlsx.writeBuffer())
}
