// Knowledge-base suggestions at ARTICLES published articles: how long `findArticles` takes for a
// client typing a ticket's title (with typos and missing accents), measured in-process on a fresh
// database, and what it costs to read the vocabulary again after an article changes.
//
//   npx tsx bench/kb/suggest.ts [--articles 10000] [--queries 2000]
//   scripts/pg-test.sh --run npx tsx bench/kb/suggest.ts        (PostgreSQL: TEST_DATABASE_URL)
//
// The articles are generated: words drawn with a Zipf-like skew from a vocabulary of made-up
// English- and Portuguese-looking words (so common words are common, as in real text), titles of
// 4-9 words, bodies of 80-300 words, 2-4 tags, in both languages, some for one account only,
// some internal and some drafts. Queries take words of a random article's title and text, drop
// or swap a letter in about a third of them and strip accents from others.
import { mkdtempSync } from 'node:fs'
import { tmpdir, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import { sql } from 'kysely'
import { createDb, migrateToLatest, type Db } from '../../src/db/index.js'
import { findArticles, bumpKbText, kbVocabulary } from '../../src/db/kb-search.js'
import { articleText, renderArticle, slugify } from '../../src/domain/kb.js'
import { seedDemo } from '../../src/commands/demo.js'

const { values } = parseArgs({ options: { articles: { type: 'string', default: '10000' }, queries: { type: 'string', default: '2000' } } })
const ARTICLES = Number(values.articles)
const QUERIES = Number(values.queries)

// A deterministic generator, so runs compare.
let seed = 20261207
/** mulberry32: 32-bit integer steps (Math.imul), so no precision is lost. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]

const SYLLABLES = ['pri', 'ter', 'net', 'con', 'fig', 'ex', 'port', 'lo', 'gin', 'sen', 'ha', 'ção', 'ra', 'ma', 'vel', 'dor', 'ment', 'ing',
  'ser', 'vi', 'ço', 'ta', 're', 'des', 'cal', 'ib', 'ato', 'im', 'pres', 'so', 'ne', 'ar', 'qui', 'vo', 'é', 'tu', 'la', 'mo', 'bi', 'le']
const VOCABULARY: string[] = []
const seen = new Set<string>()
while (VOCABULARY.length < 12_000) {
  const n = 2 + Math.floor(random() * 3)
  let w = ''
  for (let i = 0; i < n; i++) w += pick(SYLLABLES)
  if (!seen.has(w)) { seen.add(w); VOCABULARY.push(w) }
}
/** A word, the first ones far more often: log-uniform ranks, about Zipf's law. */
function word(): string {
  return VOCABULARY[Math.floor(Math.pow(VOCABULARY.length, random())) - 1]
}
const words = (n: number) => Array.from({ length: n }, word).join(' ')

function typo(w: string): string {
  if (w.length < 5) return w
  const i = 1 + Math.floor(random() * (w.length - 2))
  return random() < 0.5 ? w.slice(0, i) + w.slice(i + 1) : w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2)
}
const unaccent = (w: string) => w.normalize('NFKD').replace(/\p{M}+/gu, '')

interface Made { id: number; title: string; body: string; language: string; audience: string; state: string; accountId: number | null }

