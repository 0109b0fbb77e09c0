// Finding knowledge-base articles by their words: the help center's search, the suggestions
// beside a new ticket's form and on the staff ticket page. Any of the words may match (a
// ticket's title rarely has all of an article's), ranked by how well: title words weigh most,
// then tags, then the text (bm25 on SQLite's FTS5, ts_rank_cd on PostgreSQL's weighted vector).
// Words in more than COMMON_SHARE of the articles are left out when rarer ones remain, and the
// rarest words are kept within MATCH_BUDGET matches, so a search's cost does not grow with the base.
// A typed word that no article uses is corrected to the closest one they do (src/domain/kb-terms.ts).
import { sql, type SelectQueryBuilder } from 'kysely'
import type { Executor } from './index.js'
import type { Database } from './schema.js'
import { isPostgres } from './migrations/util.js'
import { chooseTerms, queryWords, Vocabulary, type SearchTerm } from '../domain/kb-terms.js'
import type { KbLanguage, KbReader } from '../domain/kb.js'
import { visibleTo } from './kb.js'

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

export type { SearchTerm }

/**
 * About how many matching articles one search ranks at most. Ranking reads each match's words,
 * so a title made of common words would cost a read of most of a large base. The rarest words
 * are looked for everywhere until their articles reach this budget; the others only in titles
 * and tags, where they are far fewer and still tell articles apart. (A small base never reaches it.)
 */
export const MATCH_BUDGET = 1000

/**
 * A word matches the longer words starting with it ("print" finds "printer"), unless those are
 * in more than this many articles and the word itself is in some: then only the word itself.
 */
export const PREFIX_LIMIT = 250

/** The words to look for: each typed word, or its correction when the articles do not use it. */
export async function searchTerms(db: Executor, text: string): Promise<SearchTerm[]> {
  const words = queryWords(text)
  if (words.length === 0) return []
  const { words: vocabulary, articles } = await kbVocabulary(db)
  const corrected: string[] = []
  for (const w of words) {
    const c = vocabulary.correct(w) ?? w
    if (!corrected.includes(c)) corrected.push(c)
  }
  const common = (t: string) => articles >= 20 && vocabulary.articlesWith(t) > articles * COMMON_SHARE
  const telling = corrected.filter((t) => !common(t))
  return chooseTerms((telling.length > 0 ? telling : corrected).map((word) => ({
    word, articles: vocabulary.articlesWith(word), withLonger: vocabulary.articlesWithPrefix(word)
  })), { budget: MATCH_BUDGET, prefixLimit: PREFIX_LIMIT })
}

/** PostgreSQL's words: `word`, `word:*` for longer ones too, labelled AB when only titles and tags count. */
function tsquery(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `${t.word}${t.prefix || !t.everywhere ? ':' : ''}${t.prefix ? '*' : ''}${t.everywhere ? '' : 'AB'}`).join(' | ')
}

/**
 * Published articles (staff: every one) matching any of the words, best first. Words are
 * letters and digits only, so nothing typed becomes query syntax. The matches are ranked on the
 * index alone; the text is read for the few rows kept, not for every match.
 */
export async function findArticles(db: Executor, reader: KbReader, text: string, opts: KbSearchOptions = {}): Promise<KbHit[]> {
  const terms = await searchTerms(db, text)
  if (terms.length === 0) return []
  const limit = Math.min(Math.max(opts.limit ?? 5, 1), 50)
  const offset = Math.max(opts.offset ?? 0, 0)
  let articles = visibleTo(db.selectFrom('kb_article'), reader)
  if (opts.language) articles = articles.where('kb_article.language', '=', opts.language)
  if (opts.categoryId) articles = articles.where('kb_article.category_id', '=', opts.categoryId)
  // Staff searching see published articles first, then the rest.
  const first = reader.kind === 'staff' ? sql<number>`case when kb_article.state = 'published' then 0 else 1 end` : sql<number>`0`
  const pg = isPostgres(db)
  const everywhere = terms.filter((t) => t.everywhere)
  const head = terms.filter((t) => !t.everywhere)
  // Either dialect's matches, as one shape: an article's id, whether it comes first, its rank.
  const matched: SelectQueryBuilder<Database, 'kb_article', { id: number; first: number; rank: number }> = pg
    ? articles.innerJoin(sql`to_tsquery('simple', casebridge_fold(${tsquery(terms)}))`.as('q'), (j) => j.onTrue())
      .where((eb) => eb.or([
        ...(everywhere.length > 0 ? [sql<boolean>`kb_article.search @@ to_tsquery('simple', casebridge_fold(${tsquery(everywhere)}))`] : []),
        ...(head.length > 0 ? [sql<boolean>`kb_article.search_head @@ to_tsquery('simple', casebridge_fold(${tsquery(head)}))`] : [])
      ]))
      .select(['kb_article.id', first.as('first'), sql<number>`ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', kb_article.search, q)`.as('rank')]) as unknown as typeof matched
    : articles.innerJoin(sql`kb_fts`.as('kb_fts'), (j) => j.onTrue())
      .where(sql<boolean>`kb_fts.rowid = kb_article.id`).where(sql<boolean>`kb_fts MATCH ${terms.map((t) => `${t.everywhere ? '' : '{title tags} : '}"${t.word}"${t.prefix ? '*' : ''}`).join(' OR ')}`)
      .select(['kb_article.id', first.as('first'), sql<number>`bm25(kb_fts, 8.0, 4.0, 1.0)`.as('rank')]) as unknown as typeof matched
  // bm25 is better the lower, ts_rank_cd the higher.
  const best = matched.orderBy('first').orderBy('rank', pg ? 'desc' : 'asc').orderBy('kb_article.id').limit(limit).offset(offset)
  return db.selectFrom(best.as('best')).innerJoin('kb_article', 'kb_article.id', 'best.id')
    .select(['kb_article.id', 'kb_article.slug', 'kb_article.language', 'kb_article.title', 'kb_article.audience', sql<string>`substr(kb_article.body_text, 1, 300)`.as('lead')])
    .orderBy('best.first').orderBy('best.rank', pg ? 'desc' : 'asc').orderBy('kb_article.id').execute()
}
