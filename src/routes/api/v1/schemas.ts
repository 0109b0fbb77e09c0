import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox'
import { LIMITS } from '../../../domain/ticket.js'
import { TRANSITION_ACTIONS } from '../../../commands/lifecycle/index.js'
import { SCOPES, SITUATIONS, SLA_FILTERS, TICKET_TYPES } from '../../../domain/search.js'
import { PRIORITIES, STATES, STATUSES } from '../../../domain/lifecycle.js'
import { SLA_STATUSES } from '../../../domain/sla.js'

// Plain `enum` / type-array schemas rather than TypeBox unions: Ajv then reports one precise
// error (and coerces predictably), and fast-json-stringify stays on its fast path.

export function StringEnum<const T extends readonly string[]>(values: T, opts: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts })
}

/** An object, or null. */
export function NullableObject<T extends TProperties>(properties: T) {
  const object = Type.Object(properties)
  return Type.Unsafe<Static<TObject<T>> | null>({ ...object, type: ['object', 'null'] })
}

export const Id = Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })
/** An id, or null to clear the field. */
export const NullableId = Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 2 ** 31 - 1 })

export const Timestamp = Type.String({ format: 'date-time' })

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    fields: Type.Optional(Type.Record(Type.String(), Type.String()))
  })
})
export type ErrorBody = Static<typeof ErrorBody>

/** The error body, with what the status means for the API's description. */
const errorAnswer = (description: string) => Type.Object(ErrorBody.properties, { description })

/** Every error a route may answer; the plugin's error handler produces them. */
export const ErrorResponses = {
  400: errorAnswer('The request is malformed: validation_error (with a message per field) or invalid_json'),
  401: errorAnswer('unauthorized: no valid API token'),
  403: errorAnswer('forbidden: the token\'s owner may not do this'),
  404: errorAnswer('not_found: no such record, or not one the caller may see'),
  409: errorAnswer('not_allowed in the ticket\'s state, or conflict: it changed since the version sent'),
  413: errorAnswer('payload_too_large'),
  415: errorAnswer('unsupported_media_type: send JSON'),
  422: errorAnswer('invalid: the values do not fit (a message per field)'),
  429: errorAnswer('rate_limited'),
  500: errorAnswer('internal_error (logged)')
}

const Ref = Type.Object({ id: Type.Integer(), name: Type.String() })

const ticketCore = {
  id: Type.Integer(),
  number: Type.Integer(),
  title: Type.String(),
  state: StringEnum(STATES),
  status: StringEnum(STATUSES),
  priority: StringEnum(PRIORITIES),
  type: StringEnum(['incident', 'request'] as const),
  source: StringEnum(['portal', 'email', 'phone', 'api', 'crm'] as const),
  account: Ref,
  contact: Type.Object({ id: Type.Integer(), name: Type.String(), email: Type.String() }),
  product: NullableObject({ id: Type.Integer(), name: Type.String() }),
  category: NullableObject({ id: Type.Integer(), name: Type.String() }),
  desk: Ref,
  assignee: NullableObject({ id: Type.Integer(), email: Type.String(), name: Type.String() }),
  sla: Type.Object({
    status: StringEnum(SLA_STATUSES),
    responseDueAt: Type.Union([Timestamp, Type.Null()]),
    resolutionDueAt: Type.Union([Timestamp, Type.Null()])
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp
}

export const TicketSummary = Type.Object(ticketCore)
export type TicketSummary = Static<typeof TicketSummary>

export const AttachmentJson = Type.Object({
  id: Type.Integer(),
  filename: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  url: Type.String()
})
export type AttachmentJson = Static<typeof AttachmentJson>

export const TicketJson = Type.Object({
  ...ticketCore,
  description: Type.String(),
  url: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer(),
  resolution: Type.Union([Type.String(), Type.Null()], { description: 'what staff wrote when resolving it' }),
  closureCategory: Type.Union([Type.String(), Type.Null()], { description: 'a closure_category code from GET /api/v1/lists, once closed' }),
  closureNote: Type.Union([Type.String(), Type.Null()]),
  attachments: Type.Array(AttachmentJson)
})
export type TicketJson = Static<typeof TicketJson>

export const NoteJson = Type.Object({
  id: Type.Integer(),
  kind: StringEnum(['description', 'reply', 'note', 'occurrence', 'message', 'internal', 'system'] as const),
  visibility: StringEnum(['public', 'internal'] as const),
  body: Type.String(),
  author: Type.Object({
    type: StringEnum(['contact', 'staff', 'system'] as const),
    name: Type.Union([Type.String(), Type.Null()])
  }),
  createdAt: Timestamp,
  occurrenceCategory: Type.Union([Type.String(), Type.Null()], { description: 'occurrences: an occurrence_category code from GET /api/v1/lists' }),
  occurrenceOrigin: Type.Union([Type.String(), Type.Null()], { description: 'occurrences: an occurrence_origin code from GET /api/v1/lists' }),
  occurredAt: Type.Union([Timestamp, Type.Null()], { description: 'occurrences: when it happened' }),
  attachments: Type.Array(AttachmentJson)
})
export type NoteJson = Static<typeof NoteJson>

/** A reply to a closed ticket opens a new ticket linked to it instead of adding a note. */
export const NoteOrOpenedTicket = Type.Union([NoteJson, Type.Object({ openedTicket: TicketJson })])

export const TicketWithNotes = Type.Object({ ...TicketJson.properties, notes: Type.Array(NoteJson) })

export const TicketParams = Type.Object({ id: Id })

export const SORT_PARAMS = ['createdAt', 'updatedAt', 'number', 'priority', 'title', 'closedAt'] as const

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a calendar day, YYYY-MM-DD (UTC), inclusive' })

/** The advanced search: the same filters as the portal and desk pages (src/domain/search.ts). */
export const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, description: 'words in the title or description, or #number' })),
  title: Type.Optional(Type.String({ maxLength: 200, description: 'words in the title' })),
  number: Type.Optional(Type.Integer({ minimum: 1 })),
  openedFrom: Type.Optional(Day),
  openedTo: Type.Optional(Day),
  closedFrom: Type.Optional(Day),
  closedTo: Type.Optional(Day),
  state: Type.Optional(StringEnum(STATES)),
  status: Type.Optional(StringEnum(STATUSES, { description: 'a current status; rejected (never a current status): the tickets whose solution was rejected at least once' })),
  situation: Type.Optional(StringEnum(SITUATIONS, { description: 'status group; waiting = resolved, pending the requester\'s review' })),
  deskId: Type.Optional(Id),
  type: Type.Optional(StringEnum(TICKET_TYPES, { description: 'service catalog' })),
  areaId: Type.Optional(Id),
  itemId: Type.Optional(Id),
  productId: Type.Optional(Id),
  priority: Type.Optional(StringEnum(PRIORITIES)),
  assigneeId: Type.Optional(Type.String({ pattern: '^(none|[1-9][0-9]{0,11})$', description: 'staff only: a staff id or none' })),
  requesterId: Type.Optional(Id),
  accountId: Type.Optional(Id),
  sla: Type.Optional(StringEnum(SLA_FILTERS)),
  scope: Type.Optional(StringEnum(SCOPES, { description: 'staff only' })),
  sort: Type.Optional(StringEnum(SORT_PARAMS)),
  order: Type.Optional(StringEnum(['asc', 'desc'] as const)),
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  perPage: Type.Integer({ minimum: 1, maximum: 100, default: 20 })
})

