// The managed lists (issue 14, "Structure"): occurrence categories and origins, closure categories
// and cancellation reasons kept by an admin in both languages, chosen on the desk, in the portal
// and through the API, read back as labels in the reader's language; bad input names its field
// and writes nothing; an item turned off is offered nowhere new and still reads where it was used.
import t from 'tap'
import { testApp, loginAs, apiToken, type TestEnv } from '../helpers/app.js'
import { makeTicket, staffActor } from '../helpers/tickets.js'
import { performerOf, transition } from '../helpers/commands.js'
import { renderMail } from '../../src/mail/render.js'

const items = (e: TestEnv, list: string) => e.db.selectFrom('list_item').select(['code', 'label_en', 'label_pt', 'active']).where('list', '=', list).orderBy('position').execute()

async function api(e: TestEnv, token: string, method: 'GET' | 'POST', url: string, body?: unknown) {
  const res = await e.app.inject({
    method, url, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {})
  })
  return { status: res.statusCode, json: res.json() as Record<string, any> }
}

t.test('only admins reach the lists', async (t) => {
  const e = await testApp(t)
  const ana = await loginAs(e.app, 'ana@casebridge.test')
  for (const url of ['/admin/lists', '/admin/lists/closure_category', '/admin/lists/closure_category/1']) t.equal((await ana.get(url)).statusCode, 404, url)
  t.equal((await ana.post('/admin/lists/closure_category', { code: 'sneaky', label_en: 'Sneaky', label_pt: 'Sorrateiro', active: 'on' }, { csrfFrom: '/desk' })).statusCode, 404)
  t.equal((await e.db.selectFrom('list_item').select('id').where('code', '=', 'sneaky').execute()).length, 0, 'nothing written')
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  t.equal((await admin.get('/admin/lists/no_such_list')).statusCode, 404, 'a list that does not exist')
  const page = await admin.get('/admin/lists')
  t.equal(page.statusCode, 200)
  for (const name of ['Occurrence categories', 'Occurrence origins', 'Closure categories', 'Cancellation reasons', 'Workaround provided', 'Phone call', 'No longer needed']) {
    t.match(page.body, name, name)
  }
  t.match((await admin.get('/admin')).body, 'href="/admin/lists"', 'linked from the administration page')
})

t.test('a new closure category, in both languages: offered on the close form, stored as its code, read as its label, audited', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const added = await admin.post('/admin/lists/closure_category', { code: 'hw_replaced', label_en: 'Hardware replaced', label_pt: 'Hardware substituído', position: '', active: 'on' }, { csrfFrom: '/admin/lists/closure_category' })
  t.equal(added.statusCode, 302)
  t.equal(added.headers.location, '/admin/lists/closure_category')
  t.same((await items(e, 'closure_category')).at(-1), { code: 'hw_replaced', label_en: 'Hardware replaced', label_pt: 'Hardware substituído', active: 1 }, 'last in its list')
  t.same(await e.db.selectFrom('admin_audit').select(['entity', 'action', 'label']).execute(), [{ entity: 'list_item', action: 'create', label: 'Hardware replaced' }])

  const ticket = await makeTicket(e.db, e.ids, { title: 'Fan rattles' })
  const ana = performerOf(await staffActor(e.db, e.ids, 'ana@casebridge.test'))
  await transition(e.db, ana, ticket.id, { action: 'pick_up' }, new Date())
  await transition(e.db, ana, ticket.id, { action: 'resolve', resolution: 'New fan fitted.' }, new Date())
  const desk = await loginAs(e.app, 'ana@casebridge.test')
  const url = `/desk/tickets/${ticket.number}`
  const page = await desk.get(url)
  t.match(page.body, '<option value="hw_replaced" >Hardware replaced</option>', 'offered on the close form')
  const { version } = await e.db.selectFrom('ticket').select('version').where('id', '=', ticket.id).executeTakeFirstOrThrow()
  const closed = await desk.post(`${url}/actions/close`, { version: String(version), closure_category: 'hw_replaced', closure_note: '' }, { csrfFrom: url })
  t.equal(closed.statusCode, 302)
  t.match(await e.db.selectFrom('ticket').select(['state', 'closure_category']).where('id', '=', ticket.id).executeTakeFirstOrThrow(), { state: 'closed', closure_category: 'hw_replaced' })
  t.match((await desk.get(url)).body, '<dd>Hardware replaced</dd>')
  const mail = await e.db.selectFrom('mail_outbox').select(['template', 'locale', 'data']).where('ticket_id', '=', ticket.id).where('template', '=', 'ticket.close').executeTakeFirstOrThrow()
  const opts = { publicUrl: 'http://localhost:3000', defaultLocale: 'en' as const }
  t.match(renderMail({ ...mail, locale: 'en' }, opts).text, 'Closed as: Hardware replaced', 'the requester\'s mail names it')
  t.match(renderMail({ ...mail, locale: 'pt-BR' }, opts).text, 'Fechado como: Hardware substituído', 'in the requester\'s language')

  // Renamed later: the ticket reads the new label; the code stays.
  const id = (await e.db.selectFrom('list_item').select('id').where('code', '=', 'hw_replaced').executeTakeFirstOrThrow()).id
  const edited = await admin.post(`/admin/lists/closure_category/${id}`, { code: 'ignored', label_en: 'Part replaced', label_pt: 'Peça substituída', position: '5', active: 'on' }, { csrfFrom: `/admin/lists/closure_category/${id}` })
  t.equal(edited.statusCode, 302)
  t.same((await items(e, 'closure_category'))[0], { code: 'hw_replaced', label_en: 'Part replaced', label_pt: 'Peça substituída', active: 1 }, 'moved first; the code never changes')
  t.match((await desk.get(url)).body, '<dd>Part replaced</dd>')
  const log = await admin.get(`/admin/lists/closure_category/${id}`)
  t.match(log.body, 'Hardware replaced', 'the item\'s page shows its changes, before and after')
  t.match(log.body, 'Part replaced')
})

