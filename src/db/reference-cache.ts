// Desks, products, the service catalog and the settings, kept in each process's memory: they are
// read on nearly every page and change rarely. Any change to their tables raises
// `counter.reference_data` in the same transaction (triggers, migration 20261206110000); a
// request reads that one number once (a primary-key look-up) and a cached list is used only while
// the number is the one it was loaded under. So a change made by any process, on any machine, is
// seen by every process on its next request. Inside a transaction nothing is cached: a command
// reads what its own transaction sees.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Executor } from './index.js'

interface Scope {
  /** The reference version read for this request (once, the first time a list is wanted). */
  version: Promise<number> | null
}

const requestScope = new AsyncLocalStorage<Scope>()

/** Runs `fn` (a request's handling) with its own reference version, read at most once. */
export function inReferenceScope<T>(fn: () => T): T {
  return requestScope.run({ version: null }, fn)
}

interface Kept {
  version: number
  entries: Map<string, Promise<unknown>>
}

/** Per database handle (a test's app and a benchmark's own handle keep separate caches). */
const kept = new WeakMap<object, Kept>()

async function readVersion(db: Executor): Promise<number> {
  const row = await db.selectFrom('counter').select('value').where('name', '=', 'reference_data').executeTakeFirst()
  return Number(row?.value ?? 0)
}

/** Arrays and plain objects frozen one level deep: a cached value is shared by every request. */
function frozen<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null) Object.freeze(item)
  }
  return typeof value === 'object' && value !== null ? Object.freeze(value) : value
}

/** `load(db)`'s answer, from memory while the reference data has not changed since it was loaded. */
export async function cachedReference<T>(db: Executor, key: string, load: (db: Executor) => Promise<T>): Promise<T> {
  if (db.isTransaction) return load(db)
  const scope = requestScope.getStore()
  const version = await (scope ? (scope.version ??= readVersion(db)) : readVersion(db))
  let cache = kept.get(db)
  if (!cache || cache.version !== version) {
    cache = { version, entries: new Map() }
    kept.set(db, cache)
  }
  const entries = cache.entries
  let entry = entries.get(key) as Promise<T> | undefined
  if (!entry) {
    entry = load(db).then(frozen)
    entries.set(key, entry)
    entry.catch(() => entries.delete(key))
  }
  return entry
}
