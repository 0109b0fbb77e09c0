// Every retried API POST answered once: a retry with the same Idempotency-Key gets the first
// answer again and changes nothing. Run on both databases:
//   npx tap test/api/idempotency.test.ts
//   scripts/pg-test.sh test/api/idempotency.test.ts
import t from 'tap'
import { sql } from 'kysely'
import type { LightMyRequestResponse } from 'fastify'
import { apiToken, testApp, type TestEnv } from '../helpers/app.js'
import { claimIdempotencyKey } from '../../src/db/idempotency.js'
import { ABANDONED_AFTER_MS, IDEMPOTENCY_TTL_MS, requestFingerprint } from '../../src/routes/api/v1/idempotency.js'

const CLOUD_LOGIN = 'Cannot log in to the cloud console' // Alice's, Acme, Product Support (Ana's and Carla's desk)
const COUNTED = ['ticket', 'note', 'ticket_event', 'mail_outbox', 'crm_outbox'] as const

async function counts(env: TestEnv): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const table of COUNTED) {
    out[table] = Number((await env.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  }
  return out
}

/** A test app whose clock tests can move forward. */
async function env(t: Parameters<typeof testApp>[0]) {
  const clock = { offset: 0 }
  const e = await testApp(t, { clock: () => new Date(Date.now() + clock.offset) })
  const ticketId = (await e.db.selectFrom('ticket').select('id').where('title', '=', CLOUD_LOGIN).executeTakeFirstOrThrow()).id
  return { ...e, clock, ticketId }
}

function poster(app: TestEnv['app'], token: string) {
  return (url: string, payload: unknown, key?: string) => app.inject({
    method: 'POST', url: `/api/v1${url}`, payload: payload as object,
    headers: { authorization: `Bearer ${token}`, ...(key === undefined ? {} : { 'idempotency-key': key }) }
  })
}

/** Alice (client) and Ana (staff) posting with their tokens, Alice's ticket, and a colleague to transfer it to. */
async function routeScene(t: Parameters<typeof testApp>[0]) {
  const e = await env(t)
  const alice = poster(e.app, await apiToken(e.db, 'alice@acme.test'))
  const ana = poster(e.app, await apiToken(e.db, 'ana@casebridge.test'))
  const id = e.ticketId
  // the demo assigns by least load, at random among equals: move it to someone else on its desk
  const current = (await e.db.selectFrom('ticket').select('assignee_id').where('id', '=', id).executeTakeFirstOrThrow()).assignee_id
  const target = [e.ids.staff['carla@casebridge.test'], e.ids.staff['diego@casebridge.test']].find((s) => s !== current)!
  return { e, alice, ana, id, target }
}

const replayed = (res: LightMyRequestResponse) => res.headers['idempotent-replayed'] === 'true'

t.test('a create retried with the same key makes one ticket and answers the same', async (t) => {
  const e = await env(t)
  const post = poster(e.app, await apiToken(e.db, 'alice@acme.test'))
  const body = { title: 'Export fails', description: 'Every time.', productId: e.ids.product['Casebridge Cloud'] }
  const before = await counts(e)

  const first = await post('/tickets', body, 'create-1')
  t.equal(first.statusCode, 201)
  t.notOk(replayed(first), 'the first answer is no replay')
  const afterFirst = await counts(e)
  t.equal(afterFirst.ticket, before.ticket + 1)

  // the same body in another key order is the same request
  const retry = await post('/tickets', { productId: body.productId, description: body.description, title: body.title }, 'create-1')
  t.equal(retry.statusCode, 201, 'same status')
  t.equal(retry.body, first.body, 'same body, byte for byte')
  t.equal(retry.headers.location, first.headers.location, 'same location')
  t.match(retry.headers['content-type'], /^application\/json/)
  t.equal(retry.headers['cache-control'], 'no-store')
  t.ok(replayed(retry), 'Idempotent-Replayed: true')
  t.same(await counts(e), afterFirst, 'nothing else written: no ticket, history, mail or CRM row')
  t.ok(replayed(await post('/tickets', body, 'create-1')), 'and again')
  t.same(await counts(e), afterFirst)

  const without1 = await post('/tickets', body)
  const without2 = await post('/tickets', body)
  t.same([without1.statusCode, without2.statusCode], [201, 201], 'without the header nothing changes')
  t.not(without1.json().id, without2.json().id, 'two requests, two tickets')
  t.notOk(replayed(without2))
  t.equal((await counts(e)).ticket, afterFirst.ticket + 2)
})

t.test('concurrent duplicates make one ticket', async (t) => {
  const e = await env(t)
  const post = poster(e.app, await apiToken(e.db, 'alice@acme.test'))
  const body = { title: 'Five clicks', description: 'Impatient client.', productId: e.ids.product['Casebridge Cloud'] }
  const before = await counts(e)
  const answers = await Promise.all(Array.from({ length: 5 }, () => post('/tickets', body, 'burst')))
  const firsts = answers.filter((r) => r.statusCode === 201 && !replayed(r))
  t.equal(firsts.length, 1, 'one request ran')
  for (const r of answers.filter((a) => a !== firsts[0])) {
    if (r.statusCode === 409) t.equal(r.json().error.code, 'idempotency_key_in_flight', 'a twin while the first runs: 409')
    else t.ok(r.statusCode === 201 && replayed(r) && r.body === firsts[0].body, 'a twin after it: the replay')
  }
  t.equal((await counts(e)).ticket, before.ticket + 1, 'one ticket')
  const after = await post('/tickets', body, 'burst')
  t.ok(replayed(after) && after.body === firsts[0].body, 'a retry afterwards gets the first answer')
})

t.test('the same key for another request: 422; another token: its own key', async (t) => {
  const e = await env(t)
  const alice = poster(e.app, await apiToken(e.db, 'alice@acme.test'))
  const body = { title: 'Export fails', description: 'Every time.', productId: e.ids.product['Casebridge Cloud'] }
  t.equal((await alice('/tickets', body, 'k1')).statusCode, 201)
  const before = await counts(e)

  const otherBody = await alice('/tickets', { ...body, title: 'Export still fails' }, 'k1')
  t.equal(otherBody.statusCode, 422)
  t.same(otherBody.json(), { error: { code: 'idempotency_key_reused', message: 'This Idempotency-Key was already used for another request; send a new key with a new request.' } })
  const otherPath = await alice(`/tickets/${e.ticketId}/notes`, body, 'k1')
  t.equal(otherPath.json().error.code, 'idempotency_key_reused', 'another path')
  t.same(await counts(e), before, 'neither ran')

  const bob = poster(e.app, await apiToken(e.db, 'bob@acme.test'))
  const bobs = await bob('/tickets', body, 'k1')
  t.equal(bobs.statusCode, 201, 'another person\'s token: independent')
  t.notOk(replayed(bobs))
  const alice2 = poster(e.app, await apiToken(e.db, 'alice@acme.test'))
  const second = await alice2('/tickets', body, 'k1')
  t.equal(second.statusCode, 201, 'another token of the same person: independent too')
  t.notOk(replayed(second))
  t.equal((await counts(e)).ticket, before.ticket + 2)
})

t.test('each POST route: notes, transitions, transfer', async (t) => {
  const { e, alice, ana, id, target } = await routeScene(t)
  const calls: [string, typeof alice, string, object][] = [
    ['a reply', alice, `/tickets/${id}/notes`, { body: 'Firefox 140.' }],
    ['an internal note', ana, `/tickets/${id}/notes`, { body: 'Cookie domain.', visibility: 'internal' }],
    ['a transition', ana, `/tickets/${id}/transitions`, { action: 'pick_up' }],
    ['a transfer', ana, `/tickets/${id}/transfer`, { assigneeId: target, note: 'Carla knows the login flow.' }]
  ]
  for (const [name, post, url, body] of calls) {
    const first = await post(url, body, `key-${name}`)
    t.ok(first.statusCode === 200 || first.statusCode === 201, `${name}: ${first.statusCode} ${first.statusCode >= 400 ? first.body : ''}`)
    const written = await counts(e)
    const retry = await post(url, body, `key-${name}`)
    t.equal(retry.statusCode, first.statusCode, `${name}: same status`)
    t.equal(retry.body, first.body, `${name}: same body`)
    t.ok(replayed(retry), `${name}: replayed`)
    t.same(await counts(e), written, `${name}: nothing written again`)
  }
  const notes = await e.db.selectFrom('note').select('body').where('ticket_id', '=', id).where('body', 'in', ['Firefox 140.', 'Cookie domain.', 'Carla knows the login flow.']).execute()
  t.equal(notes.length, 3, 'each note once')
  const pickUps = () => e.db.selectFrom('ticket_event').select('id').where('ticket_id', '=', id).where('action', '=', 'pick_up').execute()
  const picked = (await pickUps()).length
  t.ok(picked > 0, 'picked up')
  const again = await ana(`/tickets/${id}/transitions`, { action: 'pick_up' }, 'key-a transition')
  t.equal(again.statusCode, 200, 'a retry of a transition that would now be refused still gets the first answer')
  t.equal((await pickUps()).length, picked, 'and is not picked up twice')
  t.equal((await ana(`/tickets/${id}/transitions`, { action: 'pick_up' })).statusCode, 409, 'without the key it is refused: the ticket moved on')
})

t.test('a request that committed but died before its answer was recorded: the retry is answered from what it changed', async (t) => {
  const { e, alice, ana, id, target } = await routeScene(t)
  const calls: [string, typeof alice, string, object][] = [
    ['a create', alice, '/tickets', { title: 'Printer offline', description: 'Since this morning.', productId: e.ids.product['Casebridge Cloud'] }],
    ['a reply', alice, `/tickets/${id}/notes`, { body: 'Still broken.' }],
    ['a transition', ana, `/tickets/${id}/transitions`, { action: 'pick_up' }],
    ['a transfer', ana, `/tickets/${id}/transfer`, { assigneeId: target, note: 'Carla takes it.' }]
  ]
  for (const [name, post, url, body] of calls) {
    const key = `crash-${name}`
    const first = await post(url, body, key)
    t.ok(first.statusCode === 200 || first.statusCode === 201, `${name}: ${first.statusCode} ${first.statusCode >= 400 ? first.body : ''}`)
    const row = await e.db.selectFrom('api_idempotency').select(['id', 'outcome']).where('idempotency_key', '=', key).executeTakeFirstOrThrow()
    t.ok(row.outcome, `${name}: the command's result was kept with the key`)
    // the process died between the commit and recording the answer
    await e.db.updateTable('api_idempotency').set({ status: 'committed', response_status: null, response_headers: null, response_body: null, completed_at: null })
      .where('id', '=', row.id).execute()
    const written = await counts(e)
    const retry = await post(url, body, key)
    t.equal(retry.statusCode, first.statusCode, `${name}: same status`)
    t.same(retry.json(), first.json(), `${name}: the same answer, rebuilt`)
    t.equal(retry.headers.location, first.headers.location, `${name}: same location`)
    t.ok(replayed(retry), `${name}: marked as replayed`)
    t.same(await counts(e), written, `${name}: nothing written again`)
    const third = await post(url, body, key)
    t.ok(replayed(third) && third.body === retry.body, `${name}: the rebuilt answer is recorded and replayed from then on`)
    t.equal((await e.db.selectFrom('api_idempotency').select('status').where('id', '=', row.id).executeTakeFirstOrThrow()).status, 'done')
  }
  // a refused command keeps no outcome: its answer is the refusal
  const refused = await ana(`/tickets/${id}/transitions`, { action: 'reopen' }, 'refused-transition')
  t.equal(refused.statusCode, 409)
  const refusedRow = await e.db.selectFrom('api_idempotency').select(['status', 'outcome']).where('idempotency_key', '=', 'refused-transition').executeTakeFirstOrThrow()
  t.same(refusedRow, { status: 'done', outcome: null })
})

t.test('a 4xx first answer is replayed too; a 5xx frees the key', async (t) => {
  const e = await env(t)
  const alice = poster(e.app, await apiToken(e.db, 'alice@acme.test'))
  const productId = e.ids.product['Casebridge Cloud']

  const badBody = { description: 'no title', productId }
  const invalid = await alice('/tickets', badBody, 'bad-1')
  t.equal(invalid.statusCode, 400)
  const invalidAgain = await alice('/tickets', badBody, 'bad-1')
  t.equal(invalidAgain.statusCode, 400)
  t.equal(invalidAgain.body, invalid.body)
  t.ok(replayed(invalidAgain), 'a schema refusal is replayed')

  const refused = await alice('/tickets', { title: 'x', description: 'y' }, 'bad-2')
  t.equal(refused.statusCode, 422, 'a command\'s refusal')
  const refusedAgain = await alice('/tickets', { title: 'x', description: 'y' }, 'bad-2')
  t.ok(refusedAgain.statusCode === 422 && replayed(refusedAgain) && refusedAgain.body === refused.body, 'is replayed')

  const missing = await alice('/tickets/999999/notes', { body: 'hello?' }, 'bad-3')
  t.equal(missing.statusCode, 404)
  t.ok(replayed(await alice('/tickets/999999/notes', { body: 'hello?' }, 'bad-3')), 'a 404 is replayed')

  const before = await counts(e)
  await sql`ALTER TABLE note RENAME TO note_elsewhere`.execute(e.db)
  const failed = await alice(`/tickets/${e.ticketId}/notes`, { body: 'Any news?' }, 'fails-once')
  await sql`ALTER TABLE note_elsewhere RENAME TO note`.execute(e.db)
  t.equal(failed.statusCode, 500)
  const retried = await alice(`/tickets/${e.ticketId}/notes`, { body: 'Any news?' }, 'fails-once')
  t.equal(retried.statusCode, 201, 'after a 5xx the retry runs')
  t.notOk(replayed(retried))
  t.equal((await counts(e)).note, before.note + 1, 'once')
})

t.test('a retry while the first still runs: 409; a claim left by a dead request is freed; keys expire after 24 hours', async (t) => {
  const e = await env(t)
  const token = await apiToken(e.db, 'alice@acme.test')
  const post = poster(e.app, token)
  const tokenId = (await e.db.selectFrom('api_token').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow()).id
  const url = `/api/v1/tickets/${e.ticketId}/notes`
  const body = { body: 'Any news?' }
  // a request that claimed the key and is still running (or whose process died)
  const now = new Date()
  const claim = await claimIdempotencyKey(e.db, { tokenId, key: 'slow', fingerprint: requestFingerprint('POST', url, body), now: now.toISOString() }, {
    expiredBefore: new Date(0).toISOString(), abandonedBefore: new Date(0).toISOString()
  })
  t.ok(claim.claimed)
  const before = await counts(e)
  const busy = await post(`/tickets/${e.ticketId}/notes`, body, 'slow')
  t.equal(busy.statusCode, 409)
  t.same(busy.json(), { error: { code: 'idempotency_key_in_flight', message: 'A request with this Idempotency-Key is still being processed; retry in a moment.' } })
  t.equal((await post(`/tickets/${e.ticketId}/notes`, { body: 'Other' }, 'slow')).statusCode, 422, 'another body is still another request')
  t.same(await counts(e), before, 'nothing ran')

  e.clock.offset = ABANDONED_AFTER_MS + 1000
  const taken = await post(`/tickets/${e.ticketId}/notes`, body, 'slow')
  t.equal(taken.statusCode, 201, 'the claim of a request that died is taken over')
  t.notOk(replayed(taken))

  const first = await post(`/tickets/${e.ticketId}/notes`, { body: 'Day one' }, 'daily')
  e.clock.offset += IDEMPOTENCY_TTL_MS - 60_000
  t.ok(replayed(await post(`/tickets/${e.ticketId}/notes`, { body: 'Day one' }, 'daily')), 'replayed within 24 hours')
  e.clock.offset += 120_000
  const later = await post(`/tickets/${e.ticketId}/notes`, { body: 'Day two' }, 'daily')
  t.equal(later.statusCode, 201, 'after 24 hours the key is free for a new request')
  t.notOk(replayed(later))
  t.not(later.json().id, first.json().id)
  const rows = await e.db.selectFrom('api_idempotency').select('idempotency_key').where('token_id', '=', tokenId).execute()
  t.same(rows.map((r) => r.idempotency_key), ['daily'], 'one row for the key; the expired one was deleted along the way')
})

t.test('keys: at most 255 printable ASCII characters; only POSTs', async (t) => {
  const e = await env(t)
  const token = await apiToken(e.db, 'alice@acme.test')
  const post = poster(e.app, token)
  const body = { body: 'Firefox 140.' }
  const before = await counts(e)
  for (const [name, key] of [['256 characters', 'k'.repeat(256)], ['a non-ASCII letter', 'cl\u00e9'], ['a tab', 'a\tb'], ['DEL', 'a\u007fb'], ['empty', '']] as const) {
    const res = await post(`/tickets/${e.ticketId}/notes`, body, key)
    t.equal(res.statusCode, 400, name)
    t.same(res.json().error, {
      code: 'validation_error', message: 'The header "Idempotency-Key" must be 1 to 255 printable ASCII characters.',
      fields: { 'Idempotency-Key': 'The header "Idempotency-Key" must be 1 to 255 printable ASCII characters.' }
    }, `${name}: named`)
  }
  t.same(await counts(e), before, 'nothing ran')
  t.equal((await post(`/tickets/${e.ticketId}/notes`, body, `${'k'.repeat(250)} ~!{}`)).statusCode, 201, '255 printable characters are fine')
  const get = await e.app.inject({ url: `/api/v1/tickets/${e.ticketId}`, headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'k'.repeat(300) } })
  t.equal(get.statusCode, 200, 'a GET ignores the header')
  const unauthorized = await e.app.inject({ method: 'POST', url: '/api/v1/tickets', payload: {}, headers: { 'idempotency-key': 'x' } })
  t.equal(unauthorized.statusCode, 401, 'the token comes first')
})
