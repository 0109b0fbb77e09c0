import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'
import type { State, Status } from '../domain/lifecycle.js'
import type { NotificationKind } from '../domain/notifications.js'
import type { KbAudience, KbState } from '../domain/kb.js'

/** Timestamps are ISO-8601 UTC strings: sortable and shared by SQLite and PostgreSQL. */
export type Timestamp = string
/** Flags are 0/1 integers, the boolean both dialects store the same way. */
export type Flag = number

type Id = Generated<number>
type CreatedAt = ColumnType<Timestamp, Timestamp | undefined, never>

export interface AccountTable {
  id: Id
  name: string
  crm_id: string | null
  /** Off: a contract ended; its contacts read their tickets and open no new ones on it. */
  active: ColumnType<Flag, Flag | undefined, Flag>
  created_at: CreatedAt
}

export interface ContactTable {
  id: Id
  name: string
  email: string
  password_hash: string | null
  locale: string | null
  phone: string | null
  manager_contact_id: number | null
  crm_id: string | null
  active: ColumnType<Flag, Flag | undefined, Flag>
  /** The contact this one was merged into (the same person entered twice); null for most. */
  merged_into_id: ColumnType<number | null, number | null | undefined, number | null>
  created_at: CreatedAt
}

/** Which accounts a contact belongs to; a manager sees every ticket of that account. */
export interface ContactAccountTable {
  contact_id: number
  account_id: number
  is_manager: ColumnType<Flag, Flag | undefined, Flag>
}

export type StaffRole = 'staff' | 'admin'

export interface StaffTable {
  id: Id
  name: string
  email: string
  password_hash: string | null
  role: StaffRole
  available: ColumnType<Flag, Flag | undefined, Flag>
  can_delete: ColumnType<Flag, Flag | undefined, Flag>
  hourly_rate_cents: ColumnType<number, number | undefined, number>
  manager_id: number | null
  locale: string | null
  crm_user_id: string | null
  active: ColumnType<Flag, Flag | undefined, Flag>
  /** Base32 TOTP secret; set while being enrolled, kept once `totp_enabled_at` is set. */
  totp_secret: ColumnType<string | null, string | null | undefined, string | null>
  totp_enabled_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>
  totp_last_step: ColumnType<number | null, number | null | undefined, number | null>
  /** Open tickets assigned to them, kept by triggers on ticket (migration 20261206100000): least-load reads it. */
  open_tickets: ColumnType<number, number | undefined, number>
  /** Works every desk's tickets (a supervisor) without being an admin (migration 20261209120000). */
  all_desks: ColumnType<Flag, Flag | undefined, Flag>
  created_at: CreatedAt
}

export interface DeskTable {
  id: Id
  name: string
  manager_id: number | null
  /** Business hours its SLA targets count in; null: calendar time. */
  calendar_id: ColumnType<number | null, number | null | undefined, number | null>
  /** Days before its resolved tickets close; null: the service setting. */
  auto_close_days: ColumnType<number | null, number | null | undefined, number | null>
  /** Its own address: mail to it opens tickets on this desk. */
  email_alias: ColumnType<string | null, string | null | undefined, string | null>
  /** The desk new mail goes to when its addresses name no desk (one at most). */
  inbound_default: ColumnType<Flag, Flag | undefined, Flag>
  created_at: CreatedAt
}

export interface BusinessCalendarTable {
  id: Id
  name: string
  time_zone: string
  /** JSON: ISO weekday to [start, end) minutes after local midnight. */
  week: string
  created_at: CreatedAt
  updated_at: Timestamp
}

export interface BusinessHolidayTable {
  id: Id
  calendar_id: number
  /** YYYY-MM-DD in the calendar's zone. */
  day: string
  name: string
}

export interface DeskMemberTable {
  desk_id: number
  staff_id: number
}

/** A staff member with rows here only serves these products; none means every product of the desk. */
export interface StaffProductTable {
  staff_id: number
  product_id: number
}

/** The service catalog areas a staff member serves (none: every area of their desks). */
export interface StaffCategoryTable {
  staff_id: number
  category_id: number
}

