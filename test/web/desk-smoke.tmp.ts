import t from 'tap'
import { loginAs, testApp } from '../helpers/app.js'
t.test('smoke', async (t) => {
  const { app } = await testApp(t)
  const ana = await loginAs(app, 'ana@casebridge.test')
  for (const u of ['/desk', '/desk?scope=mine', '/desk/tickets/1', '/desk/tickets/1/history', '/desk/tickets/new', '/desk/tickets/new?q=ali', '/desk/tickets/new?contact=3']) {
    const r = await ana.get(u)
    console.log(u, r.statusCode)
    if (r.statusCode !== 200) console.log(r.body.slice(0, 3000))
    (await import('node:fs')).writeFileSync('/tmp/desk-smoke/' + u.replace(/[^a-z0-9]/gi, '_') + '.html', r.body)
  }
})
