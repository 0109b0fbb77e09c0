// Desks, products, the service catalog and the settings, kept in each process's memory: they are
// read on nearly every page and change rarely. Any change to their tables raises
// `counter.reference_data` in the same transaction (triggers, migration 20261206110000); each use
// reads that one number (a primary-key look-up) and a cached list is used only while the number
// is the one it was loaded under. So a change made by any process, on any machine, is seen by
// every process on its next request. Lists asked for together (a page's Promise.all) share one
// read. A command's transaction (registered by `commandTransaction`) reads the number through the
// transaction and uses the process's copy only when it was loaded under that very number, so the
// command sees exactly what its transaction would read, without reading those tables while it
// holds the write lock; anything loaded inside a transaction is never kept (it may see the
// transaction's own uncommitted changes).
import type { Executor } from './index.js'

interface Kept {
  version: number
  entries: Map<string, Promise<unknown>>
  /** The entries whose load has finished, by key: what a command's transaction may use. */
  loaded: Map<string, unknown>
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

/** The database each command transaction was opened on: its process copy may serve the transaction. */
const rootOf = new WeakMap<object, Executor>()

/** Lets `cachedReference` inside this transaction use `db`'s copy, confirmed by one read through the transaction. */
export function commandTransaction(trx: Executor, db: Executor): void {
  rootOf.set(trx, db)
}

/** `load(db)`'s answer, from memory while the reference data has not changed since it was loaded. */
export async function cachedReference<T>(db: Executor, key: string, load: (db: Executor) => Promise<T>): Promise<T> {
  if (db.isTransaction) return inTransaction(db, key, load)
  const version = await currentVersion(db)
  let cache = kept.get(db)
  if (!cache || cache.version !== version) {
    cache = { version, entries: new Map(), loaded: new Map() }
    kept.set(db, cache)
  }
  const { entries, loaded } = cache
  let entry = entries.get(key) as Promise<T> | undefined
  if (!entry) {
    entry = load(db).then((value) => {
      const copy = frozen(value)
      loaded.set(key, copy)
      return copy
    })
    entries.set(key, entry)
    entry.catch(() => entries.delete(key))
  }
  return entry
}

async function inTransaction<T>(trx: Executor, key: string, load: (db: Executor) => Promise<T>): Promise<T> {
  const root = rootOf.get(trx)
  if (!root) return load(trx)
  const version = await currentVersion(trx)
  const cache = kept.get(root)
  // Only a copy already loaded: one still loading may be waiting for the very connection this
  // transaction holds (SQLite's one connection), and waiting for it here would never end.
  if (cache?.version === version && cache.loaded.has(key)) return cache.loaded.get(key) as T
  // Not in memory at this version: read through the transaction, and have the process's copy
  // brought up to date once the transaction lets go of the connection, for the next command.
  cachedReference(root, key, load).catch(() => undefined)
  return load(trx)
}
