import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jsforce, { type Connection } from 'jsforce'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../sync/emulator/index.js'

export const API_VERSION = '62.0'
export const CRM_USER = { username: 'crm.user@casebridge.emulator', password: 'emulator' }
/** The connected app every test emulator accepts (the emulator has no open default). */
export const TEST_CLIENT = { clientId: 'casebridge-test', clientSecret: 'casebridge-test-secret' }

interface Tap {
  teardown(fn: () => unknown): void
}

/** A controllable clock: starts at `start` and moves only when told. */
export function testClock(start = '2026-11-23T10:00:00.000Z') {
  let now = Date.parse(start)
  const clock = () => new Date(now)
  return {
    clock,
    advance(ms: number) { now += ms },
    set(iso: string) { now = Date.parse(iso) },
    iso: () => new Date(now).toISOString()
  }
}

export interface EmulatorEnv {
  emu: Emulator
  url: string
  file: string
  /** A jsforce connection authorized with client credentials (the integration user; the emulator's client unless given), re-authorizing on 401. */
  connect(opts?: { clientId?: string; clientSecret?: string }): Promise<Connection>
  /** A second jsforce connection logged in as a CRM user (OAuth password grant). */
  crmConnection(username?: string, password?: string): Promise<Connection>
}

/**
 * A fresh emulator on its own SQLite file, listening on a free port; closed at teardown. Test
 * mode (fault control over HTTP) and TEST_CLIENT unless the test says otherwise.
 */
export async function emulatorFor(t: Tap, opts: Partial<EmulatorOptions> = {}): Promise<EmulatorEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-emulator-'))
  const file = join(dir, 'emulator.db')
  const emu = await startEmulator({ file, port: 0, testMode: true, ...TEST_CLIENT, ...opts })
  const client = { clientId: opts.clientId ?? TEST_CLIENT.clientId, clientSecret: opts.clientSecret ?? TEST_CLIENT.clientSecret }
  const url = emu.url!
  t.teardown(async () => {
    await emu.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    emu,
    url,
    file,
    async connect(c = {}) {
      const conn = clientCredentialsConnection(url, c.clientId ?? client.clientId, c.clientSecret ?? client.clientSecret)
      await conn.authorize({ grant_type: 'client_credentials' })
      return conn
    },
    async crmConnection(username = CRM_USER.username, password = CRM_USER.password) {
      const conn = new jsforce.Connection({ oauth2: { loginUrl: url, ...client }, version: API_VERSION })
      await conn.login(username, password)
      return conn
    }
  }
}

/** Client credentials give no refresh token: on a 401 the connection simply asks for a new token. */
export function clientCredentialsConnection(url: string, clientId: string, clientSecret: string): Connection {
  return new jsforce.Connection({
    oauth2: { loginUrl: url, clientId, clientSecret },
    version: API_VERSION,
    refreshFn: (conn, callback) => {
      conn.oauth2.requestToken({ grant_type: 'client_credentials' })
        .then((res) => callback(null, res.access_token, res))
        .catch((err: Error) => callback(err))
    }
  })
}

/** Raw HTTP against the emulator (for headers and shapes jsforce hides). */
export async function http(url: string, path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const headers = new Headers(init.headers)
  if (init.token) headers.set('authorization', `Bearer ${init.token}`)
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json')
  const res = await fetch(url + path, { ...init, headers })
  const text = await res.text()
  let body: any = text
  try { body = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body }
}

/** Signs in to the Case browser as a CRM user; the cookie header for the next requests. */
export async function browserSession(url: string, username = CRM_USER.username, password = CRM_USER.password): Promise<string> {
  const res = await fetch(`${url}/login`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password })
  })
  if (res.status !== 303) throw new Error(`sign-in to the Case browser refused (${res.status})`)
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
}

/** The errorCode and message jsforce surfaces for a failed call. */
export async function failure(p: PromiseLike<unknown>): Promise<{ errorCode: string; message: string; data: any }> {
  try {
    await p
  } catch (err) {
    const e = err as { errorCode?: string; name?: string; message: string; data?: unknown }
    return { errorCode: e.errorCode ?? e.name ?? 'Error', message: e.message, data: e.data }
  }
  throw new Error('expected the call to fail')
}
