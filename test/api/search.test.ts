import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { apiToken, testApp } from '../helpers/app.js'
import { contactActor, staffActor } from '../helpers/tickets.js'
import type { TransitionRequest } from '../helpers/commands.js'
import type { Priority } from '../../src/domain/lifecycle.js'
import { addNote, createTicket, deleteTicket, performerOf, transition } from '../helpers/commands.js'

// The advanced search through GET /api/v1/tickets, under the API's own parameter names
// (API_PARAMS in src/domain/search.ts). SLA statuses are judged at the app clock, NOW.
const NOW = new Date('2025-01-23T12:00:00.000Z')
const time = (s: string) => new Date(`2025-01-${s}:00.000Z`)

const env = await testApp(t, { clock: () => NOW })
const { app, db, ids } = env
const ana = performerOf(await staffActor(db, ids, 'ana@casebridge.test'))
const admin = performerOf(await staffActor(db, ids, 'admin@casebridge.test'))

interface Spec {
  contact: string
  account: string
  desk: string
  item?: string
  product?: string
  type?: 'incident' | 'request'
  priority: Priority
  title: string
  opened: string
  steps?: [TransitionRequest['action'], string, Partial<TransitionRequest>?][]
  replied?: string
  assignee: string | null
}
const SPECS: Record<string, Spec> = {
  A1: { contact: 'bob@acme.test', account: 'Acme Corporation', desk: 'Service Desk', item: 'Printer problem', priority: 'medium',
    title: 'Printer jams on duplex', opened: '06T09:00', assignee: 'bruno' },
  A2: { contact: 'alice@acme.test', account: 'Acme Corporation', desk: 'Product Support', product: 'Casebridge Cloud', priority: 'high',
    title: 'Cloud console login fails', opened: '07T10:00', steps: [['pick_up', '07T10:30']], assignee: 'ana' },
  G1: { contact: 'gina@globex.test', account: 'Globex Industries', desk: 'Product Support', product: 'Billing', priority: 'high',
    title: 'Invoice VAT rate wrong', opened: '07T15:00', assignee: 'carla' },
  A3: { contact: 'bob@acme.test', account: 'Acme Corporation', desk: 'Service Desk', item: 'Password reset', type: 'request', priority: 'low',
    title: 'Password reset for intern', opened: '08T11:00',
    steps: [['pick_up', '08T12:00'], ['resolve', '09T10:00', { resolution: 'Done.' }], ['accept', '10T09:00'], ['close', '10T09:00', { closureCategory: 'solved' }]], assignee: 'bruno' },
  G2: { contact: 'hank@globex.test', account: 'Globex Industries', desk: 'Service Desk', item: 'Application error', priority: 'critical',
    title: 'Application error on save', opened: '09T09:00', steps: [['cancel', '11T08:00', { reason: 'Works again.' }]], assignee: null },
  I1: { contact: 'ian@initech.test', account: 'Initech Ltd', desk: 'Service Desk', item: 'Printer problem', priority: 'low',
    title: 'Printer offline', opened: '22T09:00', replied: '22T10:00', assignee: null }
}

// Manager approval (a request held in awaiting_approval) is not what this file is about.
await db.updateTable('category').set({ requires_approval: 0 }).execute()
for (const d of await db.selectFrom('ticket').select('id').execute()) await deleteTicket(db, admin, d.id, 'not in this dataset', time('01T00:00'))
const number: Record<string, number> = {}
for (const [label, s] of Object.entries(SPECS)) {
  const contactId = ids.contact[s.contact]
  const ticket = await createTicket(db, {
    title: s.title, description: 'Details.', url: null, accountId: ids.account[s.account], contactId, createdByStaffId: null,
    productId: s.product ? ids.product[s.product] : null, categoryId: s.item ? ids.category[s.item] : null, deskId: ids.desk[s.desk],
    priority: s.priority, ticketType: s.type ?? 'incident', source: 'api', files: []
  }, { actor: { type: 'contact', id: contactId, name: s.contact }, now: time(s.opened).toISOString(), random: () => 0 })
  number[label] = ticket.number
  const requester = performerOf(await contactActor(db, ids, s.contact))
  for (const [action, when, extra] of s.steps ?? []) {
    await transition(db, action === 'accept' || action === 'cancel' ? requester : ana, ticket.id, { action, ...extra }, time(when), () => 0)
  }
  if (s.replied) {
    await addNote(db, { ticketId: ticket.id, kind: 'reply', visibility: 'public', body: 'On it.', source: 'portal', files: [] },
      { actor: ana.ref, now: time(s.replied).toISOString() })
  }
  await db.updateTable('ticket').set({ assignee_id: s.assignee ? ids.staff[`${s.assignee}@casebridge.test`] : null }).where('id', '=', ticket.id).execute()
}

