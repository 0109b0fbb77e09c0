/** Record writes with Salesforce's validation rules and error codes. */
import { SfError, noSuchColumnForWrite } from './errors.js'
import { keyPrefixOf, normalizeId } from './ids.js'
import { objectByPrefix, type FieldDef, type ObjectDef } from './schema.js'
import { parseSfDateTime, sfDateTime, type EmulatorStore, type SfRecord } from './store.js'

export interface WriteContext {
  userId: string
  now: Date
  /** Owner a Case gets from the "assignment rule" unless the caller sent `Sforce-Auto-Assign: FALSE`. */
  autoAssignOwnerId: string | null
  closedStatuses: string[]
  /** True when a lock fault should fail this write (fault injection). */
  takeLockFault: () => boolean
}

/** A request body turned into field values; unknown fields and undeserializable values fail the whole request. */
export type ParsedValues = Map<FieldDef, unknown>

const JSON_KIND = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'START_ARRAY' : typeof v === 'object' ? 'START_OBJECT' : typeof v === 'number' ? 'VALUE_NUMBER_INT' : typeof v === 'boolean' ? 'VALUE_TRUE' : 'VALUE_STRING')

function cannotDeserialize(type: string, v: unknown): SfError {
  const shown = typeof v === 'object' && v !== null ? (Array.isArray(v) ? '[' : '{') : String(v)
  return new SfError(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of ${type} from ${JSON_KIND(v)} value ${shown} or request may be missing a required field`)
}

/** Turns the JSON body of one record into typed values (the deserialization step). */
export function parseValues(obj: ObjectDef, body: Record<string, unknown>, opts: { skip?: string[] } = {}): ParsedValues {
  const out: ParsedValues = new Map()
  const skip = new Set(['attributes', ...(opts.skip ?? [])].map((s) => s.toLowerCase()))
  for (const [key, raw] of Object.entries(body)) {
    if (skip.has(key.toLowerCase())) continue
    const f = obj.byName.get(key.toLowerCase())
    if (!f) throw noSuchColumnForWrite(key, obj.name)
    out.set(f, coerce(f, raw))
  }
  return out
}

function coerce(f: FieldDef, raw: unknown): unknown {
  if (raw === null || raw === undefined) return null
  switch (f.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw
      if (raw === 'true' || raw === 'false') return raw === 'true'
      throw cannotDeserialize('boolean', raw)
    case 'int':
    case 'double':
    case 'currency': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN
      if (Number.isNaN(n)) throw cannotDeserialize(f.type === 'int' ? 'int' : 'double', raw)
      return f.type === 'int' ? Math.trunc(n) : n
    }
    case 'datetime': {
      if (typeof raw !== 'string') throw cannotDeserialize('datetime', raw)
      if (raw === '') return null
      const d = parseSfDateTime(raw) ?? (/^\d{4}-\d{2}-\d{2}$/.test(raw) ? new Date(raw + 'T00:00:00Z') : null)
      if (!d) throw cannotDeserialize('datetime', raw)
      return sfDateTime(d)
    }
    case 'date': {
      if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(raw)) throw cannotDeserialize('date', raw)
      return raw.slice(0, 10)
    }
    default:
      if (typeof raw === 'object') throw cannotDeserialize('string', raw)
      return String(raw) === '' ? null : String(raw)
  }
}

function recordError(code: string, message: string, fields: string[] = []): SfError {
  return new SfError(400, code, message, fields)
}

function lockError(id?: string): SfError {
  return recordError('UNABLE_TO_LOCK_ROW', id ? `unable to obtain exclusive access to this record or 1 records: ${id}` : 'unable to obtain exclusive access to this record')
}

function checkWritable(values: ParsedValues, mode: 'create' | 'update'): void {
  const bad = [...values.keys()].filter((f) => (mode === 'create' ? !f.createable : !f.updateable))
  if (bad.length === 0) return
  if (mode === 'create' && bad.some((f) => f.name === 'Id')) {
    throw recordError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id'])
  }
  const names = bad.map((f) => f.name)
  throw recordError('INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${names.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, names)
}

function checkValues(store: EmulatorStore, obj: ObjectDef, values: ParsedValues): void {
  for (const [f, v] of values) {
    if (v === null) continue
    if (typeof v === 'string' && f.length && v.length > f.length && f.type !== 'reference' && f.type !== 'id') {
      throw recordError('STRING_TOO_LONG', `${f.label}: data value too large: ${v.slice(0, 60)}${v.length > 60 ? '...' : ''} (max length=${f.length})`, [f.name])
    }
    if (f.type === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(v))) {
      throw recordError('INVALID_EMAIL_ADDRESS', `${f.label}: invalid email address: ${String(v)}`, [f.name])
    }
    if (f.type === 'reference') values.set(f, checkReference(store, obj, f, v))
  }
}

function checkReference(store: EmulatorStore, obj: ObjectDef, f: FieldDef, v: unknown): string {
  const id = normalizeId(v)
  const targetName = f.referenceTo![0]
  const target = objectByPrefix(store.schema, id ? keyPrefixOf(id) : '')
  if (!id || !target || target.name !== targetName) {
    throw recordError('MALFORMED_ID', `${f.label}: id value of incorrect type: ${String(v)}`, [f.name])
  }
  const rec = store.get(id)
  if (!rec) throw recordError('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [f.name])
  if (rec.isDeleted) throw recordError('ENTITY_IS_DELETED', 'entity is deleted', [f.name])
  if (f.name === 'OwnerId' && targetName === 'User' && rec.data.IsActive === false) {
    throw recordError('INACTIVE_OWNER_OR_USER', `operation performed with inactive user [${id}] as owner of ${obj.name.toLowerCase()}`, [f.name])
  }
  return id
}

function checkRequired(obj: ObjectDef, rec: SfRecord): void {
  const missing = obj.fields.filter((f) => f.required && (rec[f.name] === null || rec[f.name] === undefined)).map((f) => f.name)
  if (missing.length > 0) throw recordError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing)
}

function checkUnique(store: EmulatorStore, obj: ObjectDef, rec: SfRecord): void {
  for (const f of obj.fields) {
    if (!f.unique) continue
    const v = rec[f.name]
    if (v === null || v === undefined) continue
    const other = store.findBy(obj, f.name, v).find((id) => id !== rec.Id)
    if (!other) continue
    if (obj.name === 'User' && f.name === 'Username') {
      throw recordError('DUPLICATE_USERNAME', `Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must be unique across all Salesforce organizations. To resolve, use a different username (it doesn't need to match the user's email address). `, [f.name])
    }
    throw recordError('DUPLICATE_VALUE', `duplicate value found: ${f.name} duplicates value on record with id: ${other}`, [])
  }
}

/** Fields the emulator computes: names, closed flags, the auto-assigned owner, audit fields. */
function derive(obj: ObjectDef, rec: SfRecord, before: SfRecord | null, ctx: WriteContext, autoAssign: boolean): void {
  const stamp = sfDateTime(ctx.now)
  if (obj.name === 'Contact' || obj.name === 'User') {
    rec.Name = [rec.FirstName, rec.LastName].filter((x) => x !== null && x !== undefined && x !== '').join(' ')
  }
  if (obj.name === 'User') {
    if (!rec.Alias) rec.Alias = String(rec.LastName ?? rec.Username ?? 'user').slice(0, 8)
    rec.UserType = 'Standard'
  }
  if (obj.name === 'Case') {
    if (autoAssign && ctx.autoAssignOwnerId) rec.OwnerId = ctx.autoAssignOwnerId
    const closed = ctx.closedStatuses.some((s) => s.toLowerCase() === String(rec.Status ?? '').toLowerCase())
    rec.IsClosed = closed
    if (closed && !before?.IsClosed) rec.ClosedDate = stamp
    if (!closed) rec.ClosedDate = null
  }
  if (!before) {
    rec.CreatedDate = stamp
    rec.CreatedById = ctx.userId
    rec.IsDeleted = false
  }
  rec.LastModifiedDate = stamp
  rec.LastModifiedById = ctx.userId
  rec.SystemModstamp = stamp
}

/** Inserts one record; returns its id. Throws SfError (status 400) with the per-record error. */
export function createRecord(store: EmulatorStore, obj: ObjectDef, values: ParsedValues, ctx: WriteContext, opts: { autoAssign: boolean; presetId?: string }): string {
  if (ctx.takeLockFault()) {
    const parent = obj.name === 'CaseComment' ? [...values].find(([f]) => f.name === 'ParentId')?.[1] : undefined
    throw lockError(typeof parent === 'string' ? parent : undefined)
  }
  checkWritable(values, 'create')
  checkValues(store, obj, values)
  const rec: SfRecord = {}
  for (const f of obj.fields) rec[f.name] = f.defaultValue !== undefined ? f.defaultValue : f.type === 'boolean' ? false : null
  for (const [f, v] of values) rec[f.name] = v === null && f.type === 'boolean' ? false : v
  if ('OwnerId' in rec && !rec.OwnerId) rec.OwnerId = ctx.userId
  checkRequired(obj, rec)
  rec.Id = opts.presetId ?? store.newId(obj)
  if (obj.name === 'Case') rec.CaseNumber = String(store.nextSeq('CaseNumber') + 999).padStart(8, '0')
  derive(obj, rec, null, ctx, opts.autoAssign)
  checkUnique(store, obj, rec)
  store.insert(obj, rec)
  return rec.Id as string
}

/** Resolves an id given in a URL or a record for `obj`; MALFORMED_ID when it is not one of obj's ids. */
export function resolveId(obj: ObjectDef, raw: unknown): string {
  const id = normalizeId(raw)
  if (!id || keyPrefixOf(id) !== obj.keyPrefix) throw recordError('MALFORMED_ID', `${obj.label} ID: id value of incorrect type: ${String(raw)}`, ['Id'])
  return id
}

/** Updates one live record. Throws SfError with the per-record error. */
export function updateRecord(store: EmulatorStore, obj: ObjectDef, id: string, values: ParsedValues, ctx: WriteContext, opts: { autoAssign: boolean }): void {
  const current = store.get(id)
  if (!current || current.type !== obj.name) throw recordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [])
  if (current.isDeleted) throw recordError('ENTITY_IS_DELETED', 'entity is deleted', [])
  if (ctx.takeLockFault()) throw lockError(id)
  checkWritable(values, 'update')
  checkValues(store, obj, values)
  const rec: SfRecord = { ...current.data }
  for (const [f, v] of values) rec[f.name] = v === null && f.type === 'boolean' ? false : v
  checkRequired(obj, rec)
  derive(obj, rec, current.data, ctx, opts.autoAssign)
  checkUnique(store, obj, rec)
  store.update(obj, rec)
}

/** Moves a record (and a Case's comments) to the recycle bin. */
export function deleteRecord(store: EmulatorStore, id: string, ctx: WriteContext): void {
  const current = store.get(id)
  if (!current) throw recordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [])
  if (current.isDeleted) throw recordError('ENTITY_IS_DELETED', 'entity is deleted', [])
  const obj = store.schema.get(current.type.toLowerCase())!
  if (!obj.deletable) throw recordError('DELETE_FAILED', `${obj.labelPlural} cannot be deleted. Deactivate the record instead.`, [])
  if (ctx.takeLockFault()) throw lockError(id)
  const stamp = sfDateTime(ctx.now)
  const gone = (rec: SfRecord) => ({ ...rec, IsDeleted: true, LastModifiedDate: stamp, LastModifiedById: ctx.userId, SystemModstamp: stamp })
  store.softDelete(gone(current.data), stamp)
  if (obj.name === 'Case') {
    for (const c of store.childrenOf('CaseComment', id)) store.softDelete(gone(c.data), stamp)
  }
}

export interface UpsertResult {
  id: string
  created: boolean
}

/** The external-id field used for upserts, or NOT_FOUND the way Salesforce answers for other fields. */
export function externalIdField(obj: ObjectDef, name: string): FieldDef {
  const f = obj.byName.get(name.toLowerCase())
  if (!f || !(f.externalId || f.name === 'Id')) {
    throw new SfError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${name}`)
  }
  return f
}

/** Matches by external id: 0 -> insert, 1 -> update, more -> MULTIPLE (caller answers 300 or a per-record error). */
export function upsertRecord(
  store: EmulatorStore, obj: ObjectDef, field: FieldDef, value: string, values: ParsedValues, ctx: WriteContext, opts: { autoAssign: boolean }
): UpsertResult | { multiple: string[] } {
  if (field.name === 'Id') {
    const id = resolveId(obj, value)
    values.delete(field)
    updateRecord(store, obj, id, values, ctx, opts)
    return { id, created: false }
  }
  const inBody = values.get(field)
  if (inBody !== undefined && inBody !== null && String(inBody).toLowerCase() !== value.toLowerCase()) {
    throw recordError('INVALID_FIELD', `Field ${field.name} in the record does not match the external id value in the URL: ${value}`, [field.name])
  }
  const matches = store.findBy(obj, field.name, value)
  if (matches.length > 1) return { multiple: matches }
  if (matches.length === 1) {
    values.delete(field)
    updateRecord(store, obj, matches[0], values, ctx, opts)
    return { id: matches[0], created: false }
  }
  values.set(field, coerce(field, value))
  return { id: createRecord(store, obj, values, ctx, opts), created: true }
}
