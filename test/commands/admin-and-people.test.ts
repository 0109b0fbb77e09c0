// What admins change (admin: service settings, SLA targets, approval rules, second chances for
// failed work), what people change about themselves (account) and adding people and tokens
// (people), against a real database: the rows, each refusal with its field and writing nothing,
// and a failure half-way through leaving nothing of a command that writes no ticket.
import t from 'tap'
import type { Test } from 'tap'
import { DEMO_PASSWORDS, testApp } from '../helpers/app.js'
import { contactActor, makeTicket, staffActor } from '../helpers/tickets.js'
import { depsAt, performerOf } from '../helpers/commands.js'
import { failsUnchanged, refusedUnchanged } from '../helpers/failing-writes.js'
import { SYSTEM, unwrap } from '../../src/commands/kernel.js'
import {
  releaseQuarantinedMessage, retryAllCrmChanges, retryCrmChange, retryMail, saveApprovalRules, saveServiceSettings, saveSlaTargets, type SlaTarget
} from '../../src/commands/admin.js'
import { changePassword, setLanguage } from '../../src/commands/account.js'
import { tidySessions } from '../../src/commands/sessions.js'
import { addPerson, createApiToken, createApiTokenFor, type NewPerson } from '../../src/commands/people.js'
import { openTicket } from '../../src/commands/open-ticket.js'
import { quarantineEmail } from '../../src/commands/mail-intake.js'
import { addNote } from '../../src/commands/add-note.js'
import { getSettings } from '../../src/db/settings.js'
import { approvalLinkDays, MAX_APPROVAL_DAYS } from '../../src/db/approval.js'
import { parkRow } from '../../src/db/outbox.js'
import { findLogin } from '../../src/db/people.js'
import { findTokenOwner } from '../../src/db/token.js'
import { verifyPassword } from '../../src/security/password.js'
import type { Db } from '../../src/db/index.js'

const T0 = new Date('2026-04-06T09:00:00.000Z')
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000)

async function scene(t: Test) {
  const env = await testApp(t)
  const { db, ids } = env
  return {
    ...env,
    admin: performerOf(await staffActor(db, ids, 'admin@casebridge.test')),
    bruno: performerOf(await staffActor(db, ids, 'bruno@casebridge.test')),
    bob: performerOf(await contactActor(db, ids, 'bob@acme.test')),
    deps: (at = later(30)) => depsAt(db, at, () => 0)
  }
}

const policies = (db: Db) => db.selectFrom('sla_policy').select(['priority', 'response_minutes', 'resolution_minutes', 'updated_at']).orderBy('response_minutes').execute()

t.test('saveServiceSettings: admins only; days to auto-close within range', async (t) => {
  const { db, admin, bruno, bob, deps } = await scene(t)
  const settings = { occurrenceViaPortal: false, staffMayCloseWithoutRequester: true, autoCloseDays: 14, staffTwoFactorRequired: true, inviteCrmContacts: true }
  await refusedUnchanged(t, db, () => saveServiceSettings(deps(), bruno, settings), { code: 'forbidden' }, 'staff')
  await refusedUnchanged(t, db, () => saveServiceSettings(deps(), bob, settings), { code: 'forbidden' }, 'a client')
  await refusedUnchanged(t, db, () => saveServiceSettings(deps(), SYSTEM, settings), { code: 'forbidden' }, 'nobody in particular')
  for (const days of [0, 366, 1.5]) {
    await refusedUnchanged(t, db, () => saveServiceSettings(deps(), admin, { ...settings, autoCloseDays: days }),
      { code: 'invalid', field: 'autoCloseDays', fields: { autoCloseDays: { problem: 'out_of_range', params: { min: 1, max: 365 } } } }, `${days} days`)
  }
  unwrap(await saveServiceSettings(deps(), admin, settings))
  t.same(await getSettings(db), settings)
})

