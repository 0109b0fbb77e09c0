// Importing client contacts (and, when asked, their accounts) from a CSV file: first a preview that
// lists every row's problems and writes nothing, then the import, which checks everything again in
// its one transaction and writes every row or none.
//
// Columns (a header row, any order, any case): account, name, email; optional language (en,
// pt-BR), phone, manager (yes/no, true/false, 1/0, sim/não). One row per contact and account; a
// contact in two accounts is two rows with the same e-mail.
import { parse } from 'csv-parse/sync'
import { insertContact } from '../db/people.js'
import { accountsByName, existingEmails, insertAccount } from '../db/client-admin.js'
import type { Locale } from '../domain/permissions.js'
import { LIMITS } from '../domain/ticket.js'
import { hasForbiddenControl } from '../domain/text.js'
import { LOCALES } from '../i18n/index.js'
import { queueInvitation } from './account-links.js'
import { asAdmin } from './admin-common.js'
import { CLIENT_LIMITS, PHONE } from './client-admin.js'
import { EMAIL } from './people.js'
import { Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

export const IMPORT_MAX_ROWS = 5_000
const COLUMNS = ['account', 'name', 'email', 'language', 'phone', 'manager'] as const
const REQUIRED = ['account', 'name', 'email'] as const
const YES = new Set(['yes', 'y', 'true', '1', 'sim', 's', 'x'])
const NO = new Set(['', 'no', 'n', 'false', '0', 'não', 'nao'])

export type ImportProblem =
  | 'unreadable' | 'no_rows' | 'too_many_rows' | 'missing_column' | 'unknown_column'
  | 'required' | 'too_long' | 'invalid_characters' | 'invalid_email' | 'invalid_choice'
  | 'unknown_account' | 'duplicate_row' | 'taken'

export interface RowProblem {
  /** The line in the file (the header is line 1); 0 for the file as a whole. */
  line: number
  /** The column, or '' for the row or the file. */
  column: string
  problem: ImportProblem
  params?: Record<string, string | number>
}

export interface ImportRow {
  line: number
  account: string
  name: string
  email: string
  locale: Locale | null
  phone: string | null
  manager: boolean
  /** The account exists already (false: it would be created). */
  accountExists: boolean
}

export interface ImportPreview {
  rows: ImportRow[]
  problems: RowProblem[]
  /** Contacts the import would add (rows with the same e-mail are one contact in several accounts). */
  contacts: number
  /** Accounts it would create (only with createAccounts). */
  newAccounts: string[]
}

interface ImportInput {
  csv: string
  /** Create the accounts the file names that do not exist yet (otherwise: an unknown account is a problem). */
  createAccounts: boolean
}

/** Reads and checks the file against the database as it is now; writes nothing. */
async function check(uow: UnitOfWork, input: ImportInput): Promise<ImportPreview> {
  const problems: RowProblem[] = []
  let records: string[][]
  try {
    records = parse(input.csv, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][]
  } catch (err) {
    return { rows: [], problems: [{ line: Number((err as { lines?: number }).lines ?? 0), column: '', problem: 'unreadable' }], contacts: 0, newAccounts: [] }
  }
  if (records.length < 2) return { rows: [], problems: [{ line: 0, column: '', problem: 'no_rows' }], contacts: 0, newAccounts: [] }
  if (records.length - 1 > IMPORT_MAX_ROWS) return { rows: [], problems: [{ line: 0, column: '', problem: 'too_many_rows', params: { max: IMPORT_MAX_ROWS } }], contacts: 0, newAccounts: [] }
  const header = records[0].map((h) => h.trim().toLowerCase())
  for (const [i, h] of header.entries()) if (!(COLUMNS as readonly string[]).includes(h)) problems.push({ line: 1, column: records[0][i], problem: 'unknown_column' })
  for (const c of REQUIRED) if (!header.includes(c)) problems.push({ line: 1, column: c, problem: 'missing_column' })
  if (problems.length > 0) return { rows: [], problems, contacts: 0, newAccounts: [] }
  const at = (record: string[], column: string) => {
    const i = header.indexOf(column)
    return i < 0 ? '' : (record[i] ?? '').trim()
  }

  const names = [...new Set(records.slice(1).map((r) => at(r, 'account')).filter(Boolean))]
  const accounts = await accountsByName(uow.trx, names)
  const emails = records.slice(1).map((r) => at(r, 'email').toLowerCase()).filter((e) => EMAIL.test(e))
  const taken = await existingEmails(uow.trx, [...new Set(emails)])
  const rows: ImportRow[] = []
  const seen = new Map<string, number>()
  const byEmail = new Map<string, string>()
  for (const [i, record] of records.slice(1).entries()) {
    const line = i + 2
    const row = (column: string, problem: ImportProblem, params?: Record<string, string | number>) => problems.push({ line, column, problem, ...(params ? { params } : {}) })
    const text = (column: string, max: number, required: boolean): string => {
      const value = at(record, column)
      if (hasForbiddenControl(value)) row(column, 'invalid_characters')
      else if (required && value === '') row(column, 'required')
      else if (value.length > max) row(column, 'too_long', { max })
      return value
    }
    const account = text('account', CLIENT_LIMITS.accountName, true)
    const name = text('name', LIMITS.name, true)
    const rawEmail = text('email', 254, true)
    const email = rawEmail.toLowerCase()
    if (rawEmail !== '' && !EMAIL.test(email)) row('email', 'invalid_email')
    else if (taken.has(email)) row('email', 'taken')
    const language = at(record, 'language')
    const locale = LOCALES.find((l) => l.toLowerCase() === language.toLowerCase()) ?? null
    if (language !== '' && !locale) row('language', 'invalid_choice')
    const phone = text('phone', CLIENT_LIMITS.phone, false)
    if (!PHONE.test(phone)) row('phone', 'invalid_choice')
    const managerText = at(record, 'manager').toLowerCase()
    if (!YES.has(managerText) && !NO.has(managerText)) row('manager', 'invalid_choice')
    const accountExists = accounts.has(account.toLowerCase())
    if (account !== '' && !accountExists && !input.createAccounts) row('account', 'unknown_account')
    const key = `${email}\n${account.toLowerCase()}`
    if (email !== '' && account !== '' && seen.has(key)) row('', 'duplicate_row', { line: seen.get(key)! })
    else seen.set(key, line)
    // One person, one name: the same address under two names is a mistake in the file.
    if (email !== '' && byEmail.has(email) && byEmail.get(email) !== name) row('name', 'invalid_choice')
    else byEmail.set(email, name)
    rows.push({ line, account, name, email, locale, phone: phone === '' ? null : phone, manager: YES.has(managerText), accountExists })
  }
  const newAccounts = input.createAccounts
    ? [...new Map(rows.filter((r) => !r.accountExists && r.account !== '').map((r) => [r.account.toLowerCase(), r.account])).values()]
    : []
  return { rows, problems, contacts: new Set(rows.map((r) => r.email)).size, newAccounts }
}

/** What the import would do and every problem of every row; nothing is written. */
export async function previewContactImport(deps: Deps, who: Who, input: ImportInput): Promise<Outcome<ImportPreview>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    return check(uow, input)
  })
}

