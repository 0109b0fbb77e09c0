import t from 'tap'
import { testApp } from '../helpers/app.js'
import { staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle, editArticle, moveArticle, type ArticleInput } from '../../src/commands/kb.js'
import { findArticles, searchTerms } from '../../src/db/kb-search.js'
import { editDistance, queryWords, Vocabulary } from '../../src/domain/kb-terms.js'

// Searching articles on the real database (FTS5 on SQLite, the weighted tsvector on PostgreSQL):
// any word may match, titles weigh most, accents and one-letter typos are forgiven, and a reader
// only ever gets what they may see.
t.test('words, accents, typos, ranking and who sees what', async (t) => {
  const { db, ids } = await testApp(t)
  const deps = depsAt(db, new Date('2026-12-01T09:00:00.000Z'))
  const carla = performerOf(await staffActor(db, ids, 'carla@casebridge.test'))
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const acme = ids.account['Acme Corporation']
  const globex = ids.account['Globex Industries']
  const article = async (over: Partial<ArticleInput>, publish = true) => {
    const { id } = unwrap(await createArticle(deps, carla, {
      language: 'en', title: 'x', body: 'x', tags: '', categoryId: null, audience: 'public', accountIds: [], translationOf: null, ...over
    }))
    if (publish) unwrap(await moveArticle(deps, ana, id, 'publish'))
    return id
  }
  const offline = await article({ title: 'Printer shows offline', tags: 'printer, network', body: 'Check the **network cable** and restart the print spooler.' })
  const blank = await article({ title: 'Printer prints blank pages', tags: 'printer, toner', body: 'Replace the toner cartridge; run a cleaning cycle.' })
  const password = await article({ title: 'Reset your password', tags: 'login, password', body: 'Use **Forgot password** on the login page.' })
  const impressora = await article({ language: 'pt-BR', title: 'Impressora aparece offline', tags: 'impressora, rede', body: 'Verifique o cabo de rede e a configuração do spooler.' })
  const acmeOnly = await article({ title: 'Acme VPN profile', audience: 'accounts', accountIds: [acme], body: 'Import the VPN profile for Acme offices.' })
  const internal = await article({ title: 'Printer escalation checklist', audience: 'internal', body: 'Internal: call the printer vendor.' })
  const draft = await article({ title: 'Printer firmware 2.3 notes' }, false)

  const ids_ = (hits: { id: number }[]) => hits.map((h) => h.id)
  const client = { kind: 'contact' as const, accountIds: [acme] }
  const other = { kind: 'contact' as const, accountIds: [globex] }

  t.same(ids_(await findArticles(db, client, 'my printer is offline again', { language: 'en' })).slice(0, 1), [offline], 'the best match first')
  t.same(ids_(await findArticles(db, client, 'printer', { language: 'en' })).sort(), [offline, blank].sort(), 'every visible match; the internal article and the draft stay hidden')
  t.same(ids_(await findArticles(db, client, 'pasword reset', { language: 'en' })), [password], 'a typo is corrected')
  t.same(ids_(await findArticles(db, client, 'IMPRESSORA OFFLINE', { language: 'pt-BR' })), [impressora], 'case')
  t.same(ids_(await findArticles(db, client, 'configuracao imprssora', { language: 'pt-BR' })), [impressora], 'missing accents and a typo')
  t.same(ids_(await findArticles(db, client, 'vpn profile')), [acmeOnly], 'an article for the client\'s account')
  t.same(ids_(await findArticles(db, other, 'vpn profile')), [], 'not for another account\'s client')
  t.same(ids_(await findArticles(db, { kind: 'anonymous' }, 'vpn profile')), [], 'nor for someone not logged in')
  t.same(ids_(await findArticles(db, { kind: 'contact', accountIds: [globex, acme] }, 'vpn profile')), [acmeOnly], 'a client of several accounts reads the articles of each')
  const staffHits = ids_(await findArticles(db, { kind: 'staff' }, 'printer', { limit: 10 }))
  t.ok(staffHits.includes(internal) && staffHits.includes(draft), 'staff find internal articles and drafts too')
  t.ok(staffHits.indexOf(draft) > staffHits.indexOf(offline), 'published ones first')
  t.same(await findArticles(db, client, '" OR 1=1 -- *'), [], 'query syntax is just words')
  t.same(await findArticles(db, client, 'the and of'), [], 'small words alone find nothing')

  // A change of words is searchable at once, and the corrections follow the new words.
  unwrap(await editArticle(deps, ana, blank, { language: 'en', title: 'Printer prints blank pages', body: 'Replace the toner cartridge; run a cleaning cycle. Calibrate the fuser.', tags: 'printer, toner', categoryId: null, audience: 'public', accountIds: [], translationOf: null }))
  t.same(ids_(await findArticles(db, client, 'fuser calibraton')), [blank], 'a new word, typed with a typo')
  t.same(await searchTerms(db, 'calibraton'), [{ word: 'calibrate', prefix: true, everywhere: true }], 'corrected to the word the articles use')
})

t.test('the words of a search', async (t) => {
  t.same(queryWords('Não consigo IMPRIMIR a configuração da impressora!'), ['imprimir', 'configuracao', 'impressora'])
  t.same(queryWords('I can\'t log in to my account'), ['log', 'account'])
  t.equal(editDistance('pasword', 'password', 2), 1)
  t.equal(editDistance('exprot', 'export', 2), 1, 'a swap is one edit')
  t.equal(editDistance('kitten', 'sitting', 1), 2, 'stops above the limit')
  const v = new Vocabulary([{ term: 'printer', docs: 5 }, { term: 'pointer', docs: 1 }, { term: 'impressora', docs: 3 }, { term: 'export', docs: 2 }, { term: 'expert', docs: 9 }])
  t.equal(v.correct('printr'), 'printer')
  t.equal(v.correct('print'), 'print', 'a word being typed is a prefix: kept')
  t.equal(v.correct('imprssora'), 'impressora')
  t.equal(v.correct('exprot'), 'export', 'the closest, not the most used')
  t.equal(v.correct('zebra'), null)
  t.equal(v.correct('2024'), null, 'numbers are not corrected')
})
