// Client accounts and their contacts, as an admin keeps them: adding and renaming accounts,
// adding contacts (invited to set a password), editing what a contact is and which accounts they
// belong to (a manager of an account sees all its tickets), turning a contact's account off and
// on. Nothing is deleted: tickets and history name them. Every change is audited.
import { insertContact } from '../db/people.js'
import { endSessionsOf } from '../db/sessions.js'
import {
  contactProfile, getAccount, insertAccount, knownAccounts, renameAccount, setClientAccountFlag, setContactActive,
  updateContactProfile, type Membership
} from '../db/client-admin.js'
import { nameTaken } from '../db/structure-admin.js'
import { LIMITS } from '../domain/ticket.js'
import type { Locale } from '../domain/permissions.js'
import { queueInvitation } from './account-links.js'
import { accountSwitched, type ClientInfo } from './sessions.js'
import { asAdmin, checkedEmail, checkLocale } from './admin-common.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

export const CLIENT_LIMITS = { accountName: 200, phone: 40 } as const
/** Digits, spaces and + ( ) - . / (the contact form and the CSV import). */
export const PHONE = /^[0-9+()./\- ]*$/

export async function addAccount(deps: Deps, who: Who, input: { name: string }): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const name = await checkedAccountName(uow, input.name, null)
    const id = await insertAccount(uow.trx, name, uow.at)
    await uow.audit({ entity: 'account', entityId: id, action: 'create', label: name, after: { name } })
    await uow.syncCrmRecord('account', id)
    return { id }
  })
}

/** Renames an account and, when `active` is given, turns it off or on (see setClientAccountActive). */
export async function editAccount(deps: Deps, who: Who, input: { accountId: number; name: string; active?: boolean }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await getAccount(uow.trx, input.accountId)
    if (!current) throw new Refused('not_found')
    const name = await checkedAccountName(uow, input.name, current.id)
    await renameAccount(uow.trx, current.id, name)
    const renamed = await uow.audit({ entity: 'account', entityId: current.id, action: 'update', label: name, before: { name: current.name }, after: { name } })
    if (current.name !== name) await uow.syncCrmRecord('account', current.id)
    // Turned off or on as the account's page does it, with the same audit row.
    const switched = input.active !== undefined && await switchAccountIn(uow, { ...current, name }, input.active)
    return { changed: renamed || switched }
  })
}

/** Turns the account off or on unless it already is; audited as 'disable' / 'enable'. */
async function switchAccountIn(uow: UnitOfWork, account: { id: number; name: string; active: number }, active: boolean): Promise<boolean> {
  if ((account.active === 1) === active) return false
  await setClientAccountFlag(uow.trx, account.id, active)
  await uow.audit({ entity: 'account', entityId: account.id, action: active ? 'enable' : 'disable', label: account.name, before: { active: !active }, after: { active } })
  return true
}

/**
 * Turns a client account off (its contract ended: its contacts keep reading their tickets and
 * open no new ones for it, by any channel; staff open none for it) or on again.
 */
export async function setClientAccountActive(deps: Deps, who: Who, input: { accountId: number; active: boolean }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await getAccount(uow.trx, input.accountId)
    if (!current) throw new Refused('not_found')
    return { changed: await switchAccountIn(uow, current, input.active) }
  })
}

async function checkedAccountName(uow: UnitOfWork, raw: string, accountId: number | null): Promise<string> {
  const check = new FieldCheck()
  const name = raw.trim()
  check.text('name', raw, CLIENT_LIMITS.accountName)
  if (!check.has('name') && await nameTaken(uow.trx, 'account', name, accountId)) check.add('name', 'taken')
  check.refuse()
  return name
}

export interface ContactFields {
  name: string
  email: string
  locale: string | null
  phone: string
  /** At least one: the accounts the contact opens tickets for, and where they are a manager. */
  memberships: Membership[]
}

async function checkedContact(uow: UnitOfWork, input: ContactFields, current: string | null) {
  const check = new FieldCheck()
  check.text('name', input.name, LIMITS.name)
  const email = await checkedEmail(uow, check, input.email, current)
  checkLocale(check, input.locale)
  check.text('phone', input.phone, CLIENT_LIMITS.phone, false)
  if (!check.has('phone') && !PHONE.test(input.phone.trim())) check.add('phone', 'invalid_choice')
  const byAccount = new Map<number, boolean>()
  for (const m of input.memberships) byAccount.set(m.accountId, (byAccount.get(m.accountId) ?? false) || m.manager)
  const memberships = [...byAccount].map(([accountId, manager]) => ({ accountId, manager })).sort((a, b) => a.accountId - b.accountId)
  const known = await knownAccounts(uow.trx, memberships.map((m) => m.accountId))
  if (memberships.length === 0) check.add('memberships', 'required')
  else if (memberships.some((m) => !known.has(m.accountId))) check.add('memberships', 'invalid_choice')
  check.refuse()
  const phone = input.phone.trim()
  return { name: input.name.trim(), email, locale: input.locale, phone: phone === '' ? null : phone, memberships }
}

/** Adds a contact to one or more accounts and mails them an invitation to set their password. */
export async function addContact(deps: Deps, who: Who, input: ContactFields): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const fields = await checkedContact(uow, input, null)
    const id = await insertContact(uow.trx, {
      name: fields.name, email: fields.email, passwordHash: null, locale: fields.locale as Locale | null, phone: fields.phone,
      accounts: fields.memberships.map((m) => ({ accountId: m.accountId, isManager: m.manager })), now: uow.at
    })
    await queueInvitation(uow, { kind: 'contact', id })
    await uow.audit({ entity: 'contact', entityId: id, action: 'create', label: fields.name, after: { ...fields } })
    await uow.syncCrmRecord('contact', id)
    return { id }
  })
}

export async function editContact(deps: Deps, who: Who, input: ContactFields & { contactId: number }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await contactProfile(uow.trx, input.contactId)
    if (!current) throw new Refused('not_found')
    // A contact merged into another is history: its person is the one kept.
    if (current.mergedIntoId !== null) throw new Refused('forbidden')
    const fields = await checkedContact(uow, input, current.email)
    await updateContactProfile(uow.trx, current.id, fields)
    const before = { name: current.name, email: current.email, locale: current.locale, phone: current.phone, memberships: current.memberships }
    const changed = await uow.audit({ entity: 'contact', entityId: current.id, action: 'update', label: fields.name, before, after: { ...fields } })
    if (changed) await uow.syncCrmRecord('contact', current.id)
    // A new address: sessions opened under the old one end.
    if (current.email !== fields.email) await endSessionsOf(uow.trx, { kind: 'contact', id: current.id }, uow.at, 'account_changed')
    return { changed }
  })
}

/** Turns a contact's login off (every session ended) or on again; their tickets stay as they are. */
export async function setContactMemberActive(deps: Deps, who: Who, input: { contactId: number; active: boolean; client?: ClientInfo }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const current = await contactProfile(uow.trx, input.contactId)
    if (!current) throw new Refused('not_found')
    if (current.mergedIntoId !== null) throw new Refused('forbidden')
    if (current.active === input.active) return { changed: false }
    await setContactActive(uow.trx, current.id, input.active)
    await accountSwitched(uow, { kind: 'contact', id: current.id }, input.active, input.client)
    await uow.audit({ entity: 'contact', entityId: current.id, action: input.active ? 'enable' : 'disable', label: current.name, before: { active: current.active }, after: { active: input.active } })
    return { changed: true }
  })
}
