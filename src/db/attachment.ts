import type { Executor } from './index.js'
import { canSeeNote, canSeeTicket, type Actor } from '../domain/permissions.js'

/** The attachment if the actor may see its ticket and, for a note's file, that note. */
export async function getAttachmentForActor(db: Executor, actor: Actor, id: number) {
  const row = await db.selectFrom('attachment')
    .innerJoin('ticket', 'ticket.id', 'attachment.ticket_id')
    .leftJoin('note', 'note.id', 'attachment.note_id')
    .select([
      'attachment.id', 'attachment.filename', 'attachment.content_type', 'attachment.size', 'attachment.sha256',
      'ticket.account_id', 'ticket.contact_id', 'ticket.desk_id', 'ticket.assignee_id', 'ticket.deleted_at',
      'note.visibility'
    ])
    .where('attachment.id', '=', id)
    .executeTakeFirst()
  if (!row || !canSeeTicket(actor, row)) return undefined
  if (row.visibility !== null && !canSeeNote(actor, { visibility: row.visibility })) return undefined
  return row
}
