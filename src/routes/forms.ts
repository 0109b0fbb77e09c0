// The server-rendered forms: one TypeBox schema per form, read by Fastify's Ajv (coerceTypes
// 'array', useDefaults, removeAdditional). Text reaches the schemas trimmed (web.ts); the rules
// about values stay in the commands, which report every field at once.
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { Type, type ObjectOptions, type TProperties } from '@sinclair/typebox'
import type { UploadedFile } from '../storage/attachments.js'
import type { Params } from '../i18n/index.js'
import { StringEnum } from './api/v1/schemas.js'

export type FormErrors = Record<string, string>

/** A form's body: its fields and the CSRF token. Anything else posted is dropped. */
export function Form<T extends TProperties>(fields: T, options: ObjectOptions = {}) {
  return Type.Object({ _csrf: Type.Optional(Type.String()), ...fields }, { ...options, additionalProperties: false })
}

/** A form that is only a button: the token. */
export const ButtonForm = Form({})

/** Text; '' when left out. */
export const Text = Type.String({ default: '' })

/** A choice among ids (a select): '' or left out is none (null). */
export const OptionalId = Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 2_147_483_647, default: null })

/** A whole number, or null when empty or left out; its range is checked where it always was. */
export const OptionalInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'], default: null })

/** The version of the ticket the page showed (a hidden field). */
export const Version = Type.Integer({ minimum: 0, maximum: 999_999_999 })

/** A ticked checkbox posts its value ("on" or "1" on these pages); an unticked one posts nothing. */
export const Checkbox = Type.Optional(StringEnum(['on', '1', 'true'] as const))

/** A file input as @fastify/multipart hands it over: one file, several, or nothing when left empty. Read it with files(). */
export const Files = Type.Optional(Type.Unsafe<UploadedFile | UploadedFile[]>({}))

export { StringEnum as Choice }

/** Messages for selects and radio groups whose value is none of their options. */
export function choices(...fields: string[]): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [field, 'validation.invalidChoice']))
}

/**
 * The files of a file input that this request received, as a list. Only those: a body can say
 * anything (a JSON body can hold an object that looks like an upload, with any path in it).
 */
export function files(request: FastifyRequest, value: UploadedFile | UploadedFile[] | undefined): UploadedFile[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value]
  return list.filter((f) => request.uploads.includes(f))
}

const posted = new WeakMap<FastifyRequest, Record<string, string>>()
const unread = (name: string) => name === '_csrf' || name.toLowerCase().includes('password')

/**
 * preValidation (web.ts): trims the text of a form body in place, passwords aside, and keeps what
 * was posted for echo(), before the schema turns it into numbers and defaults.
 */
export function trimForm(request: FastifyRequest): void {
  const body = request.body
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return
  const fields = body as Record<string, unknown>
  const values: Record<string, string> = {}
  for (const [name, value] of Object.entries(fields)) {
    if (unread(name)) continue
    const trimmed = Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'string' ? v.trim() : v)) : typeof value === 'string' ? value.trim() : value
    fields[name] = trimmed
    const first: unknown = Array.isArray(trimmed) ? trimmed[0] : trimmed
    if (typeof first === 'string') values[name] = first
  }
  posted.set(request, values)
}

/** What the person posted (trimmed text, the first of a repeated name), so an invalid form comes back filled in. */
export function echo(request: FastifyRequest): Record<string, string> {
  return { ...posted.get(request) }
}

/**
 * Why a form failed its schema, on a route with `attachValidation` (web.ts answers a failure
 * outside the body): null when it fits. Fastify's Ajv stops at the first field that fails, so one
 * field, with the message `messages` names for it. A field the page has no message for is not
 * one a person can get wrong on it: the error goes on as the 400 Fastify answers without
 * `attachValidation`.
 */
export function formFailure(request: FastifyRequest, messages: Record<string, string>, params?: Params): { field: string; message: string } | null {
  const error = request.validationError
  if (!error) return null
  const first = (error.validation as FastifySchemaValidationError[])[0]
  const field = first?.keyword === 'required' ? String(first.params.missingProperty) : first?.instancePath.split('/')[1] ?? ''
  const key = Object.hasOwn(messages, field) ? messages[field] : undefined
  if (!key) throw error
  return { field, message: request.t(key, params) }
}

/** A value among the ones a route knows (an action in the path), or null. */
export function oneOf<T extends string>(value: string, options: readonly T[]): T | null {
  return (options as readonly string[]).includes(value) ? (value as T) : null
}
