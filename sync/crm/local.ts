/**
 * The default CRM when no Salesforce org is configured: the emulator, in this process, on
 * EMULATOR_PORT, with its own SQLite file under DATA_DIR. On its first start it gets the portal's
 * accounts, contacts, products and staff, so Cases show the same people a real org would.
 * It is locked down: tokens only for the credentials kept under DATA_DIR (or
 * SALESFORCE_CLIENT_ID/SECRET), CRM users sign in with the password kept there, and fault
 * control over HTTP only with EMULATOR_TEST_MODE.
 */
import jsforce from 'jsforce'
import type { Config } from '../../src/config.js'
import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import { SYNC_STATE } from '../../src/db/sync-state.js'
import { saveProgress } from '../../src/work/state.js'
import { emulatorCredentials, type EmulatorCredentials } from '../../src/security/emulator-credentials.js'
import { createEmulator, DEFAULT_CRM_USERS, type Emulator } from '../emulator/index.js'
import { mirrorPortalToCrm } from './demo.js'
import { API_VERSION } from './salesforce.js'

export type LocalEmulatorConfig = Pick<Config, 'crm' | 'EMULATOR_PORT' | 'EMULATOR_TEST_MODE' | 'dataDir' | 'SALESFORCE_CLIENT_ID' | 'SALESFORCE_CLIENT_SECRET'>

async function listenOn(config: LocalEmulatorConfig, creds: EmulatorCredentials, log: Logger, port: number): Promise<Emulator> {
  const emulator = createEmulator({
    file: config.crm.emulatorFile,
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    crmUserPassword: creds.crmUserPassword,
    testMode: config.EMULATOR_TEST_MODE,
    loginHint: `Sign in as ${DEFAULT_CRM_USERS[0].username} (or a staff member's e-mail) with crmUserPassword from ${creds.file}.`,
    logger: log.child({ component: 'emulator' }, { level: 'warn' })
  })
  try {
    await emulator.listen({ port, host: '127.0.0.1' })
    return emulator
  } catch (err) {
    await emulator.close().catch(() => undefined)
    throw err
  }
}

/** Starts the emulator (another free port if EMULATOR_PORT is taken) and mirrors the portal into it once. */
export async function startLocalEmulator(opts: { config: LocalEmulatorConfig; db: Db; log: Logger }): Promise<Emulator> {
  const { config, db, log } = opts
  const creds = emulatorCredentials(config)
  let emulator: Emulator
  try {
    emulator = await listenOn(config, creds, log, config.EMULATOR_PORT)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    log.warn({ port: config.EMULATOR_PORT }, 'EMULATOR_PORT is in use; the emulator takes another port')
    emulator = await listenOn(config, creds, log, 0)
  }
  const url = emulator.url!
  const conn = new jsforce.Connection({ oauth2: { loginUrl: url, clientId: creds.clientId, clientSecret: creds.clientSecret }, version: API_VERSION })
  await conn.authorize({ grant_type: 'client_credentials' })
  const accounts = await conn.query('SELECT COUNT() FROM Account')
  if (accounts.totalSize === 0) {
    // staff CRM users sign in with the emulator's one password (crmUserPassword)
    const mirrored = await mirrorPortalToCrm(db, conn, (u) => emulator.createUser({
      username: u.username, email: u.email, firstName: u.firstName ?? undefined, lastName: u.lastName
    }))
    log.info({ ...mirrored }, 'emulator filled with the portal\'s accounts, contacts, products and staff users')
  }
  await saveProgress({ db, clock: () => new Date() }, { [SYNC_STATE.emulatorUrl]: url })
  log.info({ url, file: config.crm.emulatorFile, credentials: creds.file, crmUser: DEFAULT_CRM_USERS[0].username, testMode: config.EMULATOR_TEST_MODE },
    'Salesforce emulator started: no Salesforce org is configured, the sync uses it; its Case browser signs in with crmUserPassword from the credentials file')
  if (config.EMULATOR_TEST_MODE) log.warn('EMULATOR_TEST_MODE: anyone who reaches the emulator can inject faults over HTTP')
  return emulator
}
