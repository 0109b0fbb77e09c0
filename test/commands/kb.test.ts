import t from 'tap'
import type { Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { unwrap } from '../../src/commands/kernel.js'
import { createArticle, editArticle, moveArticle, restoreVersion, type ArticleInput } from '../../src/commands/kb.js'
import { getArticle, listVersions, visibleTo } from '../../src/db/kb.js'

// Articles through their commands, against a real database: versions, review, publication,
// audiences, stored HTML, the ticket an article came from.
const T0 = new Date('2026-12-01T09:00:00.000Z')

async function scene(t: Test) {
  const env = await testApp(t)
  const { db, ids } = env
  const staff = async (email: string) => performerOf(await staffActor(db, ids, email))
  return {
    ...env, deps: depsAt(db, T0),
    // Ana manages the Service Desk: a reviewer. Carla manages nothing. Admin is an admin.
    ana: await staff('ana@casebridge.test'), carla: await staff('carla@casebridge.test'), admin: await staff('admin@casebridge.test'),
    bob: performerOf(await contactActor(db, ids, 'bob@acme.test'))
  }
}

const input = (over: Partial<ArticleInput> = {}): ArticleInput => ({
  language: 'en', title: 'Printer shows offline', body: 'Turn it **off** and on.\n\n<script>alert(1)</script>', tags: 'Printer, network',
  categoryId: null, audience: 'public', accountIds: [], translationOf: null, ...over
})

t.test('a draft, its versions, review by a manager, publication, archive and restore', async (t) => {
  const { db, deps, ana, carla, admin, bob } = await scene(t)
  const created = unwrap(await createArticle(deps, carla, input()))
  t.equal(created.slug, 'printer-shows-offline')
  let row = (await getArticle(db, created.id))!
  t.same([row.state, row.version, row.tags, row.author_staff_id], ['draft', 1, 'printer, network', (await db.selectFrom('staff').select('id').where('email', '=', 'carla@casebridge.test').executeTakeFirstOrThrow()).id])
  t.match(row.body_html, '<strong>off</strong>')
  t.notMatch(row.body_html, '<script', 'raw HTML never becomes markup')
  t.match(row.body_text, 'Turn it off and on.')

  t.equal(unwrap(await createArticle(deps, carla, input())).slug, 'printer-shows-offline-2', 'the same title gets the next free address')
  t.equal(unwrap(await createArticle(deps, carla, input({ language: 'pt-BR' }))).slug, 'printer-shows-offline', 'addresses are per language')

  const edited = unwrap(await editArticle(deps, carla, created.id, { ...input({ title: 'Printer shows offline after sleep', note: 'Sleep mode' }), version: 1 }))
  t.equal(edited.version, 2)
  row = (await getArticle(db, created.id))!
  t.same([row.title, row.slug, row.version], ['Printer shows offline after sleep', 'printer-shows-offline', 2], 'the address stays when the title changes')
  t.same((await listVersions(db, created.id)).map((v) => [v.version, v.title, v.note]), [[2, 'Printer shows offline after sleep', 'Sleep mode'], [1, 'Printer shows offline', null]])
  t.match(await editArticle(deps, carla, created.id, { ...input(), version: 1 }), { ok: false, refusal: { code: 'conflict' } }, 'a stale version')

  t.match(await moveArticle(deps, carla, created.id, 'publish'), { ok: false, refusal: { code: 'forbidden', params: { reason: 'reviewer_only' } } }, 'staff do not publish')
  t.same(unwrap(await moveArticle(deps, carla, created.id, 'submit')).state, 'in_review')
  t.same(unwrap(await moveArticle(deps, ana, created.id, 'publish')).state, 'published', 'a desk manager publishes')
  row = (await getArticle(db, created.id))!
  t.same([row.state, row.reviewer_staff_id !== null, row.published_at], ['published', true, T0.toISOString()])
  t.match(await editArticle(deps, carla, created.id, input()), { ok: false, refusal: { code: 'forbidden' } }, 'a published article is changed by reviewers only')
  t.equal(unwrap(await editArticle(deps, ana, created.id, input({ body: 'Hold the power button for 10 s.' }))).version, 3, 'a reviewer edits it: still published')
  t.equal((await getArticle(db, created.id))!.state, 'published')

  const restored = unwrap(await restoreVersion(deps, ana, created.id, 1))
  t.equal(restored.version, 4)
  row = (await getArticle(db, created.id))!
  t.same([row.title, row.version], ['Printer shows offline', 4], 'version 1 is back, as version 4')
  t.equal((await listVersions(db, created.id))[0].note, 'restored:1')

  t.same(unwrap(await moveArticle(deps, admin, created.id, 'archive')).state, 'archived')
  t.match(await editArticle(deps, admin, created.id, input()), { ok: false, refusal: { code: 'not_allowed_in_state' } })
  t.same(unwrap(await moveArticle(deps, ana, created.id, 'restore')).state, 'draft')

  // An author who reviews does not publish their own; an admin may.
  const own = unwrap(await createArticle(deps, ana, input({ title: 'VPN drops every hour' })))
  t.match(await moveArticle(deps, ana, own.id, 'publish'), { ok: false, refusal: { params: { reason: 'own_article' } } })
  const adminOwn = unwrap(await createArticle(deps, admin, input({ title: 'Admin notes' })))
  t.same(unwrap(await moveArticle(deps, admin, adminOwn.id, 'publish')).state, 'published')

  t.match(await createArticle(deps, bob, input()), { ok: false, refusal: { code: 'forbidden' } }, 'clients write no articles')
  t.match(await moveArticle(deps, ana, 999_999, 'publish'), { ok: false, refusal: { code: 'not_found' } })
})

t.test('bad input is refused field by field and writes nothing', async (t) => {
  const { db, deps, carla, ids } = await scene(t)
  const count = async () => Number((await db.selectFrom('kb_article').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  const before = await count()
  const cases: [string, Partial<ArticleInput>, string, string][] = [
    ['no title', { title: '  ' }, 'title', 'required'],
    ['a title too long', { title: 'x'.repeat(201) }, 'title', 'too_long'],
    ['no body', { body: '' }, 'body', 'required'],
    ['an unknown language', { language: 'fr' }, 'language', 'invalid_choice'],
    ['an unknown audience', { audience: 'everyone' }, 'audience', 'invalid_choice'],
    ['accounts without any', { audience: 'accounts', accountIds: [] }, 'accountIds', 'required'],
    ['an account that does not exist', { audience: 'accounts', accountIds: [999_999] }, 'accountIds', 'invalid_choice'],
    ['a category that does not exist', { categoryId: 999_999 }, 'categoryId', 'invalid_choice'],
    ['too many tags', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`).join(',') }, 'tags', 'out_of_range'],
    ['a translation of nothing', { translationOf: 999_999 }, 'translationOf', 'invalid_choice'],
    ['a control character', { title: 'Printer\u0000' }, 'title', 'invalid_characters']
  ]
  for (const [what, over, field, problem] of cases) {
    t.match(await createArticle(deps, carla, input(over)), { ok: false, refusal: { code: 'invalid', fields: { [field]: { problem } } } }, what)
  }
  t.equal(await count(), before, 'nothing written')
  const acme = ids.account['Acme Corporation']
  const scoped = unwrap(await createArticle(deps, carla, input({ audience: 'accounts', accountIds: [acme, acme] })))
  t.same((await db.selectFrom('kb_article_account').select('account_id').where('article_id', '=', scoped.id).execute()).map((r) => r.account_id), [acme])
  const original = unwrap(await createArticle(deps, carla, input({ title: 'Reset a password' })))
  const translation = unwrap(await createArticle(deps, carla, input({ title: 'Redefinir a senha', language: 'pt-BR', translationOf: original.id })))
  t.match(await createArticle(deps, carla, input({ title: 'Again', language: 'en', translationOf: original.id })), { ok: false, refusal: { fields: { translationOf: {} } } }, 'a translation is in another language')
  t.match(await createArticle(deps, carla, input({ title: 'Chain', language: 'en', translationOf: translation.id })), { ok: false, refusal: { fields: { translationOf: {} } } }, 'and points at the original')
})

t.test('who sees what: drafts, internal articles and other accounts\' articles stay hidden', async (t) => {
  const { db, deps, ana, carla, ids } = await scene(t)
  const acme = ids.account['Acme Corporation']
  const globex = ids.account['Globex Industries']
  const make = async (title: string, over: Partial<ArticleInput>, publish = true) => {
    const { id } = unwrap(await createArticle(deps, carla, input({ title, ...over })))
    if (publish) unwrap(await moveArticle(deps, ana, id, 'publish'))
    return id
  }
  const pub = await make('Public one', {})
  const forAcme = await make('For Acme', { audience: 'accounts', accountIds: [acme] })
  await make('For Globex', { audience: 'accounts', accountIds: [globex] })
  await make('Internal', { audience: 'internal' })
  await make('A draft', {}, false)
  const seen = async (reader: Parameters<typeof visibleTo>[1]) =>
    (await visibleTo(db.selectFrom('kb_article').select('id'), reader).orderBy('id').execute()).map((r) => r.id)
  t.same(await seen({ kind: 'contact', accountIds: [acme] }), [pub, forAcme])
  t.same(await seen({ kind: 'anonymous' }), [pub])
  t.equal((await seen({ kind: 'staff' })).length, 5)
})

t.test('an article from a resolved ticket is linked to it', async (t) => {
  const { db, ids, deps, carla } = await scene(t)
  const ticket = await makeTicket(db, ids, { title: 'Printer offline' })
  const { id } = unwrap(await createArticle(deps, carla, { ...input(), sourceTicketId: ticket.id }))
  t.same(await db.selectFrom('kb_article_ticket').select(['article_id', 'ticket_id']).execute(), [{ article_id: id, ticket_id: ticket.id }])
  t.equal((await getArticle(db, id))!.source_ticket_id, ticket.id)
  t.match(await createArticle(deps, carla, { ...input(), sourceTicketId: 999_999 }), { ok: false, refusal: { code: 'not_found' } })
})
