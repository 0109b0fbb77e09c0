// Logging in and out, and the sessions and API tokens a person holds: every session is a row the
// server checks on each request, so ending one (logout, "log out everywhere else", a password
// change, an account turned off) takes effect at once. Each of these leaves a security event.
import { findLogin } from '../db/people.js'
import { deleteStaleSessions, endSession, endSessionsOf, insertSession, touchSession, type PersonRef } from '../db/sessions.js'
import { clearThrottle, deleteExpiredThrottles, deleteLogRowsBefore, hitThrottle, insertSecurityEvent, setPersonActive, throttleHits, twoFactorOf, type SecurityEventInput } from '../db/security.js'
import { insertApiToken, revokeApiToken, touchApiToken } from '../db/token.js'
import { cleanText, clipText, hasForbiddenControl } from '../domain/text.js'
import { verifyPassword } from '../security/password.js'
import { newApiToken, newSessionToken } from '../security/token.js'
import { FieldCheck, Refused, run, SYSTEM, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'

/** Where a request came from, as the security events record it. */
export interface ClientInfo {
  ip: string | null
  userAgent: string | null
}

/** How many login attempts one address may make per minute, and failures one account may take per window. */
export interface LoginLimits {
  perIpPerMinute: number
  failuresPerAccount: number
  accountWindowMinutes: number
}

export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000

// What the rows keep of a request's own words: cleaned (PostgreSQL stores no NUL) and clipped.
const clip = (value: string | null, max: number) => (value === null ? null : clipText(cleanText(value), max))

/** The address typed at a login or a reset request, as throttles and events name it. */
export const typedAddress = (email: string) => clipText(cleanText(email.trim().toLowerCase()), 320)
const clientOf = (client: ClientInfo) => ({ ip: clip(client.ip, 64), userAgent: clip(client.userAgent, 400) })

export async function recordSecurityEvent(uow: UnitOfWork, event: SecurityEventInput & { client?: ClientInfo }): Promise<void> {
  const { client, ...rest } = event
  await insertSecurityEvent(uow.trx, { ...rest, ...(client ? clientOf(client) : {}) }, uow.at)
}

const personOf = (who: Who): PersonRef => {
  const p = who.person
  if (!p) throw new Refused('forbidden')
  return { kind: p.kind, id: p.id }
}

export interface LoggedIn {
  /** Goes in the (encrypted) session cookie; the server keeps only its hash. */
  token: string
  sessionId: number
  person: PersonRef
  /** A staff member with two-factor authentication still has to give a code. */
  secondFactor: boolean
}

const ipKey = (ip: string | null) => `login:ip:${ip ?? 'unknown'}`
const accountKey = (email: string) => `login:account:${email}`

/**
 * Checks an e-mail and password and opens a session. Refusals: `invalid` (the same for an unknown
 * address and a wrong password, after the same work), `too_many` (this address or this account
 * made too many attempts: counted in the database, so every web process sees the same counts).
 */
export async function logIn(deps: Deps, input: { email: string; password: string; client: ClientInfo; limits: LoginLimits }): Promise<Outcome<LoggedIn>> {
  const email = typedAddress(input.email)
  const client = input.client
  const now = deps.clock()
  // Every attempt counts against the address it comes from; failures count against the account.
  const ip = await run(deps, SYSTEM, (uow) => hitThrottle(uow.trx, ipKey(client.ip), uow.now, 60_000))
  const account = await throttleHits(deps.db, accountKey(email), now)
  if ((ip.ok && ip.value.hits > input.limits.perIpPerMinute) || account.hits >= input.limits.failuresPerAccount) {
    await run(deps, SYSTEM, (uow) => recordSecurityEvent(uow, {
      kind: 'login_throttled', email, client,
      detail: account.hits >= input.limits.failuresPerAccount ? 'account' : 'address'
    }))
    return { ok: false, refusal: new Refused('too_many') }
  }
  const login = email && !hasForbiddenControl(input.email) ? await findLogin(deps.db, email) : undefined
  // Hashing is slow on purpose, and done for an unknown address too: both answers take as long.
  const ok = await verifyPassword(input.password, login?.passwordHash)
  if (!login || !ok) {
    await run(deps, SYSTEM, async (uow) => {
      await hitThrottle(uow.trx, accountKey(email), uow.now, input.limits.accountWindowMinutes * 60_000)
      await recordSecurityEvent(uow, { kind: 'login_failed', person: login ? { kind: login.kind, id: login.id } : null, email, client, detail: login ? 'wrong_password' : 'unknown_address' })
    })
    const check = new FieldCheck()
    check.add('password', 'wrong_password')
    return { ok: false, refusal: new Refused('invalid', { fields: check.fields }) }
  }
  const person: PersonRef = { kind: login.kind, id: login.id }
  return run(deps, SYSTEM, async (uow) => {
    const secondFactor = person.kind === 'staff' && Boolean((await twoFactorOf(uow.trx, person.id))?.enabledAt)
    const { token, hash } = newSessionToken()
    const { ip: at, userAgent } = clientOf(client)
    const sessionId = await insertSession(uow.trx, { tokenHash: hash, person, now: uow.at, userAgent, ip: at, secondFactorPending: secondFactor })
    await clearThrottle(uow.trx, accountKey(email))
    await recordSecurityEvent(uow, { kind: 'login', person, email, client, detail: secondFactor ? 'password; second factor asked' : null })
    return { token, sessionId, person, secondFactor }
  })
}

/** Ends the session the request came with (logout). */
export async function logOut(deps: Deps, input: { sessionId: number; person: PersonRef; client: ClientInfo }): Promise<Outcome<void>> {
  return run(deps, SYSTEM, async (uow) => {
    if (await endSession(uow.trx, input.sessionId, uow.at, 'logout', input.person)) {
      await recordSecurityEvent(uow, { kind: 'logout', person: input.person, client: input.client })
    }
  })
}

/** Ends one of the person's other sessions (the account page's list). */
export async function endOneSession(deps: Deps, who: Who, input: { sessionId: number; client: ClientInfo }): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    const person = personOf(uow.who)
    if (!(await endSession(uow.trx, input.sessionId, uow.at, 'revoked', person))) throw new Refused('not_found')
    await recordSecurityEvent(uow, { kind: 'session_revoked', person, client: input.client, detail: `session ${input.sessionId}` })
  })
}

