// The advanced ticket search as one value: read from a URL query (portal, desk, exports) or the
// API, written back to a URL so every search can be bookmarked, and handed to the ticket
// repository. Pure: no database, no request.
import { PRIORITIES, STATES, STATUSES, type Priority, type State, type Status } from './lifecycle.js'

export const SORTS = ['created_at', 'number', 'priority', 'updated_at', 'title', 'closed_at'] as const
export type Sort = (typeof SORTS)[number]

/** Status groups; `waiting` is "pending review / evaluation": resolved, waiting for the requester. */
export const SITUATIONS = ['all', 'open', 'waiting', 'closed', 'cancelled'] as const
export type Situation = (typeof SITUATIONS)[number]

export const TICKET_TYPES = ['incident', 'request'] as const
export type TicketTypeFilter = (typeof TICKET_TYPES)[number]

/** SLA status filters (the dashboard's figures link here). */
export const SLA_FILTERS = ['achieved', 'breached', 'at_risk', 'on_track', 'paused'] as const
export type SlaFilter = (typeof SLA_FILTERS)[number]

export const SCOPES = ['mine', 'desks', 'unassigned'] as const
export type Scope = (typeof SCOPES)[number]

/** Rows per page the staff queue offers (per_page); anything else falls back to the default. */
export const PER_PAGE_CHOICES = [25, 50, 100] as const

export interface SearchFilters {
  /** Words anywhere in the title or description, or `#123`. */
  q?: string
  /** Words in the title only. */
  title?: string
  number?: number
  /** Staff only: these ticket numbers (the bulk panel's export of the ticked rows), at most MAX_NUMBERS. */
  numbers?: number[]
  /** Calendar days, YYYY-MM-DD, inclusive at both ends (UTC). */
  openedFrom?: string
  openedTo?: string
  closedFrom?: string
  closedTo?: string
  situation?: Situation
  state?: State
  status?: Status
  deskId?: number
  /** The service catalog: incidents or service requests. */
  ticketType?: TicketTypeFilter
  areaId?: number
  categoryId?: number
  productId?: number
  priority?: Priority
  /** Staff only: a staff id, or 'none' for unassigned. */
  assigneeId?: number | 'none'
  requesterId?: number
  accountId?: number
  sla?: SlaFilter
  /** Staff only: 'mine', 'desks' (everything visible) or 'unassigned'. */
  scope?: Scope
  sort?: Sort
  order?: 'asc' | 'desc'
  page?: number
  perPage?: number
}

export type SearchField = keyof SearchFilters

/** A refused value: the i18n key of the message and its parameters. */
export interface SearchError {
  key: string
  params?: Record<string, string | number>
}

/** URL parameter names (snake_case, as forms send them) for each filter. */
export const URL_PARAMS: Record<SearchField, string> = {
  q: 'q', title: 'title', number: 'number', numbers: 'numbers',
  openedFrom: 'opened_from', openedTo: 'opened_to', closedFrom: 'closed_from', closedTo: 'closed_to',
  situation: 'situation', state: 'state', status: 'status', deskId: 'desk', ticketType: 'type', areaId: 'area',
  categoryId: 'item', productId: 'product', priority: 'priority', assigneeId: 'assignee', requesterId: 'requester',
  accountId: 'account', sla: 'sla', scope: 'scope', sort: 'sort', order: 'order', page: 'page', perPage: 'per_page'
}

/** Filters that narrow the result (not sort, order, page or the staff tab). */
export const NARROWING: readonly SearchField[] = [
  'q', 'title', 'number', 'numbers', 'openedFrom', 'openedTo', 'closedFrom', 'closedTo', 'situation', 'state', 'status', 'deskId',
  'ticketType', 'areaId', 'categoryId', 'productId', 'priority', 'assigneeId', 'requesterId', 'accountId', 'sla'
]

export const MAX_TEXT = 200
/** The most ticket numbers one search names (as many as a bulk action takes). */
export const MAX_NUMBERS = 1_000

function oneOf<T extends string>(value: string, options: readonly T[]): T | undefined {
  return (options as readonly string[]).includes(value) ? (value as T) : undefined
}

