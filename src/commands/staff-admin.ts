// Staff administration (the admin pages, and the CLI where it adds people): adding a staff member
// with an invitation to set their password, editing what they are and serve, turning an account
// off and on. Every change writes an audit row with each field before and after.
import { ticketsWithCaseOf } from '../db/crm-reference.js'
import { insertStaff } from '../db/people.js'
import { activeStaffExists } from '../db/ticket.js'
import { endSessionsOf } from '../db/sessions.js'
import {
  crmUserTaken, knownDesksAndProducts, otherActiveAdmins, setStaffActive, staffProfile, updateStaffProfile, type StaffProfile
} from '../db/staff-admin.js'
import type { StaffRole } from '../db/schema.js'
import { LIMITS } from '../domain/ticket.js'
import { queueInvitation } from './account-links.js'
import { accountSwitched, type ClientInfo } from './sessions.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { asAdmin, checkedEmail, checkLocale, sortedIds } from './admin-common.js'

export const STAFF_ROLES: readonly StaffRole[] = ['staff', 'admin']
/** Hourly rates are whole cents up to 100,000.00. */
export const HOURLY_RATE_CENTS = { min: 0, max: 10_000_000 } as const

/** What an admin sets on a staff member (the same on the add and the edit form). */
export interface StaffFields {
  name: string
  email: string
  /** null: the browser's language. */
  locale: string | null
  role: string
  canDelete: boolean
  hourlyRateCents: number | null
  available: boolean
  deskIds: number[]
  /** None: every product of their desks. */
  productIds: number[]
  /**
   * Their CRM User's id (the Cases they are assigned carry it as OwnerId); null: none. Left out:
   * kept as it is. The reference import links users by e-mail; this is for when the e-mails differ.
   */
  crmUserId?: string | null
  /** Their team lead (an active staff member, not themselves); left out: kept (none for someone new). */
  managerId?: number | null
  /** Works every desk's tickets without being an admin; left out: kept (no for someone new). */
  allDesks?: boolean
  /** The service catalog areas they serve (none: every area); left out: kept (none for someone new). */
  areaIds?: number[]
}

/** A Salesforce User id: 005 and 12 or 15 more letters and digits. */
const CRM_USER_ID = /^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/

/** Checks every field at once; the values as they will be stored. */
async function checked(uow: UnitOfWork, input: StaffFields, staffId: number | null): Promise<Omit<StaffProfile, 'id' | 'active' | 'openTickets'>> {
  const check = new FieldCheck()
  check.text('name', input.name, LIMITS.name)
  const current = staffId === null ? undefined : await staffProfile(uow.trx, staffId)
  const email = await checkedEmail(uow, check, input.email, current?.email ?? null)
  checkLocale(check, input.locale)
  if (!STAFF_ROLES.includes(input.role as StaffRole)) check.add('role', 'invalid_choice')
  const rate = input.hourlyRateCents ?? 0
  if (!Number.isInteger(rate) || rate < HOURLY_RATE_CENTS.min || rate > HOURLY_RATE_CENTS.max) check.add('hourlyRateCents', 'out_of_range', HOURLY_RATE_CENTS)
  const deskIds = sortedIds(input.deskIds)
  const productIds = sortedIds(input.productIds)
  const areaIds = sortedIds(input.areaIds ?? current?.areaIds ?? [])
  const known = await knownDesksAndProducts(uow.trx, deskIds, productIds, areaIds)
  if (areaIds.some((id) => !known.areas.has(id))) check.add('areaIds', 'invalid_choice')
  if (deskIds.some((id) => !known.desks.has(id))) check.add('deskIds', 'invalid_choice')
  if (productIds.some((id) => !known.products.has(id))) check.add('productIds', 'invalid_choice')
  const crmUserId = input.crmUserId === undefined ? current?.crmUserId ?? null : input.crmUserId === null || input.crmUserId.trim() === '' ? null : input.crmUserId.trim()
  if (crmUserId !== null && crmUserId !== current?.crmUserId) {
    if (!CRM_USER_ID.test(crmUserId)) check.add('crmUserId', 'invalid_choice')
    else if (await crmUserTaken(uow.trx, crmUserId, staffId)) check.add('crmUserId', 'taken')
  }
  const managerId = input.managerId === undefined ? current?.managerId ?? null : input.managerId
  if (managerId !== null && (managerId === staffId || !(await activeStaffExists(uow.trx, managerId)))) check.add('managerId', 'invalid_choice')
  check.refuse()
  return {
    name: input.name.trim(), email, locale: input.locale, role: input.role as StaffRole, canDelete: input.canDelete || input.role === 'admin',
    hourlyRateCents: rate, available: input.available, deskIds, productIds, crmUserId, managerId, allDesks: input.allDesks ?? current?.allDesks ?? false, areaIds
  }
}

