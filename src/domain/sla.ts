import { OPEN_STATES, type Priority } from './lifecycle.js'
import { addBusinessMillis, addBusinessMinutes, businessMillisBetween, type BusinessCalendar } from './business-hours.js'

export interface SlaTargets {
  responseMinutes: number
  resolutionMinutes: number
}

export type SlaPolicies = Record<Priority, SlaTargets>

/** Calendar-time targets used until an admin edits them. */
export const DEFAULT_SLA_POLICIES: SlaPolicies = {
  critical: { responseMinutes: 60, resolutionMinutes: 4 * 60 },
  high: { responseMinutes: 4 * 60, resolutionMinutes: 24 * 60 },
  medium: { responseMinutes: 8 * 60, resolutionMinutes: 3 * 24 * 60 },
  low: { responseMinutes: 24 * 60, resolutionMinutes: 7 * 24 * 60 }
}

export const SLA_STATUSES = ['on_track', 'at_risk', 'breached', 'achieved', 'paused', 'none'] as const
export type SlaStatus = (typeof SLA_STATUSES)[number]

/** Share of the resolution window after which an open ticket counts as at risk. */
export const AT_RISK_SHARE = 0.75

const MINUTE = 60_000

export interface SlaDue {
  responseDueAt: string
  resolutionDueAt: string
  /** When three quarters of the resolution target have passed. */
  atRiskAt: string
}

/** Due times for targets counted from `startedAt`, in the calendar's open time (calendar time without one). */
export function dueTimes(startedAt: string, targets: SlaTargets, calendar: BusinessCalendar | null = null): SlaDue {
  return {
    responseDueAt: addBusinessMinutes(calendar, startedAt, targets.responseMinutes),
    resolutionDueAt: addBusinessMinutes(calendar, startedAt, targets.resolutionMinutes),
    atRiskAt: addBusinessMinutes(calendar, startedAt, AT_RISK_SHARE * targets.resolutionMinutes)
  }
}

export interface SlaTicket {
  state: string
  created_at: string
  response_due_at: string | null
  resolution_due_at: string | null
  first_response_at: string | null
  resolved_at: string | null
  sla_paused_at: string | null
  /** Time already spent on hold, excluded from the at-risk share. */
  sla_paused_ms?: number
  /** When it becomes at risk; null (tickets from before it was stored): by the share of calendar time. */
  sla_at_risk_at: string | null
}

/** True once the ticket's clock has run three quarters of its resolution window (running tickets only). */
function pastAtRisk(ticket: SlaTicket, t: number, resolutionDue: number): boolean {
  if (ticket.sla_at_risk_at) return t >= Date.parse(ticket.sla_at_risk_at)
  const start = Date.parse(ticket.created_at)
  const held = ticket.sla_paused_ms ?? 0
  const window = resolutionDue - start - held
  return window > 0 && (t - start - held) / window >= AT_RISK_SHARE
}

/**
 * Where a ticket stands against its targets at `now`. Due times already include past pauses
 * (they are pushed back on resume), so only an ongoing pause needs care here.
 */
export function slaStatus(ticket: SlaTicket, now: Date): SlaStatus {
  if (!ticket.resolution_due_at || ticket.state === 'cancelled') return 'none'
  const resolutionDue = Date.parse(ticket.resolution_due_at)
  if (ticket.state === 'resolved' || ticket.state === 'closed') {
    const resolvedAt = ticket.resolved_at ? Date.parse(ticket.resolved_at) : now.getTime()
    return resolvedAt <= resolutionDue ? 'achieved' : 'breached'
  }
  if (ticket.sla_paused_at) {
    // A pause does not rescue a target that was already missed before it began.
    return Date.parse(ticket.sla_paused_at) > resolutionDue ? 'breached' : 'paused'
  }
  const t = now.getTime()
  if (t > resolutionDue) return 'breached'
  if (!ticket.first_response_at && ticket.response_due_at && t > Date.parse(ticket.response_due_at)) return 'breached'
  return pastAtRisk(ticket, t, resolutionDue) ? 'at_risk' : 'on_track'
}

