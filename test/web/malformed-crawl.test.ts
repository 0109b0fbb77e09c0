// Every POST route of the app, found by walking Fastify's own route table (a route added later is
// crawled too), sent a set of malformed bodies: a multipart body without a boundary or cut short,
// bodies of the wrong type, oversized and repeated fields, broken encodings. Each answer is a
// clear 4xx (an HTML page on the site, JSON under /api), never a 5xx, and nothing is written.
// Sent anonymously and as a logged-in admin with a valid CSRF token, so the bodies reach past
// the session and CSRF checks to the forms themselves.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { Agent, apiToken, loginAs, testApp, type TestEnv } from '../helpers/app.js'

/** POST routes, with their parameters filled in, from `printRoutes` (a tree, one segment per line). */
function postRoutes(app: FastifyInstance): string[] {
  const tree = app.printRoutes({ commonPrefix: false, method: 'POST' })
  const stack: string[] = []
  const routes: string[] = []
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line)
    if (!m) continue
    const depth = [...m[1]].length / 4
    stack.length = depth
    const path = (depth > 0 ? stack[depth - 1] : '') + (m[2] === '/' && depth > 0 ? '/' : m[2])
    stack[depth] = path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path
    if (m[3]?.split(', ').includes('POST')) routes.push(path)
  }
  // Logging out last: the crawl goes on as the same admin until then.
  routes.sort((a, b) => Number(a === '/logout') - Number(b === '/logout'))
  return routes.map((p) => p.replace(/:number|:id|:item/g, '1').replace(':action', 'cancel').replace(':token', 'abc'))
}

interface Body {
  name: string
  contentType?: string
  payload?: string | Buffer
  /** Put the agent's CSRF token in (urlencoded and multipart bodies). */
  csrf?: boolean
}

const BOUNDARY = '----casebridgeCrawl7MA4YWxk'
const multipart = (parts: string) => Buffer.from(parts.replace(/\n/g, '\r\n'))
const csrfPart = (csrf: string) => `--${BOUNDARY}\nContent-Disposition: form-data; name="_csrf"\n\n${csrf}\n`

