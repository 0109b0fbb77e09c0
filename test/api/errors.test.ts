import t from 'tap'
import { Writable } from 'node:stream'
import { sql } from 'kysely'
import pino from 'pino'
import { buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/log.js'
import { apiToken, testApp } from '../helpers/app.js'

const ENDPOINTS = [
  { method: 'GET', url: '/api/v1/tickets' },
  { method: 'POST', url: '/api/v1/tickets', payload: { title: 'x', description: 'y', productId: 1 } },
  { method: 'GET', url: '/api/v1/tickets/1' },
  { method: 'POST', url: '/api/v1/tickets/1/notes', payload: { body: 'hi' } },
  { method: 'POST', url: '/api/v1/tickets/1/transfer', payload: { assigneeId: 1 } },
  { method: 'GET', url: '/api/v1/attachments/1' }
] as const

const UNAUTHORIZED = { code: 'unauthorized', message: 'A valid API token is required: send it as "Authorization: Bearer <token>".' }

t.test('401 without a valid token, on every endpoint, in the error shape', async (t) => {
  const { app, db } = await testApp(t)
  const countTickets = async () => Number((await db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  const before = await countTickets()
  const good = await apiToken(db, 'alice@acme.test')
  const revoked = await apiToken(db, 'bob@acme.test')
  await db.updateTable('api_token').set({ revoked_at: new Date().toISOString() }).where('contact_id', '=', (await db.selectFrom('contact').select('id').where('email', '=', 'bob@acme.test').executeTakeFirstOrThrow()).id).execute()
  const inactive = await apiToken(db, 'jane@initech.test')
  await db.updateTable('contact').set({ active: 0 }).where('email', '=', 'jane@initech.test').execute()

  const cases: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['another scheme', { authorization: `Basic ${Buffer.from('alice@acme.test:client-demo-pass').toString('base64')}` }],
    ['the token without its scheme', { authorization: good }],
    ['an unknown token', { authorization: 'Bearer cb_notARealTokenAtAll' }],
    ['a revoked token', { authorization: `Bearer ${revoked}` }],
    ['the token of a deactivated contact', { authorization: `Bearer ${inactive}` }],
    ['an absurdly long token', { authorization: `Bearer ${'a'.repeat(5000)}` }]
  ]
  for (const [name, headers] of cases) {
    for (const e of ENDPOINTS) {
      const res = await app.inject({ method: e.method, url: e.url, headers, ...('payload' in e ? { payload: e.payload } : {}) })
      t.equal(res.statusCode, 401, `${name}: ${e.method} ${e.url}`)
      t.same(res.json(), { error: UNAUTHORIZED })
      t.equal(res.headers['www-authenticate'], 'Bearer realm="casebridge"')
    }
  }
  t.equal(await countTickets(), before, 'nothing was created')

  const session = await app.inject({ url: '/api/v1/tickets', headers: { cookie: 'casebridge_session=whatever' } })
  t.equal(session.statusCode, 401, 'a session cookie is not an API credential')

  const lower = await app.inject({ url: '/api/v1/tickets', headers: { authorization: `bearer ${good}` } })
  t.equal(lower.statusCode, 200, 'the scheme is case-insensitive')
  t.equal(lower.headers['cache-control'], 'no-store')
  t.match(lower.headers['content-type'], /^application\/json/)

  const pt = await app.inject({ url: '/api/v1/tickets', headers: { 'accept-language': 'pt-BR' } })
  t.match(pt.json(), { error: { code: 'unauthorized', message: /token de API válido/ } }, 'messages follow Accept-Language')
})

t.test('request errors: validation, JSON, media type, size, unknown routes', async (t) => {
  const { app, db } = await testApp(t)
  const token = await apiToken(db, 'alice@acme.test')
  const gina = await apiToken(db, 'gina@globex.test')
  const call = (opts: { method?: 'GET' | 'POST'; url: string; payload?: string | object; headers?: Record<string, string> }) =>
    app.inject({ method: opts.method ?? 'GET', url: opts.url, payload: opts.payload, headers: { authorization: `Bearer ${token}`, ...opts.headers } })

  const badId = await call({ url: '/api/v1/tickets/abc' })
  t.equal(badId.statusCode, 400)
  t.same(badId.json(), { error: { code: 'validation_error', message: 'The field "id" must be a whole number.', fields: { id: 'The field "id" must be a whole number.' } } })
  const zero = await call({ url: '/api/v1/tickets/0' })
  t.match(zero.json(), { error: { code: 'validation_error', message: 'The field "id" must be at least 1.' } })

  const noBody = await call({ method: 'POST', url: '/api/v1/tickets' })
  t.equal(noBody.statusCode, 400)
  t.match(noBody.json(), { error: { code: 'validation_error', message: 'The request body must be a JSON object.' } })
  const arrayBody = await call({ method: 'POST', url: '/api/v1/tickets', payload: '[1,2]', headers: { 'content-type': 'application/json' } })
  t.match(arrayBody.json(), { error: { code: 'validation_error', message: 'The request body must be a JSON object.' } })
  const emptyJson = await call({ method: 'POST', url: '/api/v1/tickets', payload: '', headers: { 'content-type': 'application/json' } })
  t.equal(emptyJson.statusCode, 400)
  t.match(emptyJson.json(), { error: { code: 'validation_error' } })
  const brokenJson = await call({ method: 'POST', url: '/api/v1/tickets', payload: '{"title": "x",', headers: { 'content-type': 'application/json' } })
  t.equal(brokenJson.statusCode, 400)
  t.same(brokenJson.json(), { error: { code: 'invalid_json', message: 'The request body is not valid JSON.' } })
  const proto = await call({ method: 'POST', url: '/api/v1/tickets', payload: '{"title":"x","description":"y","productId":1,"__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } })
  t.equal(proto.statusCode, 400, 'prototype poisoning is refused')
  t.match(proto.json(), { error: { code: 'invalid_json' } })

  const form = await call({ method: 'POST', url: '/api/v1/tickets', payload: 'title=x&description=y&productId=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(form.statusCode, 415)
  t.same(form.json(), { error: { code: 'unsupported_media_type', message: 'Send the request body as JSON (Content-Type: application/json).' } })
  const multipart = await call({ method: 'POST', url: '/api/v1/tickets', payload: '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--\r\n', headers: { 'content-type': 'multipart/form-data; boundary=b' } })
  t.equal(multipart.statusCode, 415, 'multipart belongs to the web forms')

  const huge = await call({ method: 'POST', url: '/api/v1/tickets', payload: { title: 'x', description: 'y'.repeat(3 * 1024 * 1024), productId: 1 } })
  t.equal(huge.statusCode, 413)
  t.same(huge.json(), { error: { code: 'payload_too_large', message: 'The request body is too large.' } })

  const unknown = await call({ url: '/api/v1/nothing/here?x=1' })
  t.equal(unknown.statusCode, 404)
  t.same(unknown.json(), { error: { code: 'not_found', message: 'There is no API endpoint GET /api/v1/nothing/here.' } })
  const wrongMethod = await call({ method: 'POST', url: '/api/v1/tickets/1' , payload: {} })
  t.match(wrongMethod.json(), { error: { code: 'not_found' } })
  t.equal((await app.inject({ url: '/api/v1/nothing' })).statusCode, 401, 'unknown routes still ask for a token first')
  const web404 = await app.inject({ url: '/no/such/page' })
  t.match(web404.body, 'Not found', 'the web keeps its HTML 404')

  const pt = await app.inject({ url: '/api/v1/tickets?perPage=0', headers: { authorization: `Bearer ${gina}` } })
  t.match(pt.json(), { error: { code: 'validation_error', message: 'O campo "perPage" deve ser no mínimo 1.' } }, 'a contact whose setting is pt-BR gets Portuguese')
})

t.test('500: unexpected failures are logged and answered without details', async (t) => {
  const { db, config } = await testApp(t)
  const lines: string[] = []
  const logger = pino(loggerOptions('info'), new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb() } }))
  const app = await buildApp({ config, db, logger })
  t.teardown(() => app.close())
  const token = await apiToken(db, 'alice@acme.test')
  const list = await app.inject({ url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}` } })
  const id = list.json().items[0].id
  await sql`ALTER TABLE note RENAME TO note_elsewhere`.execute(db)
  const res = await app.inject({ url: `/api/v1/tickets/${id}`, headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { error: { code: 'internal_error', message: 'An unexpected error occurred. It has been logged; please try again.' } })
  t.notMatch(res.body, /note|sqlite|SELECT/i, 'no SQL or stack trace leaks')
  const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'api request failed')
  t.ok(logged, 'the failure is logged')
  t.match(logged.err.message, /no such table: note|relation "note" does not exist/, 'with its details')
  t.notMatch(lines.join('\n'), token, 'the token never reaches the log')
})
