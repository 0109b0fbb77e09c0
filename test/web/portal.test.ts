import t from 'tap'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { loginAs, testApp, type Agent, type TestEnv } from '../helpers/app.js'
import type { Priority } from '../../src/db/schema.js'
import { addNote, createTicket, transferTicket } from '../helpers/commands.js'

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e1a0a70000000049454e44ae426082', 'hex')

/** Ticket numbers of the rows of a My requests page, in the order shown. */
function rowNumbers(html: string): number[] {
  return [...html.matchAll(/<td class="nowrap"><a href="\/portal\/tickets\/(\d+)">/g)].map((m) => Number(m[1]))
}

async function counts(env: TestEnv) {
  const n = async (table: 'ticket' | 'attachment' | 'note' | 'ticket_event') =>
    Number((await env.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
  return { ticket: await n('ticket'), attachment: await n('attachment'), note: await n('note'), event: await n('ticket_event') }
}

/** Files kept in content-addressed storage (the tmp folder aside), on disk or in the database (FILE_STORE). */
async function storedFiles(env: TestEnv): Promise<string[]> {
  if (env.config.fileStore === 'db') return (await env.db.selectFrom('stored_blob').select('key').execute()).map((r) => r.key)
  const root = env.config.attachmentsDir
  if (!existsSync(root)) return []
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && !join(d.parentPath, d.name).startsWith(join(root, 'tmp')))
    .map((d) => d.name)
}

const NEW = { csrfFrom: '/portal/tickets/new' }

t.test('open a ticket with attachments (Save)', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const alice = await loginAs(app, 'alice@acme.test')

  const form = await alice.get('/portal/tickets/new')
  t.equal(form.statusCode, 200)
  t.match(form.body, 'Open new ticket')
  t.match(form.body, 'enctype="multipart/form-data"')
  t.notMatch(form.body, 'name="account_id"', 'one account: no account picker')
  t.match(form.body, '<optgroup label="Access &amp; accounts">')
  t.match(form.body, 'Access &amp; accounts › Password reset', 'catalog items read "Area › Item"')
  t.match(form.body, 'Casebridge Cloud')
  t.match(form.body, 'Automatic (the desk serving your choice)')
  t.match(form.body, 'name="next" value="new"')

  const res = await alice.postMultipart('/portal/tickets', {
    product_id: String(ids.product['Casebridge Cloud']), priority: 'high', title: 'Reports export times out',
    description: 'Exporting the monthly report fails after 30 seconds.\nEvery time.', url: 'https://cloud.acme.test/reports'
  }, [
    { name: 'attachments', filename: 'screenshot.png', content: PNG, type: 'image/png' },
    { name: 'attachments', filename: 'page.html', content: '<script>alert(1)</script>', type: 'text/html' }
  ], NEW)
  t.equal(res.statusCode, 302)
  const number = Number(/^\/portal\/tickets\/(\d+)$/.exec(res.headers.location as string)?.[1])
  t.ok(number > 0, 'goes to the new ticket page')

  const ticket = await db.selectFrom('ticket').selectAll().where('number', '=', number).executeTakeFirstOrThrow()
  t.equal(ticket.contact_id, ids.contact['alice@acme.test'])
  t.equal(ticket.account_id, ids.account['Acme Corporation'])
  t.equal(ticket.desk_id, ids.desk['Product Support'], 'the desk serving the product')
  t.equal(ticket.priority, 'high')
  t.equal(ticket.source, 'portal')
  t.equal(ticket.ticket_type, 'incident')
  t.equal(ticket.url, 'https://cloud.acme.test/reports')
  t.ok(ticket.assignee_id, 'the ticket got an assignee')
  const assignee = await db.selectFrom('staff').select('name').where('id', '=', ticket.assignee_id!).executeTakeFirstOrThrow()

  const page = await alice.get(res.headers.location as string)
  t.equal(page.statusCode, 200)
  t.match(page.body, `Ticket #${number} was created.`)
  t.match(page.body, 'Reports export times out')
  t.match(page.body, 'Exporting the monthly report fails after 30 seconds.')
  t.match(page.body, 'Acme Corporation')
  t.match(page.body, 'Alice Walker')
  t.match(page.body, 'Product Support')
  t.match(page.body, assignee.name, 'assignee shown')
  t.match(page.body, 'High')
  t.match(page.body, 'New')
  t.match(page.body, 'screenshot.png')
  t.match(page.body, 'href="https://cloud.acme.test/reports"')
  t.notMatch((await alice.get(res.headers.location as string)).body, 'was created', 'the flash shows once')

  const files = await db.selectFrom('attachment').selectAll().where('ticket_id', '=', ticket.id).orderBy('id').execute()
  t.equal(files.length, 2)
  t.equal(files[0].note_id, null, 'attached to the description')
  const png = await alice.get(`/attachments/${files[0].id}`)
  t.equal(png.statusCode, 200)
  t.equal(png.headers['content-type'], 'image/png')
  t.match(png.headers['content-disposition'], /^inline; filename\*=UTF-8''screenshot\.png$/)
  t.same(png.rawPayload, PNG, 'the same bytes come back')
  const html = await alice.get(`/attachments/${files[1].id}`)
  t.equal(html.headers['content-type'], 'text/html')
  t.match(html.headers['content-disposition'], /^attachment; /, 'active content is downloaded, never shown inline')

  const history = await db.selectFrom('ticket_event').select(['action', 'actor_name']).where('ticket_id', '=', ticket.id).orderBy('id').execute()
  t.same(history.map((h) => h.action), ['created', 'assigned'])
  t.equal(history[0].actor_name, 'Alice Walker')
})

