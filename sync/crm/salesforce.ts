/**
 * CrmAdapter over Salesforce's REST API with jsforce 3.10.16 (API 62.0). The emulator speaks the
 * same API, so this one adapter runs against a real org, the default local emulator and tests.
 */
import { createSign } from 'node:crypto'
import jsforce, { type Connection } from 'jsforce'
import type { TokenResponse } from 'jsforce/lib/oauth2.js'
import type { Logger } from '../../src/log.js'
import type { SalesforceSettings } from '../../src/config.js'
import {
  CrmCallError, type ApiUsage, type CaseUpsert, type ChangePage, type CommentCreate, type CrmAdapter, type CrmCase,
  type CrmComment, type RecordResult, type PeopleObject, type ReferenceObject, type ReferenceRecords
} from './adapter.js'
import { EXTERNAL_ID_FIELD } from './mapping.js'

export const API_VERSION = '62.0'
/** Tags every call (Sforce-Call-Options: client=casebridge) so the org's API usage shows who called. */
export const CALL_OPTIONS = { client: 'casebridge' }
/** Assignment rules would overwrite the owner we send. */
const NO_AUTO_ASSIGN = { 'Sforce-Auto-Assign': 'FALSE' }
const MAX_COLLECTION = 200
/** SOQL ids per IN (...) list: keeps the query URL well under Salesforce's 16,000 characters. */
const IDS_PER_QUERY = 200

export interface SalesforceAdapterOptions {
  settings: SalesforceSettings
  log?: Logger
  /** A call that has not answered by then is given up (it may still be applied: treated as unknown). */
  callTimeoutMs?: number
  /** Shown on the admin page instead of the login URL (e.g. "local emulator"). */
  label?: string
}

/** Quotes a value for a SOQL string literal. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/** A Salesforce datetime literal (SOQL wants them unquoted, in UTC). */
export function soqlDateTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

const NETWORK_NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN'])
const NETWORK_UNKNOWN = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED'])
const AUTH_CODES = new Set(['invalid_client', 'invalid_client_id', 'invalid_grant', 'unsupported_grant_type', 'invalid_request', 'INVALID_SESSION_ID', 'INVALID_AUTH_HEADER'])
const UNAVAILABLE_CODES = new Set(['SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION', 'REQUEST_RUNNING_TOO_LONG', 'QUERY_TIMEOUT'])

/** Turns whatever jsforce threw into a CrmCallError saying whether to pause and whether it may have been applied. */
export function classifyCallError(err: unknown): CrmCallError {
  if (err instanceof CrmCallError) return err
  const e = err as { errorCode?: string; name?: string; code?: string; message?: string; cause?: { code?: string } }
  const message = e?.message ?? String(err)
  const code = e?.errorCode ?? (e?.name && e.name !== 'Error' && e.name !== 'FetchError' ? e.name : undefined) ?? e?.code ?? e?.cause?.code ?? 'ERROR'
  const netCode = e?.code ?? e?.cause?.code
  if (code === 'REQUEST_LIMIT_EXCEEDED') return new CrmCallError('limit', code, message, false, { cause: err })
  if (netCode && NETWORK_NOT_SENT.has(netCode)) return new CrmCallError('unavailable', netCode, message, false, { cause: err })
  if (netCode && NETWORK_UNKNOWN.has(netCode)) return new CrmCallError('unavailable', netCode, message, true, { cause: err })
  if (AUTH_CODES.has(code) || /^Unable to refresh session/.test(message)) return new CrmCallError('auth', code, message, false, { cause: err })
  if (UNAVAILABLE_CODES.has(code) || /^ERROR_HTTP_5\d\d$/.test(code)) return new CrmCallError('unavailable', code, message, false, { cause: err })
  if (e?.name === 'AbortError') return new CrmCallError('unavailable', 'TIMEOUT', message, true, { cause: err })
  return new CrmCallError('request', code, message, false, { cause: err })
}

