/** The REST API under /services/data/vXX.X: sobjects, sObject Collections, query, limits, replication. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SfError, notFound, sessionInvalid } from './errors.js'
import {
  createRecord, deleteRecord, externalIdField, parseValues, resolveId, updateRecord, upsertRecord,
  type ParsedValues, type WriteContext
} from './dml.js'
import { keyPrefixOf, normalizeId } from './ids.js'
import { describeField, objectByPrefix, type ObjectDef } from './schema.js'
import {
  fieldPathsFor, matches, parseSoql, projectRecord, readPath, scanHints, selectedPaths, sortRecords,
  type FieldPath, type RecordLoader
} from './soql.js'
import { parseSfDateTime, sfDateTime, type EmulatorStore, type SfRecord, type StoredRecord } from './store.js'
import type { Faults } from './faults.js'
import type { Auth } from './auth.js'

export const LATEST_VERSION = 62
const OLDEST_VERSION = 20
const MAX_COLLECTION = 200

export interface ApiDeps {
  store: EmulatorStore
  faults: Faults
  auth: Auth
  clock: () => Date
  pageSize: number
  closedStatuses: string[]
  autoAssignOwnerId: () => string | null
  calls: CallStats
  baseUrl: (req: FastifyRequest) => string
}

export interface CallStats {
  total: number
  byEndpoint: Record<string, number>
  byClient: Record<string, number>
}

declare module 'fastify' {
  interface FastifyRequest {
    sfUserId?: string
  }
}

/** "62.0" from "v62.0", or NOT_FOUND for versions the emulator does not serve. */
function apiVersion(raw: string, min = OLDEST_VERSION): string {
  const m = /^v(\d+)\.0$/.exec(raw)
  if (!m || Number(m[1]) < min || Number(m[1]) > LATEST_VERSION) throw notFound()
  return `${m[1]}.0`
}

function releaseLabel(v: number): string {
  // v62 is Winter '25; three releases a year
  const k = LATEST_VERSION - v
  const season = ['Winter', 'Summer', 'Spring'][k % 3]
  const year = 25 - Math.floor(k / 3) - (season === 'Winter' ? 0 : 1)
  return `${season} '${String(year).padStart(2, '0')}`
}

export function versionsList(): Array<{ label: string; url: string; version: string }> {
  const out = []
  for (let v = OLDEST_VERSION; v <= LATEST_VERSION; v++) out.push({ label: releaseLabel(v), url: `/services/data/v${v}.0`, version: `${v}.0` })
  return out
}

