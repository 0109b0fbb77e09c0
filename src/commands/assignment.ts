// Assignment after the fact: tickets left without anyone (nobody was available) are handed out
// by least load, when someone becomes available and by the scheduled job; staff say whether
// they are available.
import { eligibleStaffLoads, rebuildStaffLoads, staffLoadDrift, staffNames, ticketForChange, unassignedOpenTickets } from '../db/ticket.js'
import { lockTicket, updateTicket } from '../db/ticket-write.js'
import { getStaff, setStaffAvailability } from '../db/people.js'
import { pickLeastLoaded } from '../domain/assignment.js'
import { OPEN_STATES } from '../domain/lifecycle.js'
import { Refused, run, SYSTEM, type Deps, type Outcome, type Who } from './kernel.js'

/** Hands unassigned open tickets to available staff by least load, oldest first; each in its own transaction. */
export async function assignBacklog(deps: Pick<Deps, 'db' | 'clock' | 'random'>, opts: { limit?: number; stillHeld?: () => void } = {}): Promise<number> {
  let assigned = 0
  for (const t of await unassignedOpenTickets(deps.db, opts.limit ?? 500)) {
    // a job pass that lost its lease stops here (the function throws)
    opts.stillHeld?.()
    const outcome = await run(deps, SYSTEM, async (uow) => {
      const next = pickLeastLoaded(await eligibleStaffLoads(uow.trx, t.desk_id, { productId: t.product_id, categoryId: t.category_id }), uow.random)
      if (next === null) return false
      // Only if it is still as we read it (nobody assigned or changed it meanwhile).
      await lockTicket(uow.trx, t.id)
      const current = await ticketForChange(uow.trx, t.id)
      if (!current || current.assignee_id !== null || !(OPEN_STATES as readonly string[]).includes(current.state)) return false
      if (!(await updateTicket(uow.trx, t.id, current.version, { assignee_id: next }, uow.at))) return false
      await uow.history(t.id, { action: 'assigned', field: 'assignee', to: (await staffNames(uow.trx, [next])).get(next) ?? null })
      await uow.syncCase(t.id)
      await uow.alert(next, 'assigned', t.id, { actorName: null, mail: { template: 'ticket.created', data: { number: current.number, title: current.title, actorName: null } } })
      return true
    })
    if (outcome.ok && outcome.value) assigned++
  }
  return assigned
}

/**
 * A staff member says they are (un)available: the unavailable get no new tickets; becoming
 * available is the moment tickets left without anyone are handed out.
 */
export async function setAvailability(deps: Deps, who: Who, input: { available: boolean }): Promise<Outcome<{ handedOut: number }>> {
  const staffId = who.person?.kind === 'staff' ? who.person.id : null
  const changed = await run(deps, who, async (uow) => {
    if (staffId === null) throw new Refused('forbidden')
    const before = await getStaff(uow.trx, staffId)
    await setStaffAvailability(uow.trx, staffId, input.available)
    return before?.available !== (input.available ? 1 : 0)
  })
  if (!changed.ok) return changed
  const handedOut = input.available && changed.value ? await assignBacklog(deps) : 0
  return { ok: true, value: { handedOut } }
}

export type LoadDrift = Awaited<ReturnType<typeof staffLoadDrift>>

/**
 * Compares each staff member's kept open-ticket count (what least-load assignment reads) with the
 * real count; with `repair`, sets the kept counts right in the same transaction. The drift found.
 */
export async function checkStaffLoads(deps: Pick<Deps, 'db' | 'clock' | 'random'>, opts: { repair: boolean }): Promise<LoadDrift> {
  const outcome = await run(deps, SYSTEM, async (uow) => {
    const drift = await staffLoadDrift(uow.trx)
    if (opts.repair && drift.length > 0) await rebuildStaffLoads(uow.trx)
    return drift
  })
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}
