// What an admin changes from the administration pages: service settings, SLA targets, the
// catalog's approval rules, and the second chance for work that failed (a CRM change, a mail,
// a quarantined message).
import type { Priority } from '../db/schema.js'
import { getSettings, saveSettings, type Settings } from '../db/settings.js'
import { getSlaPolicies, saveSlaPolicy } from '../db/sla.js'
import { approvalMode, listCatalogApprovalRules, MAX_APPROVAL_DAYS, saveApprovalLinkDays, setCatalogApproval, type ApprovalMode } from '../db/approval.js'
import { retryAllDead, retryDeadRow } from '../db/crm-outbox.js'
import { reviveRow } from '../db/outbox.js'
import { releaseQuarantine } from '../db/mailbox.js'
import { PRIORITIES } from '../domain/lifecycle.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type Who } from './kernel.js'
import { asAdmin } from './admin-common.js'

/** Days a resolved ticket may wait for the requester before it closes by itself. */
export const AUTO_CLOSE_DAYS = { min: 1, max: 365 } as const
/** SLA targets are whole minutes up to a year. */
export const SLA_MINUTES = { min: 1, max: 525_600 } as const

const inRange = (n: number, r: { min: number; max: number }) => Number.isInteger(n) && n >= r.min && n <= r.max

/** Any of the service settings (the others stay as they are). */
export async function saveServiceSettings(deps: Deps, who: Who, settings: Partial<Settings>): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const check = new FieldCheck()
    if (settings.autoCloseDays !== undefined && !inRange(settings.autoCloseDays, AUTO_CLOSE_DAYS)) check.add('autoCloseDays', 'out_of_range', AUTO_CLOSE_DAYS)
    check.refuse()
    const before = await getSettings(uow.trx)
    await saveSettings(uow.trx, settings)
    await uow.audit({ entity: 'settings', entityId: null, action: 'update', before: { ...before }, after: { ...before, ...settings } })
  })
}

export interface SlaTarget {
  priority: Priority
  responseMinutes: number
  resolutionMinutes: number
}

/** One priority's targets (the priority's own or a catalog item's): whole minutes, a resolution never before the response. */
export function checkSlaTarget(check: FieldCheck, t: SlaTarget): void {
  if (!PRIORITIES.includes(t.priority)) check.add(`${t.priority}.priority`, 'invalid_choice')
  if (!inRange(t.responseMinutes, SLA_MINUTES)) check.add(`${t.priority}.responseMinutes`, 'out_of_range', SLA_MINUTES)
  if (!inRange(t.resolutionMinutes, SLA_MINUTES)) check.add(`${t.priority}.resolutionMinutes`, 'out_of_range', SLA_MINUTES)
  else if (inRange(t.responseMinutes, SLA_MINUTES) && t.resolutionMinutes < t.responseMinutes) check.add(`${t.priority}.resolutionMinutes`, 'too_early')
}

/** Response and resolution targets per priority; a resolution never comes before the response. */
export async function saveSlaTargets(deps: Deps, who: Who, targets: SlaTarget[]): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const check = new FieldCheck()
    for (const t of targets) checkSlaTarget(check, t)
    check.refuse()
    const view = (p: Record<string, { responseMinutes: number; resolutionMinutes: number }>) =>
      Object.fromEntries(Object.entries(p).map(([priority, t]) => [priority, `${t.responseMinutes}/${t.resolutionMinutes}`]))
    const before = await getSlaPolicies(uow.trx)
    for (const t of targets) await saveSlaPolicy(uow.trx, t.priority, t.responseMinutes, t.resolutionMinutes, uow.at)
    await uow.audit({ entity: 'sla_policy', entityId: null, action: 'update', before: view(before), after: view(await getSlaPolicies(uow.trx)) })
  })
}

/** Which catalog items need approval, and how long approval links stay usable. */
export async function saveApprovalRules(deps: Deps, who: Who, input: { linkDays: number; modes: Record<number, string> }): Promise<Outcome<{ changed: { id: number; mode: ApprovalMode }[] }>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    const check = new FieldCheck()
    if (!inRange(input.linkDays, { min: 1, max: MAX_APPROVAL_DAYS })) check.add('linkDays', 'out_of_range', { min: 1, max: MAX_APPROVAL_DAYS })
    const items = new Map((await listCatalogApprovalRules(uow.trx)).map((i) => [i.id, i]))
    const changed: { id: number; mode: ApprovalMode }[] = []
    for (const [id, mode] of Object.entries(input.modes)) {
      const item = items.get(Number(id))
      if (!item || !(['none', 'manager', 'auto'] as readonly string[]).includes(mode)) check.add(`mode.${id}`, 'invalid_choice')
      else if (mode !== approvalMode(item)) changed.push({ id: item.id, mode: mode as ApprovalMode })
    }
    check.refuse()
    for (const c of changed) await setCatalogApproval(uow.trx, c.id, c.mode)
    await saveApprovalLinkDays(uow.trx, input.linkDays)
    return { changed }
  })
}

/** Sends a parked CRM change again from scratch (a parked Case takes the comments it held back with it). */
export async function retryCrmChange(deps: Deps, who: Who, input: { rowId: number }): Promise<Outcome<boolean>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    return retryDeadRow(uow.trx, input.rowId, uow.at)
  })
}

export async function retryAllCrmChanges(deps: Deps, who: Who): Promise<Outcome<number>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    return retryAllDead(uow.trx, uow.at)
  })
}

/** Puts a parked mail back in the queue with a fresh set of attempts. */
export async function retryMail(deps: Deps, who: Who, input: { mailId: number }): Promise<Outcome<boolean>> {
  return run(deps, who, async (uow) => {
    asAdmin(uow)
    return reviveRow(uow.trx, 'mail', input.mailId, uow.at)
  })
}

/** Marks a quarantined message as dealt with; false when it already was. */
export async function releaseQuarantinedMessage(deps: Deps, who: Who, input: { quarantineId: number }): Promise<Outcome<boolean>> {
  return run(deps, who, async (uow) => {
    // Released by a named admin (the quarantine page shows who).
    const admin = asAdmin(uow)
    if (admin === null) throw new Refused('forbidden')
    return releaseQuarantine(uow.trx, input.quarantineId, admin, uow.at)
  })
}
