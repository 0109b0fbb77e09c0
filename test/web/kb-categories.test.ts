// Knowledge-base categories administered by admins at /admin/kb/categories: a tree, added,
// renamed in both languages, moved (never into a loop), ordered by position, deleted when empty or
// once their articles are moved; bad input answers 422 and writes nothing; others are refused.
// Both databases:
//   npx tap test/web/kb-categories.test.ts
//   PG_PORT=55453 scripts/pg-test.sh test/web/kb-categories.test.ts
import t from 'tap'
import { loginAs, testApp, type Agent, type TestEnv } from '../helpers/app.js'
import { staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle } from '../../src/commands/kb.js'
import { categoryTree, wouldLoop } from '../../src/domain/kb-categories.js'

const PAGE = '/admin/kb/categories'
const form = (over: Record<string, string>) => ({ name_en: '', name_pt: '', parent_id: '', position: '', ...over })
const rows = (e: TestEnv) => e.db.selectFrom('kb_category').select(['id', 'parent_id', 'name_en', 'name_pt', 'position', 'slug']).orderBy('id').execute()
const idOf = async (e: TestEnv, name: string) => (await e.db.selectFrom('kb_category').select('id').where('name_en', '=', name).executeTakeFirstOrThrow()).id
const add = (admin: Agent, over: Record<string, string>) => admin.post(PAGE, form(over), { csrfFrom: PAGE })

t.test('domain: the tree in order, loops found', async (t) => {
  const tree = categoryTree([
    { id: 1, parent_id: null, position: 2, name_en: 'Billing' }, { id: 2, parent_id: null, position: 1, name_en: 'Printing' },
    { id: 3, parent_id: 2, position: 0, name_en: 'Toner' }, { id: 4, parent_id: 3, position: 0, name_en: 'Colour' }
  ])
  t.same(tree.map((n) => n.category.id), [2, 1], 'lower position first')
  t.same(tree[0].children[0].children.map((n) => [n.category.id, n.depth]), [[4, 2]])
  const parents = new Map<number, number | null>([[1, null], [2, null], [3, 2], [4, 3]])
  t.ok(wouldLoop(2, 4, parents), 'under its own grandchild')
  t.ok(wouldLoop(2, 2, parents), 'under itself')
  t.notOk(wouldLoop(3, 1, parents))
  t.notOk(wouldLoop(4, null, parents))
})

t.test('an admin adds, renames, moves and orders categories; the list shows the tree', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const index = await admin.get('/admin')
  t.match(index.body, '<a href="/admin/kb/categories">Knowledge-base categories</a>', 'linked from the administration page')
  const empty = await admin.get(PAGE)
  t.equal(empty.statusCode, 200)
  t.match(empty.body, '<h1>Knowledge-base categories</h1>')
  t.match(empty.body, 'No category yet')

  t.equal((await add(admin, { name_en: 'Printing', name_pt: 'Impressão', position: '1' })).statusCode, 302)
  t.equal((await add(admin, { name_en: 'Billing', name_pt: 'Cobrança' })).statusCode, 302)
  const printing = await idOf(e, 'Printing')
  const added = await add(admin, { name_en: 'Toner & ink', name_pt: 'Toner e tinta', parent_id: String(printing) })
  t.equal(added.headers.location, PAGE)
  t.match((await admin.get(PAGE)).body, 'Category &quot;Toner &amp; ink&quot; added.')
  const toner = await idOf(e, 'Toner & ink')
  t.same((await rows(e)).map((r) => [r.name_en, r.parent_id, r.position, r.slug]), [['Printing', null, 1, 'printing'], ['Billing', null, 0, 'billing'], ['Toner & ink', printing, 0, 'toner-ink']])

  const list = await admin.get(PAGE)
  t.ok(list.body.indexOf('>Billing</a>') < list.body.indexOf('>Printing</a>'), 'position 0 before position 1')
  t.match(list.body, new RegExp(`>Printing</a>[\\s\\S]*?<ul class="kb-category-tree">[\\s\\S]*?href="/admin/kb/categories/${toner}">Toner &amp; ink</a>`), 'Toner under Printing')

  const edit = await admin.get(`${PAGE}/${toner}`)
  t.equal(edit.statusCode, 200)
  t.notMatch(/<select id="parent_id"[\s\S]*?<\/select>/.exec(edit.body)![0], `value="${toner}"`, 'not offered as its own parent')
  const saved = await admin.post(`${PAGE}/${toner}`, form({ name_en: 'Toner', name_pt: 'Toner', parent_id: '', position: '5' }), { csrfFrom: PAGE })
  t.equal(saved.statusCode, 302)
  const row = (await rows(e)).find((r) => r.id === toner)!
  t.same([row.name_en, row.name_pt, row.parent_id, row.position, row.slug], ['Toner', 'Toner', null, 5, 'toner-ink'], 'renamed, moved to the top level, its address kept')
  const audit = await e.db.selectFrom('admin_audit').select(['action', 'label']).where('entity', '=', 'kb_category').orderBy('id').execute()
  t.same(audit.map((a) => a.action), ['create', 'create', 'create', 'update'])
  t.match((await admin.get(`${PAGE}/${toner}`)).body, 'Recent changes')
  t.match(list.body, '<span lang="pt-BR">/ Impressão</span>', 'both names shown')
})