export const TicketList = Type.Object({
  items: Type.Array(TicketSummary),
  total: Type.Integer(),
  totalCapped: Type.Boolean({ description: 'true when there are more matches than `total` counts' }),
  page: Type.Integer(),
  perPage: Type.Integer()
})

// Request bodies name every property they take: anything else is refused (400), never ignored.
export const NewTicketBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: LIMITS.title }),
  description: Type.String({ minLength: 1, maxLength: LIMITS.description }),
  url: Type.Optional(Type.String({ maxLength: LIMITS.url })),
  accountId: Type.Optional(Id),
  contactId: Type.Optional(Id),
  productId: Type.Optional(Id),
  categoryId: Type.Optional(Id),
  deskId: Type.Optional(Id),
  priority: Type.Optional(StringEnum(PRIORITIES))
}, { additionalProperties: false })

export const NewNoteBody = Type.Object({
  body: Type.String({ minLength: 1, maxLength: LIMITS.note }),
  visibility: Type.Optional(StringEnum(['public', 'internal'] as const))
}, { additionalProperties: false })

export const TransitionBody = Type.Object({
  action: StringEnum(TRANSITION_ACTIONS),
  reason: Type.Optional(Type.String({ maxLength: LIMITS.note })),
  reasonCode: Type.Optional(Type.String({ maxLength: LIMITS.label, description: 'cancel: a cancellation_reason code from GET /api/v1/lists' })),
  resolution: Type.Optional(Type.String({ maxLength: LIMITS.note })),
  closureCategory: Type.Optional(Type.String({ maxLength: LIMITS.label, description: 'close: a closure_category code from GET /api/v1/lists' })),
  closureNote: Type.Optional(Type.String({ maxLength: LIMITS.note })),
  targetDeskId: Type.Optional(Id),
  version: Type.Optional(Type.Integer({ minimum: 0, description: 'the version you read; 409 when the ticket changed since' }))
}, { additionalProperties: false })

export const TransferBody = Type.Object({
  assigneeId: Type.Optional(NullableId),
  accountId: Type.Optional(Id),
  productId: Type.Optional(NullableId),
  note: Type.Optional(Type.String({ maxLength: LIMITS.note })),
  version: Type.Optional(Type.Integer({ minimum: 0, description: 'the version you read; 409 when the ticket changed since' }))
}, { additionalProperties: false })
