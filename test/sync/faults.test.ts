import t, { type Test } from 'tap'
import { syncEnv, casesByTicket, assertExactlyOnce, ticketsWithNotes } from './helpers.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { loginAs } from '../helpers/app.js'
import { getSyncState } from '../../src/db/sync-state.js'
import { acquireLease } from '../../src/work/lease.js'
import { createSyncContext } from '../../sync/crm/context.js'
import { drainOutbox } from '../../sync/outbox.js'
import { addTicketNote, performerOf } from '../helpers/commands.js'
import { ROOT } from '../helpers/root.js'

t.test('CRM down while 100 tickets are created, then back: exactly one Case per ticket and one comment per note', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  await env.crm.emu.faults.down('refuse')
  await ticketsWithNotes(env, 100)
  const first = await env.drain()
  t.ok(first.pausedUntil, 'the drainer pauses when the CRM cannot be reached')
  t.equal(first.done, 0)
  t.match(await getSyncState(env.db, 'crm.last_error'), /ECONNREFUSED/, 'and records why')
  const second = await env.drain()
  t.equal(second.skipped, 'paused', 'no call while paused')
  const parked = await env.db.selectFrom('crm_outbox').select('id').where('status', '=', 'dead').execute()
  t.same(parked, [], 'an outage parks nothing')
  const tries = await env.db.selectFrom('crm_outbox').select('attempts').where('status', '=', 'pending').execute()
  t.ok(tries.every((r) => r.attempts === 0), 'and spends no tries (nothing reached the CRM)')

  // a few more outage rounds, some answering 503, then the CRM comes back
  await env.crm.emu.faults.up()
  await env.crm.emu.faults.down('503')
  env.now.advance(60_000)
  const third = await env.drain()
  t.ok(third.pausedUntil, '503 pauses too')
  await env.crm.emu.faults.up()
  await env.drainAll({ skipWaits: true })
  await assertExactlyOnce(t, env)
})

t.test('REQUEST_LIMIT_EXCEEDED: every call stops until a later time, then everything goes, nothing lost', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  await ticketsWithNotes(env, 10)
  env.crm.emu.faults.exhaustApiLimit()
  const firstAt = env.now.ms()
  const report = await env.drain()
  t.ok(report.pausedUntil, 'paused')
  t.ok(Date.parse(report.pausedUntil!) >= env.now.ms() + 4 * 60_000, 'for minutes, not seconds')
  t.match(await getSyncState(env.db, 'crm.pause_reason'), /REQUEST_LIMIT_EXCEEDED/, 'the pause and its reason are recorded')
  const calls = env.adapter.calls
  t.equal((await env.drain()).skipped, 'paused')
  t.equal((await env.poll()).skipped, 'paused', 'the inbound poller honours the pause too')
  t.equal(env.adapter.calls, calls, 'no call was made while paused')
  t.ok((await env.db.selectFrom('crm_outbox').select('attempts').where('status', '=', 'pending').execute()).every((r) => r.attempts === 0), 'the refused call spent no tries')

  // still over the limit when the pause ends: a longer pause
  env.now.advance(Date.parse(report.pausedUntil!) - env.now.ms() + 1)
  const secondAt = env.now.ms()
  const again = await env.drain()
  const firstPause = Date.parse(report.pausedUntil!) - firstAt
  const secondPause = Date.parse(again.pausedUntil!) - secondAt
  t.ok(secondPause > firstPause * 1.5, `the second pause is longer (${Math.round(firstPause / 60_000)} then ${Math.round(secondPause / 60_000)} minutes)`)

  env.crm.emu.faults.resetUsage()
  await env.drainAll({ skipWaits: true })
  await assertExactlyOnce(t, env)
  t.match(JSON.parse((await getSyncState(env.db, 'crm.api_usage'))!), { max: 100000 }, 'API usage from Sforce-Limit-Info is recorded')
})

t.test('a record the CRM cannot take right now (UNABLE_TO_LOCK_ROW) retries with backoff; the rest of the batch goes', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const made = await ticketsWithNotes(env, 5)
  env.crm.emu.faults.lockNextWrites(1)
  const report = await env.drain()
  t.equal(report.retrying, 1, 'one record retries')
  t.equal(report.dead, 0)
  // Which record the CRM refused (a Case or a comment of the five tickets) depends on the order its writes arrive in.
  const row = await env.db.selectFrom('crm_outbox').selectAll().where('status', '=', 'pending').where('ticket_id', 'in', made.map((m) => m.id)).where('last_error', 'is not', null).executeTakeFirstOrThrow()
  t.match(row.last_error, /UNABLE_TO_LOCK_ROW/)
  const wait = Date.parse(row.next_attempt_at) - env.now.ms()
  t.ok(wait > 10_000 && wait <= 30_000, `backoff with jitter (${wait} ms)`)
  await env.drainAll({ skipWaits: true })
  await assertExactlyOnce(t, env)
})

