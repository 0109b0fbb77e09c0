// A map that keeps at most `max` entries: setting a key makes it the newest, and past `max` the
// one set longest ago goes. What the process keeps between requests (prepared statements,
// remembered answers, formatted dates) stays bounded.

export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>()
  constructor(readonly max: number) {}

  get(key: K): V | undefined {
    return this.#entries.get(key)
  }

  /** Keeps `value` as the newest entry; past `max`, the oldest goes. */
  set(key: K, value: V): void {
    this.#entries.delete(key)
    this.#entries.set(key, value)
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!)
  }

  get size(): number {
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
  }
}
