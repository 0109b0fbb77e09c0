// Queries of a fixed shape, built and compiled by Kysely once per dialect instead of on every
// call: each call only binds its arguments to the compiled SQL. For the statements every request
// runs (its session, its actor); anything whose SQL depends on its input stays an ordinary query.
import type { Compilable, CompiledQuery } from 'kysely'
import type { Executor } from './index.js'

/** Stands for argument `index` while the query is built: a value no caller could pass. */
class Slot {
  constructor(readonly index: number) {}
}

interface Compiled {
  query: CompiledQuery
  /** For each SQL parameter: the argument it binds, or -1 for a value fixed by the query itself. */
  slots: number[]
}

/**
 * `build(db, ...args)` as a prepared query: `run(db, ...args)` returns its rows. `build` must give
 * the same SQL whatever the arguments (each argument a bound value, never a list or a choice of
 * clause), which is checked: an argument that does not reach the SQL as one parameter throws.
 */
export function prepared<A extends unknown[], R>(arity: A['length'], build: (db: Executor, ...args: A) => Compilable<R>) {
  const byDialect = new WeakMap<object, Compiled>()
  function compiledFor(db: Executor): Compiled {
    const adapter = db.getExecutor().adapter
    let compiled = byDialect.get(adapter.constructor)
    if (!compiled) {
      const slots = Array.from({ length: arity }, (_, i) => new Slot(i))
      const query = build(db, ...(slots as unknown as A)).compile()
      const bound = query.parameters.map((p) => (p instanceof Slot ? p.index : -1))
      for (let i = 0; i < arity; i++) {
        if (bound.filter((b) => b === i).length !== 1) throw new Error(`prepared query: argument ${i} is not bound exactly once in ${query.sql}`)
      }
      compiled = { query, slots: bound }
      byDialect.set(adapter.constructor, compiled)
    }
    return compiled
  }
  return async function run(db: Executor, ...args: A): Promise<R[]> {
    const { query, slots } = compiledFor(db)
    const parameters = slots.map((slot, i) => (slot === -1 ? query.parameters[i] : args[slot]))
    const result = await db.executeQuery<R>({ ...query, parameters } as CompiledQuery<R>)
    return result.rows
  }
}