t.test('Save and open new; the account picker for a contact of several accounts', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const carol = await loginAs(app, 'carol@acme.test')
  const form = await carol.get('/portal/tickets/new')
  t.match(form.body, 'name="account_id"')
  t.match(form.body, 'Acme Corporation')
  t.match(form.body, 'Globex Industries')

  const before = await counts(env)
  const missing = await carol.postMultipart('/portal/tickets', {
    category_id: String(ids.category['Password reset']), title: 'Reset my password', description: 'Locked out.'
  }, [], NEW)
  t.equal(missing.statusCode, 422, 'several accounts: the account must be chosen')
  t.match(missing.body, /id="account_id-error">This field is required\./)
  t.same(await counts(env), before)

  const res = await carol.postMultipart('/portal/tickets', {
    account_id: String(ids.account['Globex Industries']), category_id: String(ids.category['Password reset']),
    priority: 'low', title: 'Reset my password', description: 'Locked out since Monday.', next: 'new'
  }, [], NEW)
  t.equal(res.statusCode, 302)
  t.equal(res.headers.location, '/portal/tickets/new', 'back to an empty form')
  const ticket = await db.selectFrom('ticket').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
  t.equal(ticket.account_id, ids.account['Globex Industries'])
  t.equal(ticket.category_id, ids.category['Password reset'])
  t.equal(ticket.desk_id, ids.desk['Service Desk'], 'the desk serving the catalog item')
  t.equal(ticket.ticket_type, 'request', 'the type comes from the catalog item')
  const again = await carol.get('/portal/tickets/new')
  t.equal(again.statusCode, 200)
  t.match(again.body, `Ticket #${ticket.number} was created.`)
  t.notMatch(again.body, 'Reset my password', 'the form is empty')
  t.notMatch(again.body, /<option value="\d+" selected>/, 'nothing pre-selected but the priority')

  const mine = await carol.get('/portal')
  t.same(rowNumbers(mine.body), [ticket.number])
})