t.test('saveSlaTargets: targets per priority, a resolution never before the response; new tickets follow them', async (t) => {
  const { db, ids, admin, bruno, bob, deps } = await scene(t)
  const targets: SlaTarget[] = [
    { priority: 'critical', responseMinutes: 30, resolutionMinutes: 120 },
    { priority: 'high', responseMinutes: 120, resolutionMinutes: 720 },
    { priority: 'medium', responseMinutes: 240, resolutionMinutes: 2880 },
    { priority: 'low', responseMinutes: 960, resolutionMinutes: 5760 }
  ]
  await refusedUnchanged(t, db, () => saveSlaTargets(deps(), bruno, targets), { code: 'forbidden' }, 'staff')
  const range = { min: 1, max: 525_600 }
  const cases: [string, SlaTarget[], Record<string, unknown>][] = [
    ['an unknown priority', [{ priority: 'urgent' as SlaTarget['priority'], responseMinutes: 10, resolutionMinutes: 20 }], { 'urgent.priority': { problem: 'invalid_choice' } }],
    ['no time to answer', [{ priority: 'high', responseMinutes: 0, resolutionMinutes: 60 }], { 'high.responseMinutes': { problem: 'out_of_range', params: range } }],
    ['more than a year', [{ priority: 'low', responseMinutes: 60, resolutionMinutes: 525_601 }], { 'low.resolutionMinutes': { problem: 'out_of_range', params: range } }],
    ['resolved before answered', [{ priority: 'medium', responseMinutes: 600, resolutionMinutes: 300 }], { 'medium.resolutionMinutes': { problem: 'too_early' } }]
  ]
  for (const [what, input, fields] of cases) {
    await refusedUnchanged(t, db, () => saveSlaTargets(deps(), admin, [...targets.slice(0, 1), ...input]), { code: 'invalid', field: Object.keys(fields)[0], fields }, what)
  }
  await failsUnchanged(t, db, { table: 'sla_policy', write: 'INSERT', when: "NEW.priority = 'low'" },
    () => saveSlaTargets(deps(), admin, targets), 'a failure at the last priority saves none of the others')

  unwrap(await saveSlaTargets(deps(), admin, targets))
  t.same(await policies(db), targets.map((p) => ({ priority: p.priority, response_minutes: p.responseMinutes, resolution_minutes: p.resolutionMinutes, updated_at: later(30).toISOString() })))
  const opened = unwrap(await openTicket(deps(T0), bob, { categoryId: ids.category['Printer problem'], priority: 'high', title: 'Printer', description: 'Jams', source: 'portal' }))
  const row = await db.selectFrom('ticket').select(['response_due_at', 'resolution_due_at']).where('id', '=', opened.id).executeTakeFirstOrThrow()
  t.same(row, { response_due_at: later(120).toISOString(), resolution_due_at: later(720).toISOString() }, 'a new high ticket gets the new targets')
})

t.test('saveApprovalRules: which items need approval, and how long links last', async (t) => {
  const { db, ids, admin, bruno, deps } = await scene(t)
  const install = ids.category['Install software']
  const newUser = ids.category['New user account']
  await refusedUnchanged(t, db, () => saveApprovalRules(deps(), bruno, { linkDays: 7, modes: {} }), { code: 'forbidden' }, 'staff')
  await refusedUnchanged(t, db, () => saveApprovalRules(deps(), admin, { linkDays: 0, modes: { [install]: 'auto' } }),
    { code: 'invalid', field: 'linkDays', fields: { linkDays: { problem: 'out_of_range', params: { min: 1, max: MAX_APPROVAL_DAYS } } } }, 'links that never work')
  await refusedUnchanged(t, db, () => saveApprovalRules(deps(), admin, { linkDays: 7, modes: { [install]: 'maybe' } }),
    { code: 'invalid', field: `mode.${install}`, fields: { [`mode.${install}`]: { problem: 'invalid_choice' } } }, 'an unknown rule')
  await refusedUnchanged(t, db, () => saveApprovalRules(deps(), admin, { linkDays: 7, modes: { 999999: 'auto' } }),
    { code: 'invalid', field: 'mode.999999', fields: { 'mode.999999': { problem: 'invalid_choice' } } }, 'an unknown item')
  await refusedUnchanged(t, db, () => saveApprovalRules(deps(), admin, { linkDays: 7, modes: { [ids.category['Hardware']]: 'auto' } }),
    { code: 'invalid', field: `mode.${ids.category['Hardware']}`, fields: { [`mode.${ids.category['Hardware']}`]: { problem: 'invalid_choice' } } }, 'a catalog area')

  t.same(unwrap(await saveApprovalRules(deps(), admin, { linkDays: 14, modes: { [install]: 'auto', [newUser]: 'manager' } })), { changed: [{ id: install, mode: 'auto' }] }, 'only what changed')
  const item = await db.selectFrom('category').select(['requires_approval', 'auto_approve']).where('id', '=', install).executeTakeFirstOrThrow()
  t.same(item, { requires_approval: 1, auto_approve: 1 })
  t.equal(await approvalLinkDays(db), 14)
})

