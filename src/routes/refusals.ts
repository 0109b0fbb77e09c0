// How the web pages and the API put a command's refusal into words: its HTTP status, a
// message for the whole, and a message per field under the channel's own field names.
import type { FieldProblem, FieldRefusal, Refused } from '../commands/kernel.js'
import type { Translate } from '../i18n/index.js'
import { isMissingInput } from '../domain/lifecycle.js'

/** The status a refusal answers with: the person's input (422), the ticket's state or a stale page (409), access (403/404). */
export function refusalStatus(refusal: Refused): number {
  switch (refusal.code) {
    case 'not_found': return 404
    case 'forbidden': return 403
    case 'invalid':
    case 'nothing_to_change':
      return 422
    default:
      return isMissingInput(refusal.code) ? 422 : 409
  }
}

const PROBLEM_KEYS: Record<FieldProblem, string> = {
  required: 'validation.required',
  too_long: 'validation.tooLong',
  invalid_choice: 'validation.invalidChoice',
  invalid_url: 'validation.invalidUrl',
  file_too_large: 'validation.fileTooLarge',
  catalog_or_product: 'ticket.catalogOrProduct',
  not_on_desk: 'validation.invalidChoice',
  not_requesters_account: 'validation.invalidChoice',
  same_desk: 'desk.escalate.chooseDesk',
  in_future: 'desk.occurredAt.future',
  out_of_range: 'validation.invalidNumber',
  needs_visible: 'desk.reply.emailNeedsVisible',
  too_early: 'admin.sla.resolutionAfterResponse',
  too_short: 'auth.password.tooShort',
  mismatch: 'auth.password.mismatch',
  wrong_password: 'auth.password.wrongCurrent',
  invalid_email: 'validation.invalidEmail',
  taken: 'validation.invalidChoice',
  invalid_characters: 'validation.invalidCharacters',
  wrong_code: 'twoFactor.wrongCode',
  last_admin: 'admin.staff.lastAdmin',
  not_yourself: 'admin.staff.notYourself',
  invalid_date: 'hours.badHoliday',
  invalid_hours: 'hours.badHours',
  in_use: 'validation.inUse',
  inactive: 'validation.accountInactive'
}

export interface FieldWords {
  /** The channel's name for a command field; default: the same name in snake_case (forms), or as is. */
  names?: Record<string, string>
  /** A message key for a field ("reason") or for one problem of a field ("reason.required"). */
  keys?: Record<string, string>
  /** Parameters every message may use (the upload limit, say). */
  params?: Record<string, string | number>
  /** Keep the command's field names (the API speaks them). */
  keepNames?: boolean
}

export const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

function fieldMessage(t: Translate, field: string, f: FieldRefusal, words: FieldWords): string {
  const key = words.keys?.[`${field}.${f.problem}`] ?? words.keys?.[field] ?? PROBLEM_KEYS[f.problem]
  return t(key, { ...words.params, ...f.params })
}

/** Field messages keyed by the channel's field names. A lifecycle refusal about a missing input is one of them. */
export function fieldMessages(t: Translate, refusal: Refused, words: FieldWords = {}): Record<string, string> {
  const name = (field: string) => words.names?.[field] ?? (words.keepNames ? field : snakeCase(field))
  const out: Record<string, string> = {}
  for (const [field, f] of Object.entries(refusal.fields)) out[name(field)] = fieldMessage(t, field, f, words)
  if (isMissingInput(refusal.code) && refusal.field) {
    out[name(refusal.field)] = t(words.keys?.[`${refusal.field}.required`] ?? `lifecycle.refused.${refusal.code}`, refusal.params)
  }
  return out
}

/** One sentence for a refusal that is not about fields (a lifecycle refusal, a conflict, nothing to change). */
export function refusalMessage(t: Translate, refusal: Refused, keys: { conflict?: string; nothing?: string } = {}): string {
  switch (refusal.code) {
    case 'conflict': return t(keys.conflict ?? 'error.conflict')
    case 'nothing_to_change': return t(keys.nothing ?? 'desk.transfer.nothing')
    case 'not_found': return t('error.notFound.body')
    case 'forbidden': return t('error.forbidden.body')
    case 'invalid': return t('common.formErrors')
    default: return t(`lifecycle.refused.${refusal.code}`, refusal.params)
  }
}