t.test('invalid new-ticket forms re-render with messages and create nothing', async (t) => {
  const env = await testApp(t, { env: { MAX_ATTACHMENT_MB: '0.01' } })
  const { app, ids } = env
  const alice = await loginAs(app, 'alice@acme.test')
  const good = {
    product_id: String(ids.product['Mobile App']), priority: 'medium', title: 'App crashes on start',
    description: 'Version 4.2 crashes on Android 14.', url: ''
  }
  const before = await counts(env)

  const cases: { name: string; form: Record<string, string>; files?: Parameters<Agent['postMultipart']>[2]; field: string; message: string | RegExp }[] = [
    { name: 'missing title', form: { ...good, title: '' }, field: 'title', message: 'This field is required.' },
    { name: 'missing description', form: { ...good, description: '   ' }, field: 'description', message: 'This field is required.' },
    { name: 'title too long', form: { ...good, title: 'x'.repeat(201) }, field: 'title', message: 'At most 200 characters.' },
    { name: 'bad URL', form: { ...good, url: 'javascript:alert(1)' }, field: 'url', message: 'Enter a full web address starting with http:// or https://.' },
    { name: 'not a URL', form: { ...good, url: 'cloud dot acme' }, field: 'url', message: 'Enter a full web address' },
    { name: 'neither product nor item', form: { ...good, product_id: '' }, field: 'product_id', message: 'Choose a product or a service catalog item.' },
    { name: 'unknown product', form: { ...good, product_id: '99999' }, field: 'product_id', message: 'Choose one of the options.' },
    { name: 'unknown catalog item', form: { ...good, category_id: '99999' }, field: 'category_id', message: 'Choose one of the options.' },
    { name: 'unknown desk', form: { ...good, desk_id: '99999' }, field: 'desk_id', message: 'Choose one of the options.' },
    { name: 'bad priority', form: { ...good, priority: 'urgent!!' }, field: 'priority', message: 'Choose one of the options.' },
    {
      name: 'over-size attachment', form: good, field: 'attachments', message: 'The file big.bin is larger than the 0.01 MB limit; nothing was saved.',
      files: [
        { name: 'attachments', filename: 'small.txt', content: 'fine', type: 'text/plain' },
        { name: 'attachments', filename: 'big.bin', content: Buffer.alloc(20_000, 1) }
      ]
    }
  ]
  for (const c of cases) {
    const res = await alice.postMultipart('/portal/tickets', c.form, c.files ?? [], NEW)
    t.equal(res.statusCode, 422, `${c.name}: 422`)
    t.match(res.body, 'Please correct the highlighted fields.', `${c.name}: form message`)
    t.match(res.body, `id="${c.field}-error">`, `${c.name}: message beside ${c.field}`)
    t.match(res.body, c.message, `${c.name}: says why`)
    t.match(res.body, `id="${c.field}" name="${c.field}"`, `${c.name}: the form is shown again`)
    t.same(await counts(env), before, `${c.name}: nothing created`)
  }

  const kept = await alice.postMultipart('/portal/tickets', { ...good, title: '', url: 'https://app.acme.test/x?y=1', priority: 'critical' }, [], NEW)
  t.match(kept.body, 'Version 4.2 crashes on Android 14.', 'the description is kept')
  t.match(kept.body, 'value="https://app.acme.test/x?y=1"', 'the URL is kept')
  t.match(kept.body, `<option value="${ids.product['Mobile App']}" selected>Mobile App</option>`, 'the product stays selected')
  t.match(kept.body, '<option value="critical" selected>', 'the priority stays selected')

  const foreign = await alice.postMultipart('/portal/tickets', { ...good, account_id: String(ids.account['Globex Industries']) }, [], NEW)
  t.equal(foreign.statusCode, 422, 'an account the contact does not belong to is refused')
  t.match(foreign.body, 'Choose one of the options.')

  const noCsrf = await alice.postMultipart('/portal/tickets', good, [], { noCsrf: true })
  t.equal(noCsrf.statusCode, 403, 'CSRF is checked on multipart forms too')

  t.same(await counts(env), before, 'no ticket, note, event or attachment row was written')
  t.same(await storedFiles(env), [], 'no file was kept')
})

