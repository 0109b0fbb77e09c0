// Canned responses: personal and shared per desk, in both languages, with placeholders filled
// from the ticket in the reply box; edited only by their owner, the desk's manager or an admin.
// Both databases:
//   npx tap test/web/canned.test.ts
import t from 'tap'
import { loginAs, testApp, csrfFrom, type Agent } from '../helpers/app.js'
import { makeTicket } from '../helpers/tickets.js'
import { fillPlaceholders, unknownPlaceholders, bodyFor } from '../../src/domain/canned.js'

async function add(agent: Agent, form: Record<string, string>) {
  const page = await agent.get('/desk/canned')
  return agent.post('/desk/canned', { _csrf: csrfFrom(page.body), title: '', desk_id: '', body_en: '', body_pt: '', ...form }, { noCsrf: true })
}

const idOf = async (env: Awaited<ReturnType<typeof testApp>>, title: string) =>
  (await env.db.selectFrom('canned_response').select('id').where('title', '=', title).executeTakeFirstOrThrow()).id

t.test('placeholders: filled when known, left as written when not, and the requester\'s language chosen', async (t) => {
  const values = {
    'requester.name': 'Bob Stone', 'requester.first_name': 'Bob', 'ticket.number': '42', 'ticket.title': 'Printer', 'ticket.link': 'https://x/portal/tickets/42', 'assignee.name': 'Ana', 'me.name': 'Ana'
  }
  t.equal(fillPlaceholders('Hi {{requester.first_name}}, #{{ ticket.number }} {{nope.x}}', values), 'Hi Bob, #42 {{nope.x}}')
  t.same(unknownPlaceholders('{{requester.name}} {{requester.nmae}} {{requester.nmae}}'), ['requester.nmae'])
  t.equal(bodyFor({ body_en: 'Hello', body_pt: 'Olá' }, 'pt-BR'), 'Olá')
  t.equal(bodyFor({ body_en: 'Hello', body_pt: '' }, 'pt-BR'), 'Hello', 'the other language when theirs is missing')
  t.equal(bodyFor({ body_en: '', body_pt: 'Olá' }, null), 'Olá')
})

t.test('a personal response: its owner keeps it and sees it filled in the reply box; nobody else sees it', async (t) => {
  const env = await testApp(t)
  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const added = await add(ana, {
    title: 'Ask for a photo',
    body_en: 'Hello {{requester.first_name}},\nCould you send a photo of the display for ticket #{{ticket.number}} ({{ticket.title}})?\n{{me.name}}',
    body_pt: 'Olá {{requester.first_name}},\nPode enviar uma foto do visor (chamado #{{ticket.number}})?\n{{me.name}}'
  })
  t.equal(added.statusCode, 302)
  const list = await ana.get('/desk/canned')
  t.match(list.body, 'Ask for a photo')
  t.match(list.body, 'Only me')

  const bobTicket = await makeTicket(env.db, env.ids, { title: 'Screen flickers' })
  const page = await ana.get(`/desk/tickets/${bobTicket.number}`)
  t.match(page.body, `Hello Bob,\nCould you send a photo of the display for ticket #${bobTicket.number} (Screen flickers)?\nAna Souza`, 'filled in, in English for Bob')
  t.match(page.body, '<script src="/static/canned.js" defer></script>')
  const ginaTicket = await makeTicket(env.db, env.ids, { contact: 'gina@globex.test', account: 'Globex Industries', title: 'Tela pisca' })
  t.match((await ana.get(`/desk/tickets/${ginaTicket.number}`)).body, `Olá Gina,\nPode enviar uma foto do visor (chamado #${ginaTicket.number})?`, 'in Portuguese for Gina')

  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  t.notMatch((await bruno.get('/desk/canned')).body, 'Ask for a photo', 'not in Bruno\'s list')
  t.notMatch((await bruno.get(`/desk/tickets/${bobTicket.number}`)).body, 'Could you send a photo', 'nor in his reply box')
  const id = await idOf(env, 'Ask for a photo')
  t.equal((await bruno.get(`/desk/canned/${id}`)).statusCode, 404)
  const csrf = csrfFrom((await bruno.get('/desk/canned')).body)
  t.equal((await bruno.post(`/desk/canned/${id}/delete`, { _csrf: csrf }, { noCsrf: true })).statusCode, 404, 'nor may he delete it')

  const audit = await env.db.selectFrom('admin_audit').select('id').where('entity', '=', 'canned_response').execute()
  t.same(audit, [], 'a personal response is nobody else\'s business: not audited')
})

