import t from 'tap'
import {
  API_PARAMS, DESK_DEFAULTS, MAX_TEXT, PORTAL_DEFAULTS, URL_PARAMS, isNarrowed, readSearch, readSearchQuery, searchQuery, searchUrl,
  type ReadOptions, type SearchFilters
} from '../../src/domain/search.js'

const staff: ReadOptions = { kind: 'staff' }
const client: ReadOptions = { kind: 'contact' }
const desk: ReadOptions = { kind: 'staff', defaults: DESK_DEFAULTS }
const portal: ReadOptions = { kind: 'contact', defaults: PORTAL_DEFAULTS }

/** What a browser sends back when it follows a link written by searchQuery. */
const parse = (qs: string): Record<string, string> => Object.fromEntries(new URLSearchParams(qs))
const read = (query: Record<string, unknown>, opts: ReadOptions = staff) => readSearchQuery(query, opts)

/** One value per filter, each different from every default. */
const EVERY_FILTER: Required<SearchFilters> = {
  q: 'printer jams', title: 'duplex tray', number: 42, numbers: [4, 7],
  openedFrom: '2025-01-01', openedTo: '2025-01-31', closedFrom: '2025-02-01', closedTo: '2025-02-28',
  situation: 'waiting', state: 'resolved', status: 'waiting_for_closure', deskId: 3, ticketType: 'request', areaId: 7,
  categoryId: 8, productId: 9, priority: 'high', assigneeId: 11, requesterId: 12, accountId: 13, sla: 'at_risk',
  scope: 'unassigned', sort: 'closed_at', order: 'asc', page: 3, perPage: 50
}

t.test('every filter survives URL -> filters -> URL', async (t) => {
  const qs = searchQuery(EVERY_FILTER)
  const back = read(parse(qs))
  t.same(back.errors, {})
  t.same(back.filters, EVERY_FILTER, 'all filters read back as written')
  t.equal(searchQuery(back.filters), qs, 'and written again to the same URL')
  for (const [field, name] of Object.entries(URL_PARAMS)) {
    t.ok(qs.includes(`${name}=`), `${field} is in the URL as ${name}`)
  }

  // Each filter alone, against the desk's defaults (the staff queue's own URLs).
  for (const [field, value] of Object.entries(EVERY_FILTER) as [keyof SearchFilters, unknown][]) {
    const alone = { ...DESK_DEFAULTS, [field]: value } as SearchFilters
    const url = searchQuery(alone, DESK_DEFAULTS)
    const again = read(parse(url), desk)
    t.same(again.errors, {}, `${field}: no errors`)
    t.same(again.filters, alone, `${field}: read back from ${url}`)
    t.equal(searchQuery(again.filters, DESK_DEFAULTS), url, `${field}: same URL again`)
  }

  t.same(read({ number: '#12' }).filters, { number: 12 }, '#12 is the number 12')
  t.same(read({ number: ' 12 ' }).filters, { number: 12 }, 'spaces around a number are ignored')
  t.same(read({ assignee: 'none' }).filters, { assigneeId: 'none' }, 'unassigned')
  t.equal(searchQuery({ assigneeId: 'none' }), 'assignee=none')
  t.same(read({ q: '  printer  ' }).filters, { q: 'printer' }, 'text is trimmed')
  t.same(read({ situation: ['closed', 'open'] }).filters, { situation: 'closed' }, 'a repeated parameter: the first counts')
  t.same(read({ number: 12, desk: 3 }).filters, { number: 12, deskId: 3 }, 'numbers as numbers (an already parsed query)')
  t.same(read({ desk: '', q: '', opened_from: '', page: '' }).filters, {}, 'empty values mean "any"')
})