t.test('My requests: filters, search, sort, order, pagination', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const jane = await loginAs(app, 'jane@initech.test')
  const empty = await jane.get('/portal')
  t.equal(empty.statusCode, 200)
  t.match(empty.body, 'You have not opened any tickets yet.')
  t.match(empty.body, 'Open your first ticket')

  const contactId = ids.contact['jane@initech.test']
  const priorities: Priority[] = ['low', 'medium', 'high', 'critical']
  const numbers: number[] = []
  for (let i = 1; i <= 25; i++) {
    const created = await createTicket(db, {
      title: i % 5 === 0 ? `Kangaroo sighting ${i}` : `Routine issue ${String(i).padStart(2, '0')}`,
      description: `Ticket body ${i}`, url: null, accountId: ids.account['Initech Ltd'], contactId, createdByStaffId: null,
      productId: i % 2 ? ids.product['Billing'] : null, categoryId: i % 2 ? null : ids.category['Laptop problem'],
      deskId: i % 2 ? ids.desk['Product Support'] : ids.desk['Service Desk'], priority: priorities[i % 4],
      ticketType: i % 2 ? 'incident' : 'request', source: 'portal', files: []
    }, { actor: { type: 'contact', id: contactId, name: 'Jane Jones' }, now: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() })
    numbers.push(created.number)
  }
  const byIndex = (i: number) => numbers[i - 1]
  await db.updateTable('ticket').set({ state: 'closed', status: 'completed' }).where('number', 'in', [byIndex(1), byIndex(2)]).execute()
  await db.updateTable('ticket').set({ state: 'cancelled', status: 'cancelled' }).where('number', '=', byIndex(3)).execute()
  await db.updateTable('ticket').set({ state: 'resolved', status: 'waiting_for_closure' }).where('number', '=', byIndex(4)).execute()

  const first = await jane.get('/portal')
  const rows = rowNumbers(first.body)
  t.equal(rows.length, 20, '20 per page')
  t.same(rows, [...numbers].reverse().slice(0, 20), 'newest first by default')
  t.match(first.body, '25 results')
  t.match(first.body, 'Page 1 of 2')
  t.match(first.body, 'href="/portal?page=2" rel="next"')
  for (const col of ['Ticket number', 'Title', 'Type', 'Service', 'Created on', 'Current group', 'Situation', 'Priority']) {
    // A column may carry a class that hides it on narrow screens (app.css).
    t.match(first.body, new RegExp(`<th scope="col"(?: class="[^"]*")?>${col}</th>`), `column ${col}`)
  }
  t.notMatch(first.body, />Requester<\/th>/, 'no requester column for a non-manager')
  t.match(first.body, 'Laptop problem')
  t.match(first.body, 'Billing')
  t.match(first.body, 'Incident')
  t.match(first.body, 'Request')
  t.match(first.body, 'Service Desk')

  const second = await jane.get('/portal?page=2')
  t.same(rowNumbers(second.body), [...numbers].reverse().slice(20), 'the last 5 on page 2')
  t.match(second.body, 'href="/portal" rel="prev"')

  const asc = await jane.get('/portal?sort=number&order=asc')
  t.same(rowNumbers(asc.body), numbers.slice(0, 20))
  t.match(asc.body, 'href="/portal?sort=number&amp;order=asc&amp;page=2"', 'the pager keeps the search')
  t.match(asc.body, '<option value="number" selected>')
  t.match(asc.body, '<option value="asc" selected>')
  t.same(rowNumbers((await jane.get('/portal?sort=number&order=asc&page=2')).body), numbers.slice(20))

  const byPriority = rowNumbers((await jane.get('/portal?sort=priority&order=desc')).body)
  const prio = Object.fromEntries(numbers.map((n, i) => [n, priorities[(i + 1) % 4]]))
  t.same(byPriority.slice(0, 6).map((n) => prio[n]), Array(6).fill('critical'), 'critical first')
  const byTitle = rowNumbers((await jane.get('/portal?sort=title&order=asc')).body)
  t.same(byTitle.slice(0, 5).sort((a, b) => a - b), [5, 10, 15, 20, 25].map(byIndex), 'Kangaroo… before Routine…')
  t.equal(byTitle[5], byIndex(1), 'then Routine issue 01')

  t.same(rowNumbers((await jane.get('/portal?situation=closed')).body), [byIndex(2), byIndex(1)])
  t.same(rowNumbers((await jane.get('/portal?situation=cancelled')).body), [byIndex(3)])
  t.same(rowNumbers((await jane.get('/portal?situation=waiting')).body), [byIndex(4)])
  const open = await jane.get('/portal?situation=open')
  t.match(open.body, '21 results')
  t.notOk(rowNumbers(open.body).some((n) => [1, 2, 3, 4].map(byIndex).includes(n)), 'open excludes closed, cancelled, waiting')
  t.match(open.body, '<option value="open" selected>')

  const search = await jane.get('/portal?q=kangaroo')
  t.same(rowNumbers(search.body), [25, 20, 15, 10, 5].map(byIndex), 'search words match the title')
  t.match(search.body, 'value="kangaroo"', 'the search box keeps the words')
  t.same(rowNumbers((await jane.get('/portal?q=body+7')).body), [byIndex(7)], 'search words match the description')
  t.ok(rowNumbers((await jane.get(`/portal?q=%23${byIndex(12)}`)).body).includes(byIndex(12)), 'a #number finds that ticket')
  t.same(rowNumbers((await jane.get('/portal?q=kangaroo&situation=closed')).body), [], 'filters combine')
  const nothing = await jane.get('/portal?q=zebra')
  t.match(nothing.body, 'Nothing matches these filters.')
  t.same(rowNumbers((await jane.get('/portal?q=kangaroo&sort=number&order=asc&situation=all')).body), [5, 10, 15, 20, 25].map(byIndex))

  const odd = await jane.get('/portal?situation=bogus&sort=drop+table&order=sideways&page=-3')
  t.equal(odd.statusCode, 200, 'odd values fall back to the defaults')
  t.same(rowNumbers(odd.body), rowNumbers(first.body))
  const far = await jane.get('/portal?page=9')
  t.equal(far.statusCode, 200)
  t.same(rowNumbers(far.body), [], 'past the last page: no rows')
})

