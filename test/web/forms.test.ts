// Form bodies are what the form posts, nothing else: a JSON body is refused on the pages, and no
// body can pass off a file on the server as an upload.
import t from 'tap'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { csrfFrom, loginAs, testApp } from '../helpers/app.js'

t.test('a forged "uploaded file" never takes a file from the server', async (t) => {
  const env = await testApp(t)
  const bob = await loginAs(env.app, 'bob@acme.test')
  const secret = join(env.dir, 'planted-secret.txt')
  writeFileSync(secret, 'do not leak')
  const page = await bob.get('/portal/tickets/2')
  t.equal(page.statusCode, 200)
  const csrf = csrfFrom(page.body)
  const notesBefore = await env.db.selectFrom('note').select('id').execute()
  const forged = { filename: 'x.txt', contentType: 'text/plain', size: 11, sha256: 'a'.repeat(64), tmpPath: secret, truncated: false }

  const json = await bob.request({
    method: 'POST', url: '/portal/tickets/2/replies', headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ _csrf: csrf, body: 'here is a file', attachments: forged })
  })
  t.equal(json.statusCode, 415, 'the pages take no JSON')
  t.ok(existsSync(secret), 'the file stays where it was')
  t.equal((await env.db.selectFrom('note').select('id').execute()).length, notesBefore.length, 'no reply was added')
  t.equal((await env.db.selectFrom('attachment').select('id').where('filename', '=', 'x.txt').execute()).length, 0, 'no attachment row')

  // A form field can only ever be text: the same object spelled as fields is a string, not a file.
  const form = await bob.post('/portal/tickets/2/replies', { body: 'here is a file', 'attachments[tmpPath]': secret }, { csrfFrom: '/portal/tickets/2' })
  t.equal(form.statusCode, 302, 'the reply goes in')
  t.ok(existsSync(secret), 'the file still stays where it was')
  t.equal((await env.db.selectFrom('attachment').select('id').where('filename', '=', 'x.txt').execute()).length, 0, 'and nothing was attached')
})