/** An RS256-signed JWT bearer assertion (OAuth 2.0 JWT bearer flow). */
export function jwtAssertion(opts: { clientId: string; username: string; audience: string; privateKey: string; now?: Date }): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const exp = Math.floor((opts.now ?? new Date()).getTime() / 1000) + 180
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: opts.clientId, sub: opts.username, aud: opts.audience, exp })}`
  const signature = createSign('RSA-SHA256').update(unsigned).sign(opts.privateKey).toString('base64url')
  return `${unsigned}.${signature}`
}

/** The `aud` Salesforce expects: login or test for production and sandboxes, the server itself otherwise. */
export function jwtAudience(loginUrl: string): string {
  const host = new URL(loginUrl).hostname
  if (host === 'test.salesforce.com' || host.endsWith('.sandbox.my.salesforce.com')) return 'https://test.salesforce.com'
  if (host.endsWith('salesforce.com')) return 'https://login.salesforce.com'
  return loginUrl.replace(/\/+$/, '')
}

type Raw = Record<string, unknown>

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))
const rel = (r: Raw, name: string, field: string): string | null => str((r[name] as Raw | null | undefined)?.[field])

const REFERENCE_FIELDS: Record<ReferenceObject, string> = {
  Account: 'Id, Name, SystemModstamp',
  Contact: 'Id, Name, Email, Phone, AccountId, SystemModstamp',
  User: 'Id, Name, Email, IsActive, SystemModstamp',
  Product2: 'Id, Name, ProductCode, IsActive, SystemModstamp'
}

function toReference<T extends ReferenceObject>(object: T, r: Raw): ReferenceRecords[T] {
  const base = { Id: String(r.Id), Name: String(r.Name ?? ''), SystemModstamp: String(r.SystemModstamp) }
  switch (object) {
    case 'Contact': return { ...base, Email: str(r.Email), Phone: str(r.Phone), AccountId: str(r.AccountId) } as ReferenceRecords[T]
    case 'User': return { ...base, Email: str(r.Email), IsActive: r.IsActive !== false } as ReferenceRecords[T]
    case 'Product2': return { ...base, ProductCode: str(r.ProductCode), IsActive: r.IsActive === true } as ReferenceRecords[T]
    default: return base as ReferenceRecords[T]
  }
}

function toCase(r: Raw): CrmCase {
  return {
    Id: String(r.Id), CaseNumber: String(r.CaseNumber ?? ''), externalId: str(r[EXTERNAL_ID_FIELD]),
    OwnerId: str(r.OwnerId), AccountId: str(r.AccountId), ProductId: str(r.ProductId), Priority: str(r.Priority),
    LastModifiedById: String(r.LastModifiedById), LastModifiedByName: rel(r, 'LastModifiedBy', 'Name'),
    LastModifiedDate: String(r.LastModifiedDate), SystemModstamp: String(r.SystemModstamp)
  }
}

function toComment(r: Raw): CrmComment {
  return {
    Id: String(r.Id), ParentId: String(r.ParentId), CommentBody: str(r.CommentBody), IsPublished: r.IsPublished === true,
    CreatedById: String(r.CreatedById), CreatedByName: rel(r, 'CreatedBy', 'Name'), CreatedDate: String(r.CreatedDate),
    SystemModstamp: String(r.SystemModstamp)
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export class SalesforceAdapter implements CrmAdapter {
  readonly target: string
  private conn: Connection
  private session: Promise<void> | null = null
  private integrationUser: string | null = null
  private callCount = 0
  private readonly timeoutMs: number
  private readonly log?: Logger

  constructor(private readonly opts: SalesforceAdapterOptions) {
    this.log = opts.log
    this.timeoutMs = opts.callTimeoutMs ?? 120_000
    this.target = opts.label ?? opts.settings.loginUrl
    this.conn = this.newConnection()
  }

  get calls(): number {
    return this.callCount
  }

  /** The jsforce connection (tests read limitInfo and the instance URL from it). */
  get connection(): Connection {
    return this.conn
  }

  private newConnection(): Connection {
    const s = this.opts.settings
    const oauth2 = s.auth === 'jwt'
      ? { loginUrl: s.loginUrl, clientId: s.clientId }
      : { loginUrl: s.loginUrl, clientId: s.clientId, clientSecret: s.clientSecret }
    const conn = new jsforce.Connection({
      oauth2,
      loginUrl: s.loginUrl,
      ...(s.instanceUrl ? { instanceUrl: s.instanceUrl } : {}),
      version: API_VERSION,
      callOptions: CALL_OPTIONS,
      // Client credentials and JWT have no refresh token: a new token is simply asked for.
      // (conn.login installs its own re-login for the password flow.)
      ...(s.auth !== 'password' ? { refreshFn: (c: Connection, callback: (err: Error | null | undefined, token?: string, res?: TokenResponse) => void) => {
        this.requestToken(c).then((res) => callback(null, res.access_token, res)).catch((err: Error) => callback(err))
      } } : {})
    })
    conn.on('refresh', () => this.log?.info({ crm: this.target }, 'CRM access token refreshed'))
    return conn
  }

  private tokenParams(): Record<string, string> & { grant_type: string } {
    const s = this.opts.settings
    return s.auth === 'jwt'
      ? { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtAssertion({ clientId: s.clientId, username: s.username, audience: jwtAudience(s.loginUrl), privateKey: s.privateKey }) }
      : { grant_type: 'client_credentials' }
  }

  private async requestToken(conn: Connection): Promise<TokenResponse> {
    const res = await conn.oauth2.requestToken(this.tokenParams())
    // a refresh may move the session to another instance
    if (res.instance_url) conn.instanceUrl = res.instance_url
    return res
  }

  private async login(): Promise<void> {
    const s = this.opts.settings
    let userId: string
    if (s.auth === 'password') {
      const info = await this.conn.login(s.username, s.password)
      userId = info.id
    } else {
      const info = await this.conn.authorize(this.tokenParams())
      userId = info.id
    }
    this.integrationUser = userId
    this.log?.info({ crm: this.target, auth: s.auth }, 'connected to the CRM')
  }

  /** Logs in once; concurrent callers share the attempt, a failed attempt is retried by the next call. */
  private async ensureSession(): Promise<void> {
    if (this.integrationUser && this.conn.accessToken) return
    if (!this.session) {
      this.session = this.login().finally(() => { this.session = null })
    }
    try {
      await this.session
    } catch (err) {
      throw classifyCallError(err)
    }
  }

  /** One API call: session first, counted, bounded in time, failures classified. */
  private async call<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    await this.ensureSession()
    this.callCount++
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CrmCallError('unavailable', 'TIMEOUT', `no answer from the CRM within ${this.timeoutMs} ms`, true)), this.timeoutMs)
    })
    try {
      return await Promise.race([fn(this.conn), timeout])
    } catch (err) {
      throw classifyCallError(err)
    } finally {
      clearTimeout(timer)
    }
  }

  async integrationUserId(): Promise<string> {
    await this.ensureSession()
    return this.integrationUser!
  }

  async upsertCases(records: CaseUpsert[]): Promise<RecordResult[]> {
    if (records.length === 0) return []
    if (records.length > MAX_COLLECTION) throw new Error(`at most ${MAX_COLLECTION} Cases per call`)
    const body = records.map((r) => ({ ...r.values, [EXTERNAL_ID_FIELD]: r.externalId }))
    const results = await this.call((conn) => conn.sobject('Case').upsert(body as never[], EXTERNAL_ID_FIELD, { allOrNone: false, headers: NO_AUTO_ASSIGN }))
    return this.recordResults(results as unknown[], records.length)
  }

  async createComments(records: CommentCreate[]): Promise<RecordResult[]> {
    if (records.length === 0) return []
    if (records.length > MAX_COLLECTION) throw new Error(`at most ${MAX_COLLECTION} comments per call`)
    const body = records.map((r) => ({ ParentId: r.caseId, CommentBody: r.body, IsPublished: r.isPublished }))
    const results = await this.call((conn) => conn.sobject('CaseComment').create(body, { allOrNone: false }))
    return this.recordResults(results as unknown[], records.length)
  }

  /** Collections answer 200 with one result per record: each `success` is read, none assumed. */
  private recordResults(raw: unknown[], expected: number): RecordResult[] {
    if (!Array.isArray(raw) || raw.length !== expected) {
      throw new CrmCallError('request', 'UNEXPECTED_RESPONSE', `expected ${expected} results, got ${Array.isArray(raw) ? raw.length : typeof raw}`, true)
    }
    return raw.map((r) => {
      const x = r as { success?: boolean; id?: string | null; created?: boolean; errors?: Array<{ statusCode?: string; errorCode?: string; message?: string; fields?: string[] }> }
      if (x.success === true && x.id) return { ok: true as const, id: x.id, created: x.created === true }
      const first = x.errors?.[0]
      return {
        ok: false as const,
        error: {
          code: first?.statusCode ?? first?.errorCode ?? 'UNKNOWN_ERROR',
          message: (x.errors ?? []).map((e) => e.message ?? '').filter(Boolean).join('; ') || 'the CRM refused the record',
          fields: first?.fields ?? []
        }
      }
    })
  }

  /** Runs a query and follows its pages until done. */
  private async queryAll(soql: string): Promise<Raw[]> {
    const out: Raw[] = []
    let page = await this.call((conn) => conn.query<Raw>(soql) as unknown as Promise<{ records: Raw[]; done: boolean; nextRecordsUrl?: string }>)
    out.push(...page.records)
    while (!page.done && page.nextRecordsUrl) {
      const next = page.nextRecordsUrl
      page = await this.call((conn) => conn.queryMore<Raw>(next) as unknown as Promise<{ records: Raw[]; done: boolean; nextRecordsUrl?: string }>)
      out.push(...page.records)
    }
    return out
  }

  /** A query whose pages are handed out one at a time (the caller commits a cursor between them). */
  private async paged<T>(soql: string, map: (r: Raw) => T): Promise<ChangePage<T>> {
    type Page = { records: Raw[]; done: boolean; nextRecordsUrl?: string }
    const wrap = (page: Page): ChangePage<T> => ({
      records: page.records.map(map),
      more: () => (page.done || !page.nextRecordsUrl ? null : this.call((conn) => conn.queryMore<Raw>(page.nextRecordsUrl!) as unknown as Promise<Page>).then(wrap))
    })
    return wrap(await this.call((conn) => conn.query<Raw>(soql) as unknown as Promise<Page>))
  }

  async caseNumbers(ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const part of chunks([...new Set(ids)], IDS_PER_QUERY)) {
      const rows = await this.queryAll(`SELECT Id, CaseNumber FROM Case WHERE Id IN (${part.map(soqlString).join(', ')})`)
      for (const r of rows) out.set(String(r.Id), String(r.CaseNumber))
    }
    return out
  }

  async commentsBy(caseIds: string[], createdById: string): Promise<CrmComment[]> {
    const out: CrmComment[] = []
    for (const part of chunks([...new Set(caseIds)], IDS_PER_QUERY)) {
      const rows = await this.queryAll(
        `SELECT Id, ParentId, CommentBody, IsPublished, CreatedById, CreatedDate, SystemModstamp FROM CaseComment WHERE ParentId IN (${part.map(soqlString).join(', ')}) AND CreatedById = ${soqlString(createdById)} ORDER BY CreatedDate, Id`
      )
      out.push(...rows.map(toComment))
    }
    return out
  }

  async changedCases(since: string): Promise<ChangePage<CrmCase>> {
    return this.paged(
      `SELECT Id, CaseNumber, ${EXTERNAL_ID_FIELD}, OwnerId, AccountId, ProductId, Priority, LastModifiedById, LastModifiedBy.Name, LastModifiedDate, SystemModstamp FROM Case WHERE SystemModstamp > ${soqlDateTime(since)} AND ${EXTERNAL_ID_FIELD} != null ORDER BY SystemModstamp, Id`,
      toCase
    )
  }

  async changedComments(since: string): Promise<ChangePage<CrmComment>> {
    return this.paged(
      `SELECT Id, ParentId, CommentBody, IsPublished, CreatedById, CreatedBy.Name, CreatedDate, SystemModstamp FROM CaseComment WHERE SystemModstamp > ${soqlDateTime(since)} ORDER BY SystemModstamp, Id`,
      toComment
    )
  }

  async changedReference<T extends ReferenceObject>(object: T, since: string | null): Promise<ChangePage<ReferenceRecords[T]>> {
    const where = since ? ` WHERE SystemModstamp > ${soqlDateTime(since)}` : ''
    return this.paged(`SELECT ${REFERENCE_FIELDS[object]} FROM ${object}${where} ORDER BY SystemModstamp, Id`, (r) => toReference(object, r))
  }

  async findPeople<T extends PeopleObject>(object: T, values: string[]): Promise<ReferenceRecords[T][]> {
    const field = object === 'Contact' ? 'Email' : 'Name'
    const out: ReferenceRecords[T][] = []
    for (const part of chunks([...new Set(values)], IDS_PER_QUERY)) {
      const rows = await this.queryAll(`SELECT ${REFERENCE_FIELDS[object]} FROM ${object} WHERE ${field} IN (${part.map(soqlString).join(', ')}) ORDER BY CreatedDate, Id`)
      out.push(...rows.map((r) => toReference(object, r)))
    }
    return out
  }

  async createPeople(object: PeopleObject, records: Record<string, unknown>[]): Promise<RecordResult[]> {
    if (records.length === 0) return []
    if (records.length > MAX_COLLECTION) throw new Error(`at most ${MAX_COLLECTION} records per call`)
    const results = await this.call((conn) => conn.sobject(object).create(records, { allOrNone: false }))
    return this.recordResults(results as unknown[], records.length)
  }

  async updatePeople(object: PeopleObject, records: (Record<string, unknown> & { Id: string })[]): Promise<RecordResult[]> {
    if (records.length === 0) return []
    if (records.length > MAX_COLLECTION) throw new Error(`at most ${MAX_COLLECTION} records per call`)
    const results = await this.call((conn) => conn.sobject(object).update(records, { allOrNone: false }))
    return this.recordResults(results as unknown[], records.length)
  }

  async getReference<T extends ReferenceObject>(object: T, id: string): Promise<ReferenceRecords[T] | null> {
    const rows = await this.queryAll(`SELECT ${REFERENCE_FIELDS[object]} FROM ${object} WHERE Id = ${soqlString(id)}`)
    return rows[0] ? toReference(object, rows[0]) : null
  }

  apiUsage(): ApiUsage | null {
    const u = this.conn.limitInfo?.apiUsage
    return u ? { used: u.used, max: u.limit } : null
  }

  async fetchLimits(): Promise<ApiUsage | null> {
    const limits = await this.call((conn) => conn.limits())
    const daily = (limits as { DailyApiRequests?: { Max: number; Remaining: number } }).DailyApiRequests
    return daily ? { used: daily.Max - daily.Remaining, max: daily.Max } : null
  }
}
