// Desks, products, the service catalog and the settings, kept in each process's memory: they are
// read on nearly every page and change rarely. Any change to their tables raises
// `counter.reference_data` in the same transaction (triggers, migration 20261206110000); each use
// reads that one number (a primary-key look-up) and a cached list is used only while the number
// is the one it was loaded under. So a change made by any process, on any machine, is seen by
// every process on its next request. Lists asked for together (a page's Promise.all) share one
// read. Inside a transaction nothing is cached: a command reads what its own transaction sees.
import type { Executor } from './index.js'

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

/** A read issued for callers in the same synchronous run, forgotten at the next microtask. */
const reading = new WeakMap<object, Promise<number>>()

/**
 * The version now. Callers in one synchronous run (the lists of a Promise.all) share one read;
 * any later caller reads again, so nothing read before a change can answer a request made after it.
 */
function currentVersion(db: Executor): Promise<number> {
  let version = reading.get(db)
  if (!version) {
    const read = readVersion(db)
    reading.set(db, read)
    queueMicrotask(() => { if (reading.get(db) === read) reading.delete(db) })
    version = read
  }
  return version
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
  const version = await currentVersion(db)
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
