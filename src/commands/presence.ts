/**
 * Who has a ticket's page open, and what they are doing there ("Bruno is viewing / is replying"),
 * for the desk's live ticket page; and the upkeep of the change feed those pages follow. A row
 * lives while its page's stream does: its web process refreshes all of its rows at once, and a
 * row whose process stopped refreshing (it died) is cleared by any other.
 */
import { deletePresence, deleteStalePresence, insertPresence, pruneLive, refreshPresence, setPresenceActivity, ticketScope, type PresenceActivity } from '../db/live.js'
import { canSeeTicket } from '../domain/permissions.js'
import { Refused, run, SYSTEM, type Deps, type Outcome, type Who } from './kernel.js'

type PresenceDeps = Pick<Deps, 'db' | 'clock' | 'random'>

/** A staff member opened the ticket's page (its stream): they show as viewing it. */
export async function enterPresence(deps: PresenceDeps, who: Who, input: { ticketId: number; process: string }): Promise<Outcome<{ presenceId: number }>> {
  return run(deps, who, async (uow) => {
    const actor = who.person
    if (!actor || actor.kind !== 'staff') throw new Refused('forbidden')
    const ticket = await ticketScope(uow.trx, input.ticketId)
    if (!ticket || !canSeeTicket(actor, ticket)) throw new Refused('not_found')
    return { presenceId: await insertPresence(uow.trx, { ticketId: ticket.id, staffId: actor.id, name: actor.name, process: input.process, at: uow.at }) }
  })
}

/** They started (or stopped) writing in the page's composer. */
export async function setActivity(deps: PresenceDeps, who: Who, input: { presenceId: number; activity: PresenceActivity }): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    const actor = who.person
    if (!actor || actor.kind !== 'staff') throw new Refused('forbidden')
    if (!(await setPresenceActivity(uow.trx, input.presenceId, actor.id, input.activity, uow.at))) throw new Refused('not_found')
  })
}

/** Their page's stream ended (closed, navigated away, connection lost). */
export async function leavePresence(deps: PresenceDeps, input: { presenceId: number }): Promise<Outcome<void>> {
  return run(deps, SYSTEM, async (uow) => {
    await deletePresence(uow.trx, input.presenceId)
  })
}

/**
 * A web process's periodic upkeep: its open pages' rows stay current, rows of a process that
 * stopped refreshing before `staleBefore` go, and changes every process has read (up to
 * `pruneThrough`, when given) are forgotten.
 */
export async function keepLive(deps: PresenceDeps, input: { process: string; hasRows: boolean; staleBefore: string; pruneThrough: number | null }): Promise<Outcome<{ stale: number; pruned: number }>> {
  return run(deps, SYSTEM, async (uow) => {
    if (input.hasRows) await refreshPresence(uow.trx, input.process, uow.at)
    const stale = await deleteStalePresence(uow.trx, input.staleBefore)
    const pruned = input.pruneThrough === null ? 0 : await pruneLive(uow.trx, input.pruneThrough)
    return { stale, pruned }
  })
}