/** "Log out of all other sessions": every session of the person but this one. */
export async function endOtherSessions(deps: Deps, who: Who, input: { currentSessionId: number; client: ClientInfo }): Promise<Outcome<number>> {
  return run(deps, who, async (uow) => {
    const person = personOf(uow.who)
    const ended = await endSessionsOf(uow.trx, person, uow.at, 'revoked', input.currentSessionId)
    await recordSecurityEvent(uow, { kind: 'sessions_revoked', person, client: input.client, detail: `${ended} other session(s)` })
    return ended
  })
}

export const TOKEN_NAME_MAX = 100
export const TOKEN_MAX_DAYS = 3650

/** A new API token for the person acting, shown once; optionally expiring after some days. */
export async function createOwnApiToken(deps: Deps, who: Who, input: { name: string; expiresInDays: number | null; client: ClientInfo }): Promise<Outcome<{ token: string; id: number }>> {
  const check = new FieldCheck()
  const name = input.name.trim()
  check.text('name', name, TOKEN_NAME_MAX)
  if (name === '') check.add('name', 'required')
  if (input.expiresInDays !== null && (!Number.isInteger(input.expiresInDays) || input.expiresInDays < 1 || input.expiresInDays > TOKEN_MAX_DAYS)) {
    check.add('expiresInDays', 'out_of_range', { min: 1, max: TOKEN_MAX_DAYS })
  }
  return run(deps, who, async (uow) => {
    check.refuse()
    const person = personOf(uow.who)
    const { token, hash } = newApiToken()
    const expiresAt = input.expiresInDays === null ? null : new Date(uow.now.getTime() + input.expiresInDays * 86_400_000).toISOString()
    const id = await insertApiToken(uow.trx, person, hash, name, uow.at, expiresAt)
    await recordSecurityEvent(uow, { kind: 'token_created', person, client: input.client, detail: `token ${id} "${name}"${expiresAt ? ` until ${expiresAt}` : ''}` })
    return { token, id }
  })
}

