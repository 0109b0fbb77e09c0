/** The seam between Casebridge and a CRM: what the sync needs, nothing more. */
import type { CaseValues } from './mapping.js'

/** One record's failure inside a collection call (the call itself answered 200). */
export interface RecordError {
  code: string
  message: string
  fields: string[]
}

export type RecordResult =
  | { ok: true; id: string; created: boolean }
  | { ok: false; error: RecordError }

export interface CaseUpsert {
  /** The ticket id, stored in the Case's external-id field. */
  externalId: string
  values: CaseValues
}

export interface CommentCreate {
  caseId: string
  body: string
  isPublished: boolean
}

export interface CrmCase {
  Id: string
  CaseNumber: string
  externalId: string | null
  OwnerId: string | null
  AccountId: string | null
  ProductId: string | null
  Priority: string | null
  LastModifiedById: string
  LastModifiedByName: string | null
  LastModifiedDate: string
  SystemModstamp: string
}

export interface CrmComment {
  Id: string
  ParentId: string
  CommentBody: string | null
  IsPublished: boolean
  CreatedById: string
  CreatedByName: string | null
  CreatedDate: string
  SystemModstamp: string
}

export interface CrmAccount { Id: string; Name: string; SystemModstamp: string }
export interface CrmContact { Id: string; Name: string; Email: string | null; Phone: string | null; AccountId: string | null; SystemModstamp: string }
export interface CrmUser { Id: string; Name: string; Email: string | null; IsActive: boolean; SystemModstamp: string }
export interface CrmProduct { Id: string; Name: string; ProductCode: string | null; IsActive: boolean; SystemModstamp: string }

export interface ReferenceRecords {
  Account: CrmAccount
  Contact: CrmContact
  User: CrmUser
  Product2: CrmProduct
}
export type ReferenceObject = keyof ReferenceRecords
/** The reference objects the portal also writes. */
export type PeopleObject = 'Account' | 'Contact'

export interface ApiUsage {
  used: number
  max: number
}

/** Why a whole call failed: the drainer pauses on `limit` and `unavailable`, and on `auth`. */
export type CallFailureKind = 'limit' | 'unavailable' | 'auth' | 'request'

/**
 * A call that failed as a whole (nothing in it was applied, unless `maybeApplied`): network down,
 * 5xx, REQUEST_LIMIT_EXCEEDED, refused credentials, or a request Salesforce rejected outright.
 */
export class CrmCallError extends Error {
  override name = 'CrmCallError'
  constructor(
    readonly kind: CallFailureKind,
    readonly code: string,
    message: string,
    /** True when the request may have reached the CRM (a timeout or a reset connection). */
    readonly maybeApplied: boolean,
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}

/** A page of changed records, oldest first, and whether more follow. */
export interface ChangePage<T> {
  records: T[]
  more: () => Promise<ChangePage<T>> | null
}

export interface CrmAdapter {
  /** Human description for logs and the admin page: "Salesforce at https://...". */
  readonly target: string
  /** Id of the user our own writes carry as LastModifiedById / CreatedById. */
  integrationUserId(): Promise<string>
  /** Upserts up to 200 Cases by external id in one call; one result per record, in order. */
  upsertCases(records: CaseUpsert[]): Promise<RecordResult[]>
  /** CaseNumber for each Case id (one query per 200 ids). */
  caseNumbers(ids: string[]): Promise<Map<string, string>>
  /** Creates up to 200 CaseComments in one call; one result per record, in order. */
  createComments(records: CommentCreate[]): Promise<RecordResult[]>
  /** Comments on these Cases created by `createdById` (to recognise ours after an unknown outcome). */
  commentsBy(caseIds: string[], createdById: string): Promise<CrmComment[]>
  /** Cases with our external id changed after `since` (SystemModstamp), ordered by SystemModstamp, Id. */
  changedCases(since: string): Promise<ChangePage<CrmCase>>
  /** CaseComments changed after `since`, ordered by SystemModstamp, Id. */
  changedComments(since: string): Promise<ChangePage<CrmComment>>
  /** Reference records changed after `since` (null: all of them), ordered by SystemModstamp, Id. */
  changedReference<T extends ReferenceObject>(object: T, since: string | null): Promise<ChangePage<ReferenceRecords[T]>>
  /** Accounts with one of these names, or Contacts with one of these e-mails (matched as Salesforce compares text: without case). */
  findPeople<T extends PeopleObject>(object: T, values: string[]): Promise<ReferenceRecords[T][]>
  /** Creates up to 200 Accounts or Contacts in one call; one result per record, in order. */
  createPeople(object: PeopleObject, records: Record<string, unknown>[]): Promise<RecordResult[]>
  /** Updates up to 200 Accounts or Contacts (each names its Id) in one call; one result per record, in order. */
  updatePeople(object: PeopleObject, records: (Record<string, unknown> & { Id: string })[]): Promise<RecordResult[]>
  /** One reference record by id, or null. */
  getReference<T extends ReferenceObject>(object: T, id: string): Promise<ReferenceRecords[T] | null>
  /** Daily API usage as last reported (Sforce-Limit-Info), or null before the first call. */
  apiUsage(): ApiUsage | null
  /** Asks for the org's limits (DailyApiRequests). */
  fetchLimits(): Promise<ApiUsage | null>
  /** API calls this adapter has made (token requests excluded). */
  readonly calls: number
}
