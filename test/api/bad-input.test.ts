// What the API answers to input it does not take, the same on SQLite and on PostgreSQL: each
// case a status and an error code (never a 5xx), and nothing written. Run on both:
//   npx tap test/api/bad-input.test.ts
//   scripts/pg-test.sh test/api/bad-input.test.ts
import t from 'tap'
import { apiToken, loginAs, onPostgres, testApp, type TestEnv } from '../helpers/app.js'
import { openTicket } from '../../src/commands/open-ticket.js'
import { personWho } from '../../src/commands/kernel.js'
import { contactActor } from '../helpers/tickets.js'

const CLOUD_LOGIN = 'Cannot log in to the cloud console' // Alice's, Acme, Product Support (Ana's desk)
const COUNTED = ['ticket', 'note', 'ticket_event', 'mail_outbox', 'crm_outbox'] as const

async function counts(env: TestEnv): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const table of COUNTED) {
    out[table] = Number((await env.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  }
  return out
}

interface Case {
  name: string
  /** Who calls: a client or a staff member. */
  as?: 'alice' | 'ana'
  /** Relative to /api/v1; `:id` is Alice's cloud-login ticket. */
  path: string
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown
  contentType?: string
  status: number
  code: string
  /** The field the error names (`fields`), when it names one. */
  field?: string
}

const TICKET = { title: 'Export fails', description: 'Every time.', productId: 0 } // productId set at run time
const HOLD = { action: 'hold', reason: 'Waiting for the vendor' }
const long = (n: number) => 'x'.repeat(n)

const CASES: Case[] = [
  // NUL in every kind of text field
  { name: 'NUL in title', path: '/tickets', body: { ...TICKET, title: 'Export\u0000fails' }, status: 400, code: 'validation_error', field: 'title' },
  { name: 'NUL in description', path: '/tickets', body: { ...TICKET, description: '\u0000' }, status: 400, code: 'validation_error', field: 'description' },
  { name: 'NUL in url', path: '/tickets', body: { ...TICKET, url: 'https://x.test/\u0000' }, status: 400, code: 'validation_error', field: 'url' },
  { name: 'NUL in a note', path: '/tickets/:id/notes', body: { body: 'Still\u0000broken' }, status: 400, code: 'validation_error', field: 'body' },
  { name: 'NUL in an internal note', as: 'ana', path: '/tickets/:id/notes', body: { body: 'x\u0000', visibility: 'internal' }, status: 400, code: 'validation_error', field: 'body' },
  { name: 'NUL in a reason', as: 'ana', path: '/tickets/:id/transitions', body: { ...HOLD, reason: 'vendor\u0000' }, status: 400, code: 'validation_error', field: 'reason' },
  { name: 'NUL in a resolution', as: 'ana', path: '/tickets/:id/transitions', body: { action: 'resolve', resolution: '\u0000fixed' }, status: 400, code: 'validation_error', field: 'resolution' },
  { name: 'NUL in a transfer note', as: 'ana', path: '/tickets/:id/transfer', body: { note: 'to\u0000Carla' }, status: 400, code: 'validation_error', field: 'note' },
  // other C0 controls
  { name: 'SOH (U+0001)', path: '/tickets', body: { ...TICKET, title: '\u0001Export' }, status: 400, code: 'validation_error', field: 'title' },
  { name: 'backspace (U+0008)', path: '/tickets', body: { ...TICKET, title: 'Export\b' }, status: 400, code: 'validation_error', field: 'title' },
  { name: 'vertical tab (U+000B)', path: '/tickets/:id/notes', body: { body: 'a\u000Bb' }, status: 400, code: 'validation_error', field: 'body' },
  { name: 'form feed (U+000C)', path: '/tickets/:id/notes', body: { body: 'a\fb' }, status: 400, code: 'validation_error', field: 'body' },
  { name: 'escape (U+001B)', path: '/tickets', body: { ...TICKET, description: '\u001b[31mred' }, status: 400, code: 'validation_error', field: 'description' },
  { name: 'unit separator (U+001F)', as: 'ana', path: '/tickets/:id/transitions', body: { ...HOLD, reason: 'a\u001fb' }, status: 400, code: 'validation_error', field: 'reason' },
  // lone surrogates (no UTF-8 form)
  { name: 'lone high surrogate', path: '/tickets', body: { ...TICKET, title: 'Export \uD83D fails' }, status: 400, code: 'validation_error', field: 'title' },
  { name: 'lone low surrogate', path: '/tickets/:id/notes', body: { body: '\uDE00 broken' }, status: 400, code: 'validation_error', field: 'body' },
  { name: 'high surrogate at the end', path: '/tickets', body: { ...TICKET, description: 'cut \uD83D' }, status: 400, code: 'validation_error', field: 'description' },
  { name: 'swapped pair', as: 'ana', path: '/tickets/:id/transfer', body: { note: '\uDE00\uD83D' }, status: 400, code: 'validation_error', field: 'note' },
  // wrong JSON types: never coerced
  { name: 'a number for a string', path: '/tickets', body: { ...TICKET, title: 123 }, status: 400, code: 'validation_error', field: 'title' },
  { name: 'a boolean for a string', path: '/tickets/:id/notes', body: { body: true }, status: 400, code: 'validation_error', field: 'body' },
  { name: 'null for a string', path: '/tickets', body: { ...TICKET, description: null }, status: 400, code: 'validation_error', field: 'description' },
  { name: 'an object for a string', path: '/tickets', body: { ...TICKET, title: { text: 'x' } }, status: 400, code: 'validation_error', field: 'title' },
  { name: 'a string for an id', path: '/tickets', body: { ...TICKET, productId: '1' }, status: 400, code: 'validation_error', field: 'productId' },
  { name: 'a string for a version', as: 'ana', path: '/tickets/:id/transitions', body: { ...HOLD, version: '1' }, status: 400, code: 'validation_error', field: 'version' },
  { name: 'a fraction for an id', as: 'ana', path: '/tickets/:id/transfer', body: { assigneeId: 1.5 }, status: 400, code: 'validation_error', field: 'assigneeId' },
  { name: 'a boolean for an id', path: '/tickets', body: { ...TICKET, productId: true }, status: 400, code: 'validation_error', field: 'productId' },
  // arrays for strings
  { name: 'an array for the title', path: '/tickets', body: { ...TICKET, title: ['Export fails'] }, status: 400, code: 'validation_error', field: 'title' },
  { name: 'an array for a note', path: '/tickets/:id/notes', body: { body: ['x'] }, status: 400, code: 'validation_error', field: 'body' },
  { name: 'an array for an action', as: 'ana', path: '/tickets/:id/transitions', body: { action: ['hold'], reason: 'x' }, status: 400, code: 'validation_error', field: 'action' },
  // unknown properties
  { name: 'status in a create', path: '/tickets', body: { ...TICKET, status: 'closed' }, status: 400, code: 'validation_error', field: 'status' },
  { name: 'assigneeId in a create', path: '/tickets', body: { ...TICKET, assigneeId: 1 }, status: 400, code: 'validation_error', field: 'assigneeId' },
  { name: 'a misspelt field in a note', path: '/tickets/:id/notes', body: { body: 'x', visiblity: 'internal' }, status: 400, code: 'validation_error', field: 'visiblity' },
  { name: 'state in a transition', as: 'ana', path: '/tickets/:id/transitions', body: { ...HOLD, state: 'closed' }, status: 400, code: 'validation_error', field: 'state' },
  { name: 'deskId in a transfer', as: 'ana', path: '/tickets/:id/transfer', body: { deskId: 1 }, status: 400, code: 'validation_error', field: 'deskId' },
  // huge strings
  { name: 'a title over its limit', path: '/tickets', body: { ...TICKET, title: long(201) }, status: 400, code: 'validation_error', field: 'title' },
  { name: 'a description over its limit', path: '/tickets', body: { ...TICKET, description: long(20_001) }, status: 400, code: 'validation_error', field: 'description' },
  { name: 'a note over its limit', path: '/tickets/:id/notes', body: { body: long(20_001) }, status: 400, code: 'validation_error', field: 'body' },
  { name: 'a body over the size limit', path: '/tickets', body: { ...TICKET, description: long(3 * 1024 * 1024) }, status: 413, code: 'payload_too_large' },
  // empty bodies
  { name: 'no body', path: '/tickets', status: 400, code: 'validation_error', field: 'body' },
  { name: 'an empty JSON body', path: '/tickets/:id/notes', body: '', contentType: 'application/json', status: 400, code: 'validation_error', field: 'body' },
  { name: 'an empty object', path: '/tickets', body: {}, status: 400, code: 'validation_error', field: 'title' },
  { name: 'JSON null', path: '/tickets/:id/notes', body: 'null', contentType: 'application/json', status: 400, code: 'validation_error', field: 'body' },
  { name: 'a JSON array', as: 'ana', path: '/tickets/:id/transfer', body: '[]', contentType: 'application/json', status: 400, code: 'validation_error', field: 'body' },
  { name: 'a JSON string', path: '/tickets/:id/notes', body: '"hello"', contentType: 'application/json', status: 400, code: 'validation_error', field: 'body' },
  // shapes that could exhaust a naive walk: a 1.5 MB deep nest and a million-element list
  { name: 'a deeply nested value', path: '/tickets', body: `{"description":"y","productId":1,"title":${'['.repeat(700_000)}${']'.repeat(700_000)}}`, contentType: 'application/json', status: 400, code: 'validation_error', field: 'title' },
  { name: 'a very long list', path: '/tickets/:id/notes', body: `{"body":[${Array(1_000_000).fill('0').join(',')}]}`, contentType: 'application/json', status: 400, code: 'validation_error', field: 'body' },
  // invalid JSON
  { name: 'truncated JSON', path: '/tickets', body: '{"title": "x",', contentType: 'application/json', status: 400, code: 'invalid_json' },
  { name: 'a raw NUL byte in JSON', path: '/tickets/:id/notes', body: Buffer.from('{"body":"a\u0000b"}'), contentType: 'application/json', status: 400, code: 'invalid_json' },
  { name: 'invalid UTF-8', path: '/tickets/:id/notes', body: Buffer.concat([Buffer.from('{"body":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]), contentType: 'application/json', status: 400, code: 'invalid_json' },
  { name: 'an encoded surrogate (CESU-8)', path: '/tickets/:id/notes', body: Buffer.concat([Buffer.from('{"body":"'), Buffer.from([0xed, 0xa0, 0xbd]), Buffer.from('"}')]), contentType: 'application/json', status: 400, code: 'invalid_json' },
  { name: 'prototype poisoning', path: '/tickets', body: '{"title":"x","description":"y","productId":1,"__proto__":{"admin":true}}', contentType: 'application/json', status: 400, code: 'invalid_json' },
  // wrong content type
  { name: 'a form', path: '/tickets', body: 'title=x&description=y', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type' },
  { name: 'multipart', path: '/tickets/:id/notes', body: '--b\r\nContent-Disposition: form-data; name="body"\r\n\r\nx\r\n--b--\r\n', contentType: 'multipart/form-data; boundary=b', status: 415, code: 'unsupported_media_type' },
  { name: 'plain text', path: '/tickets/:id/notes', body: 'hello', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
  { name: 'XML', as: 'ana', path: '/tickets/:id/transitions', body: '<hold/>', contentType: 'application/xml', status: 415, code: 'unsupported_media_type' }
]

t.test(`bad input is refused with a 4xx naming the field, nothing written (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, async (t) => {
  const env = await testApp(t)
  const tokens = { alice: await apiToken(env.db, 'alice@acme.test'), ana: await apiToken(env.db, 'ana@casebridge.test') }
  const id = (await env.db.selectFrom('ticket').select('id').where('title', '=', CLOUD_LOGIN).executeTakeFirstOrThrow()).id
  const productId = env.ids.product['Casebridge Cloud']
  const before = await counts(env)

  for (const c of CASES) {
    const body = c.body !== null && typeof c.body === 'object' && !Buffer.isBuffer(c.body)
      ? JSON.stringify('productId' in c.body && (c.body as { productId: unknown }).productId === 0 ? { ...c.body, productId } : c.body)
      : c.body as string | Buffer | undefined
    const res = await env.app.inject({
      method: 'POST', url: `/api/v1${c.path.replace(':id', String(id))}`,
      headers: {
        authorization: `Bearer ${tokens[c.as ?? 'alice']}`,
        ...(c.contentType ? { 'content-type': c.contentType } : body !== undefined ? { 'content-type': 'application/json' } : {})
      },
      ...(body === undefined ? {} : { payload: body })
    })
    const json = res.json()
    t.equal(res.statusCode, c.status, `${c.name}: status`)
    t.equal(json.error?.code, c.code, `${c.name}: code`)
    t.type(json.error?.message, 'string', `${c.name}: a message`)
    if (c.field) t.ok(json.error?.fields && c.field in json.error.fields, `${c.name}: names ${c.field} (${JSON.stringify(json.error?.fields)})`)
    t.same(await counts(env), before, `${c.name}: nothing written`)
  }
})

t.test('a query string holding such characters is refused too, the same on either database', async (t) => {
  const env = await testApp(t)
  const token = await apiToken(env.db, 'alice@acme.test')
  const get = (query: string) => env.app.inject({ url: `/api/v1/tickets?${query}`, headers: { authorization: `Bearer ${token}` } })
  for (const [query, field] of [['q=%00', 'q'], ['title=a%01b', 'title'], ['q=%1B', 'q']] as const) {
    const res = await get(query)
    t.equal(res.statusCode, 400, query)
    t.match(res.json(), { error: { code: 'validation_error', fields: { [field]: /control characters/ } } }, `${query}: names ${field}`)
  }
  const fine = await get('q=caf%C3%A9%09x&perPage=5')
  t.equal(fine.statusCode, 200, 'a tab and an accent are text')
  t.equal(fine.json().perPage, 5, 'the query string is still coerced')
  const broken = await get('q=%ED%A0%80')
  t.ok(broken.statusCode < 500, `percent-encoded broken UTF-8 is no 5xx (${broken.statusCode})`)
})

t.test('the error names each unknown property and says what is wrong with the characters', async (t) => {
  const env = await testApp(t)
  const token = await apiToken(env.db, 'alice@acme.test')
  const post = (payload: object, lang = 'en') => env.app.inject({
    method: 'POST', url: '/api/v1/tickets', payload, headers: { authorization: `Bearer ${token}`, 'accept-language': lang }
  })
  const productId = env.ids.product['Casebridge Cloud']
  const unknown = await post({ title: 'x', description: 'y', productId, status: 'closed', assigneeId: 3 })
  t.same(unknown.json(), {
    error: {
      code: 'validation_error', message: 'The field "status" is not accepted here; leave it out.',
      fields: { status: 'The field "status" is not accepted here; leave it out.', assigneeId: 'The field "assigneeId" is not accepted here; leave it out.' }
    }
  })
  const nul = await post({ title: 'x\u0000', description: 'y', productId })
  t.same(nul.json().error.fields, { title: 'The field "title" contains control characters or broken Unicode; only tab, line feed and carriage return are allowed.' })
  const coerced = await post({ title: ['x'], description: 'y', productId })
  t.same(coerced.json().error.fields, { title: 'The field "title" must be a string.' })
  const both = await post({ title: 'x', description: 'y\u0007', productId: '1' })
  t.same(Object.keys(both.json().error.fields).sort(), ['description', 'productId'], 'a character problem and a type problem together')
  const many = await post({ title: Array(100_000).fill('\u0000'), description: 'y', productId })
  t.equal(many.statusCode, 400)
  t.ok(Object.keys(many.json().error.fields).length <= 11, 'a body full of bad strings gets a few messages, not one per string')
})

t.test('tab, line breaks and real emoji are stored exactly as sent, on either database', async (t) => {
  const env = await testApp(t)
  const token = await apiToken(env.db, 'alice@acme.test')
  // (not at either end: the API trims what it stores)
  const text = 'Line one\r\nLine two\n\tindented 😀 café ñ 中文 \u007f\u0085 \u2028 end.'
  const res = await env.app.inject({
    method: 'POST', url: '/api/v1/tickets', headers: { authorization: `Bearer ${token}` },
    payload: { title: 'Emoji 😀 in the title', description: text, productId: env.ids.product['Casebridge Cloud'] }
  })
  t.equal(res.statusCode, 201)
  t.equal(res.json().description, text)
  const row = await env.db.selectFrom('ticket').select(['title', 'description']).where('id', '=', res.json().id).executeTakeFirstOrThrow()
  t.same(row, { title: 'Emoji 😀 in the title', description: text }, 'read back unchanged')
  const note = await env.app.inject({
    method: 'POST', url: `/api/v1/tickets/${res.json().id}/notes`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
    payload: Buffer.from(JSON.stringify({ body: 'Ol\u00e1 \ud83d\ude00' }), 'utf8')
  })
  t.equal(note.statusCode, 201)
  t.equal(note.json().body, 'Olá 😀')
})

t.test('every command refuses the characters for every channel: the portal form and a direct call', async (t) => {
  const env = await testApp(t)
  const before = await counts(env)
  const alice = await loginAs(env.app, 'alice@acme.test')
  const page = await alice.postMultipart('/portal/tickets', {
    product_id: String(env.ids.product['Casebridge Cloud']), priority: 'high', title: 'Export\u0000fails', description: 'Every time.'
  }, [], { csrfFrom: '/portal/tickets/new' })
  t.equal(page.statusCode, 422)
  t.match(page.body, 'Remove the control characters or broken symbols from this text.')
  t.same(await counts(env), before, 'nothing written')

  const deps = { db: env.db, clock: () => new Date(), random: Math.random }
  const who = personWho(await contactActor(env.db, env.ids, 'alice@acme.test'))
  const base = { productId: env.ids.product['Casebridge Cloud'], title: 'Export fails', description: 'Every time.', source: 'portal' }
  for (const [field, value] of [['title', 'a\u0000'], ['description', '\uD800'], ['title', '\u001b']] as const) {
    const outcome = await openTicket(deps, who, { ...base, [field]: value })
    t.match(outcome, { ok: false, refusal: { code: 'invalid', fields: { [field]: { problem: 'invalid_characters' } } } }, `${field}: ${JSON.stringify(value)}`)
  }
  t.same(await counts(env), before, 'nothing written')
})
