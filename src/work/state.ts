// The worker's stored progress and health (sync_state): cursors, pauses, last successes.
import type { Db } from '../db/index.js'
import { setSyncState } from '../db/sync-state.js'

/** Records several progress values at once, stamped with the time. */
export async function saveProgress(deps: { db: Db; clock: () => Date }, values: Record<string, string>): Promise<void> {
  const at = deps.clock().toISOString()
  await deps.db.transaction().execute(async (trx) => {
    for (const [key, value] of Object.entries(values)) await setSyncState(trx, key, value, at)
  })
}
