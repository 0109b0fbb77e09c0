import { slaStatus, type SlaStatus, type SlaTicket } from '../../domain/sla.js'
import type { Translate } from '../../i18n/index.js'

const MINUTE = 60_000

/** "2 d 3 h", "3 h 20 min", "12 min": coarse on purpose, a list cell is not a stopwatch. */
export function formatDuration(ms: number, t: Translate): string {
  const minutes = Math.max(0, Math.round(ms / MINUTE))
  const d = Math.floor(minutes / 1440)
  const h = Math.floor((minutes % 1440) / 60)
  const m = minutes % 60
  if (d > 0) return h > 0 ? t('portal.duration.dh', { d, h }) : t('portal.duration.d', { d })
  if (h > 0) return m > 0 ? t('portal.duration.hm', { h, m }) : t('portal.duration.h', { h })
  return t('portal.duration.m', { m })
}

export interface SlaView {
  status: SlaStatus
  /** The resolution due time ("Time limit"), ISO. */
  timeLimit: string | null
  /** Where the ticket stands against the time limit, in words ('' when there is no SLA). */
  summary: string
}

/** What the client sees of a ticket's SLA: the status, the time limit, and the time left or overdue. */
export function slaView(ticket: SlaTicket, now: Date, t: Translate): SlaView {
  const status = slaStatus(ticket, now)
  const timeLimit = ticket.resolution_due_at
  if (status === 'none' || !timeLimit) return { status, timeLimit: status === 'none' ? null : timeLimit, summary: '' }
  const due = Date.parse(timeLimit)
  const finished = ticket.state === 'resolved' || ticket.state === 'closed'
  let summary: string
  switch (status) {
    case 'achieved':
      summary = t('portal.sla.met')
      break
    case 'paused':
      summary = t('portal.sla.pausedLeft', { time: formatDuration(due - Date.parse(ticket.sla_paused_at!), t) })
      break
    case 'breached': {
      const at = finished ? (ticket.resolved_at ? Date.parse(ticket.resolved_at) : now.getTime())
        : ticket.sla_paused_at ? Date.parse(ticket.sla_paused_at) : now.getTime()
      // Breached before the time limit means the first response came too late.
      if (at <= due) summary = t('portal.sla.responseMissed')
      else summary = t(finished ? 'portal.sla.resolvedLate' : 'portal.sla.overdue', { time: formatDuration(at - due, t) })
      break
    }
    default:
      summary = t('portal.sla.left', { time: formatDuration(due - now.getTime(), t) })
  }
  return { status, timeLimit, summary }
}
