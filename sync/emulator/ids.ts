/** Salesforce record ids: 15 case-sensitive characters, plus a 3-character suffix that makes them case-insensitive. */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'

/** The 3-character suffix: one character per 5-character chunk, one bit per upper-case letter. */
export function idSuffix(id15: string): string {
  let out = ''
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i)
      if (c >= 65 && c <= 90) flags |= 1 << i
    }
    out += SUFFIX[flags]
  }
  return out
}

/** The 18-character form of a 15- or 18-character id, or null when it is not a well-formed id. */
export function normalizeId(value: unknown): string | null {
  if (typeof value !== 'string') return null
  if (!/^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$/i.test(value)) return null
  const id15 = value.slice(0, 15)
  const suffix = idSuffix(id15)
  if (value.length === 18 && value.slice(15).toUpperCase() !== suffix) return null
  return id15 + suffix
}

function base62(n: number, width: number): string {
  let s = ''
  let v = n
  while (v > 0) {
    s = BASE62[v % 62] + s
    v = Math.floor(v / 62)
  }
  return s.padStart(width, '0')
}

/** A new 18-character id: key prefix, a fixed "pod" part and a per-prefix sequence number. */
export function makeId(prefix: string, seq: number): string {
  const id15 = prefix + 'Em00' + base62(seq, 8)
  return id15 + idSuffix(id15)
}

export function keyPrefixOf(id: string): string {
  return id.slice(0, 3)
}
