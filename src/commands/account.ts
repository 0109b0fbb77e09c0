// What people change about their own account: password and language.
import { getPasswordHash, setLocale, setPasswordHash } from '../db/people.js'
import type { Locale } from '../domain/permissions.js'
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from '../security/password.js'
import { endSessionsOf } from '../db/sessions.js'
import { closeAccountLinks } from '../db/security.js'
import { FieldCheck, Refused, run, type Deps, type Outcome, type Who } from './kernel.js'
import { recordSecurityEvent, type ClientInfo } from './sessions.js'

/**
 * A new password for the person acting. Every other session of theirs ends (a cookie copied
 * before stops working); the one they are using (`keepSessionId`) goes on.
 */
export async function changePassword(deps: Deps, who: Who, input: { current: string; next: string; confirm: string; keepSessionId?: number; client?: ClientInfo }): Promise<Outcome<{ sessionsEnded: number }>> {
  const person = who.person
  if (!person) return { ok: false, refusal: new Refused('forbidden') }
  // Hashing is slow on purpose: done before the transaction, which then only writes.
  const check = new FieldCheck()
  if (!(await verifyPassword(input.current, await getPasswordHash(deps.db, person.kind, person.id)))) check.add('current', 'wrong_password')
  if (input.next.length < MIN_PASSWORD_LENGTH) check.add('next', 'too_short', { min: MIN_PASSWORD_LENGTH })
  else if (input.next !== input.confirm) check.add('confirm', 'mismatch')
  if (!check.ok) return { ok: false, refusal: new Refused('invalid', { fields: check.fields }) }
  const hash = await hashPassword(input.next)
  return run(deps, who, async (uow) => {
    const ref = { kind: person.kind, id: person.id }
    await setPasswordHash(uow.trx, person.kind, person.id, hash)
    const sessionsEnded = await endSessionsOf(uow.trx, ref, uow.at, 'password_changed', input.keepSessionId)
    // A reset link still open would set another password behind this one's back.
    await closeAccountLinks(uow.trx, ref, uow.at)
    await recordSecurityEvent(uow, { kind: 'password_changed', person: ref, client: input.client, detail: `${sessionsEnded} other session(s) ended` })
    return { sessionsEnded }
  })
}

/** The person's language (null: the browser's, then the default). */
export async function setLanguage(deps: Deps, who: Who, input: { locale: Locale | null }): Promise<Outcome<void>> {
  return run(deps, who, async (uow) => {
    const person = uow.who.person
    if (!person) throw new Refused('forbidden')
    await setLocale(uow.trx, person.kind, person.id, input.locale)
  })
}
