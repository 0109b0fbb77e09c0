import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { testApp } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { autoCloseJob, slaEscalationJob, runScheduledJobs } from '../../sync/jobs/index.js'
import { saveSettings } from '../../src/db/settings.js'
import { listHistory } from '../../src/db/ticket.js'
import { listMailForTicket } from '../../src/db/mail-outbox.js'
import { acquireLease } from '../../src/work/lease.js'
import { performerOf, transition } from '../helpers/commands.js'

const run = promisify(execFile)
const T0 = new Date('2026-03-02T09:00:00.000Z')
const at = (hours: number) => new Date(T0.getTime() + hours * 3600_000)

async function resolvedTicket(env: Awaited<ReturnType<typeof testApp>>, resolvedAt: Date) {
  const ticket = await makeTicket(env.db, env.ids, { now: T0 })
  const ana = performerOf(await staffActor(env.db, env.ids, 'ana@casebridge.test'))
  await transition(env.db, ana, ticket.id, { action: 'resolve', resolution: 'Fixed' }, resolvedAt)
  return ticket
}

t.test('auto-closure after N days in Waiting for Closure', async (t) => {
  const env = await testApp(t)
  await saveSettings(env.db, { autoCloseDays: 3 })
  const old = await resolvedTicket(env, at(1))
  const recent = await resolvedTicket(env, at(48))
  t.equal(await autoCloseJob(env.db, at(1 + 72 - 1)), 0, 'nothing before 3 days')
  t.equal(await autoCloseJob(env.db, at(1 + 72)), 1, 'the old one closes at 3 days')
  const rows = await env.db.selectFrom('ticket').select(['id', 'state', 'status']).where('id', 'in', [old.id, recent.id]).orderBy('id').execute()
  t.same(rows.map((r) => r.status), ['completed', 'waiting_for_closure'])
  const history = await listHistory(env.db, old.id)
  t.ok(history.some((e) => e.action === 'auto_close' && e.actor_type === 'system' && e.to_value === 'closed'), 'history row by the system')
  t.ok((await listMailForTicket(env.db, old.id)).some((m) => m.template === 'ticket.auto_close' && m.recipient === 'bob@acme.test'), 'requester told')
  t.equal(await autoCloseJob(env.db, at(200)), 1, 'later run closes the other, never the first again')
})

t.test('SLA escalation: at risk, then breached, each reported once to the desk manager', async (t) => {
  const env = await testApp(t)
  // critical: 4 h resolution → at risk from 3 h, breached after 4 h
  const ticket = await makeTicket(env.db, env.ids, { now: T0, priority: 'critical' })
  const ana = performerOf(await staffActor(env.db, env.ids, 'ana@casebridge.test'))
  await transition(env.db, ana, ticket.id, { action: 'pick_up' }, at(0.1))
  await env.db.updateTable('ticket').set({ first_response_at: at(0.2).toISOString() }).where('id', '=', ticket.id).execute()
  t.equal(await slaEscalationJob(env.db, at(2)), 0, 'on track: nothing')
  t.equal(await slaEscalationJob(env.db, at(3.1)), 1, 'at risk: escalated')
  t.equal(await slaEscalationJob(env.db, at(3.5)), 0, 'not twice for the same level')
  t.equal(await slaEscalationJob(env.db, at(4.5)), 1, 'breached: escalated again')
  t.equal(await slaEscalationJob(env.db, at(9)), 0)
  const events = (await listHistory(env.db, ticket.id)).filter((e) => e.action === 'sla_escalation')
  t.same(events.map((e) => e.to_value), ['at_risk', 'breached'])
  const mails = (await listMailForTicket(env.db, ticket.id)).filter((m) => m.template === 'ticket.sla_escalation')
  t.equal(mails.length, 2)
  t.ok(mails.every((m) => m.recipient === 'ana@casebridge.test'), 'Service Desk manager (Ana) is told')
})

t.test('an on-hold ticket is not escalated while paused', async (t) => {
  const env = await testApp(t)
  const ticket = await makeTicket(env.db, env.ids, { now: T0, priority: 'critical' })
  const ana = performerOf(await staffActor(env.db, env.ids, 'ana@casebridge.test'))
  await transition(env.db, ana, ticket.id, { action: 'pick_up' }, at(0.1))
  await transition(env.db, ana, ticket.id, { action: 'hold', reason: 'vendor' }, at(1))
  t.equal(await slaEscalationJob(env.db, at(10)), 0)
})