type Json = any
const tokens = new Map<string, string>()
async function get(email: string, query: string): Promise<{ status: number; body: Json }> {
  if (!tokens.has(email)) tokens.set(email, await apiToken(db, email))
  const res = await (app as FastifyInstance).inject({ url: `/api/v1/tickets${query ? `?${query}` : ''}`, headers: { authorization: `Bearer ${tokens.get(email)}` } })
  return { status: res.statusCode, body: res.json() }
}
const label = (n: number) => Object.keys(number).find((l) => number[l] === n) ?? `#${n}`
/** The labels found, in the order the API lists them. */
async function found(email: string, query: string): Promise<string[]> {
  const res = await get(email, query)
  if (res.status !== 200) throw new Error(`${email} ?${query}: ${res.status} ${JSON.stringify(res.body)}`)
  t.equal(res.body.total, res.body.items.length, `total of ?${query}`)
  return (res.body.items as { number: number }[]).map((i) => label(i.number))
}
const set = async (email: string, query: string) => (await found(email, query)).sort()
const p = (params: Record<string, string | number>) => new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()

const ADMIN = 'admin@casebridge.test'
const sd = ids.desk['Service Desk']
const ps = ids.desk['Product Support']
const bruno = ids.staff['bruno@casebridge.test']

t.test('each filter alone, under its API name', async (t) => {
  const cases: [Record<string, string | number>, string[]][] = [
    [{}, ['A1', 'A2', 'A3', 'G1', 'G2', 'I1']],
    [{ q: 'printer' }, ['A1', 'I1']],
    [{ title: 'login' }, ['A2']],
    [{ number: number.A2 }, ['A2']],
    [{ openedFrom: '2025-01-08' }, ['A3', 'G2', 'I1']],
    [{ openedTo: '2025-01-07' }, ['A1', 'A2', 'G1']],
    [{ closedFrom: '2025-01-10', closedTo: '2025-01-10' }, ['A3']],
    [{ closedTo: '2025-01-11' }, ['A3', 'G2']],
    [{ situation: 'open' }, ['A1', 'A2', 'G1', 'I1']],
    [{ situation: 'cancelled' }, ['G2']],
    [{ state: 'in_progress' }, ['A2']],
    [{ status: 'completed' }, ['A3']],
    [{ deskId: ps }, ['A2', 'G1']],
    [{ type: 'request' }, ['A3']],
    [{ areaId: ids.category.Hardware }, ['A1', 'I1']],
    [{ itemId: ids.category['Password reset'] }, ['A3']],
    [{ productId: ids.product['Casebridge Cloud'] }, ['A2']],
    [{ priority: 'high' }, ['A2', 'G1']],
    [{ assigneeId: bruno }, ['A1', 'A3']],
    [{ assigneeId: 'none' }, ['G2', 'I1']],
    [{ requesterId: ids.contact['bob@acme.test'] }, ['A1', 'A3']],
    [{ accountId: ids.account['Globex Industries'] }, ['G1', 'G2']],
    [{ sla: 'breached' }, ['A1', 'A2', 'G1']],
    [{ sla: 'on_track' }, ['I1']],
    [{ sla: 'achieved' }, ['A3']],
    [{ scope: 'unassigned' }, ['G2', 'I1']]
  ]
  for (const [params, expected] of cases) t.same(await set(ADMIN, p(params)), expected, `admin: ${p(params) || 'no filter'}`)
  t.same(await set('bruno@casebridge.test', p({ scope: 'mine' })), ['A1', 'A3'], 'bruno: scope=mine')
  t.same(await set('bruno@casebridge.test', p({ deskId: ps })), [], 'bruno: another desk he has nothing assigned on')
  t.same(await set('bruno@casebridge.test', p({ sla: 'breached' })), ['A1'], 'bruno: his desk only')
  t.ok((await found(ADMIN, p({ q: `#${number.G1}` }))).includes('G1'), 'q=#number finds the ticket')
})

t.test('filters combined', async (t) => {
  t.same(await set(ADMIN, p({ deskId: sd, priority: 'low', openedFrom: '2025-01-01', openedTo: '2025-01-31', situation: 'open' })), ['I1'],
    'desk + priority + opened between + status group')
  t.same(await found(ADMIN, p({ areaId: ids.category.Hardware, sort: 'priority', order: 'asc' })), ['I1', 'A1'], 'area sorted by priority asc')
  t.same(await found(ADMIN, p({ areaId: ids.category.Hardware, requesterId: ids.contact['bob@acme.test'], sort: 'priority', order: 'asc' })), ['A1'],
    'area + requester + sort')
  t.same(await set(ADMIN, p({ title: 'reset', closedFrom: '2025-01-01', closedTo: '2025-01-31' })), ['A3'], 'title words + closed between')
  t.same(await set(ADMIN, p({ sla: 'breached', assigneeId: bruno })), ['A1'], 'sla breached + assignee')
  t.same(await set(ADMIN, p({ accountId: ids.account['Acme Corporation'], type: 'incident', situation: 'all' })), ['A1', 'A2'], 'account + type')
  t.same(await found(ADMIN, p({ situation: 'all', sort: 'closedAt', order: 'desc' })), ['G2', 'A3', 'I1', 'G1', 'A2', 'A1'],
    'sorted by closing time, never closed last')
  for (const sort of ['createdAt', 'updatedAt', 'number', 'priority', 'title', 'closedAt']) {
    for (const order of ['asc', 'desc']) {
      const res = await get(ADMIN, p({ sort, order }))
      t.equal(res.status, 200, `sort=${sort}&order=${order} is accepted`)
      t.equal(res.body.items?.length, 6)
    }
  }
  t.same(await found(ADMIN, p({ sort: 'createdAt', order: 'asc' })), ['A1', 'A2', 'G1', 'A3', 'G2', 'I1'], 'oldest first')
  t.same(await found(ADMIN, p({ sort: 'priority', order: 'desc' })), ['G2', 'G1', 'A2', 'A1', 'I1', 'A3'], 'most urgent first')
  const page2 = await get(ADMIN, p({ sort: 'number', order: 'asc', perPage: 4, page: 2 }))
  t.same(page2.body.items.map((i: { number: number }) => label(i.number)), ['G2', 'I1'], 'page 2')
  t.equal(page2.body.total, 6, 'the total counts every page')
})

