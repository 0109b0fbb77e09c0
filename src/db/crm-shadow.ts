// The last value synced per Case field: a CRM change equal to it is our own write coming back.
import type { Executor } from './index.js'
import { chunk } from './chunk.js'

export async function getShadows(db: Executor, ticketIds: number[]): Promise<Map<number, Map<string, string | null>>> {
  const out = new Map<number, Map<string, string | null>>()
  for (const part of chunk(ticketIds, 500)) {
    const rows = await db.selectFrom('crm_shadow').select(['ticket_id', 'field', 'value']).where('ticket_id', 'in', part).execute()
    for (const r of rows) {
      const m = out.get(r.ticket_id) ?? new Map<string, string | null>()
      m.set(r.field, r.value)
      out.set(r.ticket_id, m)
    }
  }
  return out
}

/** Records what the Case now holds for these fields. */
export async function saveShadow(db: Executor, ticketId: number, values: Record<string, string | null>, now: string): Promise<void> {
  const rows = Object.entries(values).map(([field, value]) => ({ ticket_id: ticketId, field, value, synced_at: now }))
  if (rows.length === 0) return
  await db.insertInto('crm_shadow').values(rows)
    .onConflict((oc) => oc.columns(['ticket_id', 'field']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), synced_at: eb.ref('excluded.synced_at') })))
    .execute()
}

export async function clearShadow(db: Executor, ticketId: number): Promise<void> {
  await db.deleteFrom('crm_shadow').where('ticket_id', '=', ticketId).execute()
}