t.test('second chances: a parked CRM change, a parked mail, a quarantined message', async (t) => {
  const { db, ids, admin, bruno, deps } = await scene(t)
  const ticket = await makeTicket(db, ids, { now: T0 })
  const caseRow = (await db.selectFrom('crm_outbox').select('id').where('ticket_id', '=', ticket.id).where('kind', '=', 'case').executeTakeFirstOrThrow()).id
  unwrap(await addNote(deps(T0), bruno, { ticketId: ticket.id, mode: 'internal', body: 'Vendor ticket 42', source: 'portal' }))
  for (const r of await db.selectFrom('crm_outbox').select('id').where('status', '=', 'pending').execute()) await parkRow(db, 'crm', r.id, 'INVALID_FIELD', T0.toISOString())
  const mail = (await db.selectFrom('mail_outbox').select('id').where('ticket_id', '=', ticket.id).orderBy('id').executeTakeFirstOrThrow()).id
  await parkRow(db, 'mail', mail, '550 mailbox unavailable', T0.toISOString())
  const q = await quarantineEmail(deps(T0), { mailbox: 'INBOX', uidValidity: '1', uid: 5, messageId: '<q@x.test>', reason: 'unknown_sender', detail: '', from: 'x@x.test', subject: null, ticketId: null, rawSha256: null, rawSize: 10 })

  for (const [what, command] of [
    ['retry a CRM change', () => retryCrmChange(deps(), bruno, { rowId: caseRow })],
    ['retry all CRM changes', () => retryAllCrmChanges(deps(), bruno)],
    ['retry a mail', () => retryMail(deps(), bruno, { mailId: mail })],
    ['release a quarantined message', () => releaseQuarantinedMessage(deps(), bruno, { quarantineId: q.quarantineId })]
  ] as const) {
    await refusedUnchanged(t, db, command, { code: 'forbidden' }, `staff may not ${what}`)
  }

  t.equal(unwrap(await retryCrmChange(deps(), admin, { rowId: caseRow })), true)
  const crm = await db.selectFrom('crm_outbox').select(['kind', 'status', 'attempts', 'last_error', 'next_attempt_at']).where('ticket_id', '=', ticket.id).orderBy('id').execute()
  t.same(crm, [
    { kind: 'case', status: 'pending', attempts: 0, last_error: null, next_attempt_at: later(30).toISOString() },
    { kind: 'comment', status: 'pending', attempts: 0, last_error: null, next_attempt_at: later(30).toISOString() }
  ], 'a parked Case takes the comments it held back with it')
  t.equal(unwrap(await retryCrmChange(deps(), admin, { rowId: caseRow })), false, 'a row that is not parked')
  const demo = await db.selectFrom('crm_outbox').select('id').where('ticket_id', '!=', ticket.id).execute()
  for (const r of demo) await parkRow(db, 'crm', r.id, 'timeout', T0.toISOString())
  t.equal(unwrap(await retryAllCrmChanges(deps(), admin)), demo.length)

  t.equal(unwrap(await retryMail(deps(), admin, { mailId: mail })), true)
  const revived = await db.selectFrom('mail_outbox').select(['status', 'attempts', 'last_error']).where('id', '=', mail).executeTakeFirstOrThrow()
  t.same(revived, { status: 'pending', attempts: 0, last_error: '550 mailbox unavailable' }, 'the mail keeps its last error for reference')
  t.equal(unwrap(await retryMail(deps(), admin, { mailId: mail })), false)

  t.equal(unwrap(await releaseQuarantinedMessage(deps(), admin, { quarantineId: q.quarantineId })), true)
  const released = await db.selectFrom('mail_quarantine').select(['released_at', 'released_by_staff_id']).where('id', '=', q.quarantineId).executeTakeFirstOrThrow()
  t.same(released, { released_at: later(30).toISOString(), released_by_staff_id: admin.ref.id })
  t.equal(unwrap(await releaseQuarantinedMessage(deps(), admin, { quarantineId: q.quarantineId })), false, 'already dealt with')
})

