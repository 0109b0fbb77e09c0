import { slaStatus, type SlaStatus, type SlaTicket } from '../../domain/sla.js'
import type { Translate } from '../../i18n/index.js'

const MINUTE = 60_000

/** "2 d 3 h", "3 h 20 min", "12 min": a queue cell needs the order of magnitude, not seconds. */
export function deskDuration(ms: number, t: Translate): string {
  const minutes = Math.max(0, Math.round(ms / MINUTE))
  const d = Math.floor(minutes / 1440)
  const h = Math.floor((minutes % 1440) / 60)
  const m = minutes % 60
  if (d > 0) return h > 0 ? t('desk.duration.dh', { d, h }) : t('desk.duration.d', { d })
  if (h > 0) return m > 0 ? t('desk.duration.hm', { h, m }) : t('desk.duration.h', { h })
  return t('desk.duration.m', { m })
}

export interface DeskSla {
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

/** A ticket's standing against its SLA, as the desk shows it in the queue and on the ticket. */
export function deskSla(ticket: SlaTicket, now: Date, t: Translate): DeskSla {
  const status = slaStatus(ticket, now)
  const base = {
    status,
    responseDueAt: ticket.response_due_at,
    resolutionDueAt: ticket.resolution_due_at,
    firstResponseAt: ticket.first_response_at,
    pausedAt: ticket.sla_paused_at,
    held: ticket.sla_paused_ms ? deskDuration(ticket.sla_paused_ms, t) : ''
  }
  if (status === 'none' || !ticket.resolution_due_at) return { ...base, summary: '' }
  const due = Date.parse(ticket.resolution_due_at)
  const finished = ticket.state === 'resolved' || ticket.state === 'closed'
  switch (status) {
    case 'achieved': {
      const at = ticket.resolved_at ? Date.parse(ticket.resolved_at) : now.getTime()
      return { ...base, summary: t('desk.sla.met', { time: deskDuration(due - at, t) }) }
    }
    case 'paused':
      return { ...base, summary: t('desk.sla.pausedLeft', { time: deskDuration(due - Date.parse(ticket.sla_paused_at!), t) }) }
    case 'breached': {
      const at = finished ? (ticket.resolved_at ? Date.parse(ticket.resolved_at) : now.getTime())
        : ticket.sla_paused_at ? Date.parse(ticket.sla_paused_at) : now.getTime()
      // Breached while still inside the time limit: the first response came too late.
      if (at <= due) return { ...base, summary: t('desk.sla.responseMissed') }
      return { ...base, summary: t(finished ? 'desk.sla.resolvedLate' : 'desk.sla.overdue', { time: deskDuration(at - due, t) }) }
    }
    default:
      return { ...base, summary: t('desk.sla.left', { time: deskDuration(due - now.getTime(), t) }) }
  }
}