export interface ProductTable {
  id: Id
  name: string
  code: string | null
  crm_id: string | null
  active: ColumnType<Flag, Flag | undefined, Flag>
  created_at: CreatedAt
}

export type TicketType = 'incident' | 'request'

/** Service catalog: areas (parent_id null) holding items. */
export interface CategoryTable {
  id: Id
  parent_id: number | null
  name: string
  ticket_type: TicketType
  requires_approval: ColumnType<Flag, Flag | undefined, Flag>
  /** With requires_approval: approved at once (a history row says so) instead of by the requester's manager. */
  auto_approve: ColumnType<Flag, Flag | undefined, Flag>
  active: ColumnType<Flag, Flag | undefined, Flag>
  /** An item's tickets' priority when whoever opens one does not choose; null: medium. */
  default_priority: ColumnType<Priority | null, Priority | null | undefined, Priority | null>
  created_at: CreatedAt
}

export interface DeskProductTable {
  desk_id: number
  product_id: number
}

export interface DeskCategoryTable {
  desk_id: number
  category_id: number
}

export type Priority = 'low' | 'medium' | 'high' | 'critical'
export type Level = 'low' | 'medium' | 'high'
export type TicketSource = 'portal' | 'email' | 'phone' | 'api' | 'crm'

export interface TicketTable {
  id: Id
  number: number
  title: string
  description: string
  url: string | null
  ticket_type: TicketType
  account_id: number
  contact_id: number
  created_by_staff_id: number | null
  product_id: number | null
  category_id: number | null
  desk_id: number
  impact: Level | null
  urgency: Level | null
  priority: Priority
  source: TicketSource
  state: State
  status: Status
  assignee_id: number | null
  parent_id: number | null
  response_due_at: Timestamp | null
  resolution_due_at: Timestamp | null
  first_response_at: Timestamp | null
  sla_paused_at: Timestamp | null
  sla_paused_ms: ColumnType<number, number | undefined, number>
  /** When it counts as at risk (set with the due times); null on tickets from before: the share of calendar time. */
  sla_at_risk_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>
  resolution: string | null
  resolved_at: Timestamp | null
  closure_category: string | null
  closure_note: string | null
  closed_at: Timestamp | null
  cancel_reason: string | null
  /** The cancellation reason chosen from the managed list, if any (its text stays in cancel_reason). */
  cancel_reason_code: ColumnType<string | null, string | null | undefined, string | null>
  reopen_count: ColumnType<number, number | undefined, number>
  crm_case_id: string | null
  crm_case_number: string | null
  deleted_at: Timestamp | null
  version: ColumnType<number, number | undefined, number>
  sla_alert: ColumnType<string | null, string | null | undefined, string | null>
  /** When the SLA job next looks at the ticket (kept by src/db/ticket-write.ts from the SLA columns). */
  sla_watch_at: ColumnType<string | null, string | null | undefined, string | null>
  created_at: CreatedAt
  updated_at: Timestamp
}

/** 'note': a staff note shown to the requester (from 2026-12; earlier ones were stored as 'reply'). */
export type NoteKind = 'description' | 'reply' | 'note' | 'occurrence' | 'message' | 'internal' | 'system'
export type Visibility = 'public' | 'internal'

export interface NoteTable {
  id: Id
  ticket_id: number
  kind: NoteKind
  visibility: Visibility
  body: string
  author_staff_id: number | null
  author_contact_id: number | null
  author_name: string | null
  source: TicketSource
  send_email: ColumnType<Flag, Flag | undefined, Flag>
  occurred_at: Timestamp | null
  minutes_spent: number | null
  category: string | null
  origin: string | null
  crm_comment_id: ColumnType<string | null, string | null | undefined, string | null>
  /** The whole text of the e-mail a note came from, quoted history included, when it differs from `body`. */
  original_text: ColumnType<string | null, string | null | undefined, string | null>
  created_at: CreatedAt
}

export interface AttachmentTable {
  id: Id
  ticket_id: number
  note_id: number | null
  filename: string
  content_type: string
  size: number
  sha256: string
  created_at: CreatedAt
}

export type ActorType = 'contact' | 'staff' | 'system' | 'crm' | 'email'

