import { randomBytes } from 'node:crypto'
import { keptOnce } from './mail-key.js'
import { join } from 'node:path'
import { ConfigError, type Config } from '../config.js'

export const EMULATOR_CREDENTIALS_FILE = 'emulator-credentials.json'

/** What the bundled emulator requires: its connected app, and the password of its CRM users. */
export interface EmulatorCredentials {
  clientId: string
  clientSecret: string
  /** Every CRM user of the bundled emulator signs in with it (the Case browser, the password grant, SOAP login). */
  crmUserPassword: string
  /** The file under DATA_DIR that keeps them (mode 0600). */
  file: string
  /** The client id and secret: SALESFORCE_CLIENT_ID/SECRET when both are set, else the generated ones. */
  clientFrom: 'environment' | 'file'
}

type Stored = Pick<EmulatorCredentials, 'clientId' | 'clientSecret' | 'crmUserPassword'>

function generated(): Stored {
  return {
    clientId: `casebridge-${randomBytes(9).toString('base64url')}`,
    clientSecret: randomBytes(32).toString('base64url'),
    crmUserPassword: randomBytes(18).toString('base64url')
  }
}

function parse(file: string, text: string): Stored {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message}); delete it to have new credentials generated`)
  }
  const v = value as Partial<Record<keyof Stored, unknown>> | null
  const ok = (x: unknown): x is string => typeof x === 'string' && x.trim().length >= 8
  if (!v || !ok(v.clientId) || !ok(v.clientSecret) || !ok(v.crmUserPassword)) {
    throw new ConfigError(`${file}: needs clientId, clientSecret and crmUserPassword (8 characters or more); delete it to have new ones generated`)
  }
  return { clientId: v.clientId, clientSecret: v.clientSecret, crmUserPassword: v.crmUserPassword }
}

/** The kept credentials, generated on first use; written aside and linked into place, so racing processes agree. */
function keptCredentials(file: string): Stored {
  return parse(file, keptOnce(file, () => JSON.stringify(generated(), null, 2) + '\n'))
}

/**
 * The bundled emulator's credentials, kept under DATA_DIR (generated once, like session.key).
 * SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET, when set without an org, are its client.
 */
export function emulatorCredentials(config: Pick<Config, 'dataDir' | 'SALESFORCE_CLIENT_ID' | 'SALESFORCE_CLIENT_SECRET'>): EmulatorCredentials {
  const id = config.SALESFORCE_CLIENT_ID
  const secret = config.SALESFORCE_CLIENT_SECRET
  if ((id === undefined) !== (secret === undefined)) {
    throw new ConfigError('invalid configuration:\n  SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: set both (or neither) for the bundled emulator')
  }
  const file = join(config.dataDir, EMULATOR_CREDENTIALS_FILE)
  const kept = keptCredentials(file)
  return id !== undefined && secret !== undefined
    ? { ...kept, clientId: id, clientSecret: secret, file, clientFrom: 'environment' }
    : { ...kept, file, clientFrom: 'file' }
}
