// Soft-delete a ticket: hidden everywhere, kept in the database, its CRM Case left as it is.
// Admins may delete; other staff only with the delete permission.
import { updateTicket } from '../db/ticket-write.js'
import { LIMITS } from '../domain/ticket.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type Who } from './kernel.js'
import { beginChange } from './ticket-access.js'

export async function deleteTicket(deps: Deps, who: Who, input: { ticketId: number; version?: number; reason?: string | null }): Promise<Outcome<{ number: number }>> {
  return run(deps, who, async (uow) => {
    const { ticket } = await beginChange(uow, input.ticketId, 'delete', { version: input.version })
    const check = new FieldCheck()
    check.text('reason', input.reason ?? '', LIMITS.reason, false)
    check.refuse()
    if (!(await updateTicket(uow.trx, ticket.id, ticket.version, { deleted_at: uow.at }, uow.at))) throw new Refused('conflict')
    await uow.history(ticket.id, { action: 'delete', note: input.reason?.trim() || null })
    return { number: ticket.number }
  })
}