function bodies(csrf: string): Body[] {
  const big = 'x'.repeat(2 * 1024 * 1024)
  return [
    { name: 'multipart without a boundary', contentType: 'multipart/form-data', payload: 'title=x' },
    { name: 'multipart with an empty boundary', contentType: 'multipart/form-data; boundary=', payload: '--\r\n\r\n' },
    { name: 'multipart cut short', contentType: `multipart/form-data; boundary=${BOUNDARY}`, payload: multipart(`${csrfPart(csrf)}--${BOUNDARY}\nContent-Disposition: form-data; name="title"\n\nHalf a ti`) },
    { name: 'multipart cut inside a file', contentType: `multipart/form-data; boundary=${BOUNDARY}`, payload: multipart(`${csrfPart(csrf)}--${BOUNDARY}\nContent-Disposition: form-data; name="files"; filename="a.txt"\nContent-Type: text/plain\n\nhello wor`) },
    { name: 'multipart with another boundary', contentType: `multipart/form-data; boundary=${BOUNDARY}`, payload: multipart(`--other\nContent-Disposition: form-data; name="title"\n\nx\n--other--\n`) },
    { name: 'multipart part without a name', contentType: `multipart/form-data; boundary=${BOUNDARY}`, payload: multipart(`${csrfPart(csrf)}--${BOUNDARY}\nContent-Disposition: form-data\n\nx\n--${BOUNDARY}--\n`) },
    { name: 'multipart with a 2 MB field', contentType: `multipart/form-data; boundary=${BOUNDARY}`, payload: multipart(`${csrfPart(csrf)}--${BOUNDARY}\nContent-Disposition: form-data; name="title"\n\n${big}\n--${BOUNDARY}--\n`) },
    { name: 'multipart with 200 fields', contentType: `multipart/form-data; boundary=${BOUNDARY}`, payload: multipart(`${csrfPart(csrf)}${Array.from({ length: 200 }, (_, i) => `--${BOUNDARY}\nContent-Disposition: form-data; name="f${i}"\n\nx\n`).join('')}--${BOUNDARY}--\n`) },
    { name: 'JSON to a page', contentType: 'application/json', payload: '{"title":"x"}' },
    { name: 'plain text', contentType: 'text/plain', payload: 'title=x' },
    { name: 'XML', contentType: 'application/xml', payload: '<title>x</title>' },
    { name: 'no content type', payload: 'title=x' },
    { name: 'a content type that is no type', contentType: ';;;', payload: 'title=x' },
    { name: 'form in UTF-16', contentType: 'application/x-www-form-urlencoded; charset=utf-16', payload: Buffer.from(`_csrf=${csrf}&title=x`, 'utf16le') },
    { name: 'form with a 2 MB field', contentType: 'application/x-www-form-urlencoded', payload: `_csrf=${encodeURIComponent(csrf)}&title=${big}`, csrf: true },
    { name: 'form with broken percent-encoding', contentType: 'application/x-www-form-urlencoded', payload: `_csrf=${encodeURIComponent(csrf)}&title=%E0%A4%A&body=%ZZ&description=%` },
    { name: 'form with invalid UTF-8', contentType: 'application/x-www-form-urlencoded', payload: Buffer.concat([Buffer.from(`_csrf=${encodeURIComponent(csrf)}&title=`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('&body=x')]) },
    { name: 'form with every field twice', contentType: 'application/x-www-form-urlencoded', payload: `_csrf=${encodeURIComponent(csrf)}&title=a&title=b&body=a&body=b&version=1&version=2&reason=a&reason=b&desk_id=1&desk_id=2&assignee_id=1&assignee_id=x&email=a&email=b&password=a&password=b&name=a&name=b&locale=en&locale=pt-BR` },
    { name: 'form with wrong types', contentType: 'application/x-www-form-urlencoded', payload: `_csrf=${encodeURIComponent(csrf)}&version=abc&desk_id=-1&assignee_id=1e999&minutes_spent=NaN&product_id=99999999999999999999&occurred_at=yesterday&expires_in_days=1.5&auto_close_days=999999999999` },
    { name: 'form with NUL and control characters', contentType: 'application/x-www-form-urlencoded', payload: `_csrf=${encodeURIComponent(csrf)}&title=a%00b&body=%1B%5B31m&reason=%07&name=%00&email=a%00%40b.test&password=%00` },
    { name: 'form with a prototype key', contentType: 'application/x-www-form-urlencoded', payload: `_csrf=${encodeURIComponent(csrf)}&__proto__=x&constructor[prototype][admin]=1&title=x` },
    { name: 'empty form', contentType: 'application/x-www-form-urlencoded', payload: '' }
  ]
}

const COUNTED = ['ticket', 'note', 'ticket_event', 'mail_outbox', 'crm_outbox', 'attachment', 'api_token', 'web_session', 'setting', 'checklist_item', 'cost_item', 'export_job'] as const

async function counts(env: TestEnv): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const table of COUNTED) out[table] = Number((await env.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  return out
}

t.test('every POST route answers malformed bodies with a clear 4xx, never a 5xx, and writes nothing', async (t) => {
  const env = await testApp(t, { env: { LOGIN_RATE_LIMIT: '100000', LOGIN_ACCOUNT_LIMIT: '100000' } })
  const routes = postRoutes(env.app)
  t.ok(routes.includes('/login'), 'the crawl includes /login')
  t.ok(routes.length >= 30, `${routes.length} POST routes found`)
  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const csrf = await admin.csrf('/admin')
  const token = await apiToken(env.db, 'admin@casebridge.test')
  const anonymous = new Agent(env.app)
  let last = await counts(env)
  let sent = 0
  let refused = 0
  for (const route of routes) {
    const api = route.startsWith('/api/')
    for (const body of bodies(csrf)) {
      for (const who of api ? ['token'] : ['admin', 'anonymous'] as const) {
        const headers: Record<string, string> = {}
        if (body.contentType !== undefined) headers['content-type'] = body.contentType
        if (who === 'token') headers.authorization = `Bearer ${token}`
        const agent = who === 'anonymous' ? anonymous : admin
        const res = who === 'token'
          ? await env.app.inject({ method: 'POST', url: route, headers, payload: body.payload })
          : await agent.request({ method: 'POST', url: route, headers, payload: body.payload })
        sent++
        const what = `${route} ← ${body.name} (${who}): ${res.statusCode}`
        if (res.statusCode >= 500) t.fail(`${what} ${res.body.slice(0, 300)}`)
        // A 200 or 302 is what a form the route reads as well-formed gets (CSRF passes, unknown fields are dropped).
        else t.pass(what)
        const now = await counts(env)
        if (res.statusCode >= 400) {
          refused++
          // A refused request wrote nothing (the session rows aside: logging in as the admin again is not the body's doing).
          if (JSON.stringify({ ...now, web_session: 0 }) !== JSON.stringify({ ...last, web_session: 0 })) t.fail(`${what}: wrote ${JSON.stringify(now)} (was ${JSON.stringify(last)})`)
          const type = String(res.headers['content-type'] ?? '')
          t.ok(api ? type.startsWith('application/json') : type.startsWith('text/html'), `${what}: answered as ${api ? 'JSON' : 'a page'} (${type})`)
        }
        last = now
      }
    }
  }
  t.ok(sent > 1000, `${sent} requests sent, ${refused} refused with a 4xx and nothing written`)
  // What was not refused was a form its route reads as well-formed (fields it does not know are
  // dropped): an export of the default search, say. Nothing else may have been written.
  const after = await counts(env)
  t.same({ ...after, export_job: 0, web_session: 0 }, { ...last, export_job: 0, web_session: 0 })
})
