import t from 'tap'
import { testApp } from '../helpers/app.js'
import { staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle, moveArticle } from '../../src/commands/kb.js'
import { findArticles } from '../../src/db/kb-search.js'
import { ARTICLES, QUERIES } from '../fixtures/kb-quality.js'

// Suggestion quality on a fixed corpus (test/fixtures/kb-quality.ts): 64 help-center articles in
// English and Portuguese and 151 titles as clients type them (synonyms, missing accents, capitals,
// typos). The right article must be among the first three suggestions for at least 80 % of them.
// The figure and its command are in docs/benchmarks.md; `KB_QUALITY_VERBOSE=1` lists the misses.
export const TOP = 3
export const REQUIRED = 0.8

t.test(`the right article is in the top ${TOP} for at least ${REQUIRED * 100} % of the titles`, async (t) => {
  const { db, ids } = await testApp(t)
  const deps = depsAt(db, new Date('2026-12-01T09:00:00.000Z'))
  const writer = performerOf(await staffActor(db, ids, 'carla@casebridge.test'))
  const reviewer = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const idOf = new Map<string, number>()
  for (const a of ARTICLES) {
    const { id } = unwrap(await createArticle(deps, writer, {
      language: a.language, title: a.title, body: a.body, tags: a.tags, categoryId: null, audience: 'public', accountIds: [], translationOf: null
    }))
    unwrap(await moveArticle(deps, reviewer, id, 'publish'))
    idOf.set(a.key, id)
  }
  const client = { kind: 'contact' as const, accountIds: [ids.account['Acme Corporation']] }
  const misses: string[] = []
  const byLanguage: Record<string, { hit: number; all: number }> = { en: { hit: 0, all: 0 }, 'pt-BR': { hit: 0, all: 0 } }
  for (const q of QUERIES) {
    const hits = await findArticles(db, client, q.text, { language: q.language, limit: TOP })
    const ok = hits.some((h) => h.id === idOf.get(q.expected))
    byLanguage[q.language].all++
    if (ok) byLanguage[q.language].hit++
    else misses.push(`${q.language} "${q.text}" → wanted ${q.expected}, got ${hits.map((h) => h.title).join(' | ') || 'nothing'}`)
  }
  const hit = QUERIES.length - misses.length
  const share = hit / QUERIES.length
  t.comment(`top-${TOP}: ${hit}/${QUERIES.length} = ${(share * 100).toFixed(1)} % (en ${byLanguage.en.hit}/${byLanguage.en.all}, pt-BR ${byLanguage['pt-BR'].hit}/${byLanguage['pt-BR'].all})`)
  if (process.env.KB_QUALITY_VERBOSE) for (const m of misses) t.comment(m)
  t.ok(ARTICLES.length >= 50 && QUERIES.length >= 100, 'at least 50 articles and 100 titles')
  t.ok(share >= REQUIRED, `${(share * 100).toFixed(1)} % found in the top ${TOP} (at least ${REQUIRED * 100} %)`)
})