t.test('defaults are left out of the URL; page 1 too', async (t) => {
  t.equal(searchQuery({ ...DESK_DEFAULTS }, DESK_DEFAULTS), '')
  t.equal(searchQuery({ ...PORTAL_DEFAULTS, page: 1 }, PORTAL_DEFAULTS), '')
  t.equal(searchUrl('/desk', { ...DESK_DEFAULTS }, DESK_DEFAULTS), '/desk', 'no question mark on a default search')
  t.equal(searchUrl('/desk', { ...DESK_DEFAULTS, priority: 'high' }, DESK_DEFAULTS), '/desk?priority=high')
  t.equal(searchQuery({ ...DESK_DEFAULTS, order: 'asc', page: 2 }, DESK_DEFAULTS), 'order=asc&page=2')
  t.equal(searchQuery({ situation: 'open', deskId: 2 }, {}, { page: 4, deskId: 5 }), 'situation=open&desk=5&page=4', 'over replaces filters')
  t.equal(searchQuery({ q: 'a', title: 'b', sort: 'title' }), searchQuery({ sort: 'title', title: 'b', q: 'a' }), 'one search, one URL whatever the key order')

  const { filters } = read({}, desk)
  t.same(filters, DESK_DEFAULTS, 'an empty URL gives the defaults')
  t.not(filters, DESK_DEFAULTS, 'a copy, not the defaults object itself')
  t.same(read({}, portal).filters, PORTAL_DEFAULTS)
})

t.test('a cleared default stays cleared', async (t) => {
  // The desk opens on open tickets; `situation=` asks for every situation and must survive paging.
  const { filters, errors } = read({ situation: '' }, desk)
  t.same(errors, {})
  t.equal(filters.situation, undefined, 'situation cleared')
  t.equal(filters.scope, 'desks', 'other defaults kept')
  const qs = searchQuery(filters, DESK_DEFAULTS)
  t.equal(qs, 'situation=')
  const next = searchQuery(filters, DESK_DEFAULTS, { page: 2 })
  t.equal(next, 'situation=&page=2', 'the next page link keeps it')
  const { situation: _cleared, ...rest } = DESK_DEFAULTS
  const back = read(parse(next), desk).filters
  t.strictSame(back, { ...rest, page: 2 }, 'and reading it back too')
  t.notOk('situation' in back)

  t.equal(searchQuery({ ...DESK_DEFAULTS, scope: undefined, sort: undefined }, DESK_DEFAULTS), 'scope=&sort=')
})