t.test('refusals: loops, bad input (422, nothing written), deleting what is not empty; non-admins refused', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  await add(admin, { name_en: 'Printing', name_pt: 'Impressão' })
  const printing = await idOf(e, 'Printing')
  await add(admin, { name_en: 'Toner', name_pt: 'Toner', parent_id: String(printing) })
  const toner = await idOf(e, 'Toner')
  await add(admin, { name_en: 'Colour', name_pt: 'Cor', parent_id: String(toner) })
  const colour = await idOf(e, 'Colour')
  const before = await rows(e)

  const loop = await admin.post(`${PAGE}/${printing}`, form({ name_en: 'Printing', name_pt: 'Impressão', parent_id: String(colour) }), { csrfFrom: PAGE })
  t.equal(loop.statusCode, 422, 'under its own grandchild')
  t.match(loop.body, 'A category cannot go under itself or under one of its own subcategories.')
  t.equal((await admin.post(`${PAGE}/${printing}`, form({ name_en: 'Printing', name_pt: 'Impressão', parent_id: String(printing) }), { csrfFrom: PAGE })).statusCode, 422, 'under itself')

  const blank = await add(admin, { name_en: '  ', name_pt: 'Algo' })
  t.equal(blank.statusCode, 422)
  t.match(blank.body, 'id="name_en-error"')
  t.match(blank.body, 'value="Algo"', 'what was typed comes back')
  t.equal((await add(admin, { name_en: 'x'.repeat(101), name_pt: 'x' })).statusCode, 422, 'too long')
  t.equal((await add(admin, { name_en: 'A', name_pt: 'A', position: '-1' })).statusCode, 422, 'negative position')
  t.equal((await add(admin, { name_en: 'A', name_pt: 'A', position: 'first' })).statusCode, 422, 'not a number')
  t.equal((await add(admin, { name_en: 'A', name_pt: 'A', parent_id: '99999' })).statusCode, 422, 'no such parent')
  t.equal((await add(admin, { name_en: 'A\u0000', name_pt: 'A' })).statusCode, 422, 'a control character')
  t.equal((await admin.get(`${PAGE}/99999`)).statusCode, 404)
  t.equal((await admin.get(`${PAGE}/abc`)).statusCode, 404)
  t.same(await rows(e), before, 'nothing written')

  // Deleting: not with subcategories; not with articles unless they move; then it goes.
  const carla = performerOf(await staffActor(e.db, e.ids, 'carla@casebridge.test'))
  const article = unwrap(await createArticle(depsAt(e.db, new Date()), carla, {
    language: 'en', title: 'Colour toner', body: 'Shake it.', tags: '', categoryId: colour, audience: 'public', accountIds: [], translationOf: null
  }))
  const withChildren = await admin.post(`${PAGE}/${toner}/delete`, { move_to: '' }, { csrfFrom: PAGE })
  t.equal(withChildren.statusCode, 422)
  t.match(withChildren.body, 'It has 1 subcategory(ies): move them under another category first.')
  const withArticles = await admin.post(`${PAGE}/${colour}/delete`, { move_to: '' }, { csrfFrom: PAGE })
  t.equal(withArticles.statusCode, 422)
  t.match(withArticles.body, 'It has 1 article(s): choose the category they move to.')
  t.equal((await admin.post(`${PAGE}/${colour}/delete`, { move_to: String(colour) }, { csrfFrom: PAGE })).statusCode, 422, 'not to itself')
  t.same(await rows(e), before, 'nothing deleted')

  const moved = await admin.post(`${PAGE}/${colour}/delete`, { move_to: String(toner) }, { csrfFrom: PAGE })
  t.equal(moved.statusCode, 302)
  t.match((await admin.get(PAGE)).body, 'Category &quot;Colour&quot; deleted; its 1 article(s) moved.')
  t.equal((await e.db.selectFrom('kb_article').select('category_id').where('id', '=', article.id).executeTakeFirstOrThrow()).category_id, toner, 'the article moved')
  t.equal((await admin.post(`${PAGE}/${toner}/delete`, { move_to: String(printing) }, { csrfFrom: PAGE })).statusCode, 302, 'now without subcategories')
  t.same((await rows(e)).map((r) => r.name_en), ['Printing'])
  t.equal((await e.db.selectFrom('kb_article').select('category_id').where('id', '=', article.id).executeTakeFirstOrThrow()).category_id, printing)

  for (const email of ['ana@casebridge.test', 'bob@acme.test']) {
    const other = await loginAs(e.app, email)
    t.equal((await other.get(PAGE)).statusCode, 404, `${email}: not for them`)
    const csrf = await other.csrf(email.endsWith('acme.test') ? '/portal' : '/desk')
    const tried = await other.post(PAGE, { _csrf: csrf, ...form({ name_en: 'Mine', name_pt: 'Minha' }) }, { noCsrf: true })
    t.equal(tried.statusCode, 404, `${email}: cannot add`)
    t.equal((await other.post(`${PAGE}/${printing}/delete`, { _csrf: csrf, move_to: '' }, { noCsrf: true })).statusCode, 404, `${email}: cannot delete`)
  }
  t.same((await rows(e)).map((r) => r.name_en), ['Printing'], 'nothing written by them')
})
