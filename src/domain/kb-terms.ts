// The words of a knowledge-base search as people type them: folded (no accents, lower case),
// without the small words of either language, and corrected when a word matches nothing the
// articles use but is one or two letters away from a word they do ("pasword", "imprssora").

/** Words that say nothing about the problem, in English and Portuguese (folded). */
const STOPWORDS = new Set([
  // English
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'been', 'but', 'by', 'can', 'cannot', 'cant', 'could', 'did', 'do', 'does', 'doesnt', 'dont',
  'for', 'from', 'get', 'gets', 'got', 'has', 'have', 'having', 'hello', 'help', 'hi', 'how', 'i', 'im', 'in', 'into', 'is', 'isnt', 'it', 'its',
  'just', 'me', 'my', 'no', 'not', 'of', 'on', 'or', 'our', 'please', 'so', 'some', 'still', 'that', 'the', 'their', 'them', 'then', 'there',
  'this', 'to', 'too', 'was', 'we', 'what', 'when', 'where', 'which', 'while', 'why', 'will', 'with', 'wont', 'you', 'your', 'any', 'all',
  'after', 'again', 'anymore', 'being', 'keeps', 'since', 'us', 'way', 'working', 'work', 'works',
  // Portuguese
  'a', 'ao', 'aos', 'as', 'com', 'como', 'da', 'das', 'de', 'do', 'dos', 'e', 'ela', 'ele', 'em', 'era', 'esta', 'estao', 'este', 'eu', 'foi',
  'ha', 'isso', 'ja', 'mais', 'mas', 'me', 'meu', 'minha', 'meus', 'minhas', 'na', 'nao', 'nas', 'no', 'nos', 'o', 'os', 'ou', 'para', 'pela',
  'pelo', 'por', 'pra', 'que', 'se', 'sem', 'ser', 'seu', 'sua', 'so', 'tem', 'um', 'uma', 'voce', 'ola', 'bom', 'dia', 'favor', 'ajuda',
  'consigo', 'consegue', 'quando', 'depois', 'ainda', 'esta', 'estou', 'funciona', 'funcionando', 'nosso', 'nossa'
])

/** A word as the index keeps it: compatibility-normalized, accents removed, lower case. */
export function fold(word: string): string {
  return word.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase()
}

