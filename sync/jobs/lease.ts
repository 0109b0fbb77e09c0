import { sql } from 'kysely'
import type { Executor } from '../../src/db/index.js'

/** Takes (or renews) a named lease for `ttlMs`; true when this holder has it. */
export async function acquireLease(db: Executor, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
  const at = now.toISOString()
  const expires = new Date(now.getTime() + ttlMs).toISOString()
  await db.insertInto('job_lease').values({ name, holder, expires_at: expires })
    .onConflict((oc) => oc.column('name').doUpdateSet({ holder, expires_at: expires })
      .where((eb) => eb.or([eb('job_lease.expires_at', '<', at), eb('job_lease.holder', '=', holder)])))
    .execute()
  const row = await db.selectFrom('job_lease').select('holder').where('name', '=', name).executeTakeFirst()
  return row?.holder === holder
}

export async function releaseLease(db: Executor, name: string, holder: string): Promise<void> {
  await db.deleteFrom('job_lease').where('name', '=', name).where('holder', '=', holder).execute()
}

export { sql }
