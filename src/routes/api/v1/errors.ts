import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from '../../../plugins/app.js'
import type { Refused } from '../../../commands/kernel.js'
import type { Translate } from '../../../i18n/index.js'
import { fieldMessages, refusalStatus, type FieldWords } from '../../refusals.js'
import type { ErrorBody } from './schemas.js'

/** A refusal with field messages (422): the request was well-formed but its values do not fit. */
export class InvalidFieldsError extends HttpError {
  constructor(message: string, readonly fields: Record<string, string>) {
    super(422, 'invalid', message)
  }
}

/** A part of the request no schema covers (a header) that is not what the API takes: 400 `validation_error`. */
export class RequestValidationError extends HttpError {
  constructor(readonly fields: Record<string, string>) {
    super(400, 'validation_error', Object.values(fields)[0] ?? '')
  }
}

export const unauthorized = (t: Translate) => new HttpError(401, 'unauthorized', t('api.error.unauthorized'))
export const ticketNotFound = (t: Translate) => new HttpError(404, 'not_found', t('api.error.ticketNotFound'))
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message)

export function invalidFields(t: Translate, fields: Record<string, string>): InvalidFieldsError {
  return new InvalidFieldsError(t('api.error.invalid', { fields: Object.keys(fields).join(', ') }), fields)
}

/**
 * A command's refusal as the API answers it: 404 not_found, 403 forbidden, 409 conflict or
 * not_allowed (the ticket's state), 422 invalid with a message per field (camelCase, as sent).
 */
export function apiRefusal(t: Translate, refusal: Refused, words: FieldWords & { forbidden?: string } = {}): HttpError {
  const status = refusalStatus(refusal)
  if (refusal.code === 'not_found') return ticketNotFound(t)
  if (refusal.code === 'forbidden') return forbidden(t(words.forbidden ?? 'error.forbidden.body'))
  if (refusal.code === 'conflict') return new HttpError(409, 'conflict', t('api.error.conflict'))
  if (status === 422) {
    const fields = fieldMessages(t, refusal, { ...words, keepNames: true })
    if (Object.keys(fields).length === 0) return new HttpError(422, 'invalid', t(`lifecycle.refused.${refusal.code}`, refusal.params))
    return invalidFields(t, fields)
  }
  return new HttpError(409, 'not_allowed', t(`lifecycle.refused.${refusal.code}`, refusal.params))
}

export function errorBody(code: string, message: string, fields?: Record<string, string>): ErrorBody {
  return { error: fields ? { code, message, fields } : { code, message } }
}

interface AjvError {
  keyword: string
  instancePath: string
  params: Record<string, unknown>
}

const CONTEXT_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' }

/** `/a/0/b` -> `a[0].b`; the missing property for `required`, the unknown one for `additionalProperties`. */
function fieldName(e: AjvError): string {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') parts.push(e.params.missingProperty)
  if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') parts.push(e.params.additionalProperty)
  return parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '')
}

/** One readable sentence per schema error, in the caller's language. */
export function describeSchemaError(t: Translate, e: AjvError, context: string): { field: string; message: string } {
  const field = fieldName(e)
  const where = CONTEXT_NAMES[context] ?? context
  if (!field) return { field: where, message: t(`api.validation.${where}Shape`) }
  const p = e.params
  switch (e.keyword) {
    case 'required': return { field, message: t('api.validation.required', { field }) }
    case 'type': {
      const types = (Array.isArray(p.type) ? p.type : String(p.type).split(',')).map((ty) => t(`api.type.${ty}`))
      return { field, message: t('api.validation.type', { field, type: types.join(t('api.or')) }) }
    }
    case 'minLength': return { field, message: p.limit === 1 ? t('api.validation.empty', { field }) : t('api.validation.minLength', { field, limit: Number(p.limit) }) }
    case 'maxLength': return { field, message: t('api.validation.maxLength', { field, limit: Number(p.limit) }) }
    case 'minimum': return { field, message: t('api.validation.minimum', { field, limit: Number(p.limit) }) }
    case 'maximum': return { field, message: t('api.validation.maximum', { field, limit: Number(p.limit) }) }
    case 'enum': return { field, message: t('api.validation.enum', { field, values: (p.allowedValues as unknown[]).join(', ') }) }
    case 'additionalProperties': return { field, message: t('api.validation.unknownField', { field }) }
    case 'invalidCharacters': return { field, message: t('api.validation.invalidCharacters', { field }) }
    default: return { field, message: t('api.validation.invalid', { field }) }
  }
}

function isAjvErrorList(value: unknown): value is AjvError[] {
  return Array.isArray(value) && value.every((e) => typeof e === 'object' && e !== null && 'keyword' in e)
}

/**
 * Every failure of the API as `{ error: { code, message } }`: schema errors become 400
 * `validation_error` naming the field, our own HttpErrors keep their status and code, and
 * anything unexpected is logged and answered 500 without details.
 */
export function sendApiError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const t = request.t
  if (isAjvErrorList(error.validation) && error.validation.length > 0) {
    const fields: Record<string, string> = {}
    for (const e of error.validation) {
      const { field, message } = describeSchemaError(t, e, error.validationContext ?? 'body')
      fields[field] ??= message
    }
    return reply.code(400).send(errorBody('validation_error', Object.values(fields)[0], fields))
  }
  if (error instanceof InvalidFieldsError || error instanceof RequestValidationError) {
    return reply.code(error.statusCode).send(errorBody(error.code, error.message, error.fields))
  }
  if (error instanceof HttpError) {
    if (error.statusCode === 401) reply.header('www-authenticate', 'Bearer realm="casebridge"')
    return reply.code(error.statusCode).send(errorBody(error.code, error.message))
  }
  const status = error.statusCode ?? 500
  if (status === 413) return reply.code(413).send(errorBody('payload_too_large', t('api.error.tooLarge')))
  if (status === 415) return reply.code(415).send(errorBody('unsupported_media_type', t('api.error.mediaType')))
  if (status === 429) return reply.code(429).send(errorBody('rate_limited', t('api.error.rateLimited')))
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return reply.code(400).send(errorBody('invalid_json', t('api.error.invalidJson')))
  }
  if (status === 400 && error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return reply.code(400).send(errorBody('validation_error', t('api.validation.bodyShape'), { body: t('api.validation.bodyShape') }))
  }
  if (status >= 400 && status < 500) return reply.code(status).send(errorBody('bad_request', t('api.error.badRequest')))
  request.log.error({ err: error }, 'api request failed')
  return reply.code(500).send(errorBody('internal_error', t('api.error.server')))
}
