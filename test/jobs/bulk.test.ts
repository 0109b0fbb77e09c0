// Bulk actions the worker runs (sync/jobs/bulk.ts): a thousand tickets, each through its own
// command; a worker that dies half-way leaves the rest to the next once its lease lapses, and no
// ticket gets the action twice; a worker that stops puts the job back; the staff member's access
// as it is when the worker runs decides. Both databases:
//   npx tap test/jobs/bulk.test.ts
import t from 'tap'
import { testApp, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { personWho } from '../../src/commands/kernel.js'
import { queueBulkJob, refusalFromStore, BULK_JOBS_PER_PERSON } from '../../src/commands/bulk.js'
import { bulkProgress, getBulkJob } from '../../src/db/bulk-jobs.js'
import { runBulkJobs } from '../../sync/jobs/bulk.js'
import type { BulkParams } from '../../src/domain/bulk.js'

const params = (over: Partial<BulkParams> = {}): BulkParams => ({ assigneeId: null, deskId: null, priority: '', closureCategory: '', note: '', ...over })

async function tickets(env: TestEnv, n: number) {
  const out = []
  for (let i = 0; i < n; i++) {
    const tk = await makeTicket(env.db, env.ids, { title: `Bulk ${i}` })
    out.push({ id: tk.id, number: tk.number, title: `Bulk ${i}` })
  }
  return out
}

t.test('a thousand tickets: a worker dies half-way, the next finishes, each ticket changed once', async (t) => {
  const env = await testApp(t)
  const ana = await staffActor(env.db, env.ids, 'ana@casebridge.test')
  const targets = await tickets(env, 1_000)
  const deps = { db: env.db, clock: () => new Date(), random: Math.random }
  const queued = await queueBulkJob(deps, personWho(ana), { action: 'priority', params: params({ priority: 'high' }), targets })
  t.ok(queued.ok)
  const jobId = queued.ok ? queued.value.jobId : 0

  // The first worker dies after 400 tickets (its lease is left as it was).
  const crash = new Error('killed')
  await t.rejects(runBulkJobs({ db: env.db, holder: 'first', leaseMs: 60_000, onItem: (n) => { if (n === 400) throw crash } }), crash)
  t.same(await bulkProgress(env.db, jobId), { done: 400, unchanged: 0, refused: 0, pending: 600 }, 'the 400 it finished are recorded with their change')
  t.equal(await runBulkJobs({ db: env.db, holder: 'second', leaseMs: 60_000 }), 0, 'another worker leaves it while the lease holds')

  const later = () => new Date(Date.now() + 61_000)
  const started = Date.now()
  t.equal(await runBulkJobs({ db: env.db, holder: 'second', leaseMs: 60_000, clock: later }), 600, 'once the lease lapsed, the next worker does the 600 left')
  t.comment(`600 tickets in ${Date.now() - started} ms`)
  t.same(await bulkProgress(env.db, jobId), { done: 1_000, unchanged: 0, refused: 0, pending: 0 })
  const job = await getBulkJob(env.db, jobId)
  t.equal(job?.status, 'done')
  t.equal(job?.attempts, 2)
  const high = await env.db.selectFrom('ticket').select((eb) => eb.fn.countAll<number>().as('n')).where('priority', '=', 'high').where('id', 'in', targets.map((x) => x.id)).executeTakeFirstOrThrow()
  t.equal(Number(high.n), 1_000, 'every ticket is high')
  const changes = await env.db.selectFrom('ticket_event').select(['ticket_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('field', '=', 'priority').groupBy('ticket_id').having((eb) => eb.fn.countAll(), '>', 1).execute()
  t.same(changes, [], 'no ticket changed twice')
})

t.test('refusals are kept with their reason; a stopping worker puts the job back; the cap on jobs', async (t) => {
  const env = await testApp(t)
  const bruno = await staffActor(env.db, env.ids, 'bruno@casebridge.test')
  const targets = await tickets(env, 30)
  const deps = { db: env.db, clock: () => new Date(), random: Math.random }
  // Closing needs the ticket resolved: new tickets are refused, with the lifecycle's reason.
  const solved = (await env.db.selectFrom('list_item').select('code').where('list', '=', 'closure_category').limit(1).executeTakeFirstOrThrow()).code
  const queued = await queueBulkJob(deps, personWho(bruno), { action: 'close', params: params({ closureCategory: solved }), targets })
  const jobId = queued.ok ? queued.value.jobId : 0
  const stop = new AbortController()
  t.equal(await runBulkJobs({ db: env.db, holder: 'w', leaseMs: 60_000, signal: stop.signal, onItem: (n) => { if (n === 10) stop.abort() } }), 10)
  const back = await getBulkJob(env.db, jobId)
  t.same([back?.status, back?.attempts], ['queued', 0], 'stopping puts it back, the attempt not counted')
  t.equal(await runBulkJobs({ db: env.db, holder: 'w2', leaseMs: 60_000 }), 20)
  t.same(await bulkProgress(env.db, jobId), { done: 0, unchanged: 0, refused: 30, pending: 0 })
  const item = await env.db.selectFrom('bulk_item').select('refusal').where('job_id', '=', jobId).limit(1).executeTakeFirstOrThrow()
  t.equal(refusalFromStore(item.refusal!).code, 'close_needs_requester', 'each with why: staff do not close an open ticket')

  const queue = () => queueBulkJob(deps, personWho(bruno), { action: 'pick_up', params: params(), targets: targets.slice(0, 2) })
  for (let i = 0; i < BULK_JOBS_PER_PERSON - 1; i++) t.ok((await queue()).ok)
  // Two at once for the last place (on PostgreSQL, two connections): the person's row lock lets one through.
  const both = await Promise.all([queue(), queue()])
  t.same(both.map((o) => (o.ok ? 'queued' : o.refusal.code)).sort(), ['queued', 'too_many'], 'two at once for the last place: one of them')
  const capped = await queue()
  t.same(capped.ok ? null : capped.refusal.code, 'too_many', `at most ${BULK_JOBS_PER_PERSON} waiting per person`)

  // Bruno is turned off before the worker gets there: nothing is done in his name.
  await env.db.updateTable('staff').set({ active: 0 }).where('id', '=', bruno.id).execute()
  await runBulkJobs({ db: env.db, holder: 'w3', leaseMs: 60_000 })
  const picked = await env.db.selectFrom('ticket').select('id').where('state', '!=', 'open').execute()
  t.same(picked, [], 'no ticket picked up')
  const outcomes = await env.db.selectFrom('bulk_item').innerJoin('bulk_job', 'bulk_job.id', 'bulk_item.job_id').select(['bulk_item.outcome', 'bulk_item.refusal'])
    .where('bulk_job.action', '=', 'pick_up').execute()
  t.ok(outcomes.every((o) => o.outcome === 'refused' && refusalFromStore(o.refusal!).code === 'forbidden'), 'every ticket refused: forbidden')
})