t.test('a shared response: the desk uses it; its owner, the desk\'s manager and an admin edit it, other members do not', async (t) => {
  const env = await testApp(t)
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  t.equal((await add(bruno, { title: 'Toner on its way', desk_id: String(env.ids.desk['Service Desk']), body_en: 'Hi {{requester.name}}, toner is on its way.' })).statusCode, 302)
  const id = await idOf(env, 'Toner on its way')
  const eva = await loginAs(env.app, 'eva@casebridge.test')
  const evaList = await eva.get('/desk/canned')
  t.match(evaList.body, 'Toner on its way', 'Eva, on the Service Desk, uses it')
  t.notMatch(evaList.body, `href="/desk/canned/${id}"`, 'but has no edit link')
  const csrf = csrfFrom(evaList.body)
  t.equal((await eva.post(`/desk/canned/${id}`, { _csrf: csrf, title: 'Mine now', desk_id: '', body_en: 'x', body_pt: '' }, { noCsrf: true })).statusCode, 404, 'nor may she change it')
  const carla = await loginAs(env.app, 'carla@casebridge.test')
  t.notMatch((await carla.get('/desk/canned')).body, 'Toner on its way', 'Carla, on another desk, does not see it')

  const ana = await loginAs(env.app, 'ana@casebridge.test')
  const edit = await ana.get(`/desk/canned/${id}`)
  t.equal(edit.statusCode, 200, 'Ana manages the Service Desk')
  const saved = await ana.post(`/desk/canned/${id}`, { _csrf: csrfFrom(edit.body), title: 'Toner on its way', desk_id: String(env.ids.desk['Service Desk']), body_en: 'Hi {{requester.first_name}}, new toner is on its way.', body_pt: '' }, { noCsrf: true })
  t.equal(saved.statusCode, 302)
  const audit = await env.db.selectFrom('admin_audit').select(['action', 'actor_name']).where('entity', '=', 'canned_response').orderBy('id').execute()
  t.same(audit.map((a) => a.action), ['create', 'update'], 'the team\'s responses are audited')

  const admin = await loginAs(env.app, 'admin@casebridge.test')
  const adminList = await admin.get('/desk/canned')
  t.match(adminList.body, `href="/desk/canned/${id}"`, 'an admin may edit any shared one')
  const gone = await admin.post(`/desk/canned/${id}/delete`, { _csrf: csrfFrom(adminList.body) }, { noCsrf: true })
  t.equal(gone.statusCode, 302)
  t.equal((await env.db.selectFrom('canned_response').select('id').execute()).length, 0)
})

t.test('refused: no text, an unknown placeholder, a desk the author is not on, and clients', async (t) => {
  const env = await testApp(t)
  const bruno = await loginAs(env.app, 'bruno@casebridge.test')
  const empty = await add(bruno, { title: 'Empty' })
  t.equal(empty.statusCode, 422)
  t.match(empty.body, 'Write the text in at least one language.')
  const typo = await add(bruno, { title: 'Typo', body_en: 'Hi {{requester.nmae}}' })
  t.equal(typo.statusCode, 422)
  t.match(typo.body, 'There is no {{requester.nmae}}')
  t.match(typo.body, 'Hi {{requester.nmae}}', 'what was typed comes back')
  const notHis = await add(bruno, { title: 'Other desk', desk_id: String(env.ids.desk['Product Support']), body_en: 'x' })
  t.equal(notHis.statusCode, 422)
  t.match(notHis.body, 'Choose one of your desks.')
  const noTitle = await add(bruno, { title: '', body_en: 'x' })
  t.equal(noTitle.statusCode, 422)
  t.equal((await env.db.selectFrom('canned_response').select('id').execute()).length, 0, 'nothing kept')
  const bob = await loginAs(env.app, 'bob@acme.test')
  t.equal((await bob.get('/desk/canned')).statusCode, 404, 'no desk for clients')
})
