import { readFileSync } from 'node:fs'
import { resolve, join } from 'node:path'
import { availableParallelism } from 'node:os'
import { Type, type Static } from '@sinclair/typebox'
import { Value, ValuePointer } from '@sinclair/typebox/value'
import { PRIORITIES, STATES, STATUSES } from './domain/lifecycle.js'

/** SQLITE_CACHE_MB's default: with SQLite's own 2 MiB, a 1M-ticket search read its pages through the OS again and again. */
export const DEFAULT_SQLITE_CACHE_MB = 64

const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '127.0.0.1' }),
  DATA_DIR: Type.String({ default: './data' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(sqlite:|postgres:|postgresql:)' })),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  SESSION_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  COOKIE_SECURE: Type.Boolean({ default: true }),
  MAX_ATTACHMENT_MB: Type.Number({ exclusiveMinimum: 0, maximum: 1024, default: 25 }),
  /** Where attachments and export files live: `fs` (under DATA_DIR) or `db` (in the database); default `db` on PostgreSQL, `fs` on SQLite. */
  FILE_STORE: Type.Optional(Type.Union([Type.Literal('fs'), Type.Literal('db')])),
  SEED: Type.Union([Type.Literal('demo'), Type.Literal('none')], { default: 'demo' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' }
  ),
  DEFAULT_LOCALE: Type.Union([Type.Literal('en'), Type.Literal('pt-BR')], { default: 'en' }),
  /** The currency of costs (ISO 4217 code), as clients see their ticket's cost lines. */
  CURRENCY: Type.String({ pattern: '^[A-Z]{3}$', default: 'USD' }),
  LOGIN_RATE_LIMIT: Type.Integer({ minimum: 1, default: 10 }),
  /** Failed logins one account may take in LOGIN_ACCOUNT_WINDOW_MINUTES, from any address, before its logins wait. */
  LOGIN_ACCOUNT_LIMIT: Type.Integer({ minimum: 1, default: 10 }),
  LOGIN_ACCOUNT_WINDOW_MINUTES: Type.Integer({ minimum: 1, maximum: 1440, default: 15 }),
  TRUST_PROXY: Type.Boolean({ default: false }),
  ROLE: Type.Union([Type.Literal('web'), Type.Literal('worker'), Type.Literal('all')], { default: 'all' }),
  /** How many processes serve the web role (node:cluster, one port); default: the number of cores. 1 serves in the main process. */
  WEB_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  /** SQLite's page cache per connection, in MiB: index and row pages kept in the process between queries (SQLite's own default is 2). */
  SQLITE_CACHE_MB: Type.Integer({ minimum: 2, maximum: 4096, default: DEFAULT_SQLITE_CACHE_MB }),
  /** A worker keeps what it is doing (a drain, a poll, a job pass, claimed rows) by renewing a lease; a crashed one's work is taken over this long after its last renewal. */
  LEASE_SECONDS: Type.Integer({ minimum: 2, maximum: 600, default: 15 }),
  /** Bearer token a Prometheus scraper sends to read /metrics; unset, /metrics does not exist (404). */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, pattern: '^\\S+$' })),
  // Outgoing mail: with no SMTP_URL nothing is sent and notifications wait in the outbox.
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MAIL_FROM: Type.String({ minLength: 3, default: 'Casebridge <support@localhost>' }),
  /** Replies come back here, plus-addressed with the thread token: support+<token>@example.com. */
  REPLY_TO_ADDRESS: Type.Optional(Type.String({ pattern: '^[^\\s@+<>]+@[^\\s@<>]+$' })),
  MAIL_TOKEN_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  MAIL_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
  MAIL_POLL_SECONDS: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 10 }),
  // Incoming mail: the worker polls this mailbox (IDLE where offered) when IMAP_URL is set.
  /** imap(s)://user:pass@host:port/INBOX (user and password URL-encoded). */
  IMAP_URL: Type.Optional(Type.String({ pattern: '^imaps?://' })),
  IMAP_PROCESSED_FOLDER: Type.String({ minLength: 1, default: 'Casebridge/Processed' }),
  IMAP_QUARANTINE_FOLDER: Type.String({ minLength: 1, default: 'Casebridge/Quarantine' }),
  /** A full check this often even when IDLE is quiet (and the poll interval without IDLE). */
  IMAP_POLL_SECONDS: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 60 }),
  MAX_INBOUND_MB: Type.Number({ exclusiveMinimum: 0, maximum: 1024, default: 25 }),
  /** Answer unknown senders once (per address and day) with a pointer to the portal instead of only quarantining. */
  UNKNOWN_SENDER_REPLY: Type.Boolean({ default: false }),
  /** Desk (by name) of tickets opened by e-mail; the first desk when unset. */
  INBOUND_DESK: Type.Optional(Type.String({ minLength: 1 })),
  // CRM (Salesforce). With no login/instance URL the bundled emulator is the CRM.
  SALESFORCE_LOGIN_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  SALESFORCE_INSTANCE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  SALESFORCE_AUTH: Type.Union([Type.Literal('client_credentials'), Type.Literal('jwt'), Type.Literal('password')], { default: 'client_credentials' }),
  SALESFORCE_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  SALESFORCE_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  SALESFORCE_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  SALESFORCE_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  SALESFORCE_JWT_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  EMULATOR_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  /** The bundled emulator serves fault control over HTTP (for tests and benchmarks only). */
  EMULATOR_TEST_MODE: Type.Boolean({ default: false }),
  /** JSON object merged over the default ticket status/state -> Case Status map. */
  CRM_STATUS_MAP: Type.Optional(Type.String({ minLength: 2 })),
  /** JSON object merged over the default ticket priority -> Case Priority map. */
  CRM_PRIORITY_MAP: Type.Optional(Type.String({ minLength: 2 })),
  SYNC_INTERVAL_SECONDS: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 15 }),
  CRM_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
  // XLSX exports of searches, written by the worker under DATA_DIR/exports.
  /** How long a finished export can be downloaded; the file is deleted afterwards. */
  EXPORT_TTL_DAYS: Type.Number({ exclusiveMinimum: 0, maximum: 365, default: 7 }),
  /** Days the administration audit log and the security events are kept (the worker deletes older rows). */
  AUDIT_RETENTION_DAYS: Type.Integer({ minimum: 30, maximum: 36500, default: 730 }),
  /** Larger files are not attached to the e-mail, which then only links to the Exports page. */
  EXPORT_MAX_ATTACH_MB: Type.Number({ minimum: 0, maximum: 100, default: 10 }),
  EXPORT_POLL_SECONDS: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 5 })
})

