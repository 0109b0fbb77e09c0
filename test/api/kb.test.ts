// The knowledge base through the API: a client token sees what the help center shows them
// (published, public or their account's, never internal: the rest absent from lists and 404 by
// id); staff create drafts, save versions (409 on a stale one), move articles through review
// (reviewers only); bad bodies answer 4xx with nothing written; stored HTML comes back sanitized.
// Both databases:
//   npx tap test/api/kb.test.ts
//   PG_PORT=55453 scripts/pg-test.sh test/api/kb.test.ts
import t from 'tap'
import type { Test } from 'tap'
import { apiToken, testApp, type TestEnv } from '../helpers/app.js'

type Json = any

async function call(env: TestEnv, token: string, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await env.app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.statusCode, body: res.body ? res.json() as Json : null, headers: res.headers }
}

const draft = (over: Record<string, unknown> = {}) => ({ language: 'en', title: 'Printer shows offline', body: 'Turn it **off** and on.', tags: ['printer'], audience: 'public', ...over })
const count = async (env: TestEnv) => Number((await env.db.selectFrom('kb_article').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

async function scene(t: Test) {
  const env = await testApp(t)
  const tokens = {
    carla: await apiToken(env.db, 'carla@casebridge.test'), ana: await apiToken(env.db, 'ana@casebridge.test'), admin: await apiToken(env.db, 'admin@casebridge.test'),
    bob: await apiToken(env.db, 'bob@acme.test'), gina: await apiToken(env.db, 'gina@globex.test')
  }
  /** An article written by Carla and published by the admin. */
  const published = async (over: Record<string, unknown>) => {
    const made = await call(env, tokens.carla, 'POST', '/api/v1/kb/articles', draft(over))
    if (made.status !== 201) throw new Error(JSON.stringify(made.body))
    const done = await call(env, tokens.admin, 'POST', `/api/v1/kb/articles/${made.body.id}/publish`)
    if (done.status !== 200) throw new Error(JSON.stringify(done.body))
    return made.body.id as number
  }
  return { env, tokens, published }
}

t.test('audiences: a client of Acme and one of Globex each see public articles and their account\'s, never drafts or internal ones', async (t) => {
  const { env, tokens, published } = await scene(t)
  const pub = await published({ title: 'Printer shows offline' })
  const acme = await published({ title: 'Printer toner for Acme', audience: 'accounts', accountIds: [env.ids.account['Acme Corporation']] })
  const internal = await published({ title: 'Printer server internals', audience: 'internal' })
  const drafted = (await call(env, tokens.carla, 'POST', '/api/v1/kb/articles', draft({ title: 'Printer draft' }))).body.id

  const bobList = await call(env, tokens.bob, 'GET', '/api/v1/kb/articles')
  t.equal(bobList.status, 200)
  t.same(bobList.body.items.map((a: Json) => a.id).sort(), [pub, acme].sort(), 'Bob (Acme): the public article and Acme\'s')
  t.equal(bobList.body.total, 2)
  t.notOk('body' in bobList.body.items[0], 'no Markdown for clients')
  const ginaList = await call(env, tokens.gina, 'GET', '/api/v1/kb/articles')
  t.same(ginaList.body.items.map((a: Json) => a.id), [pub], 'Gina (Globex): the public one only')
  const ginaSearch = await call(env, tokens.gina, 'GET', '/api/v1/kb/articles?q=printer')
  t.same(ginaSearch.body.items.map((a: Json) => a.id), [pub], 'her search finds no more')
  const bobSearch = await call(env, tokens.bob, 'GET', '/api/v1/kb/articles?q=toner')
  t.same(bobSearch.body.items.map((a: Json) => a.id), [acme], 'Bob\'s search finds Acme\'s toner article')

  for (const id of [internal, drafted, acme]) t.equal((await call(env, tokens.gina, 'GET', `/api/v1/kb/articles/${id}`)).status, 404, `Gina: article ${id} is not there`)
  for (const id of [internal, drafted]) t.equal((await call(env, tokens.bob, 'GET', `/api/v1/kb/articles/${id}`)).status, 404, `Bob: article ${id} is not there`)
  const one = await call(env, tokens.bob, 'GET', `/api/v1/kb/articles/${acme}`)
  t.equal(one.status, 200)
  t.match(one.body, { id: acme, state: 'published', audience: 'accounts', url: `/help/articles/${acme}-printer-toner-for-acme` })
  t.equal((await call(env, tokens.bob, 'GET', '/api/v1/kb/articles?state=draft')).body.items.length, 0, 'asking for drafts shows a client none')

  const staff = await call(env, tokens.carla, 'GET', '/api/v1/kb/articles?state=draft')
  t.same(staff.body.items.map((a: Json) => a.id), [drafted], 'staff filter by state')
  t.equal((await call(env, tokens.carla, 'GET', '/api/v1/kb/articles')).body.total, 4, 'staff see every article')
  t.equal((await call(env, tokens.carla, 'GET', `/api/v1/kb/articles/${internal}`)).body.audience, 'internal')
  t.same((await call(env, tokens.carla, 'GET', `/api/v1/kb/articles/${acme}`)).body.accountIds, [env.ids.account['Acme Corporation']])
  t.equal((await call(env, tokens.carla, 'GET', '/api/v1/kb/articles?limit=1&offset=1')).body.items.length, 1, 'paged')
  t.equal((await call(env, tokens.bob, 'GET', '/api/v1/kb/articles?limit=0')).status, 400)
  t.equal((await call(env, tokens.bob, 'GET', '/api/v1/kb/articles?language=fr')).status, 400)
  t.equal((await call(env, tokens.bob, 'GET', '/api/v1/kb/articles?colour=red')).status, 400, 'an unknown parameter')
  t.equal((await env.app.inject({ url: '/api/v1/kb/articles' })).statusCode, 401, 'no token')
})

t.test('staff write: a draft, a version with the version read (409 when stale), review by a reviewer only', async (t) => {
  const { env, tokens } = await scene(t)
  const made = await call(env, tokens.carla, 'POST', '/api/v1/kb/articles', draft({ body: 'Press <b>reset</b>\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>' }))
  t.equal(made.status, 201)
  t.equal(made.headers.location, `/api/v1/kb/articles/${made.body.id}`)
  t.match(made.body, { state: 'draft', version: 1, slug: 'printer-shows-offline', tags: ['printer'], body: String })
  t.notMatch(made.body.bodyHtml, /<script|<b>|<img|href="javascript/i, 'raw HTML and script links never become markup')
  t.match(made.body.bodyHtml, '&lt;script&gt;', 'shown as text')
  const id = made.body.id

  const edited = await call(env, tokens.carla, 'PATCH', `/api/v1/kb/articles/${id}`, { version: 1, title: 'Printer shows offline after sleep', note: 'Sleep mode' })
  t.equal(edited.status, 200)
  t.match(edited.body, { version: 2, title: 'Printer shows offline after sleep', slug: 'printer-shows-offline', body: made.body.body }, 'the fields not sent stay')
  const stale = await call(env, tokens.carla, 'PATCH', `/api/v1/kb/articles/${id}`, { version: 1, title: 'Mine' })
  t.equal(stale.status, 409)
  t.equal(stale.body.error.code, 'conflict')

  const carlaPublishes = await call(env, tokens.carla, 'POST', `/api/v1/kb/articles/${id}/publish`)
  t.equal(carlaPublishes.status, 403, 'staff do not publish')
  t.match(carlaPublishes.body.error.message, 'reviewers')
  t.equal((await call(env, tokens.carla, 'POST', `/api/v1/kb/articles/${id}/submit`, { version: 2 })).body.state, 'in_review')
  t.equal((await call(env, tokens.carla, 'POST', `/api/v1/kb/articles/${id}/submit`)).status, 409, 'already in review')
  t.equal((await call(env, tokens.ana, 'POST', `/api/v1/kb/articles/${id}/send-back`)).body.state, 'draft', 'a desk manager sends it back')
  const published = await call(env, tokens.ana, 'POST', `/api/v1/kb/articles/${id}/publish`, {}, { 'idempotency-key': 'publish-1' })
  t.equal(published.status, 200)
  t.match(published.body, { state: 'published', publishedAt: String })
  const again = await call(env, tokens.ana, 'POST', `/api/v1/kb/articles/${id}/publish`, {}, { 'idempotency-key': 'publish-1' })
  t.equal(again.headers['idempotent-replayed'], 'true', 'a retry gets the first answer')
  t.equal((await call(env, tokens.carla, 'PATCH', `/api/v1/kb/articles/${id}`, { version: 2, body: 'x' })).status, 403, 'a published article is changed by reviewers only')
  t.equal((await call(env, tokens.carla, 'POST', `/api/v1/kb/articles/${id}/archive`)).status, 403)
  t.equal((await call(env, tokens.admin, 'POST', `/api/v1/kb/articles/${id}/archive`)).body.state, 'archived')
  t.equal((await call(env, tokens.admin, 'POST', `/api/v1/kb/articles/${id}/restore`)).body.state, 'draft')
  const anaOwn = (await call(env, tokens.ana, 'POST', '/api/v1/kb/articles', draft({ title: 'Ana writes' }))).body.id
  t.equal((await call(env, tokens.ana, 'POST', `/api/v1/kb/articles/${anaOwn}/publish`)).status, 403, 'a manager does not publish her own')
  t.equal((await call(env, tokens.ana, 'POST', '/api/v1/kb/articles/999999/publish')).status, 404)
})

t.test('bad bodies and clients writing: 4xx with nothing written', async (t) => {
  const { env, tokens } = await scene(t)
  const before = await count(env)
  const cases: [string, unknown, number][] = [
    ['an unknown field', { ...draft(), colour: 'red' }, 400],
    ['a number as the title', { ...draft(), title: 123 }, 400],
    ['an empty title', { ...draft(), title: '' }, 400],
    ['an unknown language', { ...draft(), language: 'fr' }, 400],
    ['an unknown audience', { ...draft(), audience: 'everyone' }, 400],
    ['tags as text', { ...draft(), tags: 'printer' }, 400],
    ['a control character', { ...draft(), body: 'a\u0000b' }, 400],
    ['no body field', { language: 'en', title: 'x', audience: 'public' }, 400],
    ['not JSON', '{"title":', 400],
    ['accounts without accounts', { ...draft(), audience: 'accounts', accountIds: [] }, 422],
    ['a category that does not exist', { ...draft(), categoryId: 99999 }, 422],
    ['a blank title', { ...draft(), title: '   ' }, 422]
  ]
  for (const [what, body, status] of cases) {
    const res = await call(env, tokens.carla, 'POST', '/api/v1/kb/articles', body)
    t.equal(res.status, status, what)
    t.type(res.body?.error?.message, 'string', `${what}: a message`)
  }
  const client = await call(env, tokens.bob, 'POST', '/api/v1/kb/articles', draft())
  t.equal(client.status, 403, 'a client does not write articles')
  t.equal(await count(env), before, 'nothing written')

  const id = (await call(env, tokens.carla, 'POST', '/api/v1/kb/articles', draft())).body.id
  t.equal((await call(env, tokens.carla, 'PATCH', `/api/v1/kb/articles/${id}`, { title: 'No version' })).status, 400, 'the version is required')
  t.equal((await call(env, tokens.carla, 'PATCH', `/api/v1/kb/articles/${id}`, { version: 1, language: 'pt-BR' })).status, 400, 'the language is not changed')
  t.equal((await call(env, tokens.carla, 'POST', `/api/v1/kb/articles/${id}/submit`, { version: '1' })).status, 400, 'no coercion')
  t.equal((await call(env, tokens.bob, 'PATCH', `/api/v1/kb/articles/${id}`, { version: 1, title: 'Mine' })).status, 403)
  t.equal((await call(env, tokens.bob, 'POST', `/api/v1/kb/articles/${id}/submit`)).status, 403)
  const row = await env.db.selectFrom('kb_article').select(['title', 'version', 'state']).where('id', '=', id).executeTakeFirstOrThrow()
  t.same(row, { title: 'Printer shows offline', version: 1, state: 'draft' }, 'unchanged')
})

t.test('HTML written into the row by other means is sanitized on the way out', async (t) => {
  const { env, tokens, published } = await scene(t)
  const id = await published({ title: 'Printer shows offline' })
  await env.db.updateTable('kb_article').set({ body_html: '<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(1)">x</a><iframe src="https://evil.test"></iframe></p>' }).where('id', '=', id).execute()
  const res = await call(env, tokens.bob, 'GET', `/api/v1/kb/articles/${id}`)
  t.equal(res.status, 200)
  t.notMatch(res.body.bodyHtml, /script|onclick|javascript:|iframe/i)
  t.match(res.body.bodyHtml, '<p>Hi')
})
