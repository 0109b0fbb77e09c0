/** Splits a list into parts of at most `size` (IN lists stay within both dialects' parameter limits). */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
