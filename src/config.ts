import { readFileSync } from 'node:fs'
import { resolve, join } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { Value, ValuePointer } from '@sinclair/typebox/value'

const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '127.0.0.1' }),
  DATA_DIR: Type.String({ default: './data' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(sqlite:|postgres:|postgresql:)' })),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  SESSION_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  COOKIE_SECURE: Type.Boolean({ default: true }),
  MAX_ATTACHMENT_MB: Type.Number({ exclusiveMinimum: 0, maximum: 1024, default: 25 }),
  SEED: Type.Union([Type.Literal('demo'), Type.Literal('none')], { default: 'demo' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' }
  ),
  DEFAULT_LOCALE: Type.Union([Type.Literal('en'), Type.Literal('pt-BR')], { default: 'en' }),
  LOGIN_RATE_LIMIT: Type.Integer({ minimum: 1, default: 10 }),
  TRUST_PROXY: Type.Boolean({ default: false }),
  ROLE: Type.Union([Type.Literal('web'), Type.Literal('worker'), Type.Literal('all')], { default: 'all' }),
  // Outgoing mail: with no SMTP_URL nothing is sent and notifications wait in the outbox.
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MAIL_FROM: Type.String({ minLength: 3, default: 'Casebridge <support@localhost>' }),
  /** Replies come back here, plus-addressed with the thread token: support+<token>@example.com. */
  REPLY_TO_ADDRESS: Type.Optional(Type.String({ pattern: '^[^\\s@+<>]+@[^\\s@<>]+$' })),
  MAIL_TOKEN_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  MAIL_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
  MAIL_POLL_SECONDS: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 10 })
})

type RawConfig = Static<typeof ConfigSchema>

export interface Config extends RawConfig {
  dataDir: string
  databaseUrl: string
  publicUrl: string
  attachmentsDir: string
  maxAttachmentBytes: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const SECRET_NAMES = ['SESSION_SECRET', 'DATABASE_URL', 'SMTP_URL', 'MAIL_TOKEN_SECRET']

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
    const lines = errors.map((e) => `${e.path.slice(1) || 'config'}: ${e.message} (got ${JSON.stringify(ValuePointer.Get(converted, e.path))})`)
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`)
  }
  const raw = converted as RawConfig
  const dataDir = resolve(raw.DATA_DIR)
  const port = raw.PORT
  return {
    ...raw,
    dataDir,
    databaseUrl: raw.DATABASE_URL ?? `sqlite:${join(dataDir, 'casebridge.db')}`,
    publicUrl: (raw.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    attachmentsDir: join(dataDir, 'attachments'),
    maxAttachmentBytes: Math.floor(raw.MAX_ATTACHMENT_MB * 1024 * 1024)
  }
}
