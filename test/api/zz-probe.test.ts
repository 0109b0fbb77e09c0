import t from 'tap'
import { apiToken, testApp } from '/work/main/test/helpers/app.js'
t.test('probe', async (t) => {
  const { app, db } = await testApp(t)
  const token = await apiToken(db, 'alice@acme.test')
  const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  for (const payload of ['{"title":"x","description":"y","productId":1,"__proto__":{"admin":true}}', '', '{"title":"x","description":"y","productId":1,"extra":5}']) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/tickets', payload, headers: h })
    console.log(r.statusCode, r.body)
  }
  const r = await app.inject({ method: 'POST', url: '/api/v1/tickets/1', payload: '{}', headers: h })
  console.log(r.statusCode, r.body)
  const r2 = await app.inject({ method: 'GET', url: '/api/v1', headers: h })
  console.log(r2.statusCode, r2.body)
  t.pass()
})
