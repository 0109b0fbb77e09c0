import type { Executor } from './index.js'
import type { Priority } from './schema.js'
import { DEFAULT_SLA_POLICIES, type SlaPolicies, type SlaTargets } from '../domain/sla.js'

export async function getSlaPolicies(db: Executor): Promise<SlaPolicies> {
  const rows = await db.selectFrom('sla_policy').selectAll().execute()
  const policies: SlaPolicies = { ...DEFAULT_SLA_POLICIES }
  for (const r of rows) policies[r.priority] = { responseMinutes: r.response_minutes, resolutionMinutes: r.resolution_minutes }
  return policies
}

/** Every catalog item's own targets, by item id and priority. */
export async function itemSlaPolicies(db: Executor): Promise<Map<number, Partial<SlaPolicies>>> {
  const rows = await db.selectFrom('sla_item_policy').selectAll().execute()
  const out = new Map<number, Partial<SlaPolicies>>()
  for (const r of rows) {
    const policies = out.get(r.category_id) ?? {}
    policies[r.priority] = { responseMinutes: r.response_minutes, resolutionMinutes: r.resolution_minutes }
    out.set(r.category_id, policies)
  }
  return out
}

/** Replaces one catalog item's own targets (priorities left out use the priority's). */
export async function saveItemSlaPolicies(db: Executor, categoryId: number, policies: Partial<SlaPolicies>, now: string): Promise<void> {
  await db.deleteFrom('sla_item_policy').where('category_id', '=', categoryId).execute()
  for (const [priority, targets] of Object.entries(policies) as [Priority, SlaTargets][]) {
    await db.insertInto('sla_item_policy').values({ category_id: categoryId, priority, response_minutes: targets.responseMinutes, resolution_minutes: targets.resolutionMinutes, updated_at: now }).execute()
  }
}

export async function saveSlaPolicy(db: Executor, priority: Priority, responseMinutes: number, resolutionMinutes: number, now: string): Promise<void> {
  await db.insertInto('sla_policy')
    .values({ priority, response_minutes: responseMinutes, resolution_minutes: resolutionMinutes, updated_at: now })
    .onConflict((oc) => oc.column('priority').doUpdateSet({ response_minutes: responseMinutes, resolution_minutes: resolutionMinutes, updated_at: now }))
    .execute()
}