t.test('ticket page, replies with attachments, conversation and history', async (t) => {
  const env = await testApp(t)
  const { app, db, ids } = env
  const alice = await loginAs(app, 'alice@acme.test')
  const ticket = await db.selectFrom('ticket').selectAll().where('title', '=', 'Cannot log in to the cloud console').executeTakeFirstOrThrow()
  const url = `/portal/tickets/${ticket.number}`

  const page = await alice.get(url)
  t.equal(page.statusCode, 200)
  t.match(page.body, 'General information')
  t.match(page.body, 'Since this morning the console answers &quot;invalid session&quot; right after login.')
  t.match(page.body, 'Thanks, we are looking into it. Which browser do you use?', 'staff reply shown')
  t.match(page.body, 'Casebridge Cloud')
  t.match(page.body, 'Open')
  t.match(page.body, `action="${url}/replies"`)

  const before = await counts(env)
  const empty = await alice.postMultipart(`${url}/replies`, { body: '   ' }, [], { csrfFrom: url })
  t.equal(empty.statusCode, 422)
  t.match(empty.body, 'Write a reply before sending.')
  t.same(await counts(env), before, 'an empty reply creates nothing')

  const res = await alice.postMultipart(`${url}/replies`, { body: 'Firefox 128 on Windows 11.' }, [
    { name: 'attachments', filename: 'console.log', content: 'ERR invalid session\n', type: 'text/plain' }
  ], { csrfFrom: url })
  t.equal(res.statusCode, 302)
  const note = await db.selectFrom('note').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
  t.equal(res.headers.location, `${url}#note-${note.id}`)
  t.equal(note.kind, 'reply')
  t.equal(note.visibility, 'public')
  t.equal(note.author_contact_id, ids.contact['alice@acme.test'])
  t.equal(note.author_name, 'Alice Walker')
  t.equal(note.source, 'portal')

  const after = await alice.get(url)
  t.match(after.body, 'Your reply was added.')
  t.match(after.body, 'Firefox 128 on Windows 11.')
  t.ok(after.body.indexOf('Which browser do you use?') < after.body.indexOf('Firefox 128 on Windows 11.'), 'newest last')
  const file = await db.selectFrom('attachment').selectAll().where('note_id', '=', note.id).executeTakeFirstOrThrow()
  t.match(after.body, `href="/attachments/${file.id}">console.log</a>`)
  const download = await alice.get(`/attachments/${file.id}`)
  t.equal(download.statusCode, 200)
  t.equal(download.headers['content-type'], 'text/plain')
  t.equal(download.body, 'ERR invalid session\n')

  const history = await alice.get(`${url}/history`)
  t.equal(history.statusCode, 200)
  t.match(history.body, 'aria-current="page">History')
  t.match(history.body, 'Created the ticket')
  t.match(history.body, 'Assigned')
  t.match(history.body, /Alice Walker<\/td>\s*<td>Replied/)
  // The demo's first answer is a staff note shown to the requester: a note, not a reply.
  t.match(history.body, /Ana Souza<\/td>\s*<td>Added a note for the requester/)
})

