// Where a page may send the browser after a login (the `next` parameter): only a path on this
// site. Whatever a browser might read as another origin is refused outright rather than repaired:
// a scheme, `//host`, backslashes (browsers read `/\host` as `//host`), and any whitespace,
// control or non-ASCII character anywhere (browsers drop tabs and newlines inside URLs, so
// `/\t/evil.test` becomes `//evil.test`; and a raw non-ASCII byte cannot go in a Location header).

const BASE = 'https://casebridge.invalid'
/** Printable ASCII but the backslash. */
const PLAIN = /^[\x21-\x5b\x5d-\x7e]*$/

/** The path when it is safe to redirect to, else null (the caller then uses its default). */
export function safeNext(next: unknown): string | null {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2000) return null
  if (!PLAIN.test(next)) return null
  if (!next.startsWith('/') || next.startsWith('//')) return null
  let path: string
  try {
    path = decodeURIComponent(next.split(/[?#]/, 1)[0])
  } catch {
    return null
  }
  // Encoded forms of the same tricks in the path (`/%2F%2Fevil.test`, `/%5Cevil.test`,
  // `/%09/evil.test`): no page of ours has them, and some proxies decode before they forward.
  if (path.startsWith('//') || /[\\\x00-\x1f\x7f]/.test(path)) return null
  // Nor empty or dot segments (`/.//evil.test` is this site's `//evil.test`, which a later
  // redirect could read as another host): no page of ours has them either.
  if (/\/\/|(^|\/)\.\.?(\/|$)/.test(path)) return null
  try {
    const url = new URL(next, BASE)
    if (url.origin !== BASE) return null
  } catch {
    return null
  }
  return next
}
