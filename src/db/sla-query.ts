import { sql, type RawBuilder } from 'kysely'
import type { Executor } from './index.js'
import { isPostgres } from './migrations/util.js'
import { AT_RISK_SHARE, type SlaStatus } from '../domain/sla.js'
import { OPEN_STATES, type State } from '../domain/lifecycle.js'
import type { SlaFilter } from '../domain/search.js'

// `slaStatus` (domain/sla.ts) written as SQL conditions on the ticket row, so lists can filter
// by SLA status and the dashboard can count it without reading every ticket. Timestamps are
// ISO-8601 UTC strings of one length, so comparing them as text compares the instants.
// test/db/sla-query.test.ts checks both definitions agree on every kind of ticket.

const OPEN_LIST = sql.join(OPEN_STATES.map((s) => sql.lit(s)))

/** Milliseconds since the Unix epoch of a timestamp column (compared with `now.getTime()`). */
function ms(db: Executor, column: string): RawBuilder<number> {
  // julianday counts from 4714 BC: shift to the Unix epoch (day 2440587.5), and round away the
  // float noise so a ticket exactly at the at-risk share is judged as slaStatus judges it.
  return isPostgres(db)
    ? sql<number>`(extract(epoch from (${sql.ref(column)})::timestamptz) * 1000)`
    : sql<number>`ROUND((julianday(${sql.ref(column)}) - 2440587.5) * 86400000.0)`
}

/** The SQL condition for one SLA status at `now`. */
export function slaCondition(db: Executor, status: SlaFilter | SlaStatus, now: Date): RawBuilder<boolean> {
  const n = now.toISOString()
  const due = sql.ref('ticket.resolution_due_at')
  const isOpen = sql`ticket.state IN (${OPEN_LIST})`
  const finished = sql`ticket.state IN ('resolved', 'closed')`
  const responseMissed = sql`(ticket.first_response_at IS NULL AND ticket.response_due_at IS NOT NULL AND ${n} > ticket.response_due_at)`
  const runningBreached = sql`(${n} > ${due} OR ${responseMissed})`
  const running = sql`(${isOpen} AND ticket.sla_paused_at IS NULL AND NOT ${runningBreached})`
  // (now - start - held) / (due - start - held) >= share, with a positive window.
  const start = ms(db, 'ticket.created_at')
  const window = sql`(${ms(db, 'ticket.resolution_due_at')} - ${start} - ticket.sla_paused_ms)`
  const elapsed = sql`(${now.getTime()} - ${start} - ticket.sla_paused_ms)`
  // Tickets with a stored at-risk instant are late from it; older ones by the share of calendar time.
  const late = sql`(CASE WHEN ticket.sla_at_risk_at IS NOT NULL THEN ${n} >= ticket.sla_at_risk_at
    ELSE (${window} > 0 AND ${elapsed} >= ${AT_RISK_SHARE} * ${window}) END)`
  const hasTarget = sql`(${due} IS NOT NULL AND ticket.state <> 'cancelled')`
  switch (status) {
    case 'achieved':
      return sql<boolean>`(${hasTarget} AND ${finished} AND COALESCE(ticket.resolved_at, ${n}) <= ${due})`
    case 'breached':
      return sql<boolean>`(${hasTarget} AND (
        (${finished} AND COALESCE(ticket.resolved_at, ${n}) > ${due})
        OR (${isOpen} AND ticket.sla_paused_at IS NOT NULL AND ticket.sla_paused_at > ${due})
        OR (${isOpen} AND ticket.sla_paused_at IS NULL AND ${runningBreached})))`
    case 'paused':
      return sql<boolean>`(${hasTarget} AND ${isOpen} AND ticket.sla_paused_at IS NOT NULL AND ticket.sla_paused_at <= ${due})`
    // `due >= now` is implied by `running` (its clock has not passed the due time); written as a
    // plain comparison, the list indexes (which carry resolution_due_at) skip past-due tickets
    // without reading them.
    case 'at_risk':
      return sql<boolean>`(${hasTarget} AND ${due} >= ${n} AND ${running} AND ${late})`
    case 'on_track':
      return sql<boolean>`(${hasTarget} AND ${due} >= ${n} AND ${running} AND NOT ${late})`
    case 'none':
      return sql<boolean>`(NOT ${hasTarget})`
  }
}

/** The states a ticket can be in to have this SLA status (lets lists read per-state index ranges). */
export function slaStates(status: SlaFilter): readonly State[] {
  switch (status) {
    case 'achieved': return ['resolved', 'closed']
    case 'breached': return [...OPEN_STATES, 'resolved', 'closed']
    default: return OPEN_STATES
  }
}
