// Hostile `next` values against every place that takes one (the login page, the login form, and
// a logged-in visit to the login page): every answer stays on the site, none is a 5xx, and the
// value never reaches a response header unless it is a plain path of ours.
import t from 'tap'
import { Agent, DEMO_PASSWORDS, loginAs, testApp } from '../helpers/app.js'
import { safeNext } from '../../src/routes/safe-next.js'

const HOSTILE = [
  'https://evil.test/', 'http://evil.test', '//evil.test', '///evil.test', '////evil.test/x', '/\\evil.test', '\\\\evil.test',
  '/\\/evil.test', '\\/evil.test', '/%5Cevil.test', '/%5C%5Cevil.test', '%2F%2Fevil.test', '/%2F%2Fevil.test', '/%2f/evil.test',
  '/\t/evil.test', '/\n/evil.test', '\t//evil.test', ' //evil.test', '/ /evil.test', '/%09/evil.test', '/%0a/evil.test',
  '/%0d%0aSet-Cookie:%20x=1', '/\r\nSet-Cookie: x=1', '/\u0000/evil.test', '/%00/evil.test', 'javascript:alert(1)',
  'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'evil.test', '.evil.test',
  '@evil.test', '/@evil.test/..', 'https:evil.test', 'https:/evil.test', '/\u3002evil.test', '//evil%E3%80%82test',
  '/\u2028/evil.test', '/\u00a0/evil.test', '/\uFF0F\uFF0Fevil.test', '\uFF0F\uFF0Fevil.test', '/é', '//evil.test@casebridge',
  '/.//evil.test', '/x'.repeat(1500), 'http://127.0.0.1:1/', '/\x7f/evil.test', '/%7f/evil.test', ''
]

/** The value as a test name can hold it (tap's output is line-based: U+2028 would cut it). */
const show = (value: string) => JSON.stringify(value).slice(0, 60).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** A Location header that keeps the browser on this site. */
function onSite(location: string | undefined): boolean {
  if (location === undefined) return true
  if (!location.startsWith('/') || location.startsWith('//') || /[\\\s\x00-\x1f\x7f]/.test(location)) return false
  return new URL(location, 'https://casebridge.example').origin === 'https://casebridge.example'
}

t.test('safeNext takes plain paths of this site and nothing else', async (t) => {
  for (const value of HOSTILE) t.equal(safeNext(value), null, show(value))
  for (const value of ['/portal', '/desk/tickets/42#note-7', '/portal/search?q=hello%20world&state=open', '/portal/tickets/1?tab=history']) {
    t.equal(safeNext(value), value, value)
  }
  t.equal(safeNext(undefined), null)
  t.equal(safeNext(['/portal']), null)
})

t.test(`${HOSTILE.length} hostile next values: every answer stays on the site, none is a 5xx`, async (t) => {
  t.ok(HOSTILE.length >= 30)
  const env = await testApp(t, { env: { LOGIN_RATE_LIMIT: '1000' } })
  const alice = await loginAs(env.app, 'alice@acme.test')
  const anonymous = new Agent(env.app)
  for (const value of HOSTILE) {
    const name = show(value)
    const query = encodeURIComponent(value)
    // Logged in: the login page sends the person on.
    const visit = await alice.get(`/login?next=${query}`)
    t.ok(visit.statusCode < 500, `${name}: logged-in visit is not a 5xx (${visit.statusCode})`)
    t.ok(onSite(visit.headers.location as string | undefined), `${name}: logged-in visit stays (${visit.headers.location})`)
    // Anonymous: the page renders; the value may only come back inside the form, escaped.
    const page = await anonymous.get(`/login?next=${query}`)
    t.ok(page.statusCode < 500, `${name}: login page is not a 5xx (${page.statusCode})`)
    t.notMatch(page.body, /value="[^"]*evil\.test/, `${name}: not carried in the form`)
    // The login form itself.
    const agent = new Agent(env.app)
    const login = await agent.post('/login', { email: 'bob@acme.test', password: DEMO_PASSWORDS.client, next: value })
    t.ok(login.statusCode < 500, `${name}: login is not a 5xx (${login.statusCode})`)
    t.equal(login.statusCode, 302, `${name}: logged in`)
    if (login.statusCode === 302) {
      t.ok(onSite(login.headers.location as string), `${name}: login redirects on the site (${login.headers.location})`)
      t.notMatch(String(login.headers.location), /evil|javascript|data:|Set-Cookie/i, `${name}: to a page of ours`)
    }
    for (const res of [visit, page, login]) t.notOk(JSON.stringify(res.headers).includes('x=1'), `${name}: no header injected`)
  }
})

t.test('a plain path of ours is kept through the login', async (t) => {
  const env = await testApp(t)
  const agent = new Agent(env.app)
  const first = await agent.get('/portal/tickets/1?tab=history')
  t.equal(first.statusCode, 302)
  t.equal(first.headers.location, `/login?next=${encodeURIComponent('/portal/tickets/1?tab=history')}`)
  const page = await agent.get(first.headers.location as string)
  t.match(page.body, 'value="/portal/tickets/1?tab=history"')
  const login = await agent.post('/login', { email: 'alice@acme.test', password: DEMO_PASSWORDS.client, next: '/portal/tickets/1?tab=history' })
  t.equal(login.headers.location, '/portal/tickets/1?tab=history')
})