t.test('bad input is refused field by field and nothing is written', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const before = await e.db.selectFrom('list_item').selectAll().orderBy('id').execute()
  const post = (form: Record<string, string>) => admin.post('/admin/lists/occurrence_origin', { label_en: 'Chat', label_pt: 'Chat', active: 'on', ...form }, { csrfFrom: '/admin/lists/occurrence_origin' })
  const cases: [string, Record<string, string>, string, string][] = [
    ['a code with spaces and capitals', { code: 'Live Chat!' }, 'code-error', 'Use lower-case letters'],
    ['a code the list has', { code: 'phone' }, 'code-error', 'already has an item with this code'],
    ['no code', { code: '' }, 'code-error', 'This field is required.'],
    ['no English label', { code: 'chat', label_en: '  ' }, 'label_en-error', 'This field is required.'],
    ['a Portuguese label too long', { code: 'chat', label_pt: 'x'.repeat(101) }, 'label_pt-error', '100'],
    ['a position out of range', { code: 'chat', position: '-4' }, 'position-error', 'A whole number from 0 to 100000.'],
    ['a position that is no number', { code: 'chat', position: 'first' }, 'position-error', 'A whole number from 0 to 100000.']
  ]
  for (const [what, form, field, message] of cases) {
    const res = await post(form)
    t.equal(res.statusCode, 422, what)
    t.match(res.body, new RegExp(`id="${field}">[^<]*${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `${what}: ${message}`)
  }
  const id = before.find((i) => i.code === 'email' && i.list === 'occurrence_origin')!.id
  const blank = await admin.post(`/admin/lists/occurrence_origin/${id}`, { label_en: '', label_pt: 'E-mail', position: '20' }, { csrfFrom: `/admin/lists/occurrence_origin/${id}` })
  t.equal(blank.statusCode, 422)
  t.equal((await admin.get(`/admin/lists/closure_category/${id}`)).statusCode, 404, 'an item under another list is not found')
  t.equal((await admin.post(`/admin/lists/closure_category/${id}`, { label_en: 'X', label_pt: 'X' }, { csrfFrom: '/admin/lists' })).statusCode, 404)
  t.same(await e.db.selectFrom('list_item').selectAll().orderBy('id').execute(), before, 'no item added or changed')
  t.equal((await e.db.selectFrom('admin_audit').select('id').execute()).length, 0, 'nothing audited')
})

t.test('an item turned off is offered nowhere new and still reads where it was chosen', async (t) => {
  const e = await testApp(t)
  const admin = await loginAs(e.app, 'admin@casebridge.test')
  const token = await apiToken(e.db, 'ana@casebridge.test')
  const ticket = await makeTicket(e.db, e.ids, { title: 'Printer offline' })
  const ana = performerOf(await staffActor(e.db, e.ids, 'ana@casebridge.test'))
  await transition(e.db, ana, ticket.id, { action: 'pick_up' }, new Date())
  const occ = await api(e, token, 'GET', '/api/v1/lists')
  t.equal(occ.status, 200)
  t.same(occ.json.closure_category.map((i: { code: string }) => i.code), ['solved', 'workaround', 'no_response', 'duplicate', 'out_of_scope'])
  t.same(occ.json.cancellation_reason[0], { code: 'not_needed', label: { en: 'No longer needed', 'pt-BR': 'Não é mais necessário' }, active: true })

  // Staff register an occurrence through the desk with the monitoring origin, then the origin is turned off.
  const desk = await loginAs(e.app, 'ana@casebridge.test')
  const url = `/desk/tickets/${ticket.number}`
  t.equal((await desk.postMultipart(`${url}/occurrences`, { category: 'error', origin: 'monitoring', description: 'Alert at 09:58' }, [], { csrfFrom: url })).statusCode, 302)
  const monitoring = (await e.db.selectFrom('list_item').select('id').where('list', '=', 'occurrence_origin').where('code', '=', 'monitoring').executeTakeFirstOrThrow()).id
  t.equal((await admin.post(`/admin/lists/occurrence_origin/${monitoring}`, { label_en: 'Monitoring', label_pt: 'Monitoramento', position: '40' }, { csrfFrom: '/admin/lists/occurrence_origin' })).statusCode, 302)
  const page = await desk.get(url)
  t.notMatch(page.body, '<option value="monitoring"', 'no longer offered')
  t.match(page.body, '<dd>Monitoring</dd>', 'the occurrence that chose it still reads it')
  const again = await desk.postMultipart(`${url}/occurrences`, { category: 'error', origin: 'monitoring', description: 'Again' }, [], { csrfFrom: url })
  t.equal(again.statusCode, 422, 'and refused when posted anyway')
  t.match(again.body, /id="origin-error">[^<]+/)
  const lists = await api(e, token, 'GET', '/api/v1/lists?active=true')
  t.notOk(lists.json.occurrence_origin.some((i: { code: string }) => i.code === 'monitoring'), 'the API leaves it out of the active items')
  t.ok((await api(e, token, 'GET', '/api/v1/lists')).json.occurrence_origin.some((i: { code: string; active: boolean }) => i.code === 'monitoring' && !i.active), 'and marks it off in the full list')

  // The API: a label is understood as its item; an unknown category is a 4xx naming the field.
  const { version } = await e.db.selectFrom('ticket').select('version').where('id', '=', ticket.id).executeTakeFirstOrThrow()
  const resolved = await api(e, token, 'POST', `/api/v1/tickets/${ticket.id}/transitions`, { action: 'resolve', resolution: 'Cable reseated.', version })
  t.equal(resolved.status, 200, JSON.stringify(resolved.json))
  const unknown = await api(e, token, 'POST', `/api/v1/tickets/${ticket.id}/transitions`, { action: 'close', closureCategory: 'fixed-by-magic' })
  t.equal(unknown.status, 422, JSON.stringify(unknown.json))
  t.ok(unknown.json.error.fields?.closureCategory, 'names the field')
  const byLabel = await api(e, token, 'POST', `/api/v1/tickets/${ticket.id}/transitions`, { action: 'close', closureCategory: 'Workaround Provided' })
  t.equal(byLabel.status, 200, JSON.stringify(byLabel.json))
  t.equal((await e.db.selectFrom('ticket').select('closure_category').where('id', '=', ticket.id).executeTakeFirstOrThrow()).closure_category, 'workaround')
})

t.test('cancelling with a reason from the list: the client chooses one, both sides read it in their language', async (t) => {
  const e = await testApp(t)
  const ticket = await makeTicket(e.db, e.ids, { title: 'Need a new badge', contact: 'gina@globex.test', account: 'Globex Industries' })
  const gina = await loginAs(e.app, 'gina@globex.test')
  const url = `/portal/tickets/${ticket.number}`
  const page = await gina.get(url)
  t.match(page.body, '<option value="opened_by_mistake" >Aberto por engano</option>', 'offered in the client\'s language')
  const { version } = await e.db.selectFrom('ticket').select('version').where('id', '=', ticket.id).executeTakeFirstOrThrow()
  const bad = await gina.post(`${url}/actions/cancel`, { version: String(version), cancel_reason_code: 'bored', cancel_reason: '' }, { csrfFrom: url })
  t.equal(bad.statusCode, 422, 'a reason that is not in the list')
  t.match(bad.body, /id="cancel_reason_code-error">[^<]+/)
  const none = await gina.post(`${url}/actions/cancel`, { version: String(version), cancel_reason_code: '', cancel_reason: ' ' }, { csrfFrom: url })
  t.equal(none.statusCode, 422, 'neither a reason chosen nor written')
  t.equal((await e.db.selectFrom('ticket').select('state').where('id', '=', ticket.id).executeTakeFirstOrThrow()).state, 'open', 'still open')

  const done = await gina.post(`${url}/actions/cancel`, { version: String(version), cancel_reason_code: 'opened_by_mistake', cancel_reason: '' }, { csrfFrom: url })
  t.equal(done.statusCode, 302)
  t.match(await e.db.selectFrom('ticket').select(['state', 'cancel_reason', 'cancel_reason_code']).where('id', '=', ticket.id).executeTakeFirstOrThrow(),
    { state: 'cancelled', cancel_reason: null, cancel_reason_code: 'opened_by_mistake' }, 'a chosen reason is enough')
  t.match((await gina.get(url)).body, '<strong>Aberto por engano</strong>')
  const ana = await loginAs(e.app, 'ana@casebridge.test')
  t.match((await ana.get(`/desk/tickets/${ticket.number}`)).body, '<strong>Opened by mistake</strong>', 'staff read it in theirs')
  const history = await e.db.selectFrom('ticket_event').select('note').where('ticket_id', '=', ticket.id).where('to_value', '=', 'cancelled').executeTakeFirst()
  t.equal(history?.note, 'Aberto por engano', 'the history says why')
})
