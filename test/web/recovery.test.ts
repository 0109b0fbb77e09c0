// Account recovery and first login: "forgot password" mails a signed, single-use, expiring link
// (the same answer, in the same time, whether or not the address has an account), and a person
// added with an invitation sets their own password. Through real HTTP (app.inject) and a real
// SMTP server for the mail.
import t from 'tap'
import { simpleParser } from 'mailparser'
import { Agent, DEMO_PASSWORDS, loginAs, testApp, type TestEnv } from '../helpers/app.js'
import { startSmtpSink } from '../mail/smtp-sink.js'
import { drainMailOutbox, smtpTransport } from '../../src/mail/deliver.js'
import { mailSettings } from '../../src/mail/compose.js'
import { mailTokenKey } from '../../src/security/mail-key.js'
import { createFileStore } from '../../src/db/file-store.js'
import { addPerson } from '../../src/commands/people.js'
import { setAccountActive } from '../../src/commands/sessions.js'
import { SYSTEM } from '../../src/commands/kernel.js'

const BOB = 'bob@acme.test'

async function accountMails(env: TestEnv) {
  const rows = await env.db.selectFrom('mail_outbox').select(['id', 'recipient', 'template', 'data']).where('template', 'like', 'account.%').orderBy('id').execute()
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as { linkPath: string; expiresAt: string } }))
}

async function requests(env: TestEnv): Promise<number> {
  return Number((await env.db.selectFrom('security_event').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'password_reset_requested').executeTakeFirstOrThrow()).n)
}

