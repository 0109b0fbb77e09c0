// Leases kept alive by a heartbeat, taken over once their holder stops beating; outbox claims
// renewed and checked before each send.
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { LeaseLost, withLease, acquireLease } from '../../src/work/lease.js'
import { outbox } from '../../src/work/outbox.js'
import { MAIL_RETRY } from '../../src/work/backoff.js'
import { insertMail } from '../../src/db/mail-outbox.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('a held lease is renewed while its pass runs, refused to others, and given back', async (t) => {
  const { db } = await testApp(t, { demo: false })
  const deps = { db, clock: () => new Date() }
  const expiry = async () => (await db.selectFrom('job_lease').select('expires_at').where('name', '=', 'pass').executeTakeFirst())?.expires_at
  const result = await withLease(deps, 'pass', 'a', 300, async (lease) => {
    const first = await expiry()
    t.notOk((await withLease(deps, 'pass', 'b', 300, async () => 'ran')).ran, 'another worker does not get it')
    await sleep(450)
    t.ok((await expiry())! > first!, 'the heartbeat moved its expiry on')
    t.notOk(lease.lost)
    lease.assertHeld()
    return 'done'
  })
  t.same(result, { ran: true, value: 'done' })
  t.equal(await expiry(), undefined, 'given back at the end')
})

t.test('a lease taken over while its holder stalled: the next renewal says so and the pass stops', async (t) => {
  const { db } = await testApp(t, { demo: false })
  const deps = { db, clock: () => new Date() }
  let stoppedBy: unknown = null
  const result = await withLease(deps, 'pass', 'slow', 300, async (lease) => {
    // the holder stalls; meanwhile its lease expires and another worker takes it
    await db.updateTable('job_lease').set({ holder: 'other', expires_at: new Date(Date.now() + 60_000).toISOString() }).where('name', '=', 'pass').execute()
    await sleep(250)
    try {
      lease.assertHeld()
    } catch (err) {
      stoppedBy = err
    }
    return 'finished'
  })
  t.ok(result.ran)
  t.ok(stoppedBy instanceof LeaseLost, 'assertHeld throws LeaseLost before the next outside call')
  const row = await db.selectFrom('job_lease').select('holder').where('name', '=', 'pass').executeTakeFirst()
  t.equal(row?.holder, 'other', 'the new holder keeps its lease')
})

t.test('a holder that died (no more beats) is taken over once its lease ran out', async (t) => {
  const { db } = await testApp(t, { demo: false })
  const now = new Date()
  t.ok(await acquireLease(db, 'pass', 'dead', now, 200))
  const deps = { db, clock: () => new Date() }
  t.notOk((await withLease(deps, 'pass', 'alive', 200, async () => 1)).ran, 'not while it lasts')
  await sleep(250)
  t.same(await withLease(deps, 'pass', 'alive', 200, async () => 1), { ran: true, value: 1 }, 'taken over after it')
})

t.test('outbox claims: renewed only by their claimant, settled only under the claim', async (t) => {
  const { db } = await testApp(t, { demo: false })
  const mail = outbox('mail', { policy: MAIL_RETRY })
  const now = new Date()
  await insertMail(db, { ticketId: null, recipient: 'a@example.com', locale: 'en', template: 'note.reply', data: {} }, now.toISOString())
  const first = await mail.claim(db, now, { limit: 10, leaseMs: 1000 })
  t.equal(first.rows.length, 1)
  t.equal((await mail.claim(db, now, { limit: 10, leaseMs: 1000 })).rows.length, 0, 'a claimed row is claimed once')
  const renewed = await mail.renew(db, first.rows[0].id, first.lease, now, 1000)
  t.ok(renewed, 'the claimant renews it')
  t.equal(await mail.renew(db, first.rows[0].id, first.lease, now, 1000), null, 'the old claim no longer renews it')
  // the claim runs out and another drainer takes the row
  const later = new Date(now.getTime() + 5000)
  const second = await mail.claim(db, later, { limit: 10, leaseMs: 1000 })
  t.equal(second.rows.length, 1, 'taken over after its claim ran out')
  t.equal(await mail.renew(db, first.rows[0].id, renewed!, later, 1000), null, 'the first drainer may not send it any more')
  await mail.park(db, first.rows[0].id, later, 'stale claim', renewed!)
  t.equal((await db.selectFrom('mail_outbox').select('status').executeTakeFirstOrThrow()).status, 'pending', 'nor settle it')
  await mail.complete(db, [second.rows[0].id], later, second.lease)
  t.equal((await db.selectFrom('mail_outbox').select('status').executeTakeFirstOrThrow()).status, 'sent', 'the claimant settles it')
})