t.test('a reply with an over-size file creates nothing', async (t) => {
  const env = await testApp(t, { env: { MAX_ATTACHMENT_MB: '0.01' } })
  const alice = await loginAs(env.app, 'alice@acme.test')
  const before = await counts(env)
  const res = await alice.postMultipart('/portal/tickets/1/replies', { body: 'Here is the dump.' }, [
    { name: 'attachments', filename: 'dump.bin', content: Buffer.alloc(30_000, 7) }
  ], { csrfFrom: '/portal/tickets/1' })
  t.equal(res.statusCode, 422)
  t.match(res.body, 'The file dump.bin is larger than the 0.01 MB limit; nothing was saved.')
  t.match(res.body, 'Here is the dump.', 'the reply text is kept')
  t.same(await counts(env), before)
  t.same(await storedFiles(env), [])
})

t.test('internal notes and transfer notes are never shown to clients', async (t) => {
  const env = await testApp(t)
  const { app, db, ids, store } = { ...env, store: env.app.store }
  const ticket = await db.selectFrom('ticket').selectAll().where('title', '=', 'Printer on 3rd floor jams').executeTakeFirstOrThrow()
  const ana = { type: 'staff' as const, id: ids.staff['ana@casebridge.test'], name: 'Ana Souza' }
  const secretFile = await store.keepBuffer('salaries.csv', 'text/csv', Buffer.from('name,salary\n'))
  await addNote(db, { ticketId: ticket.id, kind: 'internal', visibility: 'internal', body: 'SECRET: the client broke it himself', source: 'portal', files: [secretFile] }, { actor: ana, now: new Date().toISOString() })
  await addNote(db, { ticketId: ticket.id, kind: 'reply', visibility: 'public', body: 'We sent a technician.', source: 'portal', files: [] }, { actor: ana, now: new Date().toISOString() })
  const target = ticket.assignee_id === ids.staff['bruno@casebridge.test'] ? 'ana@casebridge.test' : 'bruno@casebridge.test'
  await transferTicket(db, ticket.id, { assigneeId: ids.staff[target], note: 'HUSH: between us' }, { actor: ana, now: new Date().toISOString() })
  const internalFile = await db.selectFrom('attachment').select('id').where('filename', '=', 'salaries.csv').executeTakeFirstOrThrow()

  for (const who of ['bob@acme.test', 'alice@acme.test']) {
    const agent = await loginAs(app, who)
    const page = await agent.get(`/portal/tickets/${ticket.number}`)
    t.equal(page.statusCode, 200, `${who} sees the ticket`)
    t.match(page.body, 'We sent a technician.', 'public reply shown')
    t.notMatch(page.body, 'SECRET', `${who}: internal note hidden`)
    t.notMatch(page.body, 'salaries.csv', `${who}: internal attachment hidden`)
    t.notMatch(page.body, 'HUSH', `${who}: transfer note hidden`)
    t.notMatch(page.body, 'Internal', `${who}: no internal badge`)
    const history = await agent.get(`/portal/tickets/${ticket.number}/history`)
    t.notMatch(history.body, 'HUSH', `${who}: transfer note not in history`)
    t.notMatch(history.body, 'internal note', `${who}: the internal note is not even mentioned`)
    t.match(history.body, 'Transferred', 'the transfer itself is public')
    t.match(history.body, target === 'ana@casebridge.test' ? '→ Ana Souza' : '→ Bruno Lima')
    t.equal((await agent.get(`/attachments/${internalFile.id}`)).statusCode, 404, `${who}: internal attachment 404`)
  }
  const staff = await loginAs(app, 'ana@casebridge.test')
  t.equal((await staff.get(`/attachments/${internalFile.id}`)).statusCode, 200, 'staff can download it')
})