t.test('bad values are reported by field and left out', async (t) => {
  const cases: [string, Record<string, string>, string, string][] = [
    ['impossible day', { opened_from: '2025-02-30' }, 'openedFrom', 'search.error.badDate'],
    ['month 13', { opened_to: '2025-13-01' }, 'openedTo', 'search.error.badDate'],
    ['not ISO', { closed_from: '01/02/2025' }, 'closedFrom', 'search.error.badDate'],
    ['short form', { closed_to: '2025-1-5' }, 'closedTo', 'search.error.badDate'],
    ['a time, not a day', { opened_from: '2025-01-05T10:00' }, 'openedFrom', 'search.error.badDate'],
    ['unknown situation', { situation: 'lost' }, 'situation', 'search.error.unknownValue'],
    ['unknown state', { state: 'frozen' }, 'state', 'search.error.unknownValue'],
    ['unknown status', { status: 'Completed' }, 'status', 'search.error.unknownValue'],
    ['unknown type', { type: 'problem' }, 'ticketType', 'search.error.unknownValue'],
    ['unknown priority', { priority: 'urgent' }, 'priority', 'search.error.unknownValue'],
    ['unknown sla', { sla: 'late' }, 'sla', 'search.error.unknownValue'],
    ['unknown sort', { sort: 'contact_id' }, 'sort', 'search.error.unknownValue'],
    ['unknown order', { order: 'up' }, 'order', 'search.error.unknownValue'],
    ['unknown scope', { scope: 'everything' }, 'scope', 'search.error.unknownValue'],
    ['desk not a number', { desk: 'service' }, 'deskId', 'search.error.unknownValue'],
    ['desk zero', { desk: '0' }, 'deskId', 'search.error.unknownValue'],
    ['negative area', { area: '-4' }, 'areaId', 'search.error.unknownValue'],
    ['fractional item', { item: '2.5' }, 'categoryId', 'search.error.unknownValue'],
    ['huge product', { product: '99999999999999' }, 'productId', 'search.error.unknownValue'],
    ['requester by name', { requester: 'bob' }, 'requesterId', 'search.error.unknownValue'],
    ['account in hex', { account: '0x10' }, 'accountId', 'search.error.unknownValue'],
    ['assignee by name', { assignee: 'ana' }, 'assigneeId', 'search.error.unknownValue'],
    ['number with letters', { number: '#12a' }, 'number', 'search.error.badNumber'],
    ['just a hash', { number: '#' }, 'number', 'search.error.badNumber'],
    ['two hashes', { number: '##12' }, 'number', 'search.error.badNumber'],
    ['page zero', { page: '0' }, 'page', 'search.error.unknownValue'],
    ['page words', { page: 'last' }, 'page', 'search.error.unknownValue']
  ]
  for (const [name, query, field, key] of cases) {
    const { filters, errors } = read({ ...query, priority: query.priority ?? 'low' })
    t.same(Object.keys(errors), [field], `${name}: only ${field} is wrong`)
    t.equal(errors[field as keyof typeof errors]?.key, key, `${name}: ${key}`)
    t.notOk(field in filters, `${name}: left out of the search`)
    if (field !== 'priority') t.equal(filters.priority, 'low', `${name}: the other filters still apply`)
  }

  const long = 'x'.repeat(MAX_TEXT + 1)
  for (const [param, field] of [['q', 'q'], ['title', 'title']] as const) {
    const { filters, errors } = read({ [param]: long })
    t.same(errors[field], { key: 'search.error.tooLong', params: { max: MAX_TEXT } }, `overlong ${field}`)
    t.notOk(field in filters)
    t.equal(read({ [param]: 'x'.repeat(MAX_TEXT) }).filters[field]?.length, MAX_TEXT, `${field} of exactly ${MAX_TEXT} is fine`)
  }

  const wrongWithDefault = read({ situation: 'lost' }, desk)
  t.equal(wrongWithDefault.filters.situation, 'open', 'a wrong value leaves the default in place')
  t.ok(wrongWithDefault.errors.situation)
})

t.test('an end before its start is refused; the same day is fine', async (t) => {
  let r = read({ opened_from: '2025-03-10', opened_to: '2025-03-09' })
  t.same(r.errors, { openedTo: { key: 'search.error.endBeforeStart' } })
  t.same(r.filters, { openedFrom: '2025-03-10' }, 'the start is kept, the end left out')
  r = read({ closed_from: '2025-03-10', closed_to: '2024-12-31' })
  t.same(r.errors, { closedTo: { key: 'search.error.endBeforeStart' } })
  t.same(r.filters, { closedFrom: '2025-03-10' })
  r = read({ opened_from: '2025-03-10', opened_to: '2025-03-10', closed_from: '2025-03-11', closed_to: '2025-04-01' })
  t.same(r.errors, {})
  t.same(r.filters, { openedFrom: '2025-03-10', openedTo: '2025-03-10', closedFrom: '2025-03-11', closedTo: '2025-04-01' })
  r = read({ opened_from: '2025-03-10', closed_to: '2025-03-01' })
  t.same(r.errors, {}, 'opened and closed ranges are independent')
  r = read({ opened_from: '2025-02-30', opened_to: '2025-01-01' })
  t.same(Object.keys(r.errors), ['openedFrom'], 'a bad start does not make the end wrong')
  t.same(r.filters, { openedTo: '2025-01-01' })
})

t.test('staff-only filters are ignored for clients', async (t) => {
  const query = { scope: 'mine', assignee: '4', priority: 'high' }
  const r = read(query, client)
  t.same(r.errors, {}, 'no error either: the portal never offers them')
  t.same(r.filters, { priority: 'high' })
  t.same(read({ scope: 'bogus', assignee: 'bogus' }, client).errors, {}, 'not even checked')
  t.same(read(query, staff).filters, { scope: 'mine', assigneeId: 4, priority: 'high' }, 'staff get them')
  t.same(read({ requester: '5', account: '6' }, client).filters, { requesterId: 5, accountId: 6 },
    'requester and account are read for clients (the repository keeps them to their own tickets)')
  t.same(read({}, portal).filters.scope, undefined)
})

