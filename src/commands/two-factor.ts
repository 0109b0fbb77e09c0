// Two-factor authentication for staff and admins: a TOTP secret (RFC 6238, as authenticator apps
// read it from a QR code), confirmed by a first code before it counts, ten single-use recovery
// codes, and the second step of a login. A code is accepted once (its time step is recorded).
import { createHash, randomInt } from 'node:crypto'
import { Secret, TOTP } from 'otpauth'
import { getPasswordHash } from '../db/people.js'
import { completeSecondFactor, endSession, type PersonRef } from '../db/sessions.js'
import {
  advanceTotpStep, clearThrottle, clearTwoFactor, hitThrottle, replaceRecoveryCodes, setTwoFactor, throttleHits,
  twoFactorOf, unusedRecoveryCodes, useRecoveryCode
} from '../db/security.js'
import { getSettings } from '../db/settings.js'
import { verifyPassword } from '../security/password.js'
import { FieldCheck, Refused, run, SYSTEM, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { recordSecurityEvent, type ClientInfo } from './sessions.js'

export const ISSUER = 'Casebridge'
const PERIOD = 30
export const RECOVERY_CODES = 10
/** Wrong second-factor codes one login may take before it has to start again with the password. */
export const SECOND_FACTOR_TRIES = 5

const totpOf = (secret: string, label: string) =>
  new TOTP({ issuer: ISSUER, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: PERIOD })

/** The time step a six-digit code is good for now (the one before or after too, for clocks that drift), or null. */
export function codeStep(secret: string, code: string, now: Date): number | null {
  const token = code.replace(/\s+/g, '')
  if (!/^\d{6}$/.test(token)) return null
  const delta = totpOf(secret, 'x').validate({ token, timestamp: now.getTime(), window: 1 })
  return delta === null ? null : Math.floor(now.getTime() / 1000 / PERIOD) + delta
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'
const normalizeRecovery = (code: string) => code.toLowerCase().replace(/[\s-]+/g, '')
const hashRecovery = (code: string) => createHash('sha256').update(normalizeRecovery(code)).digest('hex')

function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODES }, () => {
    const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('')
    return `${chars.slice(0, 5)}-${chars.slice(5)}`
  })
}

function staffOf(who: Who): PersonRef & { email: string } {
  const p = who.person
  if (!p || p.kind !== 'staff') throw new Refused('forbidden')
  return { kind: 'staff', id: p.id, email: p.email }
}

const invalidCode = (field = 'code') => {
  const check = new FieldCheck()
  check.add(field, 'wrong_code')
  return new Refused('invalid', { fields: check.fields })
}

/** Begins setting it up: a new secret, not yet in force. Returns what the authenticator app reads. */
export async function startTwoFactor(deps: Deps, who: Who): Promise<Outcome<{ secret: string; uri: string }>> {
  return run(deps, who, async (uow) => {
    const me = staffOf(uow.who)
    if ((await twoFactorOf(uow.trx, me.id))?.enabledAt) throw new Refused('conflict')
    const secret = new Secret({ size: 20 }).base32
    await setTwoFactor(uow.trx, me.id, { secret, enabledAt: null })
    return { secret, uri: totpOf(secret, me.email).toString() }
  })
}

/** The secret being set up (to show its QR code again), or null. */
export async function pendingTwoFactor(deps: Pick<Deps, 'db'>, who: Who): Promise<{ secret: string; uri: string } | null> {
  const me = staffOf(who)
  const state = await twoFactorOf(deps.db, me.id)
  if (!state?.secret || state.enabledAt) return null
  return { secret: state.secret, uri: totpOf(state.secret, me.email).toString() }
}

async function renewCodes(uow: UnitOfWork, staffId: number): Promise<string[]> {
  const codes = newRecoveryCodes()
  await replaceRecoveryCodes(uow.trx, staffId, codes.map(hashRecovery), uow.at)
  return codes
}

/** Puts it in force once a code from the app matches; returns the recovery codes (shown once). */
export async function confirmTwoFactor(deps: Deps, who: Who, input: { code: string; client: ClientInfo }): Promise<Outcome<{ recoveryCodes: string[] }>> {
  return run(deps, who, async (uow) => {
    const me = staffOf(uow.who)
    const state = await twoFactorOf(uow.trx, me.id)
    if (!state?.secret || state.enabledAt) throw new Refused('conflict')
    const step = codeStep(state.secret, input.code, uow.now)
    if (step === null || !(await advanceTotpStep(uow.trx, me.id, step))) throw invalidCode()
    await setTwoFactor(uow.trx, me.id, { secret: state.secret, enabledAt: uow.at })
    const recoveryCodes = await renewCodes(uow, me.id)
    await recordSecurityEvent(uow, { kind: 'two_factor_enabled', person: me, client: input.client })
    return { recoveryCodes }
  })
}