t.test('replies to cancelled tickets are refused; a reply to a closed ticket opens a follow-up', async (t) => {
  const env = await testApp(t)
  const { app, db } = env
  const bob = await loginAs(app, 'bob@acme.test')
  const [printer, reset] = await db.selectFrom('ticket').select(['id', 'number']).where('contact_id', '=', env.ids.contact['bob@acme.test']).orderBy('id').execute()
  await db.updateTable('ticket').set({ state: 'cancelled', status: 'cancelled', cancel_reason: 'duplicate' }).where('id', '=', printer.id).execute()
  await db.updateTable('ticket').set({ state: 'closed', status: 'completed' }).where('id', '=', reset.id).execute()

  const cancelled = await bob.get(`/portal/tickets/${printer.number}`)
  t.match(cancelled.body, 'This ticket was cancelled, so it takes no more replies.')
  t.notMatch(cancelled.body, '/replies"', 'no reply box')
  const closed = await bob.get(`/portal/tickets/${reset.number}`)
  t.match(closed.body, 'This ticket is closed. Your reply will open a new follow-up ticket linked to this one.')
  t.match(closed.body, `action="/portal/tickets/${reset.number}/replies"`)

  const before = await counts(env)
  const r1 = await bob.postMultipart(`/portal/tickets/${printer.number}/replies`, { body: 'Hello?' }, [
    { name: 'attachments', filename: 'a.txt', content: 'x', type: 'text/plain' }
  ], { csrfFrom: `/portal/tickets/${printer.number}` })
  t.equal(r1.statusCode, 409)
  t.match(r1.body, 'This ticket was cancelled')
  t.same(await counts(env), before, 'nothing written')
  t.same(await storedFiles(env), [])

  const r2 = await bob.postMultipart(`/portal/tickets/${reset.number}/replies`, { body: 'Still broken' }, [], { csrfFrom: `/portal/tickets/${reset.number}` })
  t.equal(r2.statusCode, 302)
  const child = await db.selectFrom('ticket').selectAll().where('parent_id', '=', reset.id).executeTakeFirstOrThrow()
  t.equal(r2.headers.location, `/portal/tickets/${child.number}`, 'goes to the follow-up ticket')
  t.equal(child.description, 'Still broken')
  const original = await db.selectFrom('ticket').select(['state', 'status']).where('id', '=', reset.id).executeTakeFirstOrThrow()
  t.same(original, { state: 'closed', status: 'completed' }, 'the closed ticket stays closed')
})

t.test('the portal speaks Brazilian Portuguese', async (t) => {
  const { app } = await testApp(t)
  const gina = await loginAs(app, 'gina@globex.test')
  const list = await gina.get('/portal')
  t.match(list.body, 'Minhas solicitações')
  t.match(list.body, 'Número do chamado')
  t.match(list.body, 'Como gestor da conta você vê todos os chamados de Globex Industries.')
  const form = await gina.get('/portal/tickets/new')
  t.match(form.body, 'Salvar e abrir outro')
  const page = await gina.get('/portal/tickets/3')
  t.match(page.body, 'Informações gerais')
  t.match(page.body, 'Histórico')
})
