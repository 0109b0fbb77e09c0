// What the administration commands share: only an admin may run them, and the same rules for
// e-mail addresses and languages wherever a person is added or edited.
import { emailTaken } from '../db/people.js'
import { hasForbiddenControl } from '../domain/text.js'
import { isAdmin } from '../domain/permissions.js'
import { LOCALES } from '../i18n/index.js'
import { Refused, type FieldCheck, type UnitOfWork } from './kernel.js'
import { EMAIL } from './people.js'

/**
 * The acting admin's staff id (null for the operator at the machine, the `casebridge` CLI);
 * anyone else is refused, the system acting for a job included.
 */
export function asAdmin(uow: UnitOfWork): number | null {
  if (uow.who.operator === true) return null
  const person = uow.who.person
  if (!isAdmin(person)) throw new Refused('forbidden')
  return person.id
}

/**
 * The address as stored (trimmed, lower case), or a field problem: not an address, or one that
 * someone else (staff or client) already has. `current` is the person's own address when editing.
 */
export async function checkedEmail(uow: UnitOfWork, check: FieldCheck, raw: string, current: string | null, field = 'email'): Promise<string> {
  const email = raw.trim().toLowerCase()
  if (hasForbiddenControl(raw) || !EMAIL.test(email) || email.length > 254) check.add(field, 'invalid_email')
  else if (email !== current && await emailTaken(uow.trx, email)) check.add(field, 'taken')
  return email
}

/** null (the browser's language) or one the portal speaks. */
export function checkLocale(check: FieldCheck, locale: string | null): void {
  if (locale !== null && !LOCALES.includes(locale as never)) check.add('locale', 'invalid_choice')
}

/** Sorted ids without repeats. */
export const sortedIds = (ids: number[]) => [...new Set(ids)].sort((a, b) => a - b)
