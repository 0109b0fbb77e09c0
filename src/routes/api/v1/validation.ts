// How the JSON API reads what a client sends. Bodies strictly: JSON in UTF-8, no type coercion
// (`"title": 123` is refused, not read as "123"), no property the schema does not name, and no
// string holding a character both databases would not store alike (src/domain/text.ts). Query
// strings and path parameters are text by nature: they are coerced as Fastify does by default,
// and refused too when their text holds such a character.
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify'
import { HttpError } from '../../../plugins/app.js'
import { hasForbiddenControl } from '../../../domain/text.js'

/** An error in the shape Ajv gives, which `describeSchemaError` words. */
export interface SchemaError {
  keyword: string
  instancePath: string
  params: Record<string, unknown>
  message?: string
}

// Fastify's own defaults (@fastify/ajv-compiler), for the parts of a request that are text.
const lenient = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: true, addUsedSchema: false, allErrors: false })
// Bodies: what the client sent is what the schema sees; one error at a time, as Fastify does (allErrors invites DoS).
const strict = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, addUsedSchema: false, allErrors: false })
for (const ajv of [lenient, strict]) addFormats.default(ajv)

/** Enough to fix a request by; a body of a million bad strings does not get a million messages. */
const MAX_PROBLEMS = 10

const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`

/**
 * Every string in `value` (at any depth) that holds a forbidden character, and every property an
 * object schema with `additionalProperties: false` does not name, as schema errors. Iterative:
 * a deeply nested body must not exhaust the stack.
 */
export function inputProblems(schema: unknown, value: unknown): SchemaError[] {
  const problems: SchemaError[] = []
  const stack: { schema: unknown; value: unknown; path: string }[] = [{ schema, value, path: '' }]
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const { schema: s, value: v, path } = stack.pop()!
    if (typeof v === 'string') {
      if (hasForbiddenControl(v)) problems.push({ keyword: 'invalidCharacters', instancePath: path, params: {}, message: 'must not contain control characters or lone surrogates' })
      continue
    }
    if (typeof v !== 'object' || v === null) continue
    const sub = (typeof s === 'object' && s !== null ? s : {}) as SchemaObject
    const children: typeof stack = []
    if (Array.isArray(v)) {
      v.forEach((item, i) => children.push({ schema: typeof sub.items === 'object' ? sub.items : undefined, value: item, path: pointer(path, i) }))
    } else {
      const properties = (typeof sub.properties === 'object' && sub.properties !== null ? sub.properties : {}) as Record<string, unknown>
      for (const [key, item] of Object.entries(v)) {
        const known = Object.hasOwn(properties, key)
        if (!known && sub.additionalProperties === false) {
          problems.push({ keyword: 'additionalProperties', instancePath: path, params: { additionalProperty: key }, message: 'must NOT have additional properties' })
        } else {
          children.push({ schema: known ? properties[key] : undefined, value: item, path: pointer(path, key) })
        }
      }
    }
    // Last in, first out: reversed, the children are looked at in the order the client wrote them.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i])
  }
  return problems
}

/** The schema's own check, after the one `inputProblems` makes (which needs no coercion: it reads strings as sent). */
function withTextCheck(schema: SchemaObject, check: ValidateFunction): ValidateFunction {
  const validate = ((data: unknown) => {
    const errors: (SchemaError | ErrorObject)[] = inputProblems(schema, data)
    if (!check(data)) errors.push(...(check.errors ?? []))
    validate.errors = errors.length > 0 ? (errors as ErrorObject[]) : null
    return errors.length === 0
  }) as ValidateFunction
  return validate
}

// The query string carries text too (a search for "\u0000" must not reach PostgreSQL).
const compile: FastifySchemaCompiler<SchemaObject> = ({ schema, httpPart }) =>
  withTextCheck(schema, httpPart === 'body' ? strict.compile(schema) : lenient.compile(schema))

/** Registers the API's reading of requests on its (encapsulated) instance. */
export function strictInput(fastify: FastifyInstance): void {
  fastify.setValidatorCompiler(compile)

  // JSON only (form and multipart bodies belong to the web pages), and JSON is UTF-8 (RFC 8259):
  // bytes that are not would otherwise be read as U+FFFD and stored as if the client had sent it.
  fastify.removeContentTypeParser(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'])
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string
    try {
      text = utf8.decode(body as Buffer)
    } catch {
      done(new HttpError(400, 'invalid_json', request.t('api.error.invalidEncoding')), undefined)
      return
    }
    parseJson(request, text, done)
  })
}