/** The words of a search worth looking for: folded, no small words, no repeats, at most `max`. */
export function queryWords(text: string, max = 16): string[] {
  const words = fold(text.normalize('NFKC')).match(/[\p{L}\p{N}]+/gu) ?? []
  const out: string[] = []
  for (const w of words) {
    if (w.length < 2 || STOPWORDS.has(w) || out.includes(w)) continue
    out.push(w)
    if (out.length === max) break
  }
  return out
}

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps), stopping above `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let prevPrev: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prevPrev[j - 2] + 1)
      row.push(d)
      if (d < best) best = d
    }
    if (best > max) return max + 1
    prevPrev = prev
    prev = row
  }
  return prev[b.length]
}

/** The word and each way of dropping one letter from it. */
function deletes(word: string): string[] {
  const out = [word]
  for (let i = 0; i < word.length; i++) {
    const d = word.slice(0, i) + word.slice(i + 1)
    if (!out.includes(d)) out.push(d)
  }
  return out
}

/**
 * The words the articles use, with how many articles use each: a typed word that is neither one
 * of them nor the beginning of one is corrected to the closest (one letter off for short words,
 * two for words of 8 letters or more), the closest first, then the most used. Candidates come
 * from an index of each word with one letter dropped, met by the typed word with one letter
 * dropped (so a wrong, missing, extra or swapped letter finds its word in a few look-ups), and
 * are then measured.
 */
export class Vocabulary {
  private readonly docs = new Map<string, number>()
  private readonly sorted: string[]
  /** before[i]: the articles counted for sorted[0..i), so a prefix's count is one subtraction. */
  private readonly before: number[]
  private readonly byDelete = new Map<string, string[]>()

  constructor(terms: Iterable<{ term: string; docs: number }>) {
    for (const { term, docs } of terms) {
      const t = fold(term)
      if (!/^[\p{L}\p{N}]+$/u.test(t)) continue
      this.docs.set(t, (this.docs.get(t) ?? 0) + docs)
    }
    this.sorted = [...this.docs.keys()].sort()
    this.before = [0]
    for (const t of this.sorted) this.before.push(this.before[this.before.length - 1] + (this.docs.get(t) ?? 0))
    for (const t of this.sorted) {
      if (t.length < 3) continue
      for (const d of deletes(t)) {
        const list = this.byDelete.get(d)
        if (list) list.push(t)
        else this.byDelete.set(d, [t])
      }
    }
  }

  get size(): number {
    return this.docs.size
  }

  /** How many articles use the word (0 when none, or only longer words starting with it). */
  articlesWith(word: string): number {
    return this.docs.get(fold(word)) ?? 0
  }

  /** The first index in the sorted words not before `word`. */
  private lowerBound(word: string): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.sorted[mid] < word) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** True when some word starts with `prefix` (a word still being typed counts). */
  hasPrefix(prefix: string): boolean {
    const i = this.lowerBound(fold(prefix))
    return i < this.sorted.length && this.sorted[i].startsWith(fold(prefix))
  }

  /**
   * How many articles use a word starting with `prefix`, counted once per word: at least the
   * articles a prefix search matches, at most the sum (an article with two such words counts twice).
   */
  articlesWithPrefix(prefix: string): number {
    const p = fold(prefix)
    // Every word starting with p sorts between p and p followed by the highest code unit.
    return this.before[this.lowerBound(p + '\uffff')] - this.before[this.lowerBound(p)]
  }

  /** The word itself when the articles know it (or a word starting with it); else the closest they use; else null. */
  correct(word: string): string | null {
    const w = fold(word)
    if (this.docs.has(w) || this.hasPrefix(w)) return w
    // Numbers and very short words are taken as typed: "2.3.1" is not a typo of "2.3.2".
    if (w.length < 4 || /^\p{N}+$/u.test(w)) return null
    const max = w.length >= 8 ? 2 : 1
    let best: string | null = null
    let bestDistance = max + 1
    let bestDocs = -1
    const seen = new Set<string>()
    // Long words may be two letters off: the typed word with up to two letters dropped.
    const keys = max === 2 ? [...new Set(deletes(w).flatMap(deletes))] : deletes(w)
    for (const key of keys) {
      for (const t of this.byDelete.get(key) ?? []) {
        if (seen.has(t)) continue
        seen.add(t)
        const d = editDistance(w, t, max)
        const docs = this.docs.get(t) ?? 0
        if (d < bestDistance || (d === bestDistance && docs > bestDocs)) {
          best = t
          bestDistance = d
          bestDocs = docs
        }
      }
    }
    return bestDistance <= max ? best : null
  }
}

/**
 * A word to look for: as typed (or corrected); whether longer words starting with it match too;
 * whether it is looked for in the whole article or only in titles and tags (a common word).
 */
export interface SearchTerm {
  word: string
  prefix: boolean
  everywhere: boolean
}

/**
 * How to look for each word, given how many articles use it (`articles`) and it or a longer word
 * starting with it (`withLonger`). A word matches longer words too ("print" finds "printer")
 * unless they are in more than `prefixLimit` articles and the word itself is in some. The rarest
 * words are looked for everywhere until their articles reach `budget`, and the rarest always;
 * the others only in titles and tags. A word no article uses costs nothing.
 */
export function chooseTerms(words: readonly { word: string; articles: number; withLonger: number }[], limits: { budget: number; prefixLimit: number }): SearchTerm[] {
  const costed = words.map(({ word, articles, withLonger }) => {
    const prefix = articles === 0 || withLonger <= limits.prefixLimit
    return { word, prefix, cost: prefix ? withLonger : articles }
  })
  const everywhere = new Set<string>()
  let spent = 0
  for (const t of [...costed].sort((a, b) => a.cost - b.cost)) {
    if (t.cost > 0 && spent > 0 && spent + t.cost > limits.budget) break
    everywhere.add(t.word)
    spent += t.cost
  }
  return costed.map(({ word, prefix }) => ({ word, prefix, everywhere: everywhere.has(word) }))
}