t.test('leases: one holder at a time, taken over after expiry', async (t) => {
  const env = await testApp(t, { demo: false })
  t.ok(await acquireLease(env.db, 'x', 'a', T0, 60_000))
  t.notOk(await acquireLease(env.db, 'x', 'b', at(0.001), 60_000), 'b waits while a holds it')
  t.ok(await acquireLease(env.db, 'x', 'a', at(0.001), 60_000), 'a renews')
  t.ok(await acquireLease(env.db, 'x', 'b', at(1), 60_000), 'b takes over after expiry')
})

t.test('two worker processes at once close each ticket once', async (t) => {
  const env = await testApp(t)
  await saveSettings(env.db, { autoCloseDays: 1 })
  const tickets = []
  for (let i = 0; i < 20; i++) tickets.push(await resolvedTicket(env, at(1)))
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx')
  const script = join(process.cwd(), 'test/fixtures/run-jobs.ts')
  const now = at(30).toISOString()
  for (const mode of ['no-lease', 'lease']) {
    if (mode === 'lease') for (let i = 0; i < 20; i++) tickets.push(await resolvedTicket(env, at(26)))
    const when = mode === 'lease' ? at(60).toISOString() : now
    const outputs = await Promise.all(['w1', 'w2'].map((h) => run(tsx, [script, env.config.databaseUrl, h, when, mode])))
    const results = outputs.map((o) => JSON.parse(o.stdout.trim()))
    t.ok(results.length === 2, `${mode}: both workers ran`)
  }
  for (const ticket of tickets) {
    const closes = (await listHistory(env.db, ticket.id)).filter((e) => e.action === 'auto_close' && e.field === 'status')
    if (closes.length !== 1) t.fail(`ticket ${ticket.id} closed ${closes.length} times`)
  }
  const states = await env.db.selectFrom('ticket').select('status').where('id', 'in', tickets.map((x) => x.id)).execute()
  t.ok(states.every((s) => s.status === 'completed'), 'all 40 closed exactly once')
  const mails = await env.db.selectFrom('mail_outbox').select('ticket_id').where('template', '=', 'ticket.auto_close').execute()
  t.equal(mails.length, 40, 'one notification per ticket')
  t.equal(await runScheduledJobs(env.db, at(100), 'w3').then((r) => r?.autoClosed), 0, 'nothing left to close')
})

t.test('the jobs delete sessions unused for 30 days and passed login throttles, and keep the rest', async (t) => {
  const env = await testApp(t)
  const now = at(24 * 60)
  const days = (n: number) => new Date(now.getTime() - n * 24 * 3600_000).toISOString()
  const ana = env.ids.staff['ana@casebridge.test']
  const session = (name: string, lastSeen: string, ended: string | null) => env.db.insertInto('web_session').values({
    token_hash: name, staff_id: ana, contact_id: null, created_at: days(60), last_seen_at: lastSeen, ended_at: ended,
    ended_reason: ended ? 'logout' : null, user_agent: null, ip: null, second_factor_pending: 0
  }).execute()
  await session('ended-long-ago', days(40), days(40))
  await session('idle-31-days', days(31), null)
  await session('ended-yesterday', days(1), days(1))
  await session('in-use', days(0), null)
  await env.db.insertInto('throttle').values([
    { key: 'login:ip:198.51.100.7', hits: 3, resets_at: days(1) },
    { key: 'login:ip:198.51.100.8', hits: 3, resets_at: new Date(now.getTime() + 600_000).toISOString() }
  ]).execute()
  const report = await runScheduledJobs(env.db, now, 'tidy')
  t.equal(report?.tidied, 3, 'two sessions and one throttle window')
  t.same((await env.db.selectFrom('web_session').select('token_hash').orderBy('token_hash').execute()).map((r) => r.token_hash), ['ended-yesterday', 'in-use'])
  t.same((await env.db.selectFrom('throttle').select('key').execute()).map((r) => r.key), ['login:ip:198.51.100.8'], 'the live window stays')
  t.equal((await runScheduledJobs(env.db, now, 'tidy'))?.tidied, 0, 'nothing more the next time')
})
