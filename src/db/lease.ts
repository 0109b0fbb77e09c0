// Named leases (job_lease): which worker runs a pass that only one may run at a time.
import type { Executor } from './index.js'

/** Takes the lease, or renews it for its holder; true when `holder` has it afterwards. */
export async function takeLease(db: Executor, name: string, holder: string, now: string, expiresAt: string): Promise<boolean> {
  await db.insertInto('job_lease').values({ name, holder, expires_at: expiresAt })
    .onConflict((oc) => oc.column('name').doUpdateSet({ holder, expires_at: expiresAt })
      .where((eb) => eb.or([eb('job_lease.expires_at', '<', now), eb('job_lease.holder', '=', holder)])))
    .execute()
  const row = await db.selectFrom('job_lease').select('holder').where('name', '=', name).executeTakeFirst()
  return row?.holder === holder
}

export async function dropLease(db: Executor, name: string, holder: string): Promise<void> {
  await db.deleteFrom('job_lease').where('name', '=', name).where('holder', '=', holder).execute()
}