export interface TicketEventTable {
  id: Id
  ticket_id: number
  actor_type: ActorType
  actor_id: number | null
  actor_name: string | null
  action: string
  field: string | null
  from_value: string | null
  to_value: string | null
  note: string | null
  created_at: CreatedAt
}

export interface ApiTokenTable {
  id: Id
  token_hash: string
  staff_id: number | null
  contact_id: number | null
  name: string | null
  last_used_at: Timestamp | null
  revoked_at: Timestamp | null
  expires_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>
  created_at: CreatedAt
}

export interface WebSessionTable {
  id: Id
  token_hash: string
  staff_id: number | null
  contact_id: number | null
  created_at: Timestamp
  last_seen_at: Timestamp
  user_agent: string | null
  ip: string | null
  second_factor_pending: ColumnType<Flag, Flag | undefined, Flag>
  ended_at: Timestamp | null
  ended_reason: string | null
}

export type SecurityEventKind =
  | 'login' | 'login_failed' | 'login_throttled' | 'logout' | 'password_changed' | 'password_reset_requested' | 'password_reset'
  | 'invitation_sent' | 'invitation_accepted' | 'session_revoked' | 'sessions_revoked' | 'token_created' | 'token_revoked'
  | 'two_factor_enabled' | 'two_factor_disabled' | 'two_factor_failed' | 'recovery_code_used' | 'recovery_codes_renewed'
  | 'account_disabled' | 'account_enabled'

export interface SecurityEventTable {
  id: Id
  kind: SecurityEventKind
  staff_id: number | null
  contact_id: number | null
  email: string | null
  ip: string | null
  user_agent: string | null
  detail: string | null
  created_at: Timestamp
}

/** One administration change (migration 20261207090000): `changes` is JSON, {"field": [before, after]}. */
export interface AdminAuditTable {
  id: Id
  actor_type: ActorType
  actor_id: number | null
  actor_name: string | null
  entity: string
  entity_id: number | null
  action: string
  label: string | null
  changes: string
  created_at: Timestamp
}

export interface ThrottleTable {
  key: string
  hits: number
  resets_at: Timestamp
}

export type AccountLinkPurpose = 'reset' | 'invite'

export interface AccountLinkTable {
  id: Id
  purpose: AccountLinkPurpose
  token_hash: string
  staff_id: number | null
  contact_id: number | null
  created_at: Timestamp
  expires_at: Timestamp
  used_at: Timestamp | null
}

export interface RecoveryCodeTable {
  id: Id
  staff_id: number
  code_hash: string
  used_at: Timestamp | null
  created_at: Timestamp
}

/** Claimed and running; its command committed (the outcome is kept) but no answer yet; answered. */
export type IdempotencyStatus = 'in_flight' | 'committed' | 'done'

/** A POST the JSON API answered for an Idempotency-Key, per API token: replayed to a retry for 24 hours. */
export interface ApiIdempotencyTable {
  id: Id
  token_id: number
  idempotency_key: string
  /** sha256 (hex) of the method, the path and the body: the same key for another request is refused. */
  fingerprint: string
  status: IdempotencyStatus
  response_status: number | null
  /** The headers replayed with the body (JSON): content-type, location. */
  response_headers: string | null
  response_body: string | null
  /** The command's result (JSON), written in its transaction: what a retry is answered from if no answer was recorded. */
  outcome: string | null
  created_at: Timestamp
  completed_at: Timestamp | null
}

export interface CounterTable {
  name: string
  value: number
}

export interface SettingTable {
  key: string
  value: string
}

/** An item of a managed list (src/domain/managed-lists.ts): a stable code and a label per language. */
export interface ListItemTable {
  id: Generated<number>
  list: string
  code: string
  label_en: string
  label_pt: string
  active: ColumnType<number, number | undefined, number>
  position: ColumnType<number, number | undefined, number>
  created_at: Timestamp
  updated_at: Timestamp
}

/** A reply template (src/domain/canned.ts): personal (desk_id null) or shared with a desk. */
export interface CannedResponseTable {
  id: Generated<number>
  owner_staff_id: number
  desk_id: number | null
  title: string
  body_en: string
  body_pt: string
  created_at: Timestamp
  updated_at: Timestamp
}

