// `casebridge desk|product|catalog|staff|calendar ...`: the organisation from the command line, through
// the same commands as the admin pages and the API (so the same rules, refusals and audit rows).
// The operator at the machine acts as OPERATOR (the system, recorded as the CLI).
import { parseArgs } from 'node:util'
import type { Db } from './db/index.js'
import { resolveNamed, staffIdByEmail } from './db/catalog.js'
import { deskProfile, listCatalogForAdmin, listDesksForAdmin, listProductsForAdmin } from './db/structure-admin.js'
import { addCatalogEntry, addDesk, addProduct, editDesk } from './commands/structure-admin.js'
import { OPERATOR, type Outcome, type Refused } from './commands/kernel.js'
import { listStaffForAdmin, staffProfile } from './db/staff-admin.js'
import { editStaffMember, setStaffMemberActive } from './commands/staff-admin.js'
import { calendarProfile, listCalendars } from './db/calendars.js'
import { addCalendar, editCalendar, weekHours, type CalendarFields } from './commands/service-hours.js'

export class AdminUsageError extends Error {
  override name = 'AdminUsageError'
}

export const ADMIN_USAGE = `  desk list                       desks with manager, members, products and business hours
  desk add --name N [--manager E] [--member E]... [--product P]... [--item I]... [--calendar C] [--auto-close-days D]
  desk set DESK [--name N] [--manager E|none] [--member E]... [--product P]... [--item I]... [--calendar C|none]
           [--auto-close-days D|none] [--email ADDRESS|none] [--inbound-default]
                                  add or change a desk (E: a staff e-mail; P, I, C: names or ids of products,
                                  catalog items, business hours; a list given replaces the desk's; --email: mail to
                                  it opens tickets here; --inbound-default: mail that names no desk comes here)
  product list                    products with code and whether they are active
  product add --name N [--code C] [--inactive]
  catalog list                    catalog areas and their items, with the ticket type of each item
  catalog add --name N [--area A] [--type incident|request]
                                  an area (without --area) or an item of area A
  staff list [--q TEXT]           staff with role, desks, open tickets and whether they are on
  staff set E [--name N] [--role staff|admin] [--desk D]... [--product P]... [--area A]... [--locale en|pt-BR|none]
           [--available yes|no] [--can-delete yes|no] [--rate CENTS] [--on | --off]
                                  change a staff member (E: their e-mail; a list given replaces theirs); add one with
                                  \`user add --role staff\`
  calendar list                   business hours: time zone, opening hours per day, holidays, desks using them
  calendar add --name N [--zone Z] [--day 1=09:00-18:00]... [--holiday "2027-12-25 Christmas"]...
  calendar set C [--name N] [--zone Z] [--day ...]... [--holiday ...]...
                                  business hours (C: name or id; days 1 Monday ... 7 Sunday, a day left out is closed;
                                  a list given replaces the calendar's)
`

type Print = (text: string) => void
const deps = (db: Db) => ({ db, clock: () => new Date(), random: Math.random })

/** Each refused field as `name: problem`, the way the API names them. */
function refusalText(refusal: Refused): string {
  const fields = Object.entries(refusal.fields)
  if (fields.length === 0) return `refused: ${refusal.code}`
  return fields.map(([field, f]) => `${field}: ${f.problem.replace(/_/g, ' ')}`).join('; ')
}

function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new AdminUsageError(refusalText(outcome.refusal))
  return outcome.value
}

function args<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true })
  } catch (err) {
    throw new AdminUsageError((err as Error).message)
  }
}

async function idOf(db: Db, table: 'desk' | 'product' | 'category' | 'business_calendar', ref: string, what: string): Promise<number> {
  const id = await resolveNamed(db, table, ref)
  if (id === undefined) throw new AdminUsageError(`${what} not found: ${ref}`)
  return id
}

async function staffOf(db: Db, email: string): Promise<number> {
  const id = await staffIdByEmail(db, email)
  if (id === undefined) throw new AdminUsageError(`no staff member with e-mail ${email}`)
  return id
}

const DESK_OPTIONS = {
  name: { type: 'string' }, manager: { type: 'string' }, member: { type: 'string', multiple: true }, product: { type: 'string', multiple: true },
  item: { type: 'string', multiple: true }, calendar: { type: 'string' }, 'auto-close-days': { type: 'string' },
  email: { type: 'string' }, 'inbound-default': { type: 'boolean' }
} as const

const STAFF_OPTIONS = {
  name: { type: 'string' }, role: { type: 'string' }, desk: { type: 'string', multiple: true }, product: { type: 'string', multiple: true }, area: { type: 'string', multiple: true },
  locale: { type: 'string' }, available: { type: 'string' }, 'can-delete': { type: 'string' }, rate: { type: 'string' }, on: { type: 'boolean' }, off: { type: 'boolean' }
} as const

const CALENDAR_OPTIONS = { name: { type: 'string' }, zone: { type: 'string' }, day: { type: 'string', multiple: true }, holiday: { type: 'string', multiple: true } } as const

