// Finding knowledge-base articles by their words: the help center's search, the suggestions
// beside a new ticket's form and on the staff ticket page. Any of the words may match (a
// ticket's title rarely has all of an article's), ranked by how well: title words weigh most,
// then tags, then the text (bm25 on SQLite's FTS5, ts_rank_cd on PostgreSQL's weighted vector).
// Words in more than COMMON_SHARE of the articles are left out when rarer ones remain.
// A typed word that no article uses is corrected to the closest one they do (src/domain/kb-terms.ts).
import { sql } from 'kysely'
import type { Executor } from './index.js'
import { isPostgres } from './migrations/util.js'
import { queryWords, Vocabulary } from '../domain/kb-terms.js'
import type { KbLanguage, KbReader } from '../domain/kb.js'

export interface KbHit {
  id: number
  slug: string
  language: string
  title: string
  audience: string
  /** The start of the article's text, for the list. */
  lead: string
}

export interface KbSearchOptions {
  language?: KbLanguage
  categoryId?: number | null
  limit?: number
  offset?: number
}

interface KeptVocabulary {
  version: number
  vocabulary: Promise<{ words: Vocabulary; articles: number }>
}

/**
 * A word in more than this share of the articles tells them apart no better than "the": it is
 * left out of a search that has rarer words (its matches would be most of the base, each ranked).
 */
export const COMMON_SHARE = 0.4

const vocabularies = new WeakMap<object, KeptVocabulary>()

async function textVersion(db: Executor): Promise<number> {
  const row = await db.selectFrom('counter').select('value').where('name', '=', 'kb_text').executeTakeFirst()
  return Number(row?.value ?? 0)
}

/** Raised by every command that changes an article's words, in its transaction. */
export async function bumpKbText(db: Executor): Promise<void> {
  await db.updateTable('counter').set((eb) => ({ value: eb('value', '+', 1) })).where('name', '=', 'kb_text').execute()
}

async function loadVocabulary(db: Executor): Promise<{ words: Vocabulary; articles: number }> {
  const counted = await db.selectFrom('kb_article').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const articles = Number(counted.n)
  if (isPostgres(db)) {
    const { rows } = await sql<{ term: string; docs: number }>`SELECT word AS term, ndoc AS docs FROM ts_stat('SELECT search FROM kb_article')`.execute(db)
    return { words: new Vocabulary(rows.map((r) => ({ term: r.term, docs: Number(r.docs) }))), articles }
  }
  const { rows } = await sql<{ term: string; docs: number }>`SELECT term, doc AS docs FROM kb_vocab`.execute(db)
  return { words: new Vocabulary(rows), articles }
}

/** The articles' words and how many articles there are, read again only after a command changed some article's text. */
export async function kbVocabulary(db: Executor): Promise<{ words: Vocabulary; articles: number }> {
  const version = await textVersion(db)
  const kept = vocabularies.get(db)
  if (kept && kept.version === version) return kept.vocabulary
  const vocabulary = loadVocabulary(db)
  vocabularies.set(db, { version, vocabulary })
  vocabulary.catch(() => vocabularies.delete(db))
  return vocabulary
}

/** The words to look for: each typed word, and its correction when the articles do not use it. */
export async function searchTerms(db: Executor, text: string): Promise<string[]> {
  const words = queryWords(text)
  if (words.length === 0) return []
  const { words: vocabulary, articles } = await kbVocabulary(db)
  const terms: string[] = []
  for (const w of words) {
    const corrected = vocabulary.correct(w) ?? w
    if (!terms.includes(corrected)) terms.push(corrected)
  }
  const common = (t: string) => articles >= 20 && vocabulary.articlesWith(t) > articles * COMMON_SHARE
  const telling = terms.filter((t) => !common(t))
  return telling.length > 0 ? telling : terms
}

/** The reader's visibility as a condition on `a` (kb_article): the rule of kbVisible, in SQL. */
function visible(reader: KbReader) {
  if (reader.kind === 'staff') return sql`1 = 1`
  if (reader.kind === 'anonymous') return sql`a.state = 'published' AND a.audience = 'public'`
  return sql`a.state = 'published' AND (a.audience = 'public' OR (a.audience = 'accounts' AND EXISTS (
    SELECT 1 FROM kb_article_account x WHERE x.article_id = a.id AND x.account_id = ${reader.accountId})))`
}

/**
 * Published articles (staff: every one) matching any of the words, best first. Words are
 * letters and digits only, so nothing typed becomes query syntax.
 */
export async function findArticles(db: Executor, reader: KbReader, text: string, opts: KbSearchOptions = {}): Promise<KbHit[]> {
  const terms = await searchTerms(db, text)
  if (terms.length === 0) return []
  const limit = Math.min(Math.max(opts.limit ?? 5, 1), 50)
  const offset = Math.max(opts.offset ?? 0, 0)
  const language = opts.language ? sql`AND a.language = ${opts.language}` : sql``
  const category = opts.categoryId ? sql`AND a.category_id = ${opts.categoryId}` : sql``
  // Staff searching see published articles first, then the rest.
  const published = reader.kind === 'staff' ? sql`CASE WHEN a.state = 'published' THEN 0 ELSE 1 END,` : sql``
  const first = reader.kind === 'staff' ? sql`CASE WHEN a.state = 'published' THEN 0 ELSE 1 END` : sql`0`
  if (isPostgres(db)) {
    const query = terms.map((t) => `${t}:*`).join(' | ')
    // Ranked on the vector alone; the text is read for the few rows kept, not for every match.
    const { rows } = await sql<KbHit>`
      SELECT a.id, a.slug, a.language, a.title, a.audience, substr(a.body_text, 1, 300) AS lead
      FROM (
        SELECT a.id, ${first} AS first, ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', a.search, q) AS rank
        FROM kb_article a, to_tsquery('simple', casebridge_fold(${query})) q
        WHERE a.search @@ q AND ${visible(reader)} ${language} ${category}
        ORDER BY first, rank DESC, a.id
        LIMIT ${limit} OFFSET ${offset}
      ) best JOIN kb_article a ON a.id = best.id
      ORDER BY best.first, best.rank DESC, a.id`.execute(db)
    return rows
  }
  const match = terms.map((t) => `"${t}"*`).join(' OR ')
  const { rows } = await sql<KbHit>`
    SELECT a.id, a.slug, a.language, a.title, a.audience, substr(a.body_text, 1, 300) AS lead
    FROM kb_fts f JOIN kb_article a ON a.id = f.rowid
    WHERE kb_fts MATCH ${match} AND ${visible(reader)} ${language} ${category}
    ORDER BY ${published} bm25(kb_fts, 8.0, 4.0, 1.0), a.id
    LIMIT ${limit} OFFSET ${offset}`.execute(db)
  return rows
}