type RawConfig = Static<typeof ConfigSchema>

export interface Config extends RawConfig {
  dataDir: string
  databaseUrl: string
  publicUrl: string
  attachmentsDir: string
  maxAttachmentBytes: number
  exportsDir: string
  /** FILE_STORE, or its default for the database. */
  fileStore: 'fs' | 'db'
  /** WEB_CONCURRENCY, or the number of cores. */
  webProcesses: number
  crm: CrmSettings
}

/** Where and how the worker reaches the CRM; `salesforce: null` means the bundled emulator. */
export interface CrmSettings {
  salesforce: SalesforceSettings | null
  statusMap: Record<string, string>
  priorityMap: Record<string, string>
  emulatorFile: string
}

export type SalesforceSettings =
  | { auth: 'client_credentials'; loginUrl: string; instanceUrl: string | null; clientId: string; clientSecret: string }
  | { auth: 'jwt'; loginUrl: string; instanceUrl: string | null; clientId: string; username: string; privateKey: string }
  | { auth: 'password'; loginUrl: string; instanceUrl: string | null; clientId: string; clientSecret: string; username: string; password: string }

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** The largest attachment MAX_ATTACHMENT_MB may allow with FILE_STORE=db. */
export const MAX_DB_FILE_MB = 512

const SECRET_NAMES = ['SESSION_SECRET', 'DATABASE_URL', 'SMTP_URL', 'MAIL_TOKEN_SECRET', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_PASSWORD', 'IMAP_URL', 'METRICS_TOKEN']

/** Reads `NAME_FILE` for secrets so they can come from mounted files. */
function withSecretFiles(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env }
  for (const name of SECRET_NAMES) {
    const file = env[`${name}_FILE`]
    if (file && !env[name]) {
      try {
        out[name] = readFileSync(file, 'utf8').trim()
      } catch (err) {
        throw new ConfigError(`${name}_FILE: cannot read ${file} (${(err as Error).message})`)
      }
    }
  }
  return out
}