/** One committed change the live pages follow (written by triggers: migration 20261213090000). */
export interface LiveEventTable {
  id: Generated<number>
  ticket_id: number
  desk_id: number | null
  kind: 'ticket' | 'note' | 'presence' | 'notification'
  audience: 'public' | 'staff'
  /** Whose bell changed (kind 'notification'; migration 20261218090000). */
  staff_id: ColumnType<number | null, number | null | undefined, number | null>
}

/** A staff member with a ticket's page open (one row per open page), kept by its web process. */
export interface TicketPresenceTable {
  id: Generated<number>
  ticket_id: number
  staff_id: number
  staff_name: string
  activity: 'viewing' | 'replying'
  /** The web process holding the page's stream: it refreshes seen_at for all its rows at once. */
  process: string
  seen_at: Timestamp
}

/** One thing a staff member is told about (the bell, /desk/notifications); read_at null: unread. */
export interface NotificationTable {
  id: Generated<number>
  staff_id: number
  kind: NotificationKind
  ticket_id: number
  /** Who caused it, as named then; null: routing or a job. */
  actor_name: string | null
  /** A code that completes the kind (an SLA level, an approval decision). */
  detail: string | null
  /** The start of the note that caused it (a reply, a mention). */
  excerpt: string | null
  created_at: Timestamp
  read_at: Timestamp | null
}

/** A staff member's choice of e-mail for one kind; no row: the kind's default. */
export interface NotificationPrefTable {
  staff_id: number
  kind: NotificationKind
  email: Flag
}

/** A staff member's last queue search, as its canonical query string ('' : the defaults). */
export interface QueuePrefTable {
  staff_id: number
  query: string
  updated_at: Timestamp
}

/** A saved queue search: personal (desk_id null) or shared with a desk (src/domain/queue-views.ts). */
export interface QueueViewTable {
  id: Generated<number>
  owner_staff_id: number
  desk_id: number | null
  name: string
  query: string
  created_at: Timestamp
  updated_at: Timestamp
}

/** A bulk action run by the worker (src/db/bulk-jobs.ts), claimed under a lease like an export. */
export interface BulkJobTable {
  id: Generated<number>
  staff_id: number
  action: string
  /** JSON: the action's inputs (src/domain/bulk.ts BulkParams). */
  params: string
  total: number
  status: 'queued' | 'running' | 'done' | 'failed'
  holder: string | null
  lease_until: string | null
  attempts: ColumnType<number, number | undefined, number>
  error: string | null
  created_at: Timestamp
  started_at: Timestamp | null
  finished_at: Timestamp | null
}

/** One ticket of a bulk job; outcome null: still to do. */
export interface BulkItemTable {
  id: Generated<number>
  job_id: number
  position: number
  ticket_id: number
  number: number
  title: string
  outcome: 'done' | 'unchanged' | 'refused' | null
  /** JSON: the refusal (code, fields, params), translated when shown. */
  refusal: string | null
}

export interface SlaPolicyTable {
  priority: Priority
  response_minutes: number
  resolution_minutes: number
  updated_at: Timestamp
}

/** A catalog item's own targets for one priority, in place of sla_policy's. */
export interface SlaItemPolicyTable {
  category_id: number
  priority: Priority
  response_minutes: number
  resolution_minutes: number
  updated_at: Timestamp
}

export interface ChecklistItemTable {
  id: Id
  ticket_id: number
  label: string
  done: ColumnType<Flag, Flag | undefined, Flag>
  position: ColumnType<number, number | undefined, number>
  created_by_staff_id: number | null
  done_by_staff_id: number | null
  done_at: Timestamp | null
  created_at: CreatedAt
}

export interface CostItemTable {
  id: Id
  ticket_id: number
  description: string
  amount_cents: number
  staff_id: number | null
  created_at: CreatedAt
}

export interface SurveyTable {
  ticket_id: number
  contact_id: number
  rating: number
  comment: string | null
  created_at: CreatedAt
}

export type MailStatus = 'pending' | 'sent' | 'dead'