t.test('invalid values are refused with the field named', async (t) => {
  // Shapes the schema refuses: 400.
  const shapes: [Record<string, string>, string][] = [
    [{ deskId: 'abc' }, 'deskId'],
    [{ areaId: '0' }, 'areaId'],
    [{ itemId: '-1' }, 'itemId'],
    [{ priority: 'urgent' }, 'priority'],
    [{ type: 'problem' }, 'type'],
    [{ sla: 'late' }, 'sla'],
    [{ situation: 'lost' }, 'situation'],
    [{ status: 'done' }, 'status'],
    [{ sort: 'closed_at' }, 'sort'],
    [{ openedFrom: '01/02/2025' }, 'openedFrom'],
    [{ closedTo: '2025-1-5' }, 'closedTo'],
    [{ number: '#12' }, 'number'],
    [{ assigneeId: 'ana' }, 'assigneeId'],
    [{ title: 'x'.repeat(201) }, 'title']
  ]
  for (const [params, field] of shapes) {
    const res = await get(ADMIN, p(params))
    t.equal(res.status, 400, `${p(params).slice(0, 40)}: 400`)
    t.equal(res.body.error?.code, 'validation_error')
    t.same(Object.keys(res.body.error?.fields ?? {}), [field], `${field} named`)
  }
  // Well-formed values that still do not fit (an impossible day, an end before its start): 422.
  const day = await get(ADMIN, p({ openedFrom: '2025-02-30' }))
  t.equal(day.status, 422)
  t.same(day.body.error.fields, { openedFrom: 'Enter a date as YYYY-MM-DD.' })
  t.match(day.body.error.message, 'openedFrom')
  const range = await get(ADMIN, p({ closedFrom: '2025-03-10', closedTo: '2025-03-01' }))
  t.equal(range.status, 422)
  t.same(Object.keys(range.body.error.fields), ['closedTo'])
  const client = await get('alice@acme.test', p({ openedFrom: '2025-01-10', openedTo: '2025-01-09', priority: 'high' }))
  t.equal(client.status, 422, 'clients get the same answer')
  t.same(Object.keys(client.body.error.fields), ['openedTo'])
})

t.test('clients see only their own tickets, whatever they pass', async (t) => {
  t.same(await set('alice@acme.test', ''), ['A1', 'A2', 'A3'], 'the Acme manager: every Acme ticket')
  t.same(await set('bob@acme.test', ''), ['A1', 'A3'])
  t.same(await set('gina@globex.test', ''), ['G1', 'G2'], 'the Globex manager: Hank\'s ticket too')
  t.same(await set('ian@initech.test', p({ situation: 'all' })), ['I1'])
  const foreign: [string, Record<string, string | number>][] = [
    ['alice@acme.test', { accountId: ids.account['Globex Industries'] }],
    ['alice@acme.test', { requesterId: ids.contact['gina@globex.test'] }],
    ['alice@acme.test', { number: number.G1 }],
    ['alice@acme.test', { q: 'invoice' }],
    ['bob@acme.test', { requesterId: ids.contact['alice@acme.test'] }],
    ['bob@acme.test', { accountId: ids.account['Initech Ltd'] }],
    ['bob@acme.test', { productId: ids.product['Casebridge Cloud'] }],
    ['gina@globex.test', { accountId: ids.account['Acme Corporation'] }],
    ['gina@globex.test', { requesterId: ids.contact['bob@acme.test'], areaId: ids.category.Hardware }],
    ['gina@globex.test', { number: number.I1 }]
  ]
  for (const [email, params] of foreign) {
    const res = await get(email, p(params))
    t.equal(res.status, 200, `${email} ?${p(params)}: an empty list, not an error`)
    t.same(res.body.items, [], `${email} ?${p(params)}: nothing`)
    t.equal(res.body.total, 0)
  }
  t.same(await set('bob@acme.test', p({ accountId: ids.account['Acme Corporation'] })), ['A1', 'A3'], 'his account: still only his own')
  t.same(await set('alice@acme.test', p({ assigneeId: bruno })), ['A1', 'A2', 'A3'], 'assigneeId is staff-only: ignored')
  t.same(await set('alice@acme.test', p({ scope: 'unassigned', sla: 'breached' })), ['A1', 'A2'], 'scope ignored, sla applied')
})