/** Checks a six-digit code or an unused recovery code of the staff member, using it up. */
async function checkSecondFactor(uow: UnitOfWork, staffId: number, code: string): Promise<'code' | 'recovery' | null> {
  const state = await twoFactorOf(uow.trx, staffId)
  if (!state?.secret || !state.enabledAt) return null
  const step = codeStep(state.secret, code, uow.now)
  if (step !== null) return (await advanceTotpStep(uow.trx, staffId, step)) ? 'code' : null
  const hash = hashRecovery(code)
  const match = (await unusedRecoveryCodes(uow.trx, staffId)).find((c) => c.codeHash === hash)
  if (match && (await useRecoveryCode(uow.trx, match.id, uow.at))) return 'recovery'
  return null
}

/** New recovery codes (the old ones stop working), after a current code. */
export async function renewRecoveryCodes(deps: Deps, who: Who, input: { code: string; client: ClientInfo }): Promise<Outcome<{ recoveryCodes: string[] }>> {
  return run(deps, who, async (uow) => {
    const me = staffOf(uow.who)
    if ((await checkSecondFactor(uow, me.id, input.code)) === null) throw invalidCode()
    const recoveryCodes = await renewCodes(uow, me.id)
    await recordSecurityEvent(uow, { kind: 'recovery_codes_renewed', person: me, client: input.client })
    return { recoveryCodes }
  })
}

/** Turns it off, with the password and a current code; refused while the admins require it. */
export async function disableTwoFactor(deps: Deps, who: Who, input: { password: string; code: string; client: ClientInfo }): Promise<Outcome<void>> {
  const me = staffOf(who)
  const passwordOk = await verifyPassword(input.password, await getPasswordHash(deps.db, 'staff', me.id))
  return run(deps, who, async (uow) => {
    if ((await getSettings(uow.trx)).staffTwoFactorRequired) throw new Refused('forbidden')
    const check = new FieldCheck()
    if (!passwordOk) check.add('password', 'wrong_password')
    check.refuse()
    if ((await checkSecondFactor(uow, me.id, input.code)) === null) throw invalidCode()
    await clearTwoFactor(uow.trx, me.id)
    await recordSecurityEvent(uow, { kind: 'two_factor_disabled', person: me, client: input.client })
  })
}

/**
 * The second step of a login: a code (or a recovery code) for the session the password opened.
 * Wrong codes are counted; after SECOND_FACTOR_TRIES the session ends and the login starts over.
 */
export async function verifySecondFactor(deps: Deps, input: { sessionId: number; person: PersonRef; code: string; client: ClientInfo }): Promise<Outcome<{ used: 'code' | 'recovery' }>> {
  if (input.person.kind !== 'staff') return { ok: false, refusal: new Refused('forbidden') }
  const key = `2fa:session:${input.sessionId}`
  const tries = await throttleHits(deps.db, key, deps.clock())
  if (tries.hits >= SECOND_FACTOR_TRIES) return { ok: false, refusal: new Refused('too_many') }
  const outcome = await run(deps, SYSTEM, async (uow) => {
    const used = await checkSecondFactor(uow, input.person.id, input.code)
    if (used === null) return null
    await completeSecondFactor(uow.trx, input.sessionId, uow.at)
    await clearThrottle(uow.trx, key)
    await recordSecurityEvent(uow, { kind: used === 'recovery' ? 'recovery_code_used' : 'login', person: input.person, client: input.client, detail: used === 'recovery' ? 'second factor: a recovery code' : 'second factor: a code' })
    return used
  })
  if (outcome.ok && outcome.value !== null) return { ok: true, value: { used: outcome.value } }
  const failed = await run(deps, SYSTEM, async (uow) => {
    const hit = await hitThrottle(uow.trx, key, uow.now, 15 * 60_000)
    await recordSecurityEvent(uow, { kind: 'two_factor_failed', person: input.person, client: input.client })
    if (hit.hits >= SECOND_FACTOR_TRIES) await endSession(uow.trx, input.sessionId, uow.at, 'second_factor_failed')
    return hit.hits
  })
  if (failed.ok && failed.value >= SECOND_FACTOR_TRIES) return { ok: false, refusal: new Refused('too_many') }
  return { ok: false, refusal: invalidCode() }
}