interface QueryCursor {
  records: SfRecord[]
  pageSize: number
  expiresAt: number
}

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  const { store, faults, auth, clock } = deps
  const schema = store.schema
  const cursors = new Map<string, QueryCursor>()
  let cursorSeq = 0

  const objectOr404 = (type: string): ObjectDef => {
    const obj = schema.get(type.toLowerCase())
    if (!obj) throw notFound()
    return obj
  }

  const loader = (): RecordLoader => {
    const cache = new Map<string, StoredRecord | undefined>()
    return (id: string) => {
      const key = normalizeId(id)
      if (!key) return undefined
      if (!cache.has(key)) cache.set(key, store.get(key))
      return cache.get(key)
    }
  }

  const writeContext = (req: FastifyRequest): WriteContext => ({
    userId: req.sfUserId!,
    now: clock(),
    autoAssignOwnerId: deps.autoAssignOwnerId(),
    closedStatuses: deps.closedStatuses,
    takeLockFault: () => faults.takeLockFault()
  })

  const autoAssign = (req: FastifyRequest) => !/^(false|0)$/i.test(String(req.headers['sforce-auto-assign'] ?? 'true'))

  const recordBody = (body: unknown): Record<string, unknown> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new SfError(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of sObject from START_ARRAY value [ or request may be missing a required field')
    }
    return body as Record<string, unknown>
  }

  // every API call: injected failures, the session, the daily allowance, the usage header
  app.addHook('preHandler', async (req, reply) => {
    const failure = faults.takeFailure()
    if (failure !== null) {
      const body = failure === 503
        ? [{ message: 'Server temporarily unavailable. Please try again later.', errorCode: 'SERVER_UNAVAILABLE' }]
        : [{ message: `An unexpected error occurred. Please include this ErrorId if you contact support: ${Math.floor(Math.random() * 1e9)}-${Date.now() % 100000} (-1)`, errorCode: 'UNKNOWN_EXCEPTION' }]
      return reply.code(failure).send(body)
    }
    const userId = auth.userForToken(req.headers.authorization)
    if (!userId) {
      const e = sessionInvalid()
      return reply.code(e.status).send(e.toBody())
    }
    req.sfUserId = userId
    faults.rollDay(clock())
    if (faults.limitExceeded) {
      reply.header('Sforce-Limit-Info', `api-usage=${faults.used}/${faults.max}`)
      return reply.code(403).send([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }])
    }
    faults.used++
    reply.header('Sforce-Limit-Info', `api-usage=${faults.used}/${faults.max}`)
    deps.calls.total++
    const endpoint = `${req.method} ${req.routeOptions.url ?? req.url}`
    deps.calls.byEndpoint[endpoint] = (deps.calls.byEndpoint[endpoint] ?? 0) + 1
    const client = /client=([^,\s]+)/.exec(String(req.headers['sforce-call-options'] ?? ''))?.[1]
    if (client) deps.calls.byClient[client] = (deps.calls.byClient[client] ?? 0) + 1
  })

  type P<T> = FastifyRequest<{ Params: T; Querystring: Record<string, string | undefined>; Body: unknown }>

  // ------------------------------------------------------------ resources

  app.get('/services/data/:v', async (req: P<{ v: string }>) => {
    const v = apiVersion(req.params.v)
    const base = `/services/data/v${v}`
    return {
      tooling: `${base}/tooling`, query: `${base}/query`, queryAll: `${base}/queryAll`, sobjects: `${base}/sobjects`,
      composite: `${base}/composite`, limits: `${base}/limits`, recent: `${base}/recent`,
      identity: `${deps.baseUrl(req)}/id/${store.orgId}/${req.sfUserId}`
    }
  })

  app.get('/services/data/:v/limits', async (req: P<{ v: string }>) => {
    apiVersion(req.params.v)
    const remaining = Math.max(0, faults.max - faults.used)
    return {
      DailyApiRequests: { Max: faults.max, Remaining: remaining },
      DailyAsyncApexExecutions: { Max: 250000, Remaining: 250000 },
      DailyBulkApiBatches: { Max: 15000, Remaining: 15000 },
      DataStorageMB: { Max: 1024, Remaining: 1024 },
      FileStorageMB: { Max: 1024, Remaining: 1024 },
      SingleEmail: { Max: 5000, Remaining: 5000 }
    }
  })

  app.get('/services/data/:v/sobjects', async (req: P<{ v: string }>) => {
    const v = apiVersion(req.params.v)
    return {
      encoding: 'UTF-8',
      maxBatchSize: MAX_COLLECTION,
      sobjects: [...schema.values()].map((o) => ({
        name: o.name, label: o.label, labelPlural: o.labelPlural, keyPrefix: o.keyPrefix, custom: false,
        createable: true, updateable: true, deletable: o.deletable, queryable: true, retrieveable: true, searchable: true,
        replicateable: true, layoutable: true,
        urls: { sobject: `/services/data/v${v}/sobjects/${o.name}`, describe: `/services/data/v${v}/sobjects/${o.name}/describe`, rowTemplate: `/services/data/v${v}/sobjects/${o.name}/{ID}` }
      }))
    }
  })

  app.get('/services/data/:v/sobjects/:type', async (req: P<{ v: string; type: string }>) => {
    const v = apiVersion(req.params.v)
    const o = objectOr404(req.params.type)
    return {
      objectDescribe: { name: o.name, label: o.label, labelPlural: o.labelPlural, keyPrefix: o.keyPrefix, custom: false, createable: true, updateable: true, deletable: o.deletable, queryable: true, urls: { sobject: `/services/data/v${v}/sobjects/${o.name}` } },
      recentItems: []
    }
  })

  app.get('/services/data/:v/sobjects/:type/describe', async (req: P<{ v: string; type: string }>) => {
    const v = apiVersion(req.params.v)
    const o = objectOr404(req.params.type)
    const childRelationships = [...schema.values()].flatMap((child) => child.fields
      .filter((f) => f.referenceTo?.[0] === o.name && f.createable)
      .map((f) => ({
        childSObject: child.name, field: f.name, cascadeDelete: child.name === 'CaseComment',
        relationshipName: child.name === 'Account' && f.name === 'ParentId' ? 'ChildAccounts' : child.labelPlural.replace(/\s/g, '')
      })))
    return {
      name: o.name, label: o.label, labelPlural: o.labelPlural, keyPrefix: o.keyPrefix, custom: false,
      createable: true, updateable: true, deletable: o.deletable, queryable: true, retrieveable: true, searchable: true,
      replicateable: true, undeletable: o.deletable,
      fields: o.fields.map(describeField),
      childRelationships,
      urls: { sobject: `/services/data/v${v}/sobjects/${o.name}`, describe: `/services/data/v${v}/sobjects/${o.name}/describe`, rowTemplate: `/services/data/v${v}/sobjects/${o.name}/{ID}` }
    }
  })

  // ------------------------------------------------------------ single records

  app.post('/services/data/:v/sobjects/:type', async (req: P<{ v: string; type: string }>, reply) => {
    apiVersion(req.params.v)
    const obj = objectOr404(req.params.type)
    const values = parseValues(obj, recordBody(req.body))
    const ctx = writeContext(req)
    const id = store.transaction(() => createRecord(store, obj, values, ctx, { autoAssign: autoAssign(req) }))
    return reply.code(201).send({ id, success: true, errors: [] })
  })

  const liveRecordOr404 = (obj: ObjectDef, rawId: string): StoredRecord => {
    const id = normalizeId(rawId)
    if (!id) throw new SfError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${rawId}`)
    const rec = store.get(id)
    if (!rec || rec.type !== obj.name) throw notFound()
    if (rec.isDeleted) throw new SfError(404, 'ENTITY_IS_DELETED', 'entity is deleted')
    return rec
  }

  const fieldsParam = (obj: ObjectDef, raw: string | undefined): FieldPath[] => {
    const names = raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : null
    return fieldPathsFor(obj, names && names.length ? names : null, schema, clock())
  }

  app.get('/services/data/:v/sobjects/:type/:id', async (req: P<{ v: string; type: string; id: string }>) => {
    const v = apiVersion(req.params.v)
    const obj = objectOr404(req.params.type)
    const rec = liveRecordOr404(obj, req.params.id)
    return projectRecord(rec.data, obj.name, fieldsParam(obj, req.query.fields), loader(), v)
  })

  app.patch('/services/data/:v/sobjects/:type/:id', async (req: P<{ v: string; type: string; id: string }>, reply) => {
    apiVersion(req.params.v)
    const obj = objectOr404(req.params.type)
    const id = resolveId(obj, req.params.id)
    const values = parseValues(obj, recordBody(req.body))
    const rec = store.get(id)
    if (!rec) throw notFound()
    if (rec.isDeleted) throw new SfError(404, 'ENTITY_IS_DELETED', 'entity is deleted')
    const ctx = writeContext(req)
    store.transaction(() => updateRecord(store, obj, id, values, ctx, { autoAssign: autoAssign(req) }))
    return reply.code(204).send()
  })

  app.delete('/services/data/:v/sobjects/:type/:id', async (req: P<{ v: string; type: string; id: string }>, reply) => {
    apiVersion(req.params.v)
    const obj = objectOr404(req.params.type)
    const id = resolveId(obj, req.params.id)
    const rec = store.get(id)
    if (!rec) throw notFound()
    if (rec.isDeleted) throw new SfError(404, 'ENTITY_IS_DELETED', 'entity is deleted')
    const ctx = writeContext(req)
    store.transaction(() => deleteRecord(store, id, ctx))
    return reply.code(204).send()
  })

  const multipleChoices = (reply: FastifyReply, obj: ObjectDef, ids: string[], v: string) =>
    reply.code(300).send(ids.map((id) => `/services/data/v${v}/sobjects/${obj.name}/${id}`))

  app.get('/services/data/:v/sobjects/:type/:field/:value', async (req: P<{ v: string; type: string; field: string; value: string }>, reply) => {
    const v = apiVersion(req.params.v)
    const obj = objectOr404(req.params.type)
    const f = obj.byName.get(req.params.field.toLowerCase())
    if (!f || !(f.externalId || f.idLookup)) throw new SfError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${req.params.field}`)
    const ids = f.name === 'Id' ? [normalizeId(req.params.value)].filter((x): x is string => !!x && !!store.get(x) && !store.get(x)!.isDeleted) : store.findBy(obj, f.name, req.params.value)
    if (ids.length === 0) throw notFound()
    if (ids.length > 1) return multipleChoices(reply, obj, ids, v)
    return projectRecord(store.get(ids[0])!.data, obj.name, fieldsParam(obj, req.query.fields), loader(), v)
  })

  app.patch('/services/data/:v/sobjects/:type/:field/:value', async (req: P<{ v: string; type: string; field: string; value: string }>, reply) => {
    const v = apiVersion(req.params.v)
    const obj = objectOr404(req.params.type)
    const field = externalIdField(obj, req.params.field)
    const values = parseValues(obj, recordBody(req.body))
    const ctx = writeContext(req)
    const res = store.transaction(() => upsertRecord(store, obj, field, req.params.value, values, ctx, { autoAssign: autoAssign(req) }))
    if ('multiple' in res) return multipleChoices(reply, obj, res.multiple, v)
    return reply.code(res.created ? 201 : 200).send({ id: res.id, success: true, errors: [], created: res.created })
  })

  app.delete('/services/data/:v/sobjects/:type/:field/:value', async (req: P<{ v: string; type: string; field: string; value: string }>, reply) => {
    const v = apiVersion(req.params.v)
    const obj = objectOr404(req.params.type)
    const field = externalIdField(obj, req.params.field)
    const ids = field.name === 'Id' ? [resolveId(obj, req.params.value)] : store.findBy(obj, field.name, req.params.value)
    if (ids.length === 0) throw notFound()
    if (ids.length > 1) return multipleChoices(reply, obj, ids, v)
    const ctx = writeContext(req)
    store.transaction(() => deleteRecord(store, ids[0], ctx))
    return reply.code(204).send()
  })

  // ------------------------------------------------------------ replication

  const replicationRange = (q: Record<string, string | undefined>): { start: string; end: string; latest: string } => {
    const start = q.start ? parseSfDateTime(q.start) : null
    const end = q.end ? parseSfDateTime(q.end) : null
    if (!start || !end) throw new SfError(400, 'MALFORMED_QUERY', 'start and end must be valid dateTime values')
    // Salesforce works in whole minutes here
    const minute = (d: Date) => new Date(Math.floor(d.getTime() / 60_000) * 60_000)
    const s = minute(start)
    const e = minute(end)
    const now = clock()
    if (e.getTime() - s.getTime() < 60_000) throw new SfError(400, 'INVALID_REPLICATION_DATE', 'startDate must chronologically precede endDate by more than one minute')
    if (now.getTime() - s.getTime() > 30 * 86_400_000) throw new SfError(400, 'INVALID_REPLICATION_DATE', 'startDate cannot be more than 30 days ago')
    const latest = e.getTime() > now.getTime() ? minute(now) : e
    return { start: sfDateTime(s), end: sfDateTime(e), latest: sfDateTime(latest) }
  }

  app.get('/services/data/:v/sobjects/:type/updated', async (req: P<{ v: string; type: string }>) => {
    apiVersion(req.params.v, 29)
    const obj = objectOr404(req.params.type)
    const r = replicationRange(req.query)
    const ids = store.list(obj.name, { modstampFrom: r.start }).filter((x) => (x.data.SystemModstamp as string) < r.end).map((x) => x.id)
    return { ids, latestDateCovered: r.latest }
  })

  app.get('/services/data/:v/sobjects/:type/deleted', async (req: P<{ v: string; type: string }>) => {
    apiVersion(req.params.v, 29)
    const obj = objectOr404(req.params.type)
    const r = replicationRange(req.query)
    return {
      deletedRecords: store.deletedBetween(obj.name, r.start, r.end),
      earliestDateAvailable: store.earliestDeleted(obj.name) ?? r.start,
      latestDateCovered: r.latest
    }
  })

  // ------------------------------------------------------------ query

  const cursorFor = (cursorId: string, offset: number): QueryCursor => {
    const c = cursors.get(cursorId)
    if (!c || c.expiresAt < clock().getTime() || offset > c.records.length) {
      throw new SfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator')
    }
    return c
  }

  const pageOut = (records: SfRecord[], offset: number, size: number, v: string, cursorId: string) => {
    const page = records.slice(offset, offset + size)
    const totalSize = records.length
    if (offset + size < records.length) {
      return { totalSize, done: false, nextRecordsUrl: `/services/data/v${v}/query/${cursorId}-${offset + size}`, records: page }
    }
    cursors.delete(cursorId)
    return { totalSize, done: true, records: page }
  }

  const batchSize = (req: FastifyRequest): number => {
    const m = /batchSize=(\d+)/i.exec(String(req.headers['sforce-query-options'] ?? ''))
    const n = m ? Number(m[1]) : deps.pageSize
    return Math.min(Math.max(n, Math.min(200, deps.pageSize)), deps.pageSize)
  }

  const runQuery = (req: P<{ v: string }>, all: boolean) => {
    const v = apiVersion(req.params.v)
    const soql = req.query.q
    if (soql === undefined || soql === '') throw new SfError(400, 'MALFORMED_QUERY', 'A query string has to be specified')
    const now = clock()
    const q = parseSoql(soql, schema, now)
    const hints = scanHints(q)
    const load = loader()
    const rows = store.list(q.object.name, {
      includeDeleted: all,
      modstampFrom: hints.modstampFrom !== undefined ? sfDateTime(new Date(hints.modstampFrom)) : undefined,
      ids: hints.ids?.map((id) => normalizeId(id) ?? id)
    })
    let hits = rows.map((r) => r.data).filter((r) => (q.where ? matches(q.where, r, load) : true))
    hits = sortRecords(hits, q.orderBy, load)
    if (q.offset) hits = hits.slice(q.offset)
    if (q.limit !== null) hits = hits.slice(0, q.limit)
    if (q.countOnly) return { totalSize: hits.length, done: true, records: [] }
    if (q.aggregate) {
      const agg: SfRecord = { attributes: { type: 'AggregateResult' } }
      for (const it of q.items) {
        if (it.kind === 'count') agg[it.alias] = it.path ? hits.filter((r) => readPath(r, it.path!, load) !== null).length : hits.length
      }
      return { totalSize: 1, done: true, records: [agg] }
    }
    const paths = selectedPaths(q)
    const size = batchSize(req)
    if (hits.length <= size) {
      return { totalSize: hits.length, done: true, records: hits.map((r) => projectRecord(r, q.object.name, paths, load, v)) }
    }
    // a snapshot cursor, like Salesforce's query locator
    const records = hits.map((r) => projectRecord(r, q.object.name, paths, load, v))
    const cursorId = `01g${store.orgId.slice(3, 8)}${String(++cursorSeq).padStart(7, '0')}`
    for (const [k, c] of cursors) if (c.expiresAt < now.getTime()) cursors.delete(k)
    cursors.set(cursorId, { records, pageSize: size, expiresAt: now.getTime() + 15 * 60_000 })
    return pageOut(records, 0, size, v, cursorId)
  }

  const more = (req: P<{ v: string; locator: string }>) => {
    const v = apiVersion(req.params.v)
    const m = /^(.+)-(\d+)$/.exec(req.params.locator)
    if (!m) throw new SfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator')
    const c = cursorFor(m[1], Number(m[2]))
    return pageOut(c.records, Number(m[2]), c.pageSize, v, m[1])
  }

  app.get('/services/data/:v/query', async (req: P<{ v: string }>) => runQuery(req, false))
  app.get('/services/data/:v/queryAll', async (req: P<{ v: string }>) => runQuery(req, true))
  app.get('/services/data/:v/query/:locator', async (req: P<{ v: string; locator: string }>) => more(req))
  app.get('/services/data/:v/queryAll/:locator', async (req: P<{ v: string; locator: string }>) => more(req))

  // ------------------------------------------------------------ sObject Collections

  interface CollectionBody { allOrNone: boolean; records: Array<Record<string, unknown>> }

  const collectionBody = (body: unknown): CollectionBody => {
    const b = body as { allOrNone?: unknown; records?: unknown } | null
    if (!b || typeof b !== 'object' || !Array.isArray(b.records)) {
      throw new SfError(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of collection request: records is required')
    }
    if (b.records.length > MAX_COLLECTION) throw new SfError(400, 'EXCEEDED_ID_LIMIT', `Record limit exceeded: no more than ${MAX_COLLECTION} records are allowed in a collection`)
    for (const r of b.records) recordBody(r)
    return { allOrNone: b.allOrNone === true || b.allOrNone === 'true', records: b.records as Array<Record<string, unknown>> }
  }

  const typeOf = (rec: Record<string, unknown>, fallback?: ObjectDef): ObjectDef => {
    const t = (rec.attributes as { type?: unknown } | undefined)?.type
    if (typeof t !== 'string') {
      if (fallback) return fallback
      throw new SfError(400, 'INVALID_TYPE', 'Must specify a type in the attributes of each record (attributes.type)')
    }
    const o = schema.get(t.toLowerCase())
    if (!o) throw new SfError(400, 'INVALID_TYPE', `sObject type '${t}' is not supported.`)
    return o
  }

  type Result = { id?: string | null; success: boolean; errors: Array<ReturnType<SfError['toRecordError']>>; created?: boolean }

  /**
   * Runs one operation per record, each in its own savepoint; with allOrNone any failure rolls
   * everything back and the records that had succeeded report ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  const runCollection = <T>(items: T[], allOrNone: boolean, op: (item: T) => Result): Result[] => {
    const results: Result[] = []
    const attempt = () => {
      for (const item of items) {
        try {
          results.push(store.transaction(() => op(item)))
        } catch (err) {
          if (!(err instanceof SfError)) throw err
          results.push({ success: false, errors: [err.toRecordError()], ...idOf(item) })
        }
      }
    }
    if (!allOrNone) {
      store.transaction(attempt)
      return results
    }
    const rollback = new Error('rollback')
    try {
      store.transaction(() => {
        attempt()
        if (results.some((r) => !r.success)) throw rollback
      })
    } catch (err) {
      if (err !== rollback) throw err
      return results.map((r) => r.success
        ? { id: null, success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }], ...(r.created !== undefined ? { created: false } : {}) }
        : r)
    }
    return results
  }

  const idOf = (item: unknown): { id?: string } => {
    if (item && typeof item === 'object' && 'id' in item && typeof (item as { id: unknown }).id === 'string') return { id: (item as { id: string }).id }
    return {}
  }

  app.post('/services/data/:v/composite/sobjects', async (req: P<{ v: string }>) => {
    apiVersion(req.params.v, 42)
    const body = collectionBody(req.body)
    const parsed = body.records.map((r) => {
      const obj = typeOf(r)
      return { obj, values: parseValues(obj, r) }
    })
    const ctx = writeContext(req)
    const assign = autoAssign(req)
    return runCollection(parsed, body.allOrNone, ({ obj, values }) => ({ id: createRecord(store, obj, values, ctx, { autoAssign: assign }), success: true, errors: [] }))
  })

  app.patch('/services/data/:v/composite/sobjects', async (req: P<{ v: string }>) => {
    apiVersion(req.params.v, 42)
    const body = collectionBody(req.body)
    const parsed = body.records.map((r) => {
      const obj = typeOf(r)
      const rawId = r.id ?? r.Id
      return { obj, rawId, id: typeof rawId === 'string' ? rawId : undefined, values: parseValues(obj, r, { skip: ['id'] }) }
    })
    const ctx = writeContext(req)
    const assign = autoAssign(req)
    return runCollection(parsed, body.allOrNone, ({ obj, rawId, values }) => {
      if (rawId === undefined || rawId === null || rawId === '') throw new SfError(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', [])
      const id = resolveId(obj, rawId)
      updateRecord(store, obj, id, values, ctx, { autoAssign: assign })
      return { id, success: true, errors: [] }
    })
  })

  app.patch('/services/data/:v/composite/sobjects/:type/:field', async (req: P<{ v: string; type: string; field: string }>) => {
    apiVersion(req.params.v, 46)
    const obj = objectOr404(req.params.type)
    const field = externalIdField(obj, req.params.field)
    const body = collectionBody(req.body)
    const parsed = body.records.map((r) => {
      const t = typeOf(r, obj)
      if (t !== obj) throw new SfError(400, 'INVALID_TYPE', `Record type ${t.name} does not match the collection type ${obj.name}`)
      const key = Object.keys(r).find((k) => k.toLowerCase() === field.name.toLowerCase())
      const raw = key ? r[key] : undefined
      return { value: raw === undefined || raw === null || raw === '' ? null : String(raw), values: parseValues(obj, r) }
    })
    const seen = new Map<string, number>()
    for (const p of parsed) if (p.value !== null) seen.set(p.value.toLowerCase(), (seen.get(p.value.toLowerCase()) ?? 0) + 1)
    const ctx = writeContext(req)
    const assign = autoAssign(req)
    return runCollection(parsed, body.allOrNone, ({ value, values }) => {
      if (value === null) throw new SfError(400, 'MISSING_ARGUMENT', `${field.name} not specified`, [])
      if ((seen.get(value.toLowerCase()) ?? 0) > 1) throw new SfError(400, 'DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${value}`, [field.name])
      const res = upsertRecord(store, obj, field, value, values as ParsedValues, ctx, { autoAssign: assign })
      if ('multiple' in res) {
        throw new SfError(400, 'DUPLICATE_EXTERNAL_ID', `${field.name}: more than one record found for external id field: [${res.multiple.join(', ')}]`, [field.name])
      }
      return { id: res.id, success: true, errors: [], created: res.created }
    }).map((r) => ({ ...r, created: r.created ?? false, id: r.id ?? null }))
  })

  app.delete('/services/data/:v/composite/sobjects', async (req: P<{ v: string }>) => {
    apiVersion(req.params.v, 42)
    const ids = (req.query.ids ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    if (ids.length === 0) throw new SfError(400, 'MISSING_ARGUMENT', 'ids parameter is required')
    if (ids.length > MAX_COLLECTION) throw new SfError(400, 'EXCEEDED_ID_LIMIT', `Record limit exceeded: no more than ${MAX_COLLECTION} ids are allowed`)
    const ctx = writeContext(req)
    return runCollection(ids.map((id) => ({ id })), req.query.allOrNone === 'true', ({ id: raw }) => {
      const id = normalizeId(raw)
      if (!id || !objectByPrefix(schema, keyPrefixOf(id))) throw new SfError(400, 'MALFORMED_ID', `malformed id ${raw}`, [])
      deleteRecord(store, id, ctx)
      return { id, success: true, errors: [] }
    })
  })

  const retrieveMany = (v: string, type: string, ids: unknown, fields: unknown) => {
    const obj = objectOr404(type)
    if (!Array.isArray(ids) || ids.length === 0) throw new SfError(400, 'MISSING_ARGUMENT', 'ids is required')
    if (!Array.isArray(fields) || fields.length === 0) throw new SfError(400, 'MISSING_ARGUMENT', 'fields is required')
    if (ids.length > 2000) throw new SfError(400, 'EXCEEDED_ID_LIMIT', 'Record limit exceeded: no more than 2000 ids are allowed')
    const paths = fieldPathsFor(obj, fields.map(String), schema, clock())
    const load = loader()
    return ids.map((raw) => {
      const id = normalizeId(raw)
      if (!id || keyPrefixOf(id) !== obj.keyPrefix) throw new SfError(400, 'MALFORMED_ID', `${obj.label} ID: id value of incorrect type: ${String(raw)}`)
      const rec = load(id)
      return rec && !rec.isDeleted ? projectRecord(rec.data, obj.name, paths, load, v) : null
    })
  }

  app.post('/services/data/:v/composite/sobjects/:type', async (req: P<{ v: string; type: string }>) => {
    const v = apiVersion(req.params.v, 42)
    const b = (req.body ?? {}) as { ids?: unknown; fields?: unknown }
    return retrieveMany(v, req.params.type, b.ids, b.fields)
  })

  app.get('/services/data/:v/composite/sobjects/:type', async (req: P<{ v: string; type: string }>) => {
    const v = apiVersion(req.params.v, 42)
    const split = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean)
    return retrieveMany(v, req.params.type, split(req.query.ids), split(req.query.fields))
  })
}