/** Notifications owed; the worker delivers them (SMTP) with retries. */
export interface MailOutboxTable {
  id: Id
  ticket_id: number | null
  recipient: string
  locale: ColumnType<string, string | undefined, string>
  template: string
  data: string
  status: ColumnType<MailStatus, MailStatus | undefined, MailStatus>
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp
  last_error: string | null
  sent_at: Timestamp | null
  /** Fixed when queued: the Message-ID's unique part, the same on every attempt. */
  message_key: string | null
  created_at: CreatedAt
}

export interface JobLeaseTable {
  name: string
  holder: string
  expires_at: Timestamp
}

export type CrmOutboxKind = 'case' | 'comment'

/** One row per worker process: alive (beat_at), what it runs with, minus secrets (settings, JSON). */
export interface WorkerHeartbeatTable {
  holder: string
  role: string
  host: string
  pid: number
  version: string
  settings: string
  started_at: Timestamp
  beat_at: Timestamp
  /** What the worker counted since it started (JSON, WorkerStats); null from workers that predate it. */
  stats: ColumnType<string | null, string | null | undefined, string | null>
}

/** A file kept in the database (FILE_STORE=db): an attachment by its SHA-256, an export by its file name. */
export interface StoredBlobTable {
  kind: 'attachment' | 'export'
  key: string
  sha256: string
  size: number
  bytes: Buffer
  created_at: Timestamp
}

export interface CrmOutboxTable {
  id: Id
  ticket_id: number
  kind: CrmOutboxKind
  note_id: number | null
  status: ColumnType<'pending' | 'done' | 'dead', 'pending' | 'done' | 'dead' | undefined, 'pending' | 'done' | 'dead'>
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp
  last_error: string | null
  created_at: CreatedAt
  done_at: Timestamp | null
}

/** An account or contact the CRM is owed (src/db/crm-people.ts). */
export interface CrmPeopleOutboxTable {
  id: Id
  entity: 'account' | 'contact'
  entity_id: number
  status: ColumnType<'pending' | 'done' | 'dead', 'pending' | 'done' | 'dead' | undefined, 'pending' | 'done' | 'dead'>
  attempts: ColumnType<number, number | undefined, number>
  next_attempt_at: Timestamp
  last_error: string | null
  created_at: CreatedAt
  done_at: Timestamp | null
}

export interface CrmShadowTable {
  ticket_id: number
  field: string
  value: string | null
  synced_at: Timestamp
}

export interface SyncStateTable {
  key: string
  value: string
  updated_at: Timestamp
}

/** IMAP sync state per mailbox (UIDVALIDITY and MODSEQ are 64-bit: kept as text). */
export interface MailboxStateTable {
  mailbox: string
  uid_validity: string
  next_uid: number
  highest_modseq: string | null
  last_run_at: Timestamp | null
  updated_at: Timestamp
}

export type InboundResult = 'note' | 'ticket' | 'quarantined' | 'ignored'

/** One row per incoming message decided on; unique by Message-ID and by mailbox/UIDVALIDITY/UID. */
export interface InboundMessageTable {
  id: Id
  mailbox: string
  uid_validity: string
  uid: number
  message_id: string
  result: InboundResult
  ticket_id: number | null
  note_id: number | null
  quarantine_id: number | null
  sender: string | null
  moved_at: Timestamp | null
  created_at: CreatedAt
}

/** A message that could not become a note; the raw message is kept in the attachment store. */
export interface MailQuarantineTable {
  id: Id
  mailbox: string
  uid_validity: string
  uid: number
  message_id: string | null
  reason_code: string
  reason_text: string | null
  from_address: string | null
  subject: string | null
  ticket_id: number | null
  raw_sha256: string | null
  raw_size: ColumnType<number, number | undefined, number>
  created_at: CreatedAt
  released_at: Timestamp | null
  released_by_staff_id: number | null
}

export type ExportStatus = 'queued' | 'running' | 'done' | 'failed' | 'expired'
export type ExportArea = 'portal' | 'desk'

