import t from 'tap'
import { testApp } from '../helpers/app.js'

// Every page names its icon, so browsers do not ask for a /favicon.ico that is not there.
t.test('the page icon is served and every page links it', async (t) => {
  const { app } = await testApp(t)
  const icon = await app.inject({ method: 'GET', url: '/static/favicon.svg' })
  t.equal(icon.statusCode, 200)
  t.match(icon.headers['content-type'], 'image/svg+xml')
  const login = await app.inject({ method: 'GET', url: '/login' })
  t.match(login.body, '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">')
})
