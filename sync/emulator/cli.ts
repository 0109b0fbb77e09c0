import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import type { Logger } from 'pino'
import { startEmulator, DEFAULT_CRM_USERS, DEFAULT_INTEGRATION_USER, type Emulator } from './index.js'

export interface EmulatorCommandOptions {
  port: number
  host: string
  file: string
  /** `--test-mode` or EMULATOR_TEST_MODE=1: fault control over HTTP (see EmulatorOptions.testMode). */
  testMode: boolean
}

/** What `casebridge emulator` requires, and where an operator finds it (printed; the secrets never are). */
export interface EmulatorCredentials {
  clientId: string
  clientSecret: string
  crmUserPassword: string
  /** e.g. "clientSecret in data/emulator-credentials.json". */
  secretWhere: string
  passwordWhere: string
}

export class EmulatorUsageError extends Error {
  override name = 'EmulatorUsageError'
}

function envFlag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false
  if (raw === '1' || raw === 'true') return true
  throw new EmulatorUsageError(`${name} must be 1/true or 0/false, got: ${raw}`)
}

/** Parses `--port N --host H --file F --test-mode` (defaults: EMULATOR_PORT or 3001, 127.0.0.1, ./data/emulator.db, EMULATOR_TEST_MODE). */
export function parseEmulatorArgs(args: string[], env: NodeJS.ProcessEnv = process.env): EmulatorCommandOptions {
  let values
  try {
    ({ values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' }, file: { type: 'string' }, 'test-mode': { type: 'boolean' } }, strict: true }))
  } catch (err) {
    throw new EmulatorUsageError((err as Error).message)
  }
  const rawPort = values.port ?? env.EMULATOR_PORT ?? '3001'
  const port = Number(rawPort)
  if (!/^\d+$/.test(rawPort) || port > 65535) throw new EmulatorUsageError(`--port must be a port number (0-65535), got: ${rawPort}`)
  return {
    port,
    host: values.host ?? env.EMULATOR_HOST ?? '127.0.0.1',
    file: values.file ?? env.EMULATOR_FILE ?? './data/emulator.db',
    testMode: values['test-mode'] === true || envFlag('EMULATOR_TEST_MODE', env.EMULATOR_TEST_MODE)
  }
}

/**
 * `casebridge emulator --port N`: runs the Salesforce emulator alone until SIGINT/SIGTERM, locked
 * down like the bundled one: tokens for `credentials` only, CRM users sign in with its password.
 */
export async function runEmulatorCommand(
  args: string[],
  opts: { credentials: EmulatorCredentials; env?: NodeJS.ProcessEnv; log?: Logger; out?: (line: string) => void; handleSignals?: boolean }
): Promise<Emulator> {
  const parsed = parseEmulatorArgs(args, opts.env)
  const out = opts.out ?? ((line: string) => process.stdout.write(line + '\n'))
  const { credentials: c } = opts
  const crm = DEFAULT_CRM_USERS[0]
  if (parsed.file !== ':memory:') mkdirSync(dirname(parsed.file), { recursive: true })
  const emulator = await startEmulator({
    ...parsed,
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    crmUserPassword: c.crmUserPassword,
    loginHint: `Sign in as ${crm.username} (or another CRM user) with the password: ${c.passwordWhere}.`,
    logger: opts.log ?? false
  })
  const url = emulator.url!
  out([
    `Salesforce emulator listening on ${url} (data: ${parsed.file})`,
    `  Cases, as CRM users see them:  ${url}/  (sign in as ${crm.username}; password: ${c.passwordWhere})`,
    `  jsforce loginUrl:              ${url}  (API version 62.0)`,
    `  OAuth client credentials:      client id ${c.clientId}, ${c.secretWhere} (runs as ${DEFAULT_INTEGRATION_USER.username})`,
    `  CRM users (password grant):    ${crm.username} and the others; password: ${c.passwordWhere}`,
    parsed.testMode
      ? `  Faults (test mode):            POST ${url}/__emulator/faults (see docs/emulator.md)`
      : '  Faults:                        off (start with --test-mode to control them over HTTP)'
  ].join('\n'))
  if (opts.handleSignals !== false) {
    let stopping = false
    const stop = () => {
      if (stopping) return
      stopping = true
      void emulator.close().then(() => process.exit(0))
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  }
  return emulator
}