/**
 * Imports every row, or none: the file is checked again inside the transaction (another admin may
 * have added someone meanwhile), and any problem refuses the whole import. Each new contact is
 * invited to set a password; every account and contact added is in the audit log.
 */
export async function importContacts(deps: Deps, who: Who, input: ImportInput): Promise<Outcome<{ contacts: number; accounts: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const preview = await check(uow, input)
    if (preview.problems.length > 0) throw new Refused('invalid', { fields: { file: { problem: 'invalid_choice', params: { problems: preview.problems.length } } } })
    const accountIds = await accountsByName(uow.trx, [...new Set(preview.rows.map((r) => r.account))])
    for (const name of preview.newAccounts) {
      const id = await insertAccount(uow.trx, name, uow.at)
      accountIds.set(name.toLowerCase(), id)
      await uow.audit({ entity: 'account', entityId: id, action: 'import', label: name, after: { name } })
      await uow.syncCrmRecord('account', id)
    }
    const people = new Map<string, ImportRow[]>()
    for (const row of preview.rows) people.set(row.email, [...(people.get(row.email) ?? []), row])
    for (const [email, rows] of people) {
      const first = rows[0]
      const memberships = rows.map((r) => ({ accountId: accountIds.get(r.account.toLowerCase())!, isManager: r.manager }))
      const id = await insertContact(uow.trx, { name: first.name, email, passwordHash: null, locale: first.locale, phone: first.phone, accounts: memberships, now: uow.at })
      await queueInvitation(uow, { kind: 'contact', id })
      await uow.syncCrmRecord('contact', id)
      await uow.audit({
        entity: 'contact', entityId: id, action: 'import', label: first.name,
        after: { name: first.name, email, locale: first.locale, phone: first.phone, memberships: memberships.map((m) => ({ accountId: m.accountId, manager: m.isManager })) }
      })
    }
    return { contacts: people.size, accounts: preview.newAccounts.length }
  })
}
