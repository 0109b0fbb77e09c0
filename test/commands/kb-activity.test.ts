import t from 'tap'
import { testApp } from '../helpers/app.js'
import { contactActor, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle, moveArticle } from '../../src/commands/kb.js'
import { keepTicketDraft, openSuggestedArticle, recordArticleView, recordSearch, KB_ACTIVITY_KEPT_DAYS } from '../../src/commands/kb-reader.js'
import { getArticle } from '../../src/db/kb.js'
import { runScheduledJobs } from '../../sync/jobs/index.js'

// The scheduled jobs delete the knowledge base's reading log once the dashboard can no longer look
// back that far, and a client's kept ticket draft after a day; the articles' totals stay.
t.test('the reading log is kept for the dashboard, a kept draft for a day', async (t) => {
  const { db, ids } = await testApp(t)
  const now = new Date('2027-06-01T09:00:00.000Z')
  const daysAgo = (days: number) => depsAt(db, new Date(now.getTime() - days * 86_400_000))
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const admin = performerOf(await staffActor(db, ids, 'admin@casebridge.test'))
  const bob = performerOf(await contactActor(db, ids, 'bob@acme.test'))
  const old = daysAgo(KB_ACTIVITY_KEPT_DAYS + 10)
  const { id } = unwrap(await createArticle(old, ana, { language: 'en', title: 'Printer offline', body: 'Restart it.', tags: '', categoryId: null, audience: 'public', accountIds: [], translationOf: null }))
  unwrap(await moveArticle(old, admin, id, 'publish'))
  for (const deps of [old, daysAgo(30)]) {
    unwrap(await recordArticleView(deps, bob, { articleId: id, sessionId: 1 }))
    unwrap(await openSuggestedArticle(deps, bob, { articleId: id, sessionId: 1 }))
    unwrap(await recordSearch(deps, bob, { query: 'printer offline', results: 1, origin: 'help', sessionId: 1 }))
  }
  unwrap(await keepTicketDraft(daysAgo(2), bob, { sessionId: 1, fields: { title: 'My printer' } }))
  unwrap(await keepTicketDraft(daysAgo(0), bob, { sessionId: 2, fields: { title: 'My printer again' } }))
  const count = async (table: 'kb_article_view' | 'kb_suggestion_visit' | 'kb_search' | 'kb_ticket_draft') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  t.same([await count('kb_article_view'), await count('kb_suggestion_visit'), await count('kb_search'), await count('kb_ticket_draft')], [2, 2, 2, 2])

  const report = await runScheduledJobs(db, now, 'tidy')
  t.ok(report && report.tidied >= 4, 'the scheduled jobs tidied them')
  t.same([await count('kb_article_view'), await count('kb_suggestion_visit'), await count('kb_search')], [1, 1, 1], 'the rows older than the dashboard can show are gone')
  t.same((await db.selectFrom('kb_ticket_draft').select('session_id').execute()).map((r) => r.session_id), [2], 'the day-old draft is gone, today\'s stays')
  t.match(await getArticle(db, id), { views: 2, deflections: 2 }, 'the article keeps its totals')
  t.equal((await runScheduledJobs(db, now, 'tidy'))?.tidied, 0, 'nothing more the next time')
})