/** Asks for a link; the request is handled once the answer is out, so this waits for its record too. */
async function ask(env: TestEnv, email: string, ip = '127.0.0.1') {
  const before = await requests(env)
  const agent = new Agent(env.app)
  const csrf = await agent.csrf('/password/forgot')
  const started = performance.now()
  const res = await agent.request({
    method: 'POST', url: '/password/forgot', remoteAddress: ip,
    payload: new URLSearchParams({ _csrf: csrf, email }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }
  })
  const ms = performance.now() - started
  for (let i = 0; i < 200 && (await requests(env)) === before; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  return { res, ms }
}

t.test('forgot password: a link by mail, a new password through it, every session ended', async (t) => {
  const env = await testApp(t, { env: { PUBLIC_URL: 'https://help.example.com' } })
  await env.db.deleteFrom('mail_outbox').execute()
  const elsewhere = await loginAs(env.app, BOB)
  const login = await new Agent(env.app).get('/login')
  t.match(login.body, 'href="/password/forgot"', 'the login page offers it')

  const { res } = await ask(env, '  Bob@Acme.test ')
  t.equal(res.statusCode, 200)
  t.match(res.body, 'If an account uses that address')
  const [mail] = await accountMails(env)
  t.match(mail, { recipient: BOB, template: 'account.password_reset' })
  t.match(mail.data.linkPath, /^\/password\/reset\/[A-Za-z0-9_-]{43}$/)
  const token = mail.data.linkPath.split('/').pop()!
  const stored = await env.db.selectFrom('account_link').selectAll().executeTakeFirstOrThrow()
  t.not(stored.token_hash, token, 'the database keeps only a hash of the token')
  t.equal(Date.parse(stored.expires_at) - Date.parse(stored.created_at), 60 * 60_000, 'an hour')

  // The mail, through a real SMTP server.
  const sink = await startSmtpSink()
  t.teardown(() => sink.close())
  const deps = { db: env.db, settings: mailSettings(env.config), key: mailTokenKey(env.config), transport: smtpTransport(sink.url), store: createFileStore(env.config, env.db) }
  t.same(await drainMailOutbox(deps, new Date()), { sent: 1, retried: 0, dead: 0 })
  const parsed = await simpleParser(sink.received[0].raw)
  t.equal(parsed.subject, 'Set a new password')
  t.match(parsed.text, `https://help.example.com/password/reset/${token}`)
  t.match(parsed.html, `href="https://help.example.com/password/reset/${token}"`)
  t.match(parsed.text, 'Did not ask for this?')

  const browser = new Agent(env.app)
  const form = await browser.get(mail.data.linkPath)
  t.equal(form.statusCode, 200)
  t.match(form.body, 'Set a new password')
  const short = await browser.post(mail.data.linkPath, { password: 'short', confirm_password: 'short' }, { csrfFrom: mail.data.linkPath })
  t.equal(short.statusCode, 422)
  t.match(short.body, 'Use at least 10 characters.')
  const differ = await browser.post(mail.data.linkPath, { password: 'a-long-new-password', confirm_password: 'another-one-entirely' }, { csrfFrom: mail.data.linkPath })
  t.equal(differ.statusCode, 422)
  t.match(differ.body, 'The two new passwords differ.')
  const done = await browser.post(mail.data.linkPath, { password: 'a-long-new-password', confirm_password: 'a-long-new-password' }, { csrfFrom: mail.data.linkPath })
  t.equal(done.statusCode, 302)
  t.equal(done.headers.location, '/login')
  t.match((await browser.get('/login')).body, 'Your password has been set.')

  t.equal((await elsewhere.get('/portal')).statusCode, 302, 'the session that was open elsewhere is ended')
  t.equal((await new Agent(env.app).post('/login', { email: BOB, password: DEMO_PASSWORDS.client })).statusCode, 401, 'the old password no longer works')
  t.equal((await new Agent(env.app).post('/login', { email: BOB, password: 'a-long-new-password' })).statusCode, 302, 'the new one does')

  const again = await new Agent(env.app).get(mail.data.linkPath)
  t.equal(again.statusCode, 410, 'the link works once')
  t.match(again.body, 'This link was already used')
  const reuse = await browser.post(mail.data.linkPath, { password: 'yet-another-password', confirm_password: 'yet-another-password' }, { csrfFrom: '/login' })
  t.equal(reuse.statusCode, 410)
  t.equal((await new Agent(env.app).post('/login', { email: BOB, password: 'a-long-new-password' })).statusCode, 302, 'and used again it changes nothing')
  const kinds = (await env.db.selectFrom('security_event').select('kind').where('contact_id', '=', env.ids.contact[BOB]).execute()).map((e) => e.kind)
  t.ok(kinds.includes('password_reset_requested') && kinds.includes('password_reset'), 'both are security events')
})

t.test('the same answer, in the same time, whether or not the address has an account', async (t) => {
  const env = await testApp(t)
  const known: number[] = []
  const unknown: number[] = []
  let knownBody = ''
  let unknownBody = ''
  for (let i = 0; i < 4; i++) {
    const a = await ask(env, 'alice@acme.test', `198.51.100.${i}`)
    const b = await ask(env, `nobody-${i}@acme.test`, `198.51.100.${i}`)
    known.push(a.ms)
    unknown.push(b.ms)
    knownBody = a.res.body.replace(/name="_csrf" value="[^"]+"/g, '')
    unknownBody = b.res.body.replace(/name="_csrf" value="[^"]+"/g, '')
    t.equal(a.res.statusCode, b.res.statusCode)
  }
  t.equal(knownBody, unknownBody, 'the very same page')
  // The answer is sent before the address is looked up: no work on the way differs.
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
  t.ok(Math.abs(median(known) - median(unknown)) < 100, `medians ${median(known).toFixed(1)} and ${median(unknown).toFixed(1)} ms`)
  t.equal((await accountMails(env)).filter((m) => m.recipient === 'alice@acme.test').length, 3, 'Alice got mail (three an hour at most)')
  t.equal((await accountMails(env)).filter((m) => m.recipient !== 'alice@acme.test').length, 0, 'nobody else did')
  const requested = await env.db.selectFrom('security_event').select(['email', 'detail']).where('kind', '=', 'password_reset_requested').orderBy('id').execute()
  t.equal(requested.length, 8, 'every request is recorded')
  t.match(requested[6], { email: 'alice@acme.test', detail: 'too many requests: nothing sent' })
})

t.test('links expire, a newer one replaces the older, a disabled account gets none', async (t) => {
  let now = new Date('2026-12-06T10:00:00Z')
  const env = await testApp(t, { clock: () => now })
  await ask(env, BOB)
  await ask(env, BOB)
  const [first, second] = await accountMails(env)
  const older = await new Agent(env.app).get(first.data.linkPath)
  t.equal(older.statusCode, 410, 'the first link was replaced by the second')
  t.equal((await new Agent(env.app).get(second.data.linkPath)).statusCode, 200)
  now = new Date('2026-12-06T11:00:01Z')
  const expired = await new Agent(env.app).get(second.data.linkPath)
  t.equal(expired.statusCode, 410)
  t.match(expired.body, 'This link has expired')
  t.equal((await new Agent(env.app).get('/password/reset/not-a-token-we-ever-sent-at-all')).statusCode, 404)
  t.equal((await new Agent(env.app).get('/password/reset/x')).statusCode, 404)

  await setAccountActive({ db: env.db, clock: () => now, random: Math.random }, SYSTEM, { email: 'carol@acme.test', active: false })
  await ask(env, 'carol@acme.test', '192.0.2.1')
  t.equal((await accountMails(env)).filter((m) => m.recipient === 'carol@acme.test').length, 0, 'a disabled account gets no link')
})

t.test('an invitation: a person added without a password sets their own', async (t) => {
  const env = await testApp(t, { env: { PUBLIC_URL: 'https://help.example.com' } })
  const deps = { db: env.db, clock: () => new Date(), random: Math.random }
  const added = await addPerson(deps, { role: 'staff', email: 'nina@casebridge.test', name: 'Nina Park', password: null, invite: true, accountIds: [], manager: false, deskIds: [env.ids.desk['Product Support']] })
  t.ok(added.ok)
  t.equal((await new Agent(env.app).post('/login', { email: 'nina@casebridge.test', password: '' })).statusCode, 401, 'no password yet: no login')
  const [mail] = await accountMails(env)
  t.match(mail, { recipient: 'nina@casebridge.test', template: 'account.invitation' })
  t.match(mail.data.linkPath, /^\/invitation\//)
  const link = await env.db.selectFrom('account_link').selectAll().executeTakeFirstOrThrow()
  t.equal(Date.parse(link.expires_at) - Date.parse(link.created_at), 7 * 86_400_000, 'seven days')
  const token = mail.data.linkPath.split('/').pop()!
  t.equal((await new Agent(env.app).get(`/password/reset/${token}`)).statusCode, 404, 'an invitation is not a reset link')

  const nina = new Agent(env.app)
  const page = await nina.get(mail.data.linkPath)
  t.equal(page.statusCode, 200)
  t.match(page.body, 'Welcome: set your password')
  const set = await nina.post(mail.data.linkPath, { password: 'ninas-own-password', confirm_password: 'ninas-own-password' }, { csrfFrom: mail.data.linkPath })
  t.equal(set.statusCode, 302)
  const logged = await nina.post('/login', { email: 'nina@casebridge.test', password: 'ninas-own-password' })
  t.equal(logged.headers.location, '/desk')
  const kinds = (await env.db.selectFrom('security_event').select('kind').where('staff_id', '=', added.ok ? added.value.id : 0).orderBy('id').execute()).map((e) => e.kind)
  t.same(kinds, ['invitation_sent', 'login_failed', 'invitation_accepted', 'login'])
})
