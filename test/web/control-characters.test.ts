// Control characters reaching the pages: a query string holding one is a 400 page, a login with
// one is a failed login, a form field with one is refused by its command and the form comes back.
// On PostgreSQL (which refuses NUL in text) none of them may become a 500.
import t from 'tap'
import { Agent, loginAs, testApp } from '../helpers/app.js'
import { cleanFilename } from '../../src/storage/attachments.js'

t.test('a search with a NUL in its query string is a 400 page, not a server error', async (t) => {
  const env = await testApp(t)
  const bob = await loginAs(env.app, 'bob@acme.test')
  for (const url of ['/portal/?q=printer%00', '/portal/?status=%01']) {
    const res = await bob.get(url)
    t.equal(res.statusCode, 400, url)
    t.match(res.headers['content-type'], /text\/html/, `${url}: a page`)
  }
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  t.equal((await ana.get('/desk/?q=%00')).statusCode, 400, 'the desk too')
  const plain = await bob.get('/portal/?q=printer')
  t.equal(plain.statusCode, 200, `a plain search still works: ${plain.statusCode} ${plain.headers.location ?? ''}`)
})

t.test('a login with a NUL in the address is refused like a wrong password', async (t) => {
  const env = await testApp(t)
  const res = await new Agent(env.app).post('/login', { email: 'bob\u0000@acme.test', password: 'whatever' })
  t.equal(res.statusCode, 401)
  t.match(res.body, /name="email"/, 'the login page again')
})

t.test('a ticket title with a NUL comes back as a field error and nothing is stored', async (t) => {
  const env = await testApp(t)
  const bob = await loginAs(env.app, 'bob@acme.test')
  const before = (await env.db.selectFrom('ticket').select('id').execute()).length
  const res = await bob.post('/portal/tickets', { title: 'Printer\u0000 jams', description: 'It jams on page two.' }, { csrfFrom: '/portal/tickets/new' })
  t.equal(res.statusCode, 422)
  t.match(res.body, /It jams on page two\./, 'what was typed comes back')
  t.equal((await env.db.selectFrom('ticket').select('id').execute()).length, before, 'no ticket')
})

t.test('file names keep no control characters and no half of a character', async (t) => {
  t.equal(cleanFilename('re\u0000port.pdf'), 'report.pdf')
  t.equal(cleanFilename(`${'a'.repeat(199)}😀.pdf`), 'a'.repeat(199), 'the pair is not cut in half')
  t.equal(cleanFilename('x\uD800.txt'), 'x\uFFFD.txt', 'a lone surrogate becomes U+FFFD')
  t.equal(cleanFilename('../../etc/passwd'), 'passwd')
  t.equal(cleanFilename('\u0000'), 'attachment')
})
