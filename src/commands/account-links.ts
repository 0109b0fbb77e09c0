// Links that let a person set their password without knowing the old one: "forgot password"
// (an hour, single use) and an invitation from an admin or the CLI (seven days, single use).
// The link carries a random token; the database keeps its SHA-256 and the outbox the mail.
import { findLogin, setPasswordHash } from '../db/people.js'
import { endSessionsOf, type PersonRef } from '../db/sessions.js'
import {
  closeAccountLinks, findAccountLink, hitThrottle, insertAccountLink, personAddress, personByEmail, useAccountLink
} from '../db/security.js'
import type { AccountLinkPurpose } from '../db/schema.js'
import { hasForbiddenControl } from '../domain/text.js'
import { hashPassword, MIN_PASSWORD_LENGTH } from '../security/password.js'
import { hashSecretToken, newLinkToken } from '../security/token.js'
import { FieldCheck, Refused, run, SYSTEM, type Deps, type Outcome, type UnitOfWork, type Who } from './kernel.js'
import { recordSecurityEvent, typedAddress, type ClientInfo } from './sessions.js'

export const RESET_LINK_MINUTES = 60
export const INVITATION_DAYS = 7
/** Reset mails one account may be sent per hour, and reset requests one address may make per hour. */
export const RESETS_PER_ACCOUNT_HOUR = 3
export const RESETS_PER_IP_HOUR = 20

export const ACCOUNT_TEMPLATES = { reset: 'account.password_reset', invite: 'account.invitation' } as const

const linkPath = (purpose: AccountLinkPurpose, token: string) => `/${purpose === 'reset' ? 'password/reset' : 'invitation'}/${token}`

/** Writes the link and queues its mail; earlier open links of the person close (only the newest works). */
async function sendLink(uow: UnitOfWork, person: PersonRef, purpose: AccountLinkPurpose): Promise<void> {
  const to = await personAddress(uow.trx, person)
  if (!to) throw new Refused('not_found')
  const { token, hash } = newLinkToken()
  const lasts = purpose === 'reset' ? RESET_LINK_MINUTES * 60_000 : INVITATION_DAYS * 86_400_000
  const expiresAt = new Date(uow.now.getTime() + lasts).toISOString()
  await closeAccountLinks(uow.trx, person, uow.at)
  await insertAccountLink(uow.trx, { purpose, tokenHash: hash, person, now: uow.at, expiresAt })
  await uow.mail({
    ticketId: null, recipient: to.email, locale: to.locale, template: ACCOUNT_TEMPLATES[purpose],
    data: { linkPath: linkPath(purpose, token), name: to.name, expiresAt, invitedBy: uow.who.ref.name }
  })
}

/**
 * "Forgot password": mails a reset link when the address belongs to an active account. The
 * answer is the same either way (no one learns which addresses have accounts), and so is the
 * work done: each case writes a security event and a throttle row.
 */
export async function requestPasswordReset(deps: Deps, input: { email: string; client: ClientInfo }): Promise<Outcome<void>> {
  const email = typedAddress(input.email)
  const known = email && !hasForbiddenControl(input.email) ? await findLogin(deps.db, email) : undefined
  return run(deps, SYSTEM, async (uow) => {
    const perIp = await hitThrottle(uow.trx, `reset:ip:${input.client.ip ?? 'unknown'}`, uow.now, 3_600_000)
    const perAccount = await hitThrottle(uow.trx, `reset:account:${email}`, uow.now, 3_600_000)
    const person = known ? { kind: known.kind, id: known.id } : null
    const throttled = perIp.hits > RESETS_PER_IP_HOUR || perAccount.hits > RESETS_PER_ACCOUNT_HOUR
    if (person && !throttled) await sendLink(uow, person, 'reset')
    await recordSecurityEvent(uow, {
      kind: 'password_reset_requested', person, email, client: input.client,
      detail: !person ? 'no active account with this address: nothing sent' : throttled ? 'too many requests: nothing sent' : 'link sent'
    })
  })
}

/** Queues an invitation inside another command's transaction (a person added with `--invite`). */
export async function queueInvitation(uow: UnitOfWork, person: PersonRef, detail?: string): Promise<void> {
  await sendLink(uow, person, 'invite')
  await recordSecurityEvent(uow, { kind: 'invitation_sent', person, detail: detail ?? (uow.who.ref.name ? `by ${uow.who.ref.name}` : 'by the command line') })
}

/** An invitation to set a password, for a person added by an admin or the CLI (an account that is on). */
export async function invitePerson(deps: Deps, who: Who, input: { email: string; client?: ClientInfo }): Promise<Outcome<PersonRef>> {
  return run(deps, who, async (uow) => {
    const person = await personByEmail(uow.trx, input.email)
    const address = person ? await personAddress(uow.trx, person) : undefined
    const check = new FieldCheck()
    if (!person || !address?.active) check.add('email', 'invalid_choice')
    check.refuse()
    await sendLink(uow, person!, 'invite')
    await recordSecurityEvent(uow, { kind: 'invitation_sent', person: person!, client: input.client, detail: uow.who.ref.name ? `by ${uow.who.ref.name}` : 'by the command line' })
    return person!
  })
}

export type LinkState = 'valid' | 'used' | 'expired' | 'unknown'

/** What a link is worth now (the page shows the form, or why not). */
export async function accountLinkState(deps: Pick<Deps, 'db' | 'clock'>, token: string): Promise<{ state: LinkState; purpose: AccountLinkPurpose | null }> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return { state: 'unknown', purpose: null }
  const link = await findAccountLink(deps.db, hashSecretToken(token))
  if (!link) return { state: 'unknown', purpose: null }
  if (link.usedAt) return { state: 'used', purpose: link.purpose }
  if (link.expiresAt <= deps.clock().toISOString()) return { state: 'expired', purpose: link.purpose }
  return { state: 'valid', purpose: link.purpose }
}

/**
 * Sets the password a link was sent for, once: the link is used up in the same transaction, every
 * session of the person ends, and so does any other open link of theirs.
 */
export async function setPasswordFromLink(deps: Deps, input: { token: string; password: string; confirm: string; client: ClientInfo }): Promise<Outcome<{ person: PersonRef; purpose: AccountLinkPurpose }>> {
  const check = new FieldCheck()
  if (input.password.length < MIN_PASSWORD_LENGTH) check.add('password', 'too_short', { min: MIN_PASSWORD_LENGTH })
  else if (input.password !== input.confirm) check.add('confirm', 'mismatch')
  if (!check.ok) return { ok: false, refusal: new Refused('invalid', { fields: check.fields }) }
  const hash = await hashPassword(input.password)
  return run(deps, SYSTEM, async (uow) => {
    const link = /^[A-Za-z0-9_-]{20,100}$/.test(input.token) ? await findAccountLink(uow.trx, hashSecretToken(input.token)) : undefined
    if (!link) throw new Refused('not_found')
    if (link.usedAt || link.expiresAt <= uow.at) throw new Refused('conflict')
    const address = await personAddress(uow.trx, link.person)
    if (!address?.active) throw new Refused('not_found')
    if (!(await useAccountLink(uow.trx, link.id, uow.at))) throw new Refused('conflict')
    await setPasswordHash(uow.trx, link.person.kind, link.person.id, hash)
    await endSessionsOf(uow.trx, link.person, uow.at, 'password_reset')
    await closeAccountLinks(uow.trx, link.person, uow.at)
    await recordSecurityEvent(uow, { kind: link.purpose === 'reset' ? 'password_reset' : 'invitation_accepted', person: link.person, client: input.client })
    return { person: link.person, purpose: link.purpose }
  })
}
