import type { FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { Executor } from '../db/index.js'
import { getAccountName, listCatalogItems, listDesks, listProducts } from '../db/catalog.js'
import { contactAccounts, getContact, listDeskStaff } from '../db/people.js'
import type { Actor } from '../domain/permissions.js'
import { PRIORITIES, STATES, STATUSES } from '../domain/lifecycle.js'
import {
  isNarrowed, readSearchQuery, searchQuery, searchUrl, SITUATIONS, SLA_FILTERS, SORTS, TICKET_TYPES, URL_PARAMS,
  type ReadResult, type SearchFilters
} from '../domain/search.js'

// What the portal list and the staff queue share: reading the search from the URL, the choices
// its form offers, and the links that keep the search (pages, sorting, clearing).

/**
 * The list pages' querystring: every search parameter as optional text. Lenient on purpose: a
 * value that is wrong in a bookmarked URL is shown as such and left out (readSearch), never a bare 400.
 */
export const SearchQuerySchema = Type.Object(Object.fromEntries(Object.values(URL_PARAMS).map((name) => [name, Type.Optional(Type.String({ maxLength: 500 }))])))

/** The filters a form offers, with the names a person recognises. */
export async function searchChoices(db: Executor, actor: Actor) {
  const [desks, items, products] = await Promise.all([listDesks(db), listCatalogItems(db), listProducts(db)])
  const areas = [...new Map(items.map((i) => [i.area_id, { id: i.area_id, name: i.area_name }])).values()]
  const assignees = actor.kind === 'staff'
    ? [...new Map((await listDeskStaff(db, actor.role === 'admin' ? desks.map((d) => d.id) : actor.deskIds))
      .map((s) => [s.id, { id: s.id, name: s.name }])).values()]
    : []
  return {
    desks, areas, items, products, assignees,
    situations: SITUATIONS, states: STATES, statuses: STATUSES, priorities: PRIORITIES, types: TICKET_TYPES,
    slas: SLA_FILTERS, sorts: SORTS
  }
}

export interface SearchPage {
  f: SearchFilters
  /** Translated messages for values that were given but left out. */
  errors: Record<string, string>
  /** True when anything beyond the defaults narrows the list. */
  narrowed: boolean
  /** True when a filter behind "More filters" is in use, so the form opens with them shown. */
  advanced: boolean
  /** The current search as a query string (for the export button). */
  query: string
  /** The page's URL with some filters changed (sorting, a figure, removing one filter). */
  urlFor: (over: Partial<SearchFilters>) => string
  linkFor: (page: number) => string
  /** The list without filters, still on the fields named in `keep` (the staff queue's tab). */
  clearUrl: string
  /** Filters set by a link but without a field in the form (requester, account), with names. */
  chips: { label: string; value: string; removeUrl: string }[]
}

const BASIC: (keyof SearchFilters)[] = ['q', 'situation', 'sort', 'order', 'scope', 'page', 'perPage']

/** Reads the search of a list page and everything its template needs to show and keep it. */
export async function readSearchPage(
  db: Executor, request: FastifyRequest, path: string, defaults: Partial<SearchFilters>, keep: (keyof SearchFilters)[] = []
): Promise<SearchPage> {
  const actor = request.actor!
  const read: ReadResult = readSearchQuery(request.query as Record<string, unknown>, { kind: actor.kind, defaults })
  const f = read.filters
  const errors: Record<string, string> = {}
  for (const [field, e] of Object.entries(read.errors)) errors[field] = request.t(e!.key, e!.params)
  const urlFor = (over: Partial<SearchFilters>) => searchUrl(path, { ...f, page: undefined }, defaults, over)
  const chips: SearchPage['chips'] = []
  if (f.requesterId !== undefined) {
    // A client learns names only of people whose tickets they may see (their managed accounts).
    const mayName = actor.kind === 'staff' || f.requesterId === actor.id ||
      (await contactAccounts(db, f.requesterId)).some((a) => actor.managerAccountIds.includes(a.id))
    const who = mayName ? await getContact(db, f.requesterId) : undefined
    chips.push({ label: request.t('search.requester'), value: who ? `${who.name} <${who.email}>` : `#${f.requesterId}`, removeUrl: urlFor({ requesterId: undefined }) })
  }
  if (f.accountId !== undefined) {
    const account = actor.kind === 'staff' || actor.accountIds.includes(f.accountId) ? await getAccountName(db, f.accountId) : undefined
    chips.push({ label: request.t('search.account'), value: account ?? `#${f.accountId}`, removeUrl: urlFor({ accountId: undefined }) })
  }
  const advanced = Object.keys(read.errors).length > 0 ||
    (Object.keys(f) as (keyof SearchFilters)[]).some((k) => !BASIC.includes(k) && f[k] !== undefined && String(f[k]) !== String(defaults[k]))
  return {
    f, errors, advanced,
    narrowed: isNarrowed(f, defaults),
    query: searchQuery({ ...f, page: undefined }, defaults),
    urlFor,
    linkFor: (page: number) => searchUrl(path, f, defaults, { page }),
    clearUrl: searchUrl(path, { ...defaults, ...Object.fromEntries(keep.map((k) => [k, f[k] ?? defaults[k]])) }, defaults),
    chips
  }
}