export async function revokeOwnApiToken(deps: Deps, who: Who, input: { tokenId: number; client: ClientInfo }): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    const person = personOf(uow.who)
    if (!(await revokeApiToken(uow.trx, person, input.tokenId, uow.at))) throw new Refused('not_found')
    await recordSecurityEvent(uow, { kind: 'token_revoked', person, client: input.client, detail: `token ${input.tokenId}` })
  })
}

/**
 * What follows turning a login off or on, in the same transaction: off ends every session of the
 * person at once; either way a security event says who did it. (The account's row is the caller's.)
 */
export async function accountSwitched(uow: UnitOfWork, person: PersonRef, active: boolean, client?: ClientInfo): Promise<void> {
  if (!active) await endSessionsOf(uow.trx, person, uow.at, 'account_disabled')
  await recordSecurityEvent(uow, {
    kind: active ? 'account_enabled' : 'account_disabled', person, client,
    detail: uow.who.ref.name ? `by ${uow.who.ref.name}` : 'by the command line'
  })
}

/**
 * Turns an account off (no login, no API, every session ended at once) or on again. The CLI
 * today; the administration pages call the same command.
 */
export async function setAccountActive(deps: Deps, who: Who, input: { email: string; active: boolean; client?: ClientInfo }): Promise<Outcome<PersonRef>> {
  return run(deps, who, async (uow) => {
    const person = await setPersonActive(uow.trx, input.email, input.active)
    if (!person) {
      const check = new FieldCheck()
      check.add('email', 'invalid_choice')
      check.refuse()
    }
    await accountSwitched(uow, person!, input.active, input.client)
    await uow.audit({
      entity: person!.kind, entityId: person!.id, action: input.active ? 'enable' : 'disable', label: input.email.trim().toLowerCase(),
      after: { active: input.active }
    })
    return person!
  })
}

/** Notes that a session is in use (at most once a minute per session: the idle timeout counts from it). */
export async function noteSessionUse(deps: Deps, input: { sessionId: number }): Promise<void> {
  await run(deps, SYSTEM, (uow) => touchSession(uow.trx, input.sessionId, uow.at))
}

/** Notes that an API token was used (at most once a minute per token, for the account page). */
export async function noteTokenUse(deps: Deps, input: { tokenId: number }): Promise<void> {
  await run(deps, SYSTEM, (uow) => touchApiToken(uow.trx, input.tokenId, uow.at))
}

/** How long a session row is kept after its last use (ended or not): what "your sessions" and support may look back on. */
export const SESSION_KEPT_MS = 30 * 24 * 60 * 60 * 1000

/** Days the audit log and the security events are kept unless the configuration says otherwise. */
export const LOG_KEPT_DAYS = 730

/**
 * The scheduled tidy-up: sessions unused for SESSION_KEPT_MS and login throttle windows that have
 * passed are deleted, and audit and security-event rows older than `logKeptDays` (a thousand of
 * each per run, so a first run after years stays short). How many of each went.
 */
export async function tidySessions(deps: Pick<Deps, 'db' | 'clock' | 'random'>, logKeptDays = LOG_KEPT_DAYS): Promise<{ sessions: number; throttles: number; logRows: number }> {
  const outcome = await run(deps, SYSTEM, async (uow) => {
    const logsBefore = new Date(uow.now.getTime() - logKeptDays * 86_400_000).toISOString()
    return {
      sessions: await deleteStaleSessions(uow.trx, new Date(uow.now.getTime() - SESSION_KEPT_MS).toISOString()),
      throttles: await deleteExpiredThrottles(uow.trx, uow.at),
      logRows: await deleteLogRowsBefore(uow.trx, 'admin_audit', logsBefore) + await deleteLogRowsBefore(uow.trx, 'security_event', logsBefore)
    }
  })
  if (!outcome.ok) throw outcome.refusal
  return outcome.value
}
