// What /metrics reads from the database at scrape time: the outboxes' depth and the leases. Only
// pending and dead rows are counted (through the status index), never the done ones, which pile up.
import type { Kysely } from 'kysely'
import type { Executor } from './index.js'
import type { OutboxName } from './outbox.js'

export interface OutboxDepth {
  kind: OutboxName
  pending: number
  dead: number
  /** created_at of the oldest pending row, null when none waits. */
  oldestPendingAt: string | null
}

interface QueueView {
  q: { status: string; created_at: string }
}

const TABLES: Record<OutboxName, string> = { mail: 'mail_outbox', crm: 'crm_outbox', crm_people: 'crm_people_outbox' }

export async function outboxDepths(db: Executor): Promise<OutboxDepth[]> {
  const out: OutboxDepth[] = []
  for (const kind of ['mail', 'crm', 'crm_people'] as const) {
    // The tables share these columns; the query is written once against that view of them.
    const k = db as unknown as Kysely<QueueView>
    const rows = await k.selectFrom(TABLES[kind] as 'q')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
      .where('status', 'in', ['pending', 'dead']).groupBy('status').execute()
    const pending = rows.find((r) => r.status === 'pending')
    const dead = rows.find((r) => r.status === 'dead')
    out.push({ kind, pending: Number(pending?.n ?? 0), dead: Number(dead?.n ?? 0), oldestPendingAt: (pending?.oldest as string | null | undefined) ?? null })
  }
  return out
}

export interface LeaseRow {
  name: string
  holder: string
  expiresAt: string
}

/** Every named lease row: who holds which pass, until when (an expired one waits to be taken over). */
export async function leaseHolders(db: Executor): Promise<LeaseRow[]> {
  const rows = await db.selectFrom('job_lease').select(['name', 'holder', 'expires_at']).orderBy('name').execute()
  return rows.map((r) => ({ name: r.name, holder: r.holder, expiresAt: r.expires_at }))
}
