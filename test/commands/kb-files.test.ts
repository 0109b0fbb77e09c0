// Related articles and article files through their commands, against a real database: related
// articles kept both ways, files added only by who may edit the article, refusals write nothing.
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { addArticleFiles, createArticle, editArticle, KB_MAX_RELATED, moveArticle, removeArticleFile, type ArticleInput } from '../../src/commands/kb.js'
import { listKbAttachments, relatedArticles } from '../../src/db/kb.js'

const input = (over: Partial<ArticleInput> = {}): ArticleInput => ({
  language: 'en', title: 'Printer shows offline', body: 'Turn it off and on.', tags: '', categoryId: null, audience: 'public', accountIds: [], translationOf: null, ...over
})
const stored = (filename: string, over: Partial<{ truncated: boolean }> = {}) => ({ filename, contentType: 'image/png', size: 3, sha256: 'a'.repeat(64), tmpPath: '', truncated: false, ...over })

t.test('related articles are kept both ways and replaced as a whole', async (t) => {
  const { db, ids } = await testApp(t)
  const deps = depsAt(db, new Date())
  const carla = performerOf(await staffActor(db, ids, 'carla@casebridge.test'))
  const a = unwrap(await createArticle(deps, carla, input({ title: 'A' }))).id
  const b = unwrap(await createArticle(deps, carla, input({ title: 'B' }))).id
  const c = unwrap(await createArticle(deps, carla, input({ title: 'C', relatedIds: [a, b, a] }))).id
  t.same((await relatedArticles(db, c)).map((r) => r.id), [a, b])
  t.same((await relatedArticles(db, a)).map((r) => r.id), [c], 'and the other way')
  unwrap(await editArticle(deps, carla, c, { ...input({ title: 'C', relatedIds: [b] }), version: 1 }))
  t.same((await relatedArticles(db, a)).map((r) => r.id), [], 'taken off both')
  unwrap(await editArticle(deps, carla, c, { ...input({ title: 'C again' }), version: 2 }))
  t.same((await relatedArticles(db, c)).map((r) => r.id), [b], 'left out: left as they are')
  t.match(await editArticle(deps, carla, c, { ...input({ relatedIds: [c] }), version: 3 }), { ok: false, refusal: { fields: { relatedIds: { problem: 'invalid_choice' } } } }, 'not itself')
  t.match(await editArticle(deps, carla, c, { ...input({ relatedIds: [999_999] }), version: 3 }), { ok: false, refusal: { fields: { relatedIds: { problem: 'invalid_choice' } } } })
  t.match(await editArticle(deps, carla, c, { ...input({ relatedIds: Array.from({ length: KB_MAX_RELATED + 1 }, (_, i) => i + 1) }), version: 3 }), { ok: false, refusal: { fields: { relatedIds: { problem: 'out_of_range' } } } })
  t.same((await relatedArticles(db, c)).map((r) => r.id), [b], 'refusals change nothing')
})

t.test('files: added and removed by who may edit the article; refusals write nothing', async (t) => {
  const { db, ids } = await testApp(t)
  const deps = depsAt(db, new Date())
  const carla = performerOf(await staffActor(db, ids, 'carla@casebridge.test'))
  const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
  const id = unwrap(await createArticle(deps, carla, input())).id
  const { ids: added } = unwrap(await addArticleFiles(deps, carla, id, [stored('a.png'), stored('b.png')].map(({ tmpPath, truncated, ...f }) => f)))
  t.equal(added.length, 2)
  t.match(await addArticleFiles(deps, carla, id, []), { ok: false, refusal: { fields: { files: { problem: 'required' } } } })
  t.match(await addArticleFiles(deps, carla, id, [stored('big.png', { truncated: true })]), { ok: false, refusal: { fields: { files: { problem: 'file_too_large' } } } })
  unwrap(await moveArticle(deps, ana, id, 'publish'))
  t.match(await addArticleFiles(deps, carla, id, [{ filename: 'c.png', contentType: 'image/png', size: 3, sha256: 'b'.repeat(64) }]), { ok: false, refusal: { code: 'forbidden' } }, 'a published article is changed by reviewers only')
  t.match(await removeArticleFile(deps, carla, id, added[0]), { ok: false, refusal: { code: 'forbidden' } })
  t.equal((await listKbAttachments(db, id)).length, 2, 'nothing written or removed')
  unwrap(await removeArticleFile(deps, ana, id, added[0]))
  t.match(await removeArticleFile(deps, ana, id, added[0]), { ok: false, refusal: { code: 'not_found' } })
  t.same((await listKbAttachments(db, id)).map((f) => f.filename), ['b.png'])
})