/** A search result exported to XLSX by the worker; owned by one staff member or one contact. */
export interface ExportJobTable {
  id: Id
  staff_id: number | null
  contact_id: number | null
  area: ExportArea
  /** The search as its URL query (domain/search.ts), read again when the job runs. */
  query: string
  locale: string
  status: ColumnType<ExportStatus, ExportStatus | undefined, ExportStatus>
  rows_done: ColumnType<number, number | undefined, number>
  rows_total: number | null
  /** Random name of the file on disk, so file names cannot be guessed from ids. */
  file_key: string
  file_path: string | null
  file_size: number | null
  holder: string | null
  lease_until: Timestamp | null
  attempts: ColumnType<number, number | undefined, number>
  error: string | null
  expires_at: Timestamp | null
  created_at: Timestamp
  started_at: Timestamp | null
  finished_at: Timestamp | null
}

export type ApprovalDecision = 'approved' | 'rejected' | 'expired' | 'superseded'

/** One approval link sent to a requester's manager; decided_at makes it single-use. */
export interface ApprovalTable {
  id: Id
  ticket_id: number
  approver_contact_id: number
  /** SHA-256 of the random nonce the link's signed token carries. */
  nonce_hash: string
  expires_at: Timestamp
  requested_by_staff_id: number | null
  decided_at: Timestamp | null
  decision: ApprovalDecision | null
  reason: string | null
  created_at: CreatedAt
}

