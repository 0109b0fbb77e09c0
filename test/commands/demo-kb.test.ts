import t from 'tap'
import { testApp } from '../helpers/app.js'
import { depsAt } from '../helpers/commands.js'
import { seedDemoKnowledge, DEMO_ARTICLES } from '../../src/commands/demo-kb.js'
import { findArticles } from '../../src/db/kb-search.js'
import { getArticle, translations } from '../../src/db/kb.js'

// The demo's knowledge base: published articles in both languages, each translation linked to
// its original, one internal article, and searches a client would type find them.
t.test('the demo knowledge base', async (t) => {
  const { db, ids } = await testApp(t)
  const deps = depsAt(db, new Date('2026-12-01T09:00:00.000Z'))
  const made = await seedDemoKnowledge(db, deps, ids.staff['ana@casebridge.test'])
  const translated = DEMO_ARTICLES.filter((a) => a.pt).length
  t.equal(made.length, DEMO_ARTICLES.length + translated, 'every article and translation')
  const rows = await Promise.all(made.map((id) => getArticle(db, id)))
  t.ok(rows.every((r) => r?.state === 'published'), 'all published')
  t.same([...new Set(rows.map((r) => r!.language))].sort(), ['en', 'pt-BR'], 'in both languages')
  t.equal(rows.filter((r) => r!.language === 'pt-BR').length, translated)
  for (const r of rows.filter((r) => r!.language === 'pt-BR')) {
    t.same((await translations(db, r!)).map((x) => x.language), ['en'], `${r!.title}: linked to its English original`)
  }
  const client = { kind: 'contact' as const, accountIds: [ids.account['Acme Corporation']] }
  const first = async (text: string, language: 'en' | 'pt-BR') => (await findArticles(db, client, text, { language, limit: 3 }))[0]?.title
  t.equal(await first('I forgot my password and cannot log in', 'en'), 'Reset a forgotten password')
  t.equal(await first('toner warning after new cartridge', 'en'), 'Toner warning stays on after replacing the cartridge')
  t.equal(await first('scanner gives empty pages', 'en'), 'Scanner saves blank pages')
  t.equal(await first('esqueci a senha', 'pt-BR'), 'Redefinir uma senha esquecida')
  t.equal(await first('codigo de dois fatores nao funciona no celular novo', 'pt-BR'), 'Códigos de dois fatores recusados depois de trocar de celular')
  const clientTitles = (await findArticles(db, client, 'two-factor phone recovery', { language: 'en', limit: 10 })).map((h) => h.title)
  t.notOk(clientTitles.some((x) => x.includes('staff procedure')), 'the internal article stays hidden from clients')
  const staffTitles = (await findArticles(db, { kind: 'staff' }, 'two-factor phone recovery', { language: 'en', limit: 10 })).map((h) => h.title)
  t.ok(staffTitles.some((x) => x.includes('staff procedure')), 'staff find it')
})
