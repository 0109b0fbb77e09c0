import type { Executor } from './index.js'
import type { Priority } from './schema.js'
import { DEFAULT_SLA_POLICIES, dueTimes, type SlaDue, type SlaPolicies } from '../domain/sla.js'

export async function getSlaPolicies(db: Executor): Promise<SlaPolicies> {
  const rows = await db.selectFrom('sla_policy').selectAll().execute()
  const policies: SlaPolicies = { ...DEFAULT_SLA_POLICIES }
  for (const r of rows) policies[r.priority] = { responseMinutes: r.response_minutes, resolutionMinutes: r.resolution_minutes }
  return policies
}

/** Response and resolution due times for a ticket of this priority started at `startedAt`. */
export async function slaDueFor(db: Executor, priority: Priority, startedAt: string): Promise<SlaDue> {
  const row = await db.selectFrom('sla_policy').select(['response_minutes', 'resolution_minutes'])
    .where('priority', '=', priority).executeTakeFirst()
  const targets = row
    ? { responseMinutes: row.response_minutes, resolutionMinutes: row.resolution_minutes }
    : DEFAULT_SLA_POLICIES[priority]
  return dueTimes(startedAt, targets)
}

export async function saveSlaPolicy(db: Executor, priority: Priority, responseMinutes: number, resolutionMinutes: number, now: string): Promise<void> {
  await db.insertInto('sla_policy')
    .values({ priority, response_minutes: responseMinutes, resolution_minutes: resolutionMinutes, updated_at: now })
    .onConflict((oc) => oc.column('priority').doUpdateSet({ response_minutes: responseMinutes, resolution_minutes: resolutionMinutes, updated_at: now }))
    .execute()
}