function positiveId(raw: string): number | undefined {
  return /^\d{1,12}$/.test(raw) && Number(raw) > 0 && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined
}

/** A real calendar day written YYYY-MM-DD. */
export function isDay(raw: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) return false
  const d = new Date(`${raw}T00:00:00.000Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === raw
}

/** The first instant of a day and of the day after it: `[from, to)` covers both days in full. */
export function dayStart(day: string): string {
  return `${day}T00:00:00.000Z`
}
export function dayAfter(day: string): string {
  return new Date(Date.parse(dayStart(day)) + 86_400_000).toISOString()
}

export interface ReadOptions {
  kind: 'staff' | 'contact'
  /** Defaults when a parameter is absent (the desk queue shows open tickets first). */
  defaults?: Partial<SearchFilters>
}

export interface ReadResult {
  filters: SearchFilters
  /** Values given but not understood, by filter; the search runs without them. */
  errors: Partial<Record<SearchField, SearchError>>
}

/**
 * Reads a search from named values (`get(name)` gives the raw text or undefined). Empty values
 * mean "any". Every value that is given but wrong is reported and left out, so a mistyped
 * bookmark still shows a list together with what was wrong with it.
 */
export function readSearch(get: (name: string) => string | undefined, names: Record<string, string>, opts: ReadOptions): ReadResult {
  const filters: SearchFilters = { ...opts.defaults }
  const errors: ReadResult['errors'] = {}
  const raw = (field: SearchField) => {
    // A filter missing from `names` is not read here (the API reads sort, order and paging itself).
    const name = names[field]
    const v = name === undefined ? undefined : get(name)
    return v === undefined ? undefined : v.trim()
  }
  const staff = opts.kind === 'staff'

  const words = (field: 'q' | 'title') => {
    const v = raw(field)
    if (v === undefined) return
    if (v.length > MAX_TEXT) errors[field] = { key: 'search.error.tooLong', params: { max: MAX_TEXT } }
    else if (v) filters[field] = v
    else delete filters[field]
  }
  words('q')
  words('title')

  const choice = <F extends 'situation' | 'state' | 'status' | 'ticketType' | 'priority' | 'sla' | 'sort' | 'order' | 'scope'>(
    field: F, options: readonly string[]) => {
    const v = raw(field)
    if (v === undefined) return
    if (v === '') { delete filters[field]; return }
    const picked = oneOf(v, options)
    if (picked === undefined) errors[field] = { key: 'search.error.unknownValue' }
    else (filters as Record<string, unknown>)[field] = picked
  }
  choice('situation', SITUATIONS)
  choice('state', STATES)
  choice('status', STATUSES)
  choice('ticketType', TICKET_TYPES)
  choice('priority', PRIORITIES)
  choice('sla', SLA_FILTERS)
  choice('sort', SORTS)
  choice('order', ['asc', 'desc'])
  if (staff) choice('scope', SCOPES)

  const ids = ['number', 'deskId', 'areaId', 'categoryId', 'productId', 'requesterId', 'accountId'] as const
  for (const field of ids) {
    const v = raw(field)
    if (v === undefined) continue
    const n = v === '' ? undefined : positiveId(field === 'number' ? v.replace(/^#/, '') : v)
    if (v === '') delete filters[field]
    else if (n === undefined) errors[field] = { key: field === 'number' ? 'search.error.badNumber' : 'search.error.unknownValue' }
    else filters[field] = n
  }
  if (staff) {
    const v = raw('assigneeId')
    if (v !== undefined && v !== '') {
      const n = v === 'none' ? 'none' : positiveId(v)
      if (n === undefined) errors.assigneeId = { key: 'search.error.unknownValue' }
      else filters.assigneeId = n
    }
    const list = raw('numbers')
    if (list !== undefined && list !== '') {
      const parts = list.split(',')
      const numbers = parts.map((p) => positiveId(p.trim().replace(/^#/, '')))
      if (parts.length > MAX_NUMBERS || numbers.some((n) => n === undefined)) errors.numbers = { key: 'search.error.badNumber' }
      else filters.numbers = [...new Set(numbers as number[])].sort((a, b) => a - b)
    }
  }

  for (const field of ['openedFrom', 'openedTo', 'closedFrom', 'closedTo'] as const) {
    const v = raw(field)
    if (v === undefined || v === '') continue
    if (isDay(v)) filters[field] = v
    else errors[field] = { key: 'search.error.badDate' }
  }
  for (const [from, to] of [['openedFrom', 'openedTo'], ['closedFrom', 'closedTo']] as const) {
    if (filters[from] && filters[to] && filters[from]! > filters[to]!) {
      errors[to] = { key: 'search.error.endBeforeStart' }
      delete filters[to]
    }
  }

  const page = raw('page')
  if (page !== undefined && page !== '') {
    const n = /^\d{1,6}$/.test(page) ? Number(page) : 0
    if (n >= 1) filters.page = n
    else errors.page = { key: 'search.error.unknownValue' }
  }
  if (staff) {
    // A length the queue does not offer is not worth a message: the default stands.
    const v = raw('perPage')
    const n = v === undefined ? undefined : Number(v)
    if ((PER_PAGE_CHOICES as readonly number[]).includes(n as number) && /^\d+$/.test(v!)) filters.perPage = n
  }
  return { filters, errors }
}

/** Reads a search from a URL query object (repeated parameters: the first one counts). */
export function readSearchQuery(query: Record<string, unknown>, opts: ReadOptions): ReadResult {
  return readSearch((name) => {
    const v = query[name]
    const first = Array.isArray(v) ? v[0] : v
    return typeof first === 'string' ? first : typeof first === 'number' ? String(first) : undefined
  }, URL_PARAMS, opts)
}

/**
 * The URL query of a search, leaving out what equals `defaults`, in a fixed order so the same
 * search always has the same URL. `over` changes some filters (a link to another page, a figure).
 */
export function searchQuery(f: SearchFilters, defaults: Partial<SearchFilters> = {}, over: Partial<SearchFilters> = {}): string {
  const merged: SearchFilters = { ...f, ...over }
  const params = new URLSearchParams()
  for (const [field, name] of Object.entries(URL_PARAMS) as [SearchField, string][]) {
    const v = merged[field]
    const d = defaults[field]
    if (field === 'page' && (v === undefined || v === 1)) continue
    if (field === 'perPage' && v === undefined) continue
    if (v === undefined || v === '') {
      // A default that was cleared must still say so, or the default would come back.
      if (d !== undefined && field !== 'page') params.set(name, '')
      continue
    }
    if (d !== undefined && String(d) === String(v)) continue
    params.set(name, String(v))
  }
  return params.toString()
}

export function searchUrl(path: string, f: SearchFilters, defaults: Partial<SearchFilters> = {}, over: Partial<SearchFilters> = {}): string {
  const qs = searchQuery(f, defaults, over)
  return qs ? `${path}?${qs}` : path
}

/** True when the search narrows the list beyond its defaults. */
export function isNarrowed(f: SearchFilters, defaults: Partial<SearchFilters> = {}): boolean {
  return NARROWING.some((field) => f[field] !== undefined && String(f[field]) !== String(defaults[field]))
}

/** The API's parameter names (camelCase, like the rest of the API); sort, order and paging are its own. */
export const API_PARAMS: Record<string, string> = {
  q: 'q', title: 'title', number: 'number',
  openedFrom: 'openedFrom', openedTo: 'openedTo', closedFrom: 'closedFrom', closedTo: 'closedTo',
  situation: 'situation', state: 'state', status: 'status', deskId: 'deskId', ticketType: 'type', areaId: 'areaId',
  categoryId: 'itemId', productId: 'productId', priority: 'priority', assigneeId: 'assigneeId', requesterId: 'requesterId',
  accountId: 'accountId', sla: 'sla', scope: 'scope'
}

/** The staff queue opens on the open tickets of the staff member's desks, newest first. */
export const DESK_DEFAULTS: Partial<SearchFilters> = { scope: 'desks', situation: 'open', sort: 'created_at', order: 'desc', perPage: 25 }
/** A client's "My requests" opens on all their tickets, newest first. */
export const PORTAL_DEFAULTS: Partial<SearchFilters> = { situation: 'all', sort: 'created_at', order: 'desc' }
