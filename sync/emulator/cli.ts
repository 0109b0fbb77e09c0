import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import type { Logger } from 'pino'
import { startEmulator, DEFAULT_CRM_USERS, DEFAULT_INTEGRATION_USER, type Emulator } from './index.js'

export interface EmulatorCommandOptions {
  port: number
  host: string
  file: string
}

export class EmulatorUsageError extends Error {
  override name = 'EmulatorUsageError'
}

/** Parses `--port N --host H --file F` (defaults: EMULATOR_PORT or 3001, 127.0.0.1, ./data/emulator.db). */
export function parseEmulatorArgs(args: string[], env: NodeJS.ProcessEnv = process.env): EmulatorCommandOptions {
  let values
  try {
    ({ values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' }, file: { type: 'string' } }, strict: true }))
  } catch (err) {
    throw new EmulatorUsageError((err as Error).message)
  }
  const rawPort = values.port ?? env.EMULATOR_PORT ?? '3001'
  const port = Number(rawPort)
  if (!/^\d+$/.test(rawPort) || port > 65535) throw new EmulatorUsageError(`--port must be a port number (0-65535), got: ${rawPort}`)
  return { port, host: values.host ?? env.EMULATOR_HOST ?? '127.0.0.1', file: values.file ?? env.EMULATOR_FILE ?? './data/emulator.db' }
}

/** `casebridge emulator --port N`: runs the Salesforce emulator alone until SIGINT/SIGTERM. */
export async function runEmulatorCommand(
  args: string[],
  opts: { log?: Logger; out?: (line: string) => void; handleSignals?: boolean } = {}
): Promise<Emulator> {
  const parsed = parseEmulatorArgs(args)
  const out = opts.out ?? ((line: string) => process.stdout.write(line + '\n'))
  if (parsed.file !== ':memory:') mkdirSync(dirname(parsed.file), { recursive: true })
  const emulator = await startEmulator({ ...parsed, logger: opts.log ?? false })
  const url = emulator.url!
  const crm = DEFAULT_CRM_USERS[0]
  out([
    `Salesforce emulator listening on ${url} (data: ${parsed.file})`,
    `  Cases, as CRM users see them:  ${url}/`,
    `  jsforce loginUrl:              ${url}  (API version 62.0)`,
    `  OAuth client credentials:      any client id and secret (runs as ${DEFAULT_INTEGRATION_USER.username})`,
    `  CRM user (password grant):     ${crm.username} / ${crm.password}`,
    `  Faults:                        POST ${url}/__emulator/faults (see docs/emulator.md)`
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