async function seedArticles(db: Db, accountIds: number[], authorId: number): Promise<Made[]> {
  const made: Made[] = []
  const now = new Date().toISOString()
  for (let start = 0; start < ARTICLES; start += 500) {
    const rows = []
    const batch: Made[] = []
    for (let i = start; i < Math.min(ARTICLES, start + 500); i++) {
      const title = words(4 + Math.floor(random() * 6))
      const body = `# ${words(3)}\n\n${words(40 + Math.floor(random() * 100))}\n\n1. ${words(12)}\n2. ${words(15)}\n\n${words(30 + Math.floor(random() * 100))}`
      const html = renderArticle(body)
      const language = random() < 0.6 ? 'en' : 'pt-BR'
      const roll = random()
      const audience = roll < 0.8 ? 'public' : roll < 0.9 ? 'accounts' : 'internal'
      const state = random() < 0.92 ? 'published' : 'draft'
      rows.push({
        translation_of: null, language, slug: `${slugify(title)}-${i}`, title, body, body_html: html, body_text: articleText(html),
        tags: [word(), word(), word()].join(', '), category_id: null, audience, state, author_staff_id: authorId, reviewer_staff_id: null,
        source_ticket_id: null, version: 1, published_at: state === 'published' ? now : null, created_at: now, updated_at: now
      } as const)
      batch.push({ id: 0, title, body: articleText(html), language, audience, state, accountId: null })
    }
    const inserted = await db.insertInto('kb_article').values(rows).returning(['id', 'audience']).execute()
    inserted.forEach((r, i) => { batch[i].id = r.id })
    const scoped = inserted.filter((r) => r.audience === 'accounts').map((r) => ({ article_id: r.id, account_id: pick(accountIds) }))
    for (const s of scoped) batch.find((m) => m.id === s.article_id)!.accountId = s.account_id
    made.push(...batch)
    if (scoped.length) await db.insertInto('kb_article_account').values(scoped).execute()
  }
  await bumpKbText(db)
  return made
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function main() {
  const url = process.env.TEST_DATABASE_URL
  const dir = mkdtempSync(join(tmpdir(), 'casebridge-kb-bench-'))
  const db = await createDb(url ?? `sqlite:${join(dir, 'bench.sqlite')}`)
  await migrateToLatest(db)
  await seedDemo(db)
  const accounts = (await db.selectFrom('account').select('id').execute()).map((r) => r.id)
  const author = (await db.selectFrom('staff').select('id').orderBy('id').executeTakeFirstOrThrow()).id
  const t0 = performance.now()
  const made = await seedArticles(db, accounts, author)
  const seeded = performance.now() - t0
  console.error(`seeded ${ARTICLES} articles in ${(seeded / 1000).toFixed(1)} s`)
  // A knowledge base of this size has table statistics (autovacuum gathers them after such a
  // load, within a minute); without them PostgreSQL's planner guesses one matching row and reads
  // every published article's vector instead of using the word index.
  if (url) await sql`ANALYZE kb_article, kb_article_account`.execute(db)
  const v0 = performance.now()
  const vocabulary = await kbVocabulary(db)
  const vocabularyMs = performance.now() - v0

  const reader = { kind: 'contact' as const, accountIds: [accounts[0]] }
  const queries: { text: string; language: 'en' | 'pt-BR'; source: number }[] = []
  for (let i = 0; i < QUERIES; i++) {
    const a = pick(made)
    const picked = [...a.title.split(' ').slice(0, 3), ...a.body.split(/\s+/).slice(5, 5 + Math.floor(random() * 4))]
    const text = picked.map((w) => (random() < 0.33 ? typo(w) : random() < 0.3 ? unaccent(w) : w)).join(' ')
    queries.push({ text: `My ${text} problem`, language: a.language as 'en' | 'pt-BR', source: a.id })
  }
  // Warm up the statement caches and the vocabulary.
  for (const q of queries.slice(0, 50)) await findArticles(db, reader, q.text, { language: q.language, limit: 5 })
  // Whether the article a query was taken from comes back among the five, when the reader may see it.
  const visible = new Set(made.filter((m) => m.state === 'published' && (m.audience === 'public' || reader.accountIds.includes(m.accountId ?? -1))).map((m) => m.id))
  const times: number[] = []
  let found = 0
  let sourceAsked = 0
  let sourceFound = 0
  for (const q of queries) {
    const s = performance.now()
    const hits = await findArticles(db, reader, q.text, { language: q.language, limit: 5 })
    times.push(performance.now() - s)
    if (hits.length > 0) found++
    if (visible.has(q.source)) {
      sourceAsked++
      if (hits.some((h) => h.id === q.source)) sourceFound++
    }
  }
  times.sort((a, b) => a - b)
  const result = {
    database: url ? 'postgresql' : 'sqlite', articles: ARTICLES, queries: QUERIES, vocabularyWords: vocabulary.words.size,
    seedSeconds: +(seeded / 1000).toFixed(1), vocabularyLoadMs: +vocabularyMs.toFixed(1),
    p50: +percentile(times, 0.5).toFixed(2), p95: +percentile(times, 0.95).toFixed(2), p99: +percentile(times, 0.99).toFixed(2),
    max: +times[times.length - 1].toFixed(2), withResults: `${((found / QUERIES) * 100).toFixed(1)} %`,
    sourceInTop5: `${sourceFound} / ${sourceAsked} = ${((sourceFound / Math.max(sourceAsked, 1)) * 100).toFixed(1)} %`,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, loadavg: loadavg().map((l) => l.toFixed(2)).join(' '), node: process.version
  }
  console.log(JSON.stringify(result, null, 2))
  await db.destroy()
}

main().catch((err) => { console.error(err); process.exit(1) })
