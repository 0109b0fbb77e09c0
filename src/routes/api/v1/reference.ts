// Reference data for any token: who the caller is and the ids a ticket or a search may name
// (desks, products, catalog items, accounts). Read-only; the same lists the portal's forms offer.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { listCatalogItems, listDesks, listProducts } from '../../../db/catalog.js'
import { contactAccounts } from '../../../db/people.js'
import { accountsToUse } from '../../../db/client-admin.js'
import { TICKET_TYPES } from '../../../domain/search.js'
import { ErrorResponses, StringEnum } from './schemas.js'

const NoQuery = Type.Object({}, { additionalProperties: false })

const DeskJson = Type.Object({ id: Type.Integer(), name: Type.String() })
const AccountJson = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  active: Type.Boolean({ description: 'false: the contract ended, no new tickets for it' }),
  manager: Type.Boolean({ description: 'the caller manages this account (sees all its tickets)' })
})

const Me = Type.Object({
  kind: StringEnum(['contact', 'staff'] as const, { description: 'contact: a client; staff: support staff or an administrator' }),
  id: Type.Integer(),
  name: Type.String(),
  email: Type.String(),
  locale: Type.Union([StringEnum(['en', 'pt-BR'] as const), Type.Null()]),
  role: StringEnum(['client', 'staff', 'admin'] as const),
  desks: Type.Array(DeskJson, { description: 'staff: the desks whose tickets they work; empty for a client' }),
  accounts: Type.Array(AccountJson, { description: 'a client: their accounts; empty for staff' })
})

const DeskList = Type.Object({ items: Type.Array(DeskJson) })
const ProductList = Type.Object({ items: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), code: Type.Union([Type.String(), Type.Null()]) })) })
const Catalog = Type.Object({
  areas: Type.Array(Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    items: Type.Array(Type.Object({
      id: Type.Integer({ description: 'the categoryId a new ticket takes' }),
      name: Type.String(),
      type: StringEnum(TICKET_TYPES),
      requiresApproval: Type.Boolean({ description: 'a request for it waits for the requester\'s manager to approve it' })
    }))
  }))
})

const AccountQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, description: 'part of the account\'s name' })),
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  perPage: Type.Integer({ minimum: 1, maximum: 100, default: 50 })
}, { additionalProperties: false })
const AccountList = Type.Object({ items: Type.Array(AccountJson), total: Type.Integer(), page: Type.Integer(), perPage: Type.Integer() })

export default async function referenceRoutes(instance: FastifyInstance) {
  const api = instance.withTypeProvider<TypeBoxTypeProvider>()
  const db = api.db

  api.get('/me', {
    schema: { summary: 'Who the token belongs to: role, and their desks (staff) or accounts (client)', querystring: NoQuery, response: { 200: Me, ...ErrorResponses } }
  }, async (request) => {
    const actor = request.actor!
    const person = { id: actor.id, name: actor.name, email: actor.email, locale: actor.locale }
    if (actor.kind === 'staff') {
      const desks = (await listDesks(db)).filter((d) => actor.deskIds.includes(d.id)).map((d) => ({ id: d.id, name: d.name }))
      return { kind: 'staff' as const, ...person, role: actor.role, desks, accounts: [] }
    }
    const accounts = (await contactAccounts(db, actor.id)).map((a) => ({ id: a.id, name: a.name, active: a.active === 1, manager: a.is_manager === 1 }))
    return { kind: 'contact' as const, ...person, role: 'client' as const, desks: [], accounts }
  })

  api.get('/desks', {
    schema: { summary: 'Desks (deskId of a new ticket or a search)', querystring: NoQuery, response: { 200: DeskList, ...ErrorResponses } }
  }, async () => ({ items: (await listDesks(db)).map((d) => ({ id: d.id, name: d.name })) }))

  api.get('/products', {
    schema: { summary: 'Active products (productId of a new ticket or a search)', querystring: NoQuery, response: { 200: ProductList, ...ErrorResponses } }
  }, async () => ({ items: (await listProducts(db)).map((p) => ({ id: p.id, name: p.name, code: p.code })) }))

  api.get('/catalog', {
    schema: { summary: 'The service catalog: areas and their active items (categoryId of a new ticket; areaId, itemId of a search)', querystring: NoQuery, response: { 200: Catalog, ...ErrorResponses } }
  }, async () => {
    const areas = new Map<number, { id: number; name: string; items: { id: number; name: string; type: 'incident' | 'request'; requiresApproval: boolean }[] }>()
    for (const item of await listCatalogItems(db)) {
      let area = areas.get(item.area_id)
      if (!area) areas.set(item.area_id, (area = { id: item.area_id, name: item.area_name, items: [] }))
      area.items.push({ id: item.id, name: item.name, type: item.ticket_type, requiresApproval: item.requires_approval === 1 })
    }
    return { areas: [...areas.values()] }
  })

  api.get('/accounts', {
    schema: {
      summary: 'Accounts the caller may name (accountId): a client\'s own, for staff every active one; by name, a page at a time',
      querystring: AccountQuery,
      response: { 200: AccountList, ...ErrorResponses }
    }
  }, async (request) => {
    const actor = request.actor!
    const { q, page, perPage } = request.query
    const { items, total } = await accountsToUse(db, { contactId: actor.kind === 'contact' ? actor.id : null, q: q ?? '', page, perPage })
    return { items: items.map((a) => ({ id: a.id, name: a.name, active: a.active === 1, manager: a.is_manager === 1 })), total, page, perPage }
  })
}