t.test('account: a person changes their password and language', async (t) => {
  const { db, ids, bob, deps } = await scene(t)
  const next = 'a-much-longer-pass'
  await refusedUnchanged(t, db, () => changePassword(deps(), SYSTEM, { current: 'x', next, confirm: next }), { code: 'forbidden' }, 'nobody in particular')
  await refusedUnchanged(t, db, () => changePassword(deps(), bob, { current: 'wrong', next, confirm: next }),
    { code: 'invalid', field: 'current', fields: { current: { problem: 'wrong_password' } } }, 'the wrong current password')
  await refusedUnchanged(t, db, () => changePassword(deps(), bob, { current: DEMO_PASSWORDS.client, next: 'short', confirm: 'short' }),
    { code: 'invalid', field: 'next', fields: { next: { problem: 'too_short', params: { min: 10 } } } }, 'a short password')
  await refusedUnchanged(t, db, () => changePassword(deps(), bob, { current: DEMO_PASSWORDS.client, next, confirm: `${next}!` }),
    { code: 'invalid', field: 'confirm', fields: { confirm: { problem: 'mismatch' } } }, 'a confirmation that differs')
  await refusedUnchanged(t, db, () => changePassword(deps(), bob, { current: 'wrong', next: 'short', confirm: 'short' }),
    { code: 'invalid', field: 'current', fields: { current: { problem: 'wrong_password' }, next: { problem: 'too_short', params: { min: 10 } } } }, 'both at once')
  unwrap(await changePassword(deps(), bob, { current: DEMO_PASSWORDS.client, next, confirm: next }))
  const hash = (await findLogin(db, 'bob@acme.test'))!.passwordHash
  t.ok(await verifyPassword(next, hash), 'the new password works')
  t.notOk(await verifyPassword(DEMO_PASSWORDS.client, hash), 'the old one no longer does')

  await refusedUnchanged(t, db, () => setLanguage(deps(), SYSTEM, { locale: 'pt-BR' }), { code: 'forbidden' }, 'language: nobody in particular')
  unwrap(await setLanguage(deps(), bob, { locale: 'pt-BR' }))
  t.equal((await contactActor(db, ids, 'bob@acme.test')).locale, 'pt-BR')
  unwrap(await setLanguage(deps(), bob, { locale: null }))
  t.equal((await contactActor(db, ids, 'bob@acme.test')).locale, null, 'back to the browser\'s')
})

