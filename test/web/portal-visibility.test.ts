import t, { type Test } from 'tap'
import { Agent, loginAs, testApp, type TestEnv } from '../helpers/app.js'

/** Ticket numbers of the rows of a My requests page, in the order shown. */
function rowNumbers(html: string): number[] {
  return [...html.matchAll(/<td class="nowrap"><a href="\/portal\/tickets\/(\d+)">/g)].map((m) => Number(m[1]))
}

async function noteCount(env: TestEnv): Promise<number> {
  return Number((await env.db.selectFrom('note').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
}

/** Opens a ticket through the portal with one attachment; returns its number and the attachment id. */
async function openWithFile(env: TestEnv, agent: Agent, productName: string, title: string) {
  const res = await agent.postMultipart('/portal/tickets', {
    product_id: String(env.ids.product[productName]), title, description: `${title}, details.`
  }, [{ name: 'attachments', filename: 'evidence.txt', content: `evidence for ${title}`, type: 'text/plain' }], { csrfFrom: '/portal/tickets/new' })
  if (res.statusCode !== 302) throw new Error(`could not open ticket: ${res.statusCode}`)
  const number = Number(/(\d+)$/.exec(res.headers.location as string)![1])
  const ticket = await env.db.selectFrom('ticket').select('id').where('number', '=', number).executeTakeFirstOrThrow()
  const file = await env.db.selectFrom('attachment').select('id').where('ticket_id', '=', ticket.id).executeTakeFirstOrThrow()
  return { number, attachmentId: file.id }
}

/** Every way in to a ticket answers 404 and writes nothing. */
async function assertHidden(t: Test, env: TestEnv, agent: Agent, number: number, attachmentId: number | null, who: string) {
  const page = await agent.get(`/portal/tickets/${number}`)
  t.equal(page.statusCode, 404, `${who}: ticket page 404`)
  t.match(page.body, /does not exist or you may not see it|não existe ou você não tem acesso/, `${who}: the not-found page`)
  t.equal((await agent.get(`/portal/tickets/${number}/history`)).statusCode, 404, `${who}: history 404`)
  const before = await noteCount(env)
  const reply = await agent.postMultipart(`/portal/tickets/${number}/replies`, { body: 'let me in' }, [], { csrfFrom: '/portal' })
  t.equal(reply.statusCode, 404, `${who}: reply POST 404`)
  t.equal(await noteCount(env), before, `${who}: the reply wrote nothing`)
  if (attachmentId !== null) {
    const download = await agent.get(`/attachments/${attachmentId}`)
    t.equal(download.statusCode, 404, `${who}: attachment download 404`)
    t.notMatch(download.body, 'evidence for', `${who}: not one byte of the file`)
  }
  t.notOk(rowNumbers((await agent.get('/portal')).body).includes(number), `${who}: not in My requests`)
  t.notOk(rowNumbers((await agent.get(`/portal?q=${number}`)).body).includes(number), `${who}: not found by number either`)
}

t.test('a client never sees another account\'s ticket', async (t) => {
  const env = await testApp(t)
  const hank = await loginAs(env.app, 'hank@globex.test')
  const globex = await openWithFile(env, hank, 'Billing', 'Globex invoice question')
  t.equal((await hank.get(`/attachments/${globex.attachmentId}`)).statusCode, 200, 'the requester can download it')

  for (const who of ['alice@acme.test', 'bob@acme.test', 'ian@initech.test', 'jane@initech.test']) {
    await assertHidden(t, env, await loginAs(env.app, who), globex.number, globex.attachmentId, who)
  }

  const gina = await loginAs(env.app, 'gina@globex.test')
  t.equal((await gina.get(`/portal/tickets/${globex.number}`)).statusCode, 200, 'the Globex account manager sees it')
  t.equal((await gina.get(`/attachments/${globex.attachmentId}`)).statusCode, 200)
  const acmeTicket = await env.db.selectFrom('ticket').select('number').where('account_id', '=', env.ids.account['Acme Corporation']).executeTakeFirstOrThrow()
  await assertHidden(t, env, gina, acmeTicket.number, null, 'gina (manager of another account)')
})

t.test('a non-manager never sees a colleague\'s ticket; the account manager does', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const alice = await loginAs(app, 'alice@acme.test')
  const bob = await loginAs(app, 'bob@acme.test')
  const carol = await loginAs(app, 'carol@acme.test')
  const alices = await openWithFile(env, alice, 'Casebridge Cloud', 'Alice private matter')
  const bobs = await openWithFile(env, bob, 'Mobile App', 'Bob app problem')

  await assertHidden(t, env, bob, alices.number, alices.attachmentId, 'bob (colleague)')
  await assertHidden(t, env, carol, alices.number, alices.attachmentId, 'carol (colleague, two accounts)')
  await assertHidden(t, env, carol, bobs.number, bobs.attachmentId, 'carol on bob\'s ticket')

  const acme = await db.selectFrom('ticket').select(['number', 'contact_id']).where('account_id', '=', ids.account['Acme Corporation']).orderBy('number').execute()
  const bobNumbers = acme.filter((r) => r.contact_id === ids.contact['bob@acme.test']).map((r) => r.number)
  t.same(rowNumbers((await bob.get('/portal?sort=number&order=asc')).body), bobNumbers, 'bob lists only his own tickets')
  t.same(rowNumbers((await carol.get('/portal')).body), [], 'carol has none of her own')

  const managerList = await alice.get('/portal?sort=number&order=asc')
  t.same(rowNumbers(managerList.body), acme.map((r) => r.number), 'the account manager lists every Acme ticket')
  t.match(managerList.body, /<th scope="col"(?: class="[^"]*")?>Requester<\/th>/, 'with a requester column')
  t.match(managerList.body, 'As account manager you see every ticket of Acme Corporation.')
  t.match(managerList.body, 'Bob Stone')
  const page = await alice.get(`/portal/tickets/${bobs.number}`)
  t.equal(page.statusCode, 200, 'the manager opens a colleague\'s ticket')
  t.match(page.body, 'Bob app problem')
  t.equal((await alice.get(`/portal/tickets/${bobs.number}/history`)).statusCode, 200)
  t.equal((await alice.get(`/attachments/${bobs.attachmentId}`)).statusCode, 200, 'and its attachments')
  const reply = await alice.postMultipart(`/portal/tickets/${bobs.number}/replies`, { body: 'Manager here: any update?' }, [], { csrfFrom: '/portal' })
  t.equal(reply.statusCode, 302, 'and may reply on it')
  t.match((await bob.get(`/portal/tickets/${bobs.number}`)).body, 'Manager here: any update?', 'bob sees the manager\'s reply')
})

t.test('who may enter the portal, and where contacts may not go', async (t) => {
  const env = await testApp(t)
  const { app } = env
  const anon = new Agent(app)
  for (const url of ['/portal', '/portal/tickets/new', '/portal/tickets/1', '/portal/tickets/1/history']) {
    const res = await anon.get(url)
    t.equal(res.statusCode, 302, `anonymous ${url}: to login`)
    t.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`)
  }
  const anonPost = await anon.postMultipart('/portal/tickets', { title: 'x' })
  t.not(anonPost.statusCode, 200, 'anonymous cannot post a ticket')
  t.equal(await env.db.selectFrom('ticket').select('id').where('title', '=', 'x').executeTakeFirst(), undefined)

  const alice = await loginAs(app, 'alice@acme.test')
  for (const url of ['/desk', '/desk/tickets/1', '/desk/tickets/new', '/admin', '/admin/staff']) {
    t.equal((await alice.get(url)).statusCode, 404, `a contact gets 404 at ${url}`)
  }

  for (const who of ['ana@casebridge.test', 'admin@casebridge.test']) {
    const staff = await loginAs(app, who)
    for (const url of ['/portal', '/portal/tickets/new', '/portal/tickets/1', '/portal/tickets/1/history']) {
      t.equal((await staff.get(url)).statusCode, 404, `${who} gets 404 at ${url}`)
    }
  }

  t.equal((await alice.get('/portal/tickets/999999')).statusCode, 404, 'an unknown number is 404')
  t.equal((await alice.get('/portal/tickets/abc')).statusCode, 404, 'so is something that is not a number')
  t.equal((await alice.get('/portal/tickets/0001')).statusCode, 404)
  const deleted = await env.db.updateTable('ticket').set({ deleted_at: new Date().toISOString() }).where('number', '=', 1).executeTakeFirst()
  t.equal(Number(deleted.numUpdatedRows), 1)
  t.equal((await alice.get('/portal/tickets/1')).statusCode, 404, 'a deleted ticket is gone for its requester too')
  t.notOk(rowNumbers((await alice.get('/portal')).body).includes(1))
})