/** A knowledge-base category (migration 20261220090000): a tree by parent_id. */
export interface KbCategoryTable {
  id: Generated<number>
  parent_id: number | null
  slug: string
  name_en: string
  name_pt: string
  position: ColumnType<number, number | undefined, number>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface KbArticleTable {
  id: Generated<number>
  translation_of: number | null
  language: string
  slug: string
  title: string
  /** Markdown, as staff wrote it. */
  body: string
  /** Sanitized HTML, rendered from body when saved (and sanitized again when shown). */
  body_html: string
  /** Plain text, for search and excerpts. */
  body_text: string
  /** The tags, normalized, comma separated (kb_article_tag holds one row each). */
  tags: ColumnType<string, string | undefined, string>
  category_id: number | null
  audience: KbAudience
  state: KbState
  author_staff_id: number
  reviewer_staff_id: number | null
  source_ticket_id: number | null
  version: ColumnType<number, number | undefined, number>
  views: ColumnType<number, number | undefined, number>
  helpful: ColumnType<number, number | undefined, number>
  not_helpful: ColumnType<number, number | undefined, number>
  deflections: ColumnType<number, number | undefined, number>
  published_at: Timestamp | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface KbArticleAccountTable {
  article_id: number
  account_id: number
}

export interface KbArticleTagTable {
  article_id: number
  tag: string
}

export interface KbArticleVersionTable {
  id: Generated<number>
  article_id: number
  version: number
  title: string
  body: string
  tags: string
  category_id: number | null
  audience: KbAudience
  author_staff_id: number
  note: string | null
  created_at: Timestamp
}

export interface KbArticleTicketTable {
  article_id: number
  ticket_id: number
  created_at: Timestamp
}

export interface KbRelatedTable {
  article_id: number
  related_id: number
}

export interface KbFeedbackTable {
  id: Generated<number>
  article_id: number
  contact_id: number | null
  helpful: number
  comment: string | null
  created_at: Timestamp
  /** When the vote was last cast or changed (migration 20261222100000). */
  updated_at: ColumnType<string | null, string | null | undefined, string | null>
}

/** A file of an article (migration 20261222090000), kept in the file store by its SHA-256. */
export interface KbAttachmentTable {
  id: Generated<number>
  article_id: number
  filename: string
  content_type: string
  size: number
  sha256: string
  staff_id: number
  created_at: Timestamp
}

export interface KbSearchTable {
  id: Generated<number>
  query: string
  results: number
  origin: string
  created_at: Timestamp
  /** The web session and client that searched (migration 20261222100000); null for other origins. */
  session_id: ColumnType<number | null, number | null | undefined, number | null>
  contact_id: ColumnType<number | null, number | null | undefined, number | null>
}

/** A client's view of an article (migration 20261222100000): counted once per session and article an hour. */
export interface KbArticleViewTable {
  id: Generated<number>
  article_id: number
  contact_id: number
  session_id: number | null
  viewed_at: Timestamp
}

/** An article opened from the new-ticket form's suggestions: a deflection unless a ticket follows. */
export interface KbSuggestionVisitTable {
  id: Generated<number>
  article_id: number
  contact_id: number
  session_id: number | null
  opened_at: Timestamp
  outcome: 'deflected' | 'ticket_opened'
  ticket_id: number | null
  decided_at: Timestamp | null
}

/** The new-ticket form's text kept while its client reads suggestions (one per session). */
export interface KbTicketDraftTable {
  id: Generated<number>
  contact_id: number
  session_id: number
  /** JSON: the form's fields as posted. */
  fields: string
  saved_at: Timestamp
}

export interface Database {
  mailbox_state: MailboxStateTable
  inbound_message: InboundMessageTable
  mail_quarantine: MailQuarantineTable
  account: AccountTable
  contact: ContactTable
  contact_account: ContactAccountTable
  staff: StaffTable
  desk: DeskTable
  desk_member: DeskMemberTable
  staff_product: StaffProductTable
  staff_category: StaffCategoryTable
  product: ProductTable
  category: CategoryTable
  desk_product: DeskProductTable
  desk_category: DeskCategoryTable
  ticket: TicketTable
  note: NoteTable
  attachment: AttachmentTable
  ticket_event: TicketEventTable
  api_token: ApiTokenTable
  web_session: WebSessionTable
  security_event: SecurityEventTable
  admin_audit: AdminAuditTable
  throttle: ThrottleTable
  account_link: AccountLinkTable
  recovery_code: RecoveryCodeTable
  api_idempotency: ApiIdempotencyTable
  counter: CounterTable
  setting: SettingTable
  list_item: ListItemTable
  canned_response: CannedResponseTable
  kb_category: KbCategoryTable
  kb_article: KbArticleTable
  kb_article_account: KbArticleAccountTable
  kb_article_tag: KbArticleTagTable
  kb_article_version: KbArticleVersionTable
  kb_article_ticket: KbArticleTicketTable
  kb_related: KbRelatedTable
  kb_feedback: KbFeedbackTable
  kb_search: KbSearchTable
  kb_article_view: KbArticleViewTable
  kb_suggestion_visit: KbSuggestionVisitTable
  kb_ticket_draft: KbTicketDraftTable
  kb_attachment: KbAttachmentTable
  queue_pref: QueuePrefTable
  queue_view: QueueViewTable
  notification: NotificationTable
  notification_pref: NotificationPrefTable
  live_event: LiveEventTable
  ticket_presence: TicketPresenceTable
  bulk_job: BulkJobTable
  bulk_item: BulkItemTable
  sla_policy: SlaPolicyTable
  sla_item_policy: SlaItemPolicyTable
  business_calendar: BusinessCalendarTable
  business_holiday: BusinessHolidayTable
  checklist_item: ChecklistItemTable
  cost_item: CostItemTable
  survey: SurveyTable
  mail_outbox: MailOutboxTable
  job_lease: JobLeaseTable
  worker_heartbeat: WorkerHeartbeatTable
  crm_outbox: CrmOutboxTable
  crm_people_outbox: CrmPeopleOutboxTable
  crm_shadow: CrmShadowTable
  sync_state: SyncStateTable
  approval: ApprovalTable
  export_job: ExportJobTable
  stored_blob: StoredBlobTable
}

export type Account = Selectable<AccountTable>
export type Contact = Selectable<ContactTable>
export type Staff = Selectable<StaffTable>
export type Desk = Selectable<DeskTable>
export type Product = Selectable<ProductTable>
export type Category = Selectable<CategoryTable>
export type Ticket = Selectable<TicketTable>
export type NewTicket = Insertable<TicketTable>
export type Note = Selectable<NoteTable>
export type NewNote = Insertable<NoteTable>
export type Attachment = Selectable<AttachmentTable>
export type TicketEvent = Selectable<TicketEventTable>
export type NewTicketEvent = Insertable<TicketEventTable>