function yesNo(text: string | undefined, option: string): boolean | undefined {
  if (text === undefined) return undefined
  if (text === 'yes' || text === 'no') return text === 'yes'
  throw new AdminUsageError(`--${option} takes yes or no`)
}

/** `--day 1=09:00-18:00` as the weekday's hours, as the pages write them. */
function weekOf(dayArgs: string[]): Partial<Record<string, string>> {
  const hours: Partial<Record<string, string>> = {}
  for (const arg of dayArgs) {
    const m = /^([1-7])=(.*)$/.exec(arg)
    if (!m) throw new AdminUsageError(`--day takes a weekday number and its hours, like 1=09:00-18:00 (got ${arg})`)
    hours[m[1]] = m[2]
  }
  return hours
}

/** `--holiday "2027-12-25 Christmas"` as a holiday. */
function holidayOf(arg: string): { day: string; name: string } {
  const m = /^(\S+)\s*(.*)$/.exec(arg.trim())
  return { day: m?.[1] ?? '', name: m?.[2] ?? '' }
}

function days(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined
  if (text === 'none') return null
  if (!/^\d{1,4}$/.test(text)) throw new AdminUsageError('--auto-close-days must be a whole number of days (or none)')
  return Number(text)
}

export async function runAdminCli(argv: string[], db: Db, out: Print): Promise<boolean> {
  const [command, sub, ...rest] = argv
  if (command === 'desk' && sub === 'list') {
    for (const d of await listDesksForAdmin(db)) {
      out(`${d.id}\t${d.name}\tmanager: ${d.manager_name ?? '-'}\tmembers: ${d.members.join(', ') || '-'}\tproducts: ${d.products.join(', ') || '-'}\thours: ${d.calendar_name ?? 'around the clock'}\tauto-close: ${d.auto_close_days ?? 'setting'}\tmail: ${d.email_alias ?? '-'}${d.inbound_default ? ' (default)' : ''}`)
    }
    return true
  }
  if (command === 'desk' && (sub === 'add' || sub === 'set')) {
    const { values, positionals } = args(rest, DESK_OPTIONS)
    const current = sub === 'set' ? await deskProfile(db, await idOf(db, 'desk', positionals[0] ?? '', 'desk')) : undefined
    if (sub === 'set' && positionals.length !== 1) throw new AdminUsageError('desk set needs the desk (name or id) first')
    const ids = async (refs: string[] | undefined, table: 'product' | 'category', what: string, kept: number[]) =>
      refs === undefined ? kept : Promise.all(refs.map((r) => idOf(db, table, r, what)))
    const fields = {
      name: values.name ?? current?.name ?? '',
      managerId: values.manager === undefined ? current?.managerId ?? null : values.manager === 'none' ? null : await staffOf(db, values.manager),
      memberIds: values.member === undefined ? current?.memberIds ?? [] : await Promise.all(values.member.map((e) => staffOf(db, e))),
      productIds: await ids(values.product, 'product', 'product', current?.productIds ?? []),
      categoryIds: await ids(values.item, 'category', 'catalog item', current?.categoryIds ?? []),
      calendarId: values.calendar === undefined ? current?.calendarId ?? null : values.calendar === 'none' ? null : await idOf(db, 'business_calendar', values.calendar, 'business hours'),
      autoCloseDays: days(values['auto-close-days']) === undefined ? current?.autoCloseDays ?? null : days(values['auto-close-days'])!,
      emailAlias: values.email === undefined ? undefined : values.email === 'none' ? null : values.email,
      inboundDefault: values['inbound-default'] ? true : undefined
    }
    if (current) {
      const { changed } = valueOf(await editDesk(deps(db), OPERATOR, { ...fields, deskId: current.id }))
      out(changed ? `desk ${fields.name} changed` : `desk ${fields.name}: nothing to change`)
    } else {
      const { id } = valueOf(await addDesk(deps(db), OPERATOR, fields))
      out(`added desk ${fields.name} (#${id})`)
    }
    return true
  }
  if (command === 'product' && sub === 'list') {
    for (const p of await listProductsForAdmin(db)) out(`${p.id}\t${p.name}\t${p.code ?? '-'}\t${p.active ? 'active' : 'off'}`)
    return true
  }
  if (command === 'product' && sub === 'add') {
    const { values } = args(rest, { name: { type: 'string' }, code: { type: 'string' }, inactive: { type: 'boolean' } })
    const { id } = valueOf(await addProduct(deps(db), OPERATOR, { name: values.name ?? '', code: values.code ?? '', active: !values.inactive }))
    out(`added product ${values.name} (#${id})`)
    return true
  }
  if (command === 'catalog' && sub === 'list') {
    for (const area of await listCatalogForAdmin(db)) {
      out(`${area.id}\t${area.name}${area.active ? '' : ' (off)'}`)
      for (const i of area.items) out(`${i.id}\t  ${area.name} › ${i.name}\t${i.ticket_type}${i.active ? '' : ' (off)'}`)
    }
    return true
  }
  if (command === 'staff' && sub === 'list') {
    const { values } = args(rest, { q: { type: 'string' } })
    for (const s of await listStaffForAdmin(db, values.q ?? '')) {
      out(`${s.id}\t${s.name}\t${s.email}\t${s.role}\t${s.active ? 'on' : 'off'}${s.available ? '' : ' (away)'}\tdesks: ${s.desks.join(', ') || '-'}\topen: ${s.open_tickets}`)
    }
    return true
  }
  if (command === 'staff' && sub === 'set') {
    const { values, positionals } = args(rest, STAFF_OPTIONS)
    if (positionals.length !== 1) throw new AdminUsageError('staff set needs the staff member\'s e-mail first')
    const current = await staffProfile(db, await staffOf(db, positionals[0]))
    if (!current) throw new AdminUsageError(`no staff member with e-mail ${positionals[0]}`)
    if (values.on && values.off) throw new AdminUsageError('--on or --off, not both')
    const rate = values.rate === undefined ? current.hourlyRateCents : /^\d{1,9}$/.test(values.rate) ? Number(values.rate) : NaN
    if (Number.isNaN(rate)) throw new AdminUsageError('--rate takes a whole number of cents')
    const { changed } = valueOf(await editStaffMember(deps(db), OPERATOR, {
      staffId: current.id, name: values.name ?? current.name, email: current.email,
      locale: values.locale === undefined ? current.locale : values.locale === 'none' ? null : values.locale,
      role: values.role ?? current.role, canDelete: yesNo(values['can-delete'], 'can-delete') ?? current.canDelete, hourlyRateCents: rate,
      available: yesNo(values.available, 'available') ?? current.available,
      deskIds: values.desk === undefined ? current.deskIds : await Promise.all(values.desk.map((d) => idOf(db, 'desk', d, 'desk'))),
      productIds: values.product === undefined ? current.productIds : await Promise.all(values.product.map((p) => idOf(db, 'product', p, 'product'))),
      areaIds: values.area === undefined ? current.areaIds : await Promise.all(values.area.map((a) => idOf(db, 'category', a, 'catalog area')))
    }))
    let switched = false
    if (values.on || values.off) {
      const result = valueOf(await setStaffMemberActive(deps(db), OPERATOR, { staffId: current.id, active: Boolean(values.on) }))
      switched = result.changed
      if (values.off && result.openTickets > 0) out(`${current.email} has ${result.openTickets} open ticket(s) to reassign`)
    }
    out(changed || switched ? `staff ${current.email} changed` : `staff ${current.email}: nothing to change`)
    return true
  }
  if (command === 'calendar' && sub === 'list') {
    for (const c of await listCalendars(db)) {
      const week = Object.entries(weekHours(c.week)).map(([d, hours]) => `${d}=${hours || 'closed'}`).join(' ')
      out(`${c.id}\t${c.name}\t${c.timeZone}\t${week}\tholidays: ${c.holidays}\tdesks: ${c.desks.join(', ') || '-'}`)
    }
    return true
  }
  if (command === 'calendar' && (sub === 'add' || sub === 'set')) {
    const { values, positionals } = args(rest, CALENDAR_OPTIONS)
    const current = sub === 'set' ? await calendarProfile(db, await idOf(db, 'business_calendar', positionals[0] ?? '', 'business hours')) : undefined
    if (sub === 'set' && positionals.length !== 1) throw new AdminUsageError('calendar set needs the business hours (name or id) first')
    const fields: CalendarFields = {
      name: values.name ?? current?.name ?? '',
      timeZone: values.zone ?? current?.timeZone ?? 'UTC',
      hours: values.day === undefined
        ? weekHours(current?.week)
        : weekOf(values.day),
      holidays: values.holiday === undefined ? current?.holidays ?? [] : values.holiday.map(holidayOf)
    }
    if (current) {
      const { changed } = valueOf(await editCalendar(deps(db), OPERATOR, { ...fields, calendarId: current.id }))
      out(changed ? `business hours ${fields.name} changed` : `business hours ${fields.name}: nothing to change`)
    } else {
      const { id } = valueOf(await addCalendar(deps(db), OPERATOR, fields))
      out(`added business hours ${fields.name} (#${id})`)
    }
    return true
  }
  if (command === 'catalog' && sub === 'add') {
    const { values } = args(rest, { name: { type: 'string' }, area: { type: 'string' }, type: { type: 'string' } })
    const areaId = values.area === undefined ? null : await idOf(db, 'category', values.area, 'catalog area')
    const { id } = valueOf(await addCatalogEntry(deps(db), OPERATOR, { areaId, name: values.name ?? '', ticketType: values.type ?? 'incident', active: true }))
    out(`added catalog ${areaId === null ? 'area' : 'item'} ${values.name} (#${id})`)
    return true
  }
  return false
}
