import type { TicketListItem } from '../../../db/ticket-search.js'
import type { Note } from '../../../db/schema.js'
import { slaStatus } from '../../../domain/sla.js'
import type { AttachmentJson, NoteJson, TicketJson, TicketSummary } from './schemas.js'

type Row = TicketListItem
type DetailRow = Row & {
  description: string; url: string | null; version: number; resolution: string | null; closure_category: string | null; closure_note: string | null
}
interface AttachmentRow { id: number; filename: string; content_type: string; size: number }

export function attachmentJson(a: AttachmentRow): AttachmentJson {
  return { id: a.id, filename: a.filename, contentType: a.content_type, size: a.size, url: `/api/v1/attachments/${a.id}` }
}

export function ticketSummary(r: Row, now: Date = new Date()): TicketSummary {
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    state: r.state as TicketSummary['state'],
    status: r.status as TicketSummary['status'],
    priority: r.priority,
    type: r.ticket_type,
    source: r.source,
    account: { id: r.account_id, name: r.account_name ?? '' },
    contact: { id: r.contact_id, name: r.contact_name ?? '', email: r.contact_email ?? '' },
    product: r.product_id === null ? null : { id: r.product_id, name: r.product_name ?? '' },
    category: r.category_id === null ? null : { id: r.category_id, name: r.category_name ?? '' },
    desk: { id: r.desk_id, name: r.desk_name ?? '' },
    assignee: r.assignee_id === null ? null : { id: r.assignee_id, email: r.assignee_email ?? '', name: r.assignee_name ?? '' },
    sla: { status: slaStatus(r, now), responseDueAt: r.response_due_at, resolutionDueAt: r.resolution_due_at },
    createdAt: r.created_at,
    updatedAt: r.updated_at
  }
}

export function ticketJson(r: DetailRow, attachments: AttachmentRow[] = []): TicketJson {
  return {
    ...ticketSummary(r), description: r.description, url: r.url, version: r.version,
    resolution: r.resolution, closureCategory: r.closure_category, closureNote: r.closure_note, attachments: attachments.map(attachmentJson)
  }
}

type NoteRow = Pick<Note, 'id' | 'kind' | 'visibility' | 'body' | 'author_staff_id' | 'author_contact_id' | 'author_name' | 'created_at' | 'category' | 'origin' | 'occurred_at'>

export function noteJson(n: NoteRow, attachments: AttachmentRow[] = []): NoteJson {
  const type = n.author_staff_id !== null ? 'staff' : n.author_contact_id !== null ? 'contact' : 'system'
  return {
    id: n.id, kind: n.kind, visibility: n.visibility, body: n.body,
    author: { type, name: n.author_name },
    createdAt: n.created_at, occurrenceCategory: n.category, occurrenceOrigin: n.origin, occurredAt: n.occurred_at,
    attachments: attachments.map(attachmentJson)
  }
}