t.test('worker killed after the CRM call, before recording it; restarted: no duplicates', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const made = await ticketsWithNotes(env, 6)
  const crash = (what: string) => async (w: 'cases' | 'comments') => { if (w === what) throw new Error('killed') }

  await t.rejects(env.drain({ afterCall: crash('cases') }), /killed/, 'dies right after the Case upsert')
  t.equal((await env.db.selectFrom('ticket').select('crm_case_id').where('id', '=', made[0].id).executeTakeFirstOrThrow()).crm_case_id, null, 'the ticket never learnt its Case id')
  await t.rejects(env.drain({ afterCall: crash('comments') }), /killed/, 'upserts again (idempotent), then dies right after creating the comments')

  // the dead worker's lease is still held: a restarted worker waits for it to expire
  await acquireLease(env.db, 'crm-outbox', 'test-worker', new Date(env.now.ms()), 10 * 60_000)
  const restarted = createSyncContext({ db: env.db, crm: env.adapter, config: env.config, log: env.ctx.log, clock: env.ctx.clock, random: () => 0.5, holder: 'restarted-worker' })
  t.equal((await drainOutbox(restarted)).skipped, 'leased', 'not while the old lease lasts')
  env.now.advance(10 * 60_000 + 1)
  const report = await drainOutbox(restarted)
  // the crashed call carried one comment per Case (the first of each); the second ones had not gone yet
  t.equal(report.commentsRecovered, made.length, 'the comments already created are found and linked, not sent again')
  t.equal(report.commentsCreated, 2, 'the ones never sent are sent now')
  await assertExactlyOnce(t, env)
})

t.test('one invalid record in a batch: that one is parked with its error (shown on the admin page), the others sync', async (t) => {
  const env = await syncEnv(t)
  const { db, ids } = env
  await env.drainAll()
  // Initech's CRM id points at an Account that does not exist
  await db.updateTable('account').set({ crm_id: '001Em0000009999IAA' }).where('id', '=', ids.account['Initech Ltd']).execute()
  const good = [await makeTicket(db, ids, { title: 'Good one' }), await makeTicket(db, ids, { title: 'Good two' })]
  const bad = await makeTicket(db, ids, { title: 'Bad one', contact: 'ian@initech.test', account: 'Initech Ltd' })
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  await addTicketNote({ db, clock: () => new Date() }, performerOf(ana), bad.id, { mode: 'reply', body: 'A reply waiting for its Case' })
  const report = await env.drain()
  t.equal(report.dead, 2, 'the bad Case and the comment that needed it')
  const cases = await casesByTicket(await env.reader())
  t.ok(good.every((g) => cases.get(String(g.id))?.length === 1), 'the others went through')
  t.notOk(cases.has(String(bad.id)))
  const dead = await db.selectFrom('crm_outbox').selectAll().where('status', '=', 'dead').orderBy('id').execute()
  t.match(dead[0], { kind: 'case', ticket_id: bad.id, last_error: /INVALID_CROSS_REFERENCE_KEY/ })
  t.match(dead[1], { kind: 'comment', last_error: /The Case could not be written/ })

  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const page = await admin.get('/admin/sync')
  t.equal(page.statusCode, 200)
  t.match(page.body, /INVALID_CROSS_REFERENCE_KEY/, 'the admin page shows the error')
  t.match(page.body, new RegExp(`#${bad.number}`), 'and the ticket')
  const desk = await admin.get(`/desk/tickets/${bad.number}`)
  t.equal(desk.statusCode, 200)

  // fixed (the right Account id), then retried from the admin page
  const initech = await (await env.reader()).query<{ Id: string }>("SELECT Id FROM Account WHERE Name = 'Initech Ltd'")
  await db.updateTable('account').set({ crm_id: initech.records[0].Id }).where('id', '=', ids.account['Initech Ltd']).execute()
  const res = await admin.post(`/admin/sync/outbox/${dead[0].id}/retry`, {}, { csrfFrom: '/admin/sync' })
  t.equal(res.statusCode, 302)
  t.match((await admin.get('/admin/sync')).body, /will be sent again/)
  await env.drainAll()
  await assertExactlyOnce(t, env)
})