t.test('the API reads the same filters under camelCase names', async (t) => {
  const api: Record<string, string> = {
    q: 'vat', title: 'invoice', number: '#7', openedFrom: '2025-01-01', openedTo: '2025-01-02', closedFrom: '2025-01-03',
    closedTo: '2025-01-04', situation: 'closed', state: 'closed', status: 'completed', deskId: '2', type: 'incident',
    areaId: '3', itemId: '4', productId: '5', priority: 'critical', assigneeId: 'none', requesterId: '6', accountId: '7',
    sla: 'breached', scope: 'mine'
  }
  const r = readSearch((name) => api[name], API_PARAMS, staff)
  t.same(r.errors, {})
  t.same(r.filters, {
    q: 'vat', title: 'invoice', number: 7, openedFrom: '2025-01-01', openedTo: '2025-01-02', closedFrom: '2025-01-03',
    closedTo: '2025-01-04', situation: 'closed', state: 'closed', status: 'completed', deskId: 2, ticketType: 'incident',
    areaId: 3, categoryId: 4, productId: 5, priority: 'critical', assigneeId: 'none', requesterId: 6, accountId: 7,
    sla: 'breached', scope: 'mine'
  })
  const own = readSearch((name) => ({ sort: 'closedAt', order: 'asc', page: '2', perPage: '5' } as Record<string, string>)[name], API_PARAMS, staff)
  t.same(own, { filters: {}, errors: {} }, 'sort, order and paging are the API\'s own (camelCase sort names), not read here')
  t.same(readSearch((name) => ({ desk: '2', deskId: 'x' } as Record<string, string>)[name], API_PARAMS, staff).errors,
    { deskId: { key: 'search.error.unknownValue' } }, 'the URL names mean nothing to the API')
})

t.test('isNarrowed', async (t) => {
  t.notOk(isNarrowed({ ...DESK_DEFAULTS }, DESK_DEFAULTS))
  t.notOk(isNarrowed({ ...DESK_DEFAULTS, sort: 'title', page: 3 }, DESK_DEFAULTS), 'sorting and paging do not narrow')
  t.ok(isNarrowed({ ...DESK_DEFAULTS, situation: 'closed' }, DESK_DEFAULTS))
  t.ok(isNarrowed({ assigneeId: 'none' }))
  t.ok(isNarrowed({ closedTo: '2025-01-01' }))
})

t.test('rows per page: 25, 50 or 100 for staff; anything else falls back without a message', async (t) => {
  t.same(read({ per_page: '50' }, desk).filters.perPage, 50)
  t.equal(searchQuery(read({ per_page: '100' }, desk).filters, DESK_DEFAULTS), 'per_page=100')
  t.equal(searchQuery(read({ per_page: '25' }, desk).filters, DESK_DEFAULTS), '', 'the default is left out of the URL')
  for (const bad of ['7', '1000', '-50', '50.0', 'x', '', '0x32']) {
    const back = read({ per_page: bad }, desk)
    t.equal(back.filters.perPage, 25, `${JSON.stringify(bad)} falls back`)
    t.same(back.errors, {})
  }
  t.equal(read({ per_page: '50' }, client).filters.perPage, undefined, 'the portal does not read it')
})

t.test('ticket numbers: a list for staff, in order, each once; a wrong one or too many is reported', async (t) => {
  t.same(read({ numbers: '7,#4, 7' }).filters.numbers, [4, 7])
  t.equal(searchQuery(read({ numbers: '7,4' }).filters), 'numbers=4%2C7')
  t.same(read({ numbers: '4,x' }).errors, { numbers: { key: 'search.error.badNumber' } })
  t.same(read({ numbers: Array.from({ length: 1001 }, (_, i) => i + 1).join(',') }).errors, { numbers: { key: 'search.error.badNumber' } })
  t.equal(read({ numbers: '4' }, client).filters.numbers, undefined, 'the portal does not read it')
  t.ok(isNarrowed({ numbers: [4] }))
})
