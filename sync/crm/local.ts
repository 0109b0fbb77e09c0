/**
 * The default CRM when no Salesforce org is configured: the emulator, in this process, on
 * EMULATOR_PORT, with its own SQLite file under DATA_DIR. On its first start it gets the portal's
 * accounts, contacts, products and staff, so Cases show the same people a real org would.
 */
import jsforce from 'jsforce'
import type { Config } from '../../src/config.js'
import type { Db } from '../../src/db/index.js'
import type { Logger } from '../../src/log.js'
import { SYNC_STATE } from '../../src/db/sync-state.js'
import { saveProgress } from '../../src/work/state.js'
import { createEmulator, type Emulator } from '../emulator/index.js'
import { mirrorPortalToCrm } from './demo.js'
import { API_VERSION } from './salesforce.js'

/** Password the emulator gives the CRM users it creates for staff (it is a local test double). */
export const EMULATOR_USER_PASSWORD = 'emulator'

async function listenOn(config: Pick<Config, 'crm'>, log: Logger, port: number): Promise<Emulator> {
  const emulator = createEmulator({ file: config.crm.emulatorFile, logger: log.child({ component: 'emulator' }, { level: 'warn' }) })
  try {
    await emulator.listen({ port, host: '127.0.0.1' })
    return emulator
  } catch (err) {
    await emulator.close().catch(() => undefined)
    throw err
  }
}

/** Starts the emulator (another free port if EMULATOR_PORT is taken) and mirrors the portal into it once. */
export async function startLocalEmulator(opts: { config: Pick<Config, 'crm' | 'EMULATOR_PORT'>; db: Db; log: Logger }): Promise<Emulator> {
  const { config, db, log } = opts
  let emulator: Emulator
  try {
    emulator = await listenOn(config, log, config.EMULATOR_PORT)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    log.warn({ port: config.EMULATOR_PORT }, 'EMULATOR_PORT is in use; the emulator takes another port')
    emulator = await listenOn(config, log, 0)
  }
  const url = emulator.url!
  const conn = new jsforce.Connection({ oauth2: { loginUrl: url, clientId: 'casebridge-setup', clientSecret: 'local' }, version: API_VERSION })
  await conn.authorize({ grant_type: 'client_credentials' })
  const accounts = await conn.query('SELECT COUNT() FROM Account')
  if (accounts.totalSize === 0) {
    const mirrored = await mirrorPortalToCrm(db, conn, (u) => emulator.createUser({
      username: u.username, email: u.email, firstName: u.firstName ?? undefined, lastName: u.lastName, password: EMULATOR_USER_PASSWORD
    }))
    log.info({ ...mirrored }, 'emulator filled with the portal\'s accounts, contacts, products and staff users')
  }
  await saveProgress({ db, clock: () => new Date() }, { [SYNC_STATE.emulatorUrl]: url })
  log.info({ url, file: config.crm.emulatorFile }, 'Salesforce emulator started: no Salesforce org is configured, the sync uses it')
  return emulator
}
