// Adding people (the CLI today; the administration pages later) and their API tokens.
import { emailTaken, findLogin, insertContact, insertStaff } from '../db/people.js'
import { LIMITS } from '../domain/ticket.js'
import { insertApiToken } from '../db/token.js'
import { hashPassword, MIN_PASSWORD_LENGTH } from '../security/password.js'
import { newApiToken } from '../security/token.js'
import { queueInvitation } from './account-links.js'
import { FieldCheck, run, SYSTEM, unwrap, type Deps, type Outcome, type UnitOfWork } from './kernel.js'

export interface NewPerson {
  role: 'client' | 'staff' | 'admin'
  email: string
  name: string
  /** null: no password yet; with `invite`, the person sets one through the invitation link. */
  password: string | null
  /** Mail an invitation to set a password (in the same transaction). */
  invite?: boolean
  /** Clients: the accounts they belong to (at least one). */
  accountIds: number[]
  /** Clients: account manager of those accounts. */
  manager: boolean
  /** Staff: the desks they serve. */
  deskIds: number[]
}

/** What the portal takes as an e-mail address (everywhere a person is added or edited). */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** Adds a client, staff member or admin; refusals name the field (email taken, password too short...). */
export async function addPerson(deps: Pick<Deps, 'db' | 'clock' | 'random'>, input: NewPerson): Promise<Outcome<{ id: number }>> {
  const email = input.email.trim().toLowerCase()
  const check = new FieldCheck()
  if (!EMAIL.test(email)) check.add('email', 'invalid_email')
  check.text('name', input.name, LIMITS.name)
  if (input.password !== null && input.password.length < MIN_PASSWORD_LENGTH) check.add('password', 'too_short', { min: MIN_PASSWORD_LENGTH })
  if (input.role === 'client' && input.accountIds.length === 0) check.add('accountIds', 'required')
  const passwordHash = check.ok && input.password !== null ? await hashPassword(input.password) : null
  return run(deps, SYSTEM, async (uow) => {
    if (EMAIL.test(email) && await emailTaken(uow.trx, email)) check.add('email', 'taken')
    check.refuse()
    const name = input.name.trim()
    const id = input.role === 'client'
      ? await insertContact(uow.trx, { name, email, passwordHash, accounts: input.accountIds.map((accountId) => ({ accountId, isManager: input.manager })), now: uow.at })
      : await insertStaff(uow.trx, { name, email, passwordHash, role: input.role, deskIds: input.deskIds, canDelete: input.role === 'admin', now: uow.at })
    if (input.invite) await queueInvitation(uow, { kind: input.role === 'client' ? 'contact' : 'staff', id })
    if (input.role === 'client') await uow.syncCrmRecord('contact', id)
    await uow.audit({
      entity: input.role === 'client' ? 'contact' : 'staff', entityId: id, action: 'create', label: name,
      after: input.role === 'client'
        ? { name, email, accountIds: input.accountIds, manager: input.manager, invited: Boolean(input.invite) }
        : { name, email, role: input.role, deskIds: input.deskIds, invited: Boolean(input.invite) }
    })
    return { id }
  })
}

/** A new API token for the person with this e-mail; only its hash is kept, the token is returned once. */
export async function createApiToken(deps: Pick<Deps, 'db' | 'clock' | 'random'>, input: { email: string; name: string }): Promise<Outcome<{ token: string }>> {
  return run(deps, SYSTEM, async (uow) => {
    const person = await findLogin(uow.trx, input.email)
    const check = new FieldCheck()
    if (!person) check.add('email', 'invalid_choice')
    check.refuse()
    return { token: await issueToken(uow, person!, input.name) }
  })
}

/** The same for a person named by kind and id (benchmarks and tests set up many at once). */
export async function createApiTokenFor(deps: Pick<Deps, 'db' | 'clock' | 'random'>, person: { kind: 'staff' | 'contact'; id: number }, name: string): Promise<string> {
  return unwrap(await run(deps, SYSTEM, (uow) => issueToken(uow, person, name)))
}

async function issueToken(uow: UnitOfWork, person: { kind: 'staff' | 'contact'; id: number }, name: string): Promise<string> {
  const { token, hash } = newApiToken()
  await insertApiToken(uow.trx, person, hash, name, uow.at)
  return token
}
