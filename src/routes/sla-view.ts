import { slaStatus, type SlaStatus, type SlaTicket } from '../domain/sla.js'
import type { Translate } from '../i18n/index.js'

const MINUTE = 60_000

/** "2 d 3 h", "3 h 20 min", "12 min": a list cell needs the order of magnitude, not seconds. */
export function formatDuration(ms: number, t: Translate): string {
  const minutes = Math.max(0, Math.round(ms / MINUTE))
  const d = Math.floor(minutes / 1440)
  const h = Math.floor((minutes % 1440) / 60)
  const m = minutes % 60
  if (d > 0) return h > 0 ? t('duration.dh', { d, h }) : t('duration.d', { d })
  if (h > 0) return m > 0 ? t('duration.hm', { h, m }) : t('duration.h', { h })
  return t('duration.m', { m })
}

export interface SlaView {
  status: SlaStatus
  responseDueAt: string | null
  /** "Time limit": the resolution due time. */
  resolutionDueAt: string | null
  firstResponseAt: string | null
  pausedAt: string | null
  /** Time already spent on hold, in words ('' when never held). */
  held: string
  /** Time left, overdue or how it ended, in words ('' without an SLA). */
  summary: string
}

/** A ticket's standing against its SLA, as lists and ticket pages show it (portal and desk). */
export function slaView(ticket: SlaTicket, now: Date, t: Translate): SlaView {
  const status = slaStatus(ticket, now)
  const base = {
    status,
    responseDueAt: ticket.response_due_at,
    resolutionDueAt: ticket.resolution_due_at,
    firstResponseAt: ticket.first_response_at,
    pausedAt: ticket.sla_paused_at,
    held: ticket.sla_paused_ms ? formatDuration(ticket.sla_paused_ms, t) : ''
  }
  if (status === 'none' || !ticket.resolution_due_at) return { ...base, summary: '' }
  const due = Date.parse(ticket.resolution_due_at)
  const finished = ticket.state === 'resolved' || ticket.state === 'closed'
  switch (status) {
    case 'achieved': {
      const at = ticket.resolved_at ? Date.parse(ticket.resolved_at) : now.getTime()
      return { ...base, summary: t('sla.summary.met', { time: formatDuration(due - at, t) }) }
    }
    case 'paused':
      return { ...base, summary: t('sla.summary.pausedLeft', { time: formatDuration(due - Date.parse(ticket.sla_paused_at!), t) }) }
    case 'breached': {
      const at = finished ? (ticket.resolved_at ? Date.parse(ticket.resolved_at) : now.getTime())
        : ticket.sla_paused_at ? Date.parse(ticket.sla_paused_at) : now.getTime()
      // Breached while still inside the time limit: the first response came too late.
      if (at <= due) return { ...base, summary: t('sla.summary.responseMissed') }
      return { ...base, summary: t(finished ? 'sla.summary.resolvedLate' : 'sla.summary.overdue', { time: formatDuration(at - due, t) }) }
    }
    default:
      return { ...base, summary: t('sla.summary.left', { time: formatDuration(due - now.getTime(), t) }) }
  }
}