/** The fields the audit log compares. */
function audited(p: Omit<StaffProfile, 'id' | 'openTickets'> | Omit<StaffProfile, 'id' | 'active' | 'openTickets'>): Record<string, unknown> {
  return { ...p }
}

/** Adds a staff member or admin and mails them an invitation to set their password (seven days). */
export async function addStaffMember(deps: Deps, who: Who, input: StaffFields & { client?: ClientInfo }): Promise<Outcome<{ id: number }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const fields = await checked(uow, input, null)
    const id = await insertStaff(uow.trx, {
      name: fields.name, email: fields.email, passwordHash: null, role: fields.role, available: fields.available,
      canDelete: fields.canDelete, hourlyRateCents: fields.hourlyRateCents, deskIds: fields.deskIds, productIds: fields.productIds,
      locale: fields.locale, crmUserId: fields.crmUserId, managerId: fields.managerId, allDesks: fields.allDesks, areaIds: fields.areaIds, now: uow.at
    })
    await queueInvitation(uow, { kind: 'staff', id })
    await uow.audit({ entity: 'staff', entityId: id, action: 'create', label: fields.name, after: audited({ ...fields, active: true }) })
    return { id }
  })
}

/** Changes a staff member; an admin cannot take away the last active admin's role. */
export async function editStaffMember(deps: Deps, who: Who, input: StaffFields & { staffId: number }): Promise<Outcome<{ changed: boolean }>> {
  return run(deps, who, async (uow) => {
    const me = asAdmin(uow)
    const current = await staffProfile(uow.trx, input.staffId)
    if (!current) throw new Refused('not_found')
    const fields = await checked(uow, input, current.id)
    if (current.role === 'admin' && current.active && fields.role !== 'admin' && await otherActiveAdmins(uow.trx, current.id) === 0) {
      const check = new FieldCheck()
      check.add('role', 'last_admin')
      check.refuse()
    }
    const { id: _id, active: _active, openTickets: _open, ...before } = current
    await updateStaffProfile(uow.trx, current.id, fields)
    const changed = await uow.audit({ entity: 'staff', entityId: current.id, action: 'update', label: fields.name, before: audited(before), after: audited(fields) })
    // The Cases they own name another CRM user now.
    if (current.crmUserId !== fields.crmUserId) for (const ticketId of await ticketsWithCaseOf(uow.trx, 'assignee_id', current.id)) await uow.syncCase(ticketId)
    // A new address or role: someone else's sessions opened under the old one end.
    if (current.id !== me && (current.email !== fields.email || current.role !== fields.role)) await endSessionsOf(uow.trx, { kind: 'staff', id: current.id }, uow.at, 'account_changed')
    return { changed }
  })
}

/**
 * Turns a staff account off (no login, no API, every session ended, no new tickets: assignment
 * only picks active staff) or on again. Their open tickets stay with them until reassigned; the
 * answer says how many there are. Not one's own account, and never the last active admin.
 */
export async function setStaffMemberActive(deps: Deps, who: Who, input: { staffId: number; active: boolean; client?: ClientInfo }): Promise<Outcome<{ openTickets: number; changed: boolean }>> {
  return run(deps, who, async (uow) => {
    const me = asAdmin(uow)
    const current = await staffProfile(uow.trx, input.staffId)
    if (!current) throw new Refused('not_found')
    if (current.active === input.active) return { openTickets: current.openTickets, changed: false }
    const check = new FieldCheck()
    if (!input.active && current.id === me) check.add('active', 'not_yourself')
    else if (!input.active && current.role === 'admin' && await otherActiveAdmins(uow.trx, current.id) === 0) check.add('active', 'last_admin')
    check.refuse()
    await setStaffActive(uow.trx, current.id, input.active)
    await accountSwitched(uow, { kind: 'staff', id: current.id }, input.active, input.client)
    await uow.audit({
      entity: 'staff', entityId: current.id, action: input.active ? 'enable' : 'disable', label: current.name,
      before: { active: current.active }, after: { active: input.active }
    })
    return { openTickets: current.openTickets, changed: true }
  })
}
