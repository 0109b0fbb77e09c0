// The administration audit log (migration 20261207090000): one row per change an admin makes,
// with each changed field's value before and after.
import type { Executor } from './index.js'
import type { ActorType } from './schema.js'

export interface AuditRow {
  actorType: ActorType
  actorId: number | null
  actorName: string | null
  entity: string
  entityId: number | null
  action: string
  label: string | null
  /** field -> [before, after] */
  changes: Record<string, [unknown, unknown]>
  at: string
}

export async function insertAudit(db: Executor, row: AuditRow): Promise<void> {
  await db.insertInto('admin_audit').values({
    actor_type: row.actorType, actor_id: row.actorId, actor_name: row.actorName, entity: row.entity, entity_id: row.entityId,
    action: row.action, label: row.label, changes: JSON.stringify(row.changes), created_at: row.at
  }).execute()
}

export interface AuditFilters {
  entity?: string
  entityId?: number
  /** A staff member who made the changes. */
  staffId?: number
  /** Rows older than this id (the next page). */
  before?: number
  limit?: number
}

/** Newest first; `more` says whether older rows remain (the page passes the last id back as `before`). */
export async function listAudit(db: Executor, f: AuditFilters = {}) {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 200)
  let qb = db.selectFrom('admin_audit').selectAll()
  if (f.entity !== undefined) qb = qb.where('entity', '=', f.entity)
  if (f.entityId !== undefined) qb = qb.where('entity_id', '=', f.entityId)
  if (f.staffId !== undefined) qb = qb.where('actor_type', '=', 'staff').where('actor_id', '=', f.staffId)
  if (f.before !== undefined) qb = qb.where('id', '<', f.before)
  const rows = await qb.orderBy('id', 'desc').limit(limit + 1).execute()
  return {
    rows: rows.slice(0, limit).map((r) => ({ ...r, changes: JSON.parse(r.changes) as Record<string, [unknown, unknown]> })),
    more: rows.length > limit
  }
}