t.test('an expired access token is refreshed transparently', async (t) => {
  const env = await syncEnv(t)
  await env.drainAll()
  const token = env.adapter.connection.accessToken
  env.crm.emu.faults.expireTokens()
  await makeTicket(env.db, env.ids, { title: 'After expiry' })
  const report = await env.drain()
  t.equal(report.pausedUntil, null, 'no pause')
  t.equal(report.casesCreated, 1, 'the Case was written')
  t.not(env.adapter.connection.accessToken, token, 'with a new token')
  t.equal(await getSyncState(env.db, 'crm.last_error'), null, 'and no error recorded')
})

t.test('worker process SIGKILLed right after the CRM created the comments; a new worker takes over: no duplicates', async (t) => {
  const { spawn } = await import('node:child_process')
  const env = await syncEnv(t)
  await env.drainAll()
  await ticketsWithNotes(env, 4)
  const root = ROOT
  // node itself with tsx's loader, not the tsx wrapper: the wrapper runs the script in a second
  // process, which a SIGKILL to the wrapper would leave running
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sync/fixtures/drain-child.ts'], {
    cwd: root, env: { ...process.env, DATA_DIR: env.dir, DATABASE_URL: env.config.databaseUrl, LOG_LEVEL: 'silent', CRM_URL: env.crm.url, CRASH_AFTER: 'comments' }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
  child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c })
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const deadline = Date.now() + 60_000
  while (!out.includes('CALLED comments')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`child did not reach the comments call:\n${out}\n${err}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  t.equal(await exited, 'SIGKILL', `the worker was killed mid-batch (exit code ${child.exitCode})`)
  const unlinked = await env.db.selectFrom('note').select('id').where('crm_comment_id', 'is', null).execute()
  t.ok(unlinked.length > 0, 'its comments were created in the CRM but never recorded')

  const next = createSyncContext({ db: env.db, crm: env.adapter, config: env.config, log: env.ctx.log, clock: env.ctx.clock, random: () => 0.5, holder: 'next-worker' })
  t.equal((await drainOutbox(next)).skipped, 'leased', 'the dead worker\'s lease holds until it expires')
  env.now.advance(10 * 60_000 + 1)
  const report = await drainOutbox(next)
  t.ok(report.commentsRecovered > 0, `found ${report.commentsRecovered} comments already in the CRM`)
  await assertExactlyOnce(t, env)
})

t.test('a write whose answer was lost never comes back as a CRM change', async (t) => {
  // the CRM's clock runs a minute ahead, so its LastModifiedDate beats the portal's next change
  const { testClock } = await import('../emulator/helpers.js')
  const { updateTicketFields } = await import('../helpers/commands.js')
  const crmClock = testClock(new Date(Date.now() + 60_000).toISOString())
  const env = await syncEnv(t, { emulator: { clock: crmClock.clock } })
  const { db, ids } = env
  await env.drainAll()
  await env.poll()
  const ana = await staffActor(db, ids, 'ana@casebridge.test')
  const ticket = await db.selectFrom('ticket').select(['id', 'crm_case_id']).where('title', '=', 'Printer on 3rd floor jams').executeTakeFirstOrThrow()
  const as = { actor: { type: 'staff' as const, id: ana.id, name: ana.name } }
  await updateTicketFields(db, ticket.id, { priority: 'low' }, { ...as, now: new Date().toISOString() })
  await t.rejects(env.drain({ afterCall: async (w) => { if (w === 'cases') throw new Error('killed') } }), /killed/)
  await updateTicketFields(db, ticket.id, { priority: 'high' }, { ...as, now: new Date().toISOString() })
  crmClock.advance(1000)
  const report = await env.poll()
  t.equal(report.applied, 0, 'the Case value we sent (Low) is not taken for a CRM change')
  t.equal((await db.selectFrom('ticket').select('priority').where('id', '=', ticket.id).executeTakeFirstOrThrow()).priority, 'high')
  env.now.advance(10 * 60_000 + 1)
  await env.drainAll({ skipWaits: true })
  crmClock.advance(1000)
  t.equal((await env.poll()).applied, 0)
  t.equal((await casesByTicket(await env.reader())).get(String(ticket.id))![0].Priority, 'High', 'the Case ends with the portal\'s latest value')
  t.equal((await db.selectFrom('ticket').select('priority').where('id', '=', ticket.id).executeTakeFirstOrThrow()).priority, 'high')
})