/** Validates the environment once; a bad setting stops start-up with a message naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<RawConfig> = {}): Config {
  const source = withSecretFiles(env)
  const picked: Record<string, unknown> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = source[key]
    if (value !== undefined && value !== '') picked[key] = value
  }
  Object.assign(picked, overrides)
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, picked))
  const errors = [...Value.Errors(ConfigSchema, converted)]
  if (errors.length > 0) {
    // Secret values (an SMTP_URL carries a password) are never echoed into logs.
    const shown = (path: string) => (SECRET_NAMES.includes(path.slice(1)) ? '[redacted]' : JSON.stringify(ValuePointer.Get(converted, path)))
    const lines = errors.map((e) => `${e.path.slice(1) || 'config'}: ${e.message} (got ${shown(e.path)})`)
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  const raw = converted as RawConfig
  const dataDir = resolve(raw.DATA_DIR)
  const port = raw.PORT
  const databaseUrl = raw.DATABASE_URL ?? `sqlite:${join(dataDir, 'casebridge.db')}`
  const fileStore = raw.FILE_STORE ?? (databaseUrl.startsWith('sqlite:') ? 'fs' : 'db')
  // A file in the database is one column value, read whole when it is kept: PostgreSQL takes at most 1 GB.
  if (fileStore === 'db' && raw.MAX_ATTACHMENT_MB > MAX_DB_FILE_MB) {
    throw new ConfigError(`invalid configuration:\n  MAX_ATTACHMENT_MB: must be at most ${MAX_DB_FILE_MB} when files are kept in the database (FILE_STORE=db) (got ${raw.MAX_ATTACHMENT_MB})`)
  }
  return {
    ...raw,
    dataDir,
    databaseUrl,
    fileStore,
    webProcesses: raw.WEB_CONCURRENCY ?? availableParallelism(),
    publicUrl: (raw.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    attachmentsDir: join(dataDir, 'attachments'),
    exportsDir: join(dataDir, 'exports'),
    maxAttachmentBytes: Math.floor(raw.MAX_ATTACHMENT_MB * 1024 * 1024),
    crm: crmSettings(raw, dataDir)
  }
}

function jsonMap(name: string, raw: string | undefined, keys: readonly string[]): Record<string, string> {
  if (raw === undefined) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${name}: not valid JSON (${(err as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`invalid configuration:\n  ${name}: must be a JSON object such as {"pending":"On Hold"}`)
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (!keys.includes(k)) throw new ConfigError(`invalid configuration:\n  ${name}: unknown key "${k}" (use one of: ${keys.join(', ')})`)
    if (typeof v !== 'string' || v.trim() === '' || v.length > 255) {
      throw new ConfigError(`invalid configuration:\n  ${name}: the value for "${k}" must be a non-empty text`)
    }
  }
  return parsed as Record<string, string>
}

function crmSettings(raw: RawConfig, dataDir: string): CrmSettings {
  const base = {
    statusMap: jsonMap('CRM_STATUS_MAP', raw.CRM_STATUS_MAP, [...STATES, ...STATUSES]),
    priorityMap: jsonMap('CRM_PRIORITY_MAP', raw.CRM_PRIORITY_MAP, PRIORITIES),
    emulatorFile: join(dataDir, 'emulator.db')
  }
  const loginUrl = raw.SALESFORCE_LOGIN_URL ?? raw.SALESFORCE_INSTANCE_URL
  if (!loginUrl) return { ...base, salesforce: null }
  const need = (names: (keyof RawConfig)[]) => {
    const missing = names.filter((n) => raw[n] === undefined)
    if (missing.length > 0) {
      throw new ConfigError(`invalid configuration:\n  ${missing.join(', ')}: required when SALESFORCE_AUTH is ${raw.SALESFORCE_AUTH}`)
    }
  }
  const common = { loginUrl: loginUrl.replace(/\/+$/, ''), instanceUrl: raw.SALESFORCE_INSTANCE_URL?.replace(/\/+$/, '') ?? null, clientId: raw.SALESFORCE_CLIENT_ID ?? '' }
  switch (raw.SALESFORCE_AUTH) {
    case 'jwt': {
      need(['SALESFORCE_CLIENT_ID', 'SALESFORCE_USERNAME', 'SALESFORCE_JWT_KEY_FILE'])
      let privateKey: string
      try {
        privateKey = readFileSync(raw.SALESFORCE_JWT_KEY_FILE!, 'utf8')
      } catch (err) {
        throw new ConfigError(`SALESFORCE_JWT_KEY_FILE: cannot read ${raw.SALESFORCE_JWT_KEY_FILE} (${(err as Error).message})`)
      }
      return { ...base, salesforce: { auth: 'jwt', ...common, username: raw.SALESFORCE_USERNAME!, privateKey } }
    }
    case 'password':
      need(['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_USERNAME', 'SALESFORCE_PASSWORD'])
      return { ...base, salesforce: { auth: 'password', ...common, clientSecret: raw.SALESFORCE_CLIENT_SECRET!, username: raw.SALESFORCE_USERNAME!, password: raw.SALESFORCE_PASSWORD! } }
    default:
      need(['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET'])
      return { ...base, salesforce: { auth: 'client_credentials', ...common, clientSecret: raw.SALESFORCE_CLIENT_SECRET! } }
  }
}