export interface PauseState {
  sla_paused_at: string | null
  sla_paused_ms: number
  response_due_at: string | null
  resolution_due_at: string | null
  first_response_at: string | null
  sla_at_risk_at: string | null
}

export function pause(state: PauseState, now: Date): Pick<PauseState, 'sla_paused_at'> {
  return { sla_paused_at: state.sla_paused_at ?? now.toISOString() }
}

/**
 * Ends a pause: the open targets move on by the time spent on hold. In business hours only the
 * open time of the hold counts: each instant still ahead when the hold began is as much open time
 * after `now` as it was after the hold began. (An instant already passed stays passed.)
 */
export function resume(state: PauseState, now: Date, calendar: BusinessCalendar | null = null): Omit<PauseState, 'first_response_at'> {
  if (!state.sla_paused_at) {
    return { sla_paused_at: null, sla_paused_ms: state.sla_paused_ms, response_due_at: state.response_due_at, resolution_due_at: state.resolution_due_at, sla_at_risk_at: state.sla_at_risk_at }
  }
  const pausedAt = state.sla_paused_at
  const held = Math.max(0, now.getTime() - Date.parse(pausedAt))
  const nowIso = now.toISOString()
  const shift = (iso: string | null) => {
    if (!iso) return iso
    if (calendar === null) return new Date(Date.parse(iso) + held).toISOString()
    if (Date.parse(iso) <= Date.parse(pausedAt)) return iso
    return addBusinessMillis(calendar, nowIso, businessMillisBetween(calendar, pausedAt, iso))
  }
  return {
    sla_paused_at: null,
    sla_paused_ms: state.sla_paused_ms + held,
    response_due_at: state.first_response_at ? state.response_due_at : shift(state.response_due_at),
    resolution_due_at: shift(state.resolution_due_at),
    sla_at_risk_at: shift(state.sla_at_risk_at)
  }
}

/** What decides when a ticket's SLA level can change with time alone. */
export interface SlaWatched extends SlaTicket {
  /** The level already reported to the desk manager. */
  sla_alert: string | null
  deleted_at?: string | null
}

/**
 * The first instant at which `slaStatus` may report a level beyond `sla_alert` without anything
 * else happening to the ticket: when it becomes at risk or breached. Null when time alone changes
 * nothing (closed, deleted, no target, already reported breached, or on hold within its target).
 * Every write to these columns stores it again (src/db/ticket-write.ts), and the SLA job reads
 * only the tickets whose instant has come.
 */
export function slaWatchAt(ticket: SlaWatched): string | null {
  if (ticket.deleted_at || !ticket.resolution_due_at || !(OPEN_STATES as readonly string[]).includes(ticket.state) || ticket.sla_alert === 'breached') return null
  const due = Date.parse(ticket.resolution_due_at)
  if (ticket.sla_paused_at) {
    // On hold: paused, or breached already if the pause began after the target.
    return Date.parse(ticket.sla_paused_at) > due ? ticket.sla_paused_at : null
  }
  // slaStatus says breached once now is past a due time: one millisecond after it.
  const responseDue = !ticket.first_response_at && ticket.response_due_at ? Date.parse(ticket.response_due_at) : Infinity
  let at = Math.min(due, responseDue) + 1
  if (ticket.sla_alert !== 'at_risk') {
    if (ticket.sla_at_risk_at) {
      at = Math.min(at, Date.parse(ticket.sla_at_risk_at))
    } else {
      const start = Date.parse(ticket.created_at)
      const held = ticket.sla_paused_ms ?? 0
      const window = due - start - held
      if (window > 0) at = Math.min(at, Math.ceil(start + held + AT_RISK_SHARE * window))
    }
  }
  return new Date(at).toISOString()
}
