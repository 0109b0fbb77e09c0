import t from 'tap'
import { testApp } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { getApprovalLink } from '../../src/db/approval.js'
import { composeMail, mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { ApprovalRefused, approvalRefusal, decideApproval } from '../../src/commands/approval.js'
import {
  approvalKey, approvalKeyFrom, newNonce, nonceHash, nonceMatches, signApprovalToken, verifyApprovalToken
} from '../../src/security/approval-token.js'
import type { Actor } from '../../src/domain/permissions.js'
import { createTicketIn } from '../helpers/commands.js'

const T0 = new Date('2026-12-01T09:00:00.000Z')
const KEY = approvalKeyFrom(Buffer.alloc(32, 1))

t.test('tokens: signed claims round-trip; any change, another key or another spelling is refused', async (t) => {
  const claims = { approvalId: 4321, expiresAt: new Date('2026-12-08T09:00:00.000Z'), nonce: newNonce() }
  const token = signApprovalToken(claims, KEY)
  t.match(token, /^[A-Za-z0-9_-]{60}$/, 'URL-safe, fixed length')
  t.same(verifyApprovalToken(token, KEY), claims)
  t.equal(verifyApprovalToken(token, approvalKeyFrom(Buffer.alloc(32, 2))), null, 'another key')
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  let refused = 0
  for (let i = 0; i < token.length; i++) {
    const other = alphabet[(alphabet.indexOf(token[i]) + 1) % alphabet.length]
    if (verifyApprovalToken(token.slice(0, i) + other + token.slice(i + 1), KEY) === null) refused++
  }
  t.equal(refused, token.length, 'every single-character change is refused')
  t.equal(verifyApprovalToken(token + 'A', KEY), null)
  t.equal(verifyApprovalToken(token.slice(1), KEY), null)
  t.equal(verifyApprovalToken('', KEY), null)
  t.throws(() => signApprovalToken({ ...claims, nonce: Buffer.alloc(3) }, KEY), RangeError)
  t.throws(() => signApprovalToken({ ...claims, approvalId: 0 }, KEY), RangeError)

  const hash = nonceHash(claims.nonce)
  t.ok(nonceMatches(claims.nonce, hash))
  t.notOk(nonceMatches(newNonce(), hash))
  t.notOk(nonceMatches(claims.nonce, 'abc'), 'a malformed hash never matches')
})

t.test('the approval key derives from the mail-token secret, so web and worker agree', async (t) => {
  const a = approvalKey({ dataDir: '/nonexistent', MAIL_TOKEN_SECRET: 'x'.repeat(40) })
  const b = approvalKey({ dataDir: '/elsewhere', MAIL_TOKEN_SECRET: 'x'.repeat(40) })
  t.same(a, b)
  t.notSame(a, mailTokenKey({ dataDir: '/nonexistent', MAIL_TOKEN_SECRET: 'x'.repeat(40) }), 'its own key, not the thread-token key')
  t.notSame(a, approvalKey({ dataDir: '/nonexistent', MAIL_TOKEN_SECRET: 'y'.repeat(40) }))
})

t.test('refusals come in a fixed order', async (t) => {
  const nonce = newNonce()
  const expiresAt = new Date('2026-12-08T09:00:00.000Z')
  const claims = { approvalId: 1, expiresAt, nonce }
  const link = {
    id: 1, ticket_id: 1, approver_contact_id: 7, nonce_hash: nonceHash(nonce), expires_at: expiresAt.toISOString(),
    decided_at: null, decision: null, reason: null, created_at: T0.toISOString(), number: 1, title: 'x', description: 'y',
    status: 'awaiting_approval', state: 'open', deleted_at: null, ticket_created_at: T0.toISOString(), approver_name: 'A',
    requester_name: 'B', requester_email: 'b@x.test', account_name: 'C', item_name: null, area_name: null
  } as Parameters<typeof approvalRefusal>[0]
  const approver = { kind: 'contact', id: 7 } as Actor
  const someoneElse = { kind: 'contact', id: 8 } as Actor
  const staff = { kind: 'staff', id: 7 } as Actor
  const before = new Date(expiresAt.getTime() - 1000)
  const rows: [string, Parameters<typeof approvalRefusal>, string | null][] = [
    ['open link, anonymous', [link, claims, null, before], null],
    ['open link, the approver logged in', [link, claims, approver, before], null],
    ['unknown row', [undefined, claims, null, before], 'invalid'],
    ['nonce of another row', [link, { ...claims, nonce: newNonce() }, null, before], 'invalid'],
    ['expiry differs from the row', [link, { ...claims, expiresAt: new Date(expiresAt.getTime() + 1000) }, null, before], 'invalid'],
    ['deleted ticket', [{ ...link!, deleted_at: T0.toISOString() }, claims, null, before], 'invalid'],
    ['another contact', [link, claims, someoneElse, before], 'wrong_person'],
    ['staff with the same id', [link, claims, staff, before], 'wrong_person'],
    ['wrong person before used', [{ ...link!, decided_at: T0.toISOString(), decision: 'approved' }, claims, someoneElse, before], 'wrong_person'],
    ['superseded', [{ ...link!, decided_at: T0.toISOString(), decision: 'superseded' }, claims, null, before], 'superseded'],
    ['closed as expired', [{ ...link!, decided_at: T0.toISOString(), decision: 'expired' }, claims, null, before], 'expired'],
    ['used', [{ ...link!, decided_at: T0.toISOString(), decision: 'rejected' }, claims, null, expiresAt], 'used'],
    ['expired at the second', [link, claims, null, expiresAt], 'expired'],
    ['no longer waiting', [{ ...link!, status: 'cancelled', state: 'cancelled' }, claims, null, before], 'closed']
  ]
  for (const [what, args, expected] of rows) t.equal(approvalRefusal(...args), expected, what)
})

t.test('the approval row, its mail and history are part of the creation transaction', async (t) => {
  const { db, ids } = await testApp(t)
  const count = async (table: 'ticket' | 'approval' | 'mail_outbox' | 'ticket_event') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  const before = await Promise.all([count('ticket'), count('approval'), count('mail_outbox'), count('ticket_event')])
  await t.rejects(db.transaction().execute(async (trx) => {
    await createTicketIn(trx, {
      title: 'Rolled back', description: 'x', url: null, accountId: ids.account['Acme Corporation'], contactId: ids.contact['bob@acme.test'],
      createdByStaffId: null, productId: null, categoryId: ids.category['New user account'], deskId: ids.desk['Service Desk'],
      priority: 'medium', ticketType: 'request', source: 'portal', files: []
    }, { actor: { type: 'contact', id: ids.contact['bob@acme.test'], name: 'Bob Stone' }, now: T0.toISOString() })
    t.equal(Number((await trx.selectFrom('approval').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n), before[1] + 1, 'written inside the transaction')
    throw new Error('something later failed')
  }))
  t.same(await Promise.all([count('ticket'), count('approval'), count('mail_outbox'), count('ticket_event')]), before, 'nothing is left behind')
})

t.test('two decisions at once: exactly one wins', async (t) => {
  const env = await testApp(t)
  const { db, ids, config } = env
  const ticket = await makeTicket(db, ids, { category: 'New user account', now: T0 })
  const row = await db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', ticket.id).where('template', '=', 'ticket.approval_request').executeTakeFirstOrThrow()
  const mail = composeMail(row, mailSettings(config), mailTokenKey(config), 'x')
  const token = /\/approvals\/([A-Za-z0-9_-]+)#approve/.exec(mail.text)![1]
  const deps = { db, clock: () => new Date(T0.getTime() + 60_000), random: () => 0 }
  const key = approvalKey(config)
  const results = await Promise.allSettled([
    decideApproval(deps, key, token, null, { approve: true }),
    decideApproval(deps, key, token, null, { approve: false, reason: 'No budget' })
  ])
  const won = results.filter((r) => r.status === 'fulfilled')
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
  t.equal(won.length, 1, 'one decision')
  t.equal(lost.length, 1)
  t.ok(lost[0].reason instanceof ApprovalRefused && lost[0].reason.code === 'used', 'the other is refused as used')
  const approval = await getApprovalLink(db, verifyApprovalToken(token, key)!.approvalId)
  const ticketNow = await db.selectFrom('ticket').select(['status']).where('id', '=', ticket.id).executeTakeFirstOrThrow()
  t.equal(ticketNow.status, approval!.decision === 'approved' ? 'new' : 'cancelled', 'the ticket follows the decision that won')
  const told = await db.selectFrom('mail_outbox').select('template').where('ticket_id', '=', ticket.id)
    .where('template', 'in', ['ticket.approve', 'ticket.reject_approval']).execute()
  t.equal(told.length, 1, 'the requester is told once')
})

t.test('waiting for approval does not count against the SLA', async (t) => {
  const env = await testApp(t)
  const { db, ids, config } = env
  const ticket = await makeTicket(db, ids, { category: 'New user account', now: T0 })
  const read = () => db.selectFrom('ticket').select(['status', 'sla_paused_at', 'sla_paused_ms', 'resolution_due_at', 'response_due_at'])
    .where('id', '=', ticket.id).executeTakeFirstOrThrow()
  const waiting = await read()
  t.equal(waiting.status, 'awaiting_approval')
  t.equal(waiting.sla_paused_at, T0.toISOString(), 'the clock stops when the ticket starts waiting')
  const row = await db.selectFrom('mail_outbox').selectAll().where('ticket_id', '=', ticket.id).where('template', '=', 'ticket.approval_request').executeTakeFirstOrThrow()
  const token = /\/approvals\/([A-Za-z0-9_-]+)#approve/.exec(composeMail(row, mailSettings(config), mailTokenKey(config), 'x').text)![1]
  const twoDays = 2 * 86_400_000
  await decideApproval({ db, clock: () => new Date(T0.getTime() + twoDays), random: () => 0 }, approvalKey(config), token, null, { approve: true })
  const approved = await read()
  t.equal(approved.status, 'new')
  t.equal(approved.sla_paused_at, null, 'approval starts the clock again')
  t.equal(Number(approved.sla_paused_ms), twoDays)
  t.equal(Date.parse(approved.resolution_due_at!) - Date.parse(waiting.resolution_due_at!), twoDays, 'the targets move by the time spent waiting')
  t.equal(Date.parse(approved.response_due_at!) - Date.parse(waiting.response_due_at!), twoDays)
})