t.test('people: add clients, staff and admins; API tokens', async (t) => {
  const { db, ids, deps } = await scene(t)
  const person = (over: Partial<NewPerson>): NewPerson => ({
    role: 'client', email: 'dana@acme.test', name: 'Dana Dale', password: 'dana-long-password', accountIds: [ids.account['Acme Corporation']], manager: false, deskIds: [], ...over
  })
  const cases: [string, Partial<NewPerson>, Record<string, unknown>][] = [
    ['not an address', { email: 'dana-at-acme' }, { email: { problem: 'invalid_email' } }],
    ['an address taken by a client', { email: ' BOB@acme.test ' }, { email: { problem: 'taken' } }],
    ['an address taken by staff', { email: 'ana@casebridge.test', role: 'staff' }, { email: { problem: 'taken' } }],
    ['no name', { name: '  ' }, { name: { problem: 'required' } }],
    ['a name with a NUL in it', { name: 'Dana\u0000Dale' }, { name: { problem: 'invalid_characters' } }],
    ['a name too long', { name: 'D'.repeat(201) }, { name: { problem: 'too_long', params: { max: 200 } } }],
    ['a short password', { password: 'short' }, { password: { problem: 'too_short', params: { min: 10 } } }],
    ['a client of no account', { accountIds: [] }, { accountIds: { problem: 'required' } }],
    ['everything at once', { email: 'x', name: '', password: '', accountIds: [] }, {
      email: { problem: 'invalid_email' }, name: { problem: 'required' }, password: { problem: 'too_short', params: { min: 10 } }, accountIds: { problem: 'required' }
    }]
  ]
  for (const [what, over, fields] of cases) {
    await refusedUnchanged(t, db, () => addPerson(deps(), person(over)), { code: 'invalid', field: Object.keys(fields)[0], fields }, what)
  }

  const dana = unwrap(await addPerson(deps(), person({ email: ' Dana@ACME.test ', name: ' Dana Dale ', manager: true })))
  const contact = await db.selectFrom('contact').selectAll().where('id', '=', dana.id).executeTakeFirstOrThrow()
  t.same([contact.email, contact.name, contact.created_at], ['dana@acme.test', 'Dana Dale', later(30).toISOString()])
  t.same(await db.selectFrom('contact_account').select(['account_id', 'is_manager']).where('contact_id', '=', dana.id).execute(), [{ account_id: ids.account['Acme Corporation'], is_manager: 1 }])
  t.ok(await verifyPassword('dana-long-password', contact.password_hash), 'she can log in')

  const eli = unwrap(await addPerson(deps(), person({ role: 'staff', email: 'eli@casebridge.test', name: 'Eli', accountIds: [], deskIds: [ids.desk['Service Desk']] })))
  const fay = unwrap(await addPerson(deps(), person({ role: 'admin', email: 'fay@casebridge.test', name: 'Fay', accountIds: [] })))
  const staff = await db.selectFrom('staff').select(['id', 'role', 'can_delete']).where('id', 'in', [eli.id, fay.id]).orderBy('id').execute()
  t.same(staff, [{ id: eli.id, role: 'staff', can_delete: 0 }, { id: fay.id, role: 'admin', can_delete: 1 }])
  t.same(await db.selectFrom('desk_member').select('desk_id').where('staff_id', '=', eli.id).execute(), [{ desk_id: ids.desk['Service Desk'] }])

  await refusedUnchanged(t, db, () => createApiToken(deps(), { email: 'nobody@acme.test', name: 'ci' }),
    { code: 'invalid', field: 'email', fields: { email: { problem: 'invalid_choice' } } }, 'a token for nobody')
  const { token } = unwrap(await createApiToken(deps(), { email: 'dana@acme.test', name: 'ci' }))
  t.same(await findTokenOwner(db, token).then((o) => o && [o.kind, o.id]), ['contact', dana.id], 'the token speaks for her')
  const stored = await db.selectFrom('api_token').select(['token_hash', 'name', 'created_at']).where('contact_id', '=', dana.id).execute()
  t.equal(stored.length, 1)
  t.not(stored[0].token_hash, token, 'only its hash is kept')
  t.same([stored[0].name, stored[0].created_at], ['ci', later(30).toISOString()])
  const forEli = await createApiTokenFor(deps(), { kind: 'staff', id: eli.id }, 'bench')
  t.same(await findTokenOwner(db, forEli).then((o) => o && [o.kind, o.id]), ['staff', eli.id])

  await failsUnchanged(t, db, { table: 'contact_account', write: 'INSERT', when: `NEW.account_id = ${ids.account['Globex Industries']}` },
    () => addPerson(deps(), person({ email: 'gus@acme.test', accountIds: [ids.account['Acme Corporation'], ids.account['Globex Industries']] })),
    'a failure at the client\'s last account leaves no half person behind')
})

t.test('the scheduled tidy-up deletes audit and security-event rows older than the retention, and only those', async (t) => {
  const { db } = await testApp(t)
  const now = new Date('2027-06-01T12:00:00.000Z')
  const day = (n: number) => new Date(now.getTime() - n * 86_400_000).toISOString()
  const ages = [400, 200, 31, 29, 1]
  for (const age of ages) {
    await db.insertInto('admin_audit').values({ actor_type: 'system', actor_id: null, actor_name: null, entity: 'desk', entity_id: 1, action: 'update', label: `${age} days`, changes: '{}', created_at: day(age) }).execute()
    await db.insertInto('security_event').values({ kind: 'login', staff_id: null, contact_id: null, email: null, ip: null, user_agent: null, detail: `${age} days`, created_at: day(age) }).execute()
  }
  const kept = async () => ({
    audit: (await db.selectFrom('admin_audit').select('label').where('label', 'like', '% days').orderBy('id').execute()).map((r) => r.label),
    events: (await db.selectFrom('security_event').select('detail').where('detail', 'like', '% days').orderBy('id').execute()).map((r) => r.detail)
  })
  const tidied = await tidySessions(depsAt(db, now), 30)
  t.equal(tidied.logRows, 6, 'three of each, older than 30 days')
  t.same(await kept(), { audit: ['29 days', '1 days'], events: ['29 days', '1 days'] })
  t.equal((await tidySessions(depsAt(db, now), 30)).logRows, 0, 'nothing more the next time')
  t.equal((await tidySessions(depsAt(db, now))).logRows, 0, 'the default keeps two years')
})
