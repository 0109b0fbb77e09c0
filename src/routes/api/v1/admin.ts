// Administration through the API (`/api/v1/admin/...`, admins' tokens only): the organisation's
// structure and service hours, client accounts and contacts. The same commands as the admin pages,
// so the same rules, refusals and audit rows; field names are the commands' own.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static } from '@sinclair/typebox'
import { HttpError } from '../../../plugins/app.js'
import { personWho, type Outcome } from '../../../commands/kernel.js'
import { addCatalogEntry, addDesk, addProduct, editCatalogEntry, editDesk, editProduct } from '../../../commands/structure-admin.js'
import { addCalendar, editCalendar, removeCalendar, setItemSlaTargets, weekHours } from '../../../commands/service-hours.js'
import { addAccount, addContact, editAccount, editContact } from '../../../commands/client-admin.js'
import { mergeContacts } from '../../../commands/contact-merge.js'
import { addStaffMember, editStaffMember, setStaffMemberActive } from '../../../commands/staff-admin.js'
import { listStaffForAdmin, staffProfile } from '../../../db/staff-admin.js'
import { deskProfile, getCatalogEntry, getProduct, listCatalogForAdmin, listDesksForAdmin, listProductsForAdmin } from '../../../db/structure-admin.js'
import { calendarProfile, listCalendars } from '../../../db/calendars.js'
import { itemSlaPolicies } from '../../../db/sla.js'
import { contactProfile, getAccount, listAccountsForAdmin } from '../../../db/client-admin.js'
import { WEEKDAYS } from '../../../domain/business-hours.js'
import { isAdmin } from '../../../domain/permissions.js'
import { PRIORITIES } from '../../../domain/lifecycle.js'
import { apiRefusal } from './errors.js'
import { once } from './idempotency.js'
import { ErrorResponses, Id, NullableId } from './schemas.js'

const Params = Type.Object({ id: Id })
const Name = Type.String({ maxLength: 1000 })
const Ids = Type.Array(Id, { maxItems: 1000 })
const Created = Type.Object({ id: Type.Integer() })
const Changed = Type.Object({ changed: Type.Boolean() })

const DeskBody = Type.Object({
  name: Name, managerId: NullableId, memberIds: Ids, productIds: Ids, categoryIds: Ids, calendarId: NullableId,
  autoCloseDays: Type.Union([Type.Integer(), Type.Null()]),
  emailAlias: Type.Optional(Type.Union([Type.String({ maxLength: 1000, description: 'mail to it opens tickets on this desk' }), Type.Null()])),
  inboundDefault: Type.Optional(Type.Boolean({ description: 'new mail that names no desk comes here' }))
}, { additionalProperties: false })
const DeskJson = Type.Object({
  id: Type.Integer(), name: Type.String(), managerId: Type.Union([Type.Integer(), Type.Null()]), memberIds: Type.Array(Type.Integer()),
  productIds: Type.Array(Type.Integer()), categoryIds: Type.Array(Type.Integer()), calendarId: Type.Union([Type.Integer(), Type.Null()]),
  autoCloseDays: Type.Union([Type.Integer(), Type.Null()]), emailAlias: Type.Union([Type.String(), Type.Null()]), inboundDefault: Type.Boolean()
})

const ProductBody = Type.Object({ name: Name, code: Type.String({ maxLength: 1000 }), active: Type.Boolean() }, { additionalProperties: false })
const ProductJson = Type.Object({ id: Type.Integer(), name: Type.String(), code: Type.Union([Type.String(), Type.Null()]), active: Type.Boolean() })

const CatalogBody = Type.Object({
  areaId: NullableId, name: Name, ticketType: Type.String({ maxLength: 40 }), active: Type.Boolean(),
  defaultPriority: Type.Optional(Type.Union([Type.String({ maxLength: 40, description: 'an item\'s tickets\' priority when none is chosen' }), Type.Null()]))
}, { additionalProperties: false })
const CatalogJson = Type.Object({
  id: Type.Integer(), areaId: Type.Union([Type.Integer(), Type.Null()]), name: Type.String(), ticketType: Type.String(), active: Type.Boolean(),
  defaultPriority: Type.Union([Type.String(), Type.Null()])
})

const Hours = Type.Object(Object.fromEntries(WEEKDAYS.map((d) => [String(d), Type.Optional(Type.String({ maxLength: 200 }))])), { additionalProperties: false })
const Holiday = Type.Object({ day: Type.String({ maxLength: 40 }), name: Type.String({ maxLength: 1000 }) }, { additionalProperties: false })
const CalendarBody = Type.Object({
  name: Name, timeZone: Type.String({ maxLength: 100 }), hours: Hours, holidays: Type.Array(Holiday, { maxItems: 1000 })
}, { additionalProperties: false })
const CalendarJson = Type.Object({
  id: Type.Integer(), name: Type.String(), timeZone: Type.String(),
  hours: Type.Record(Type.String(), Type.String()), holidays: Type.Array(Type.Object({ day: Type.String(), name: Type.String() }))
})

const Targets = Type.Object({ responseMinutes: Type.Integer(), resolutionMinutes: Type.Integer() }, { additionalProperties: false })
const ItemTargetsBody = Type.Object(Object.fromEntries(PRIORITIES.map((p) => [p, Type.Optional(Targets)])), { additionalProperties: false })

const AccountBody = Type.Object({ name: Name }, { additionalProperties: false })
const AccountPutBody = Type.Object({ name: Name, active: Type.Optional(Type.Boolean({ description: 'false: the contract ended, no new tickets for it' })) }, { additionalProperties: false })
const AccountJson = Type.Object({ id: Type.Integer(), name: Type.String(), crmId: Type.Union([Type.String(), Type.Null()]), active: Type.Boolean() })
const MergeBody = Type.Object({ mergeId: Id }, { additionalProperties: false })

const StaffBody = Type.Object({
  name: Name, email: Type.String({ maxLength: 1000 }), locale: Type.Union([Type.String({ maxLength: 10 }), Type.Null()]),
  role: Type.String({ maxLength: 20, description: 'staff or admin' }), canDelete: Type.Boolean(),
  hourlyRateCents: Type.Union([Type.Integer(), Type.Null()]), available: Type.Boolean(), deskIds: Ids, productIds: Ids,
  crmUserId: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
  managerId: Type.Optional(NullableId), allDesks: Type.Optional(Type.Boolean({ description: 'works every desk’s tickets without being an admin' })),
  areaIds: Type.Optional(Type.Array(Id, { maxItems: 1000, description: 'service catalog areas they serve (none: every area)' }))
}, { additionalProperties: false })
const StaffJson = Type.Object({
  id: Type.Integer(), name: Type.String(), email: Type.String(), locale: Type.Union([Type.String(), Type.Null()]), role: Type.String(),
  canDelete: Type.Boolean(), hourlyRateCents: Type.Integer(), available: Type.Boolean(), active: Type.Boolean(), openTickets: Type.Integer(),
  deskIds: Type.Array(Type.Integer()), productIds: Type.Array(Type.Integer()), crmUserId: Type.Union([Type.String(), Type.Null()]),
  managerId: Type.Union([Type.Integer(), Type.Null()]), allDesks: Type.Boolean(), areaIds: Type.Array(Type.Integer())
})
const StaffListJson = Type.Object({
  id: Type.Integer(), name: Type.String(), email: Type.String(), role: Type.String(), active: Type.Boolean(), available: Type.Boolean(),
  openTickets: Type.Integer(), invited: Type.Boolean(), twoFactor: Type.Boolean(), desks: Type.Array(Type.String())
})
const ActiveBody = Type.Object({ active: Type.Boolean() }, { additionalProperties: false })
const Membership = Type.Object({ accountId: Id, manager: Type.Boolean() }, { additionalProperties: false })
const ContactBody = Type.Object({
  name: Name, email: Type.String({ maxLength: 1000 }), locale: Type.Union([Type.String({ maxLength: 20 }), Type.Null()]),
  phone: Type.String({ maxLength: 1000 }), memberships: Type.Array(Membership, { maxItems: 200 })
}, { additionalProperties: false })
const ContactJson = Type.Object({
  id: Type.Integer(), name: Type.String(), email: Type.String(), locale: Type.Union([Type.String(), Type.Null()]), phone: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(), invited: Type.Boolean(), mergedIntoId: Type.Union([Type.Integer(), Type.Null()]), memberships: Type.Array(Type.Object({ accountId: Type.Integer(), manager: Type.Boolean() }))
})
const AccountQuery = Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false })

export default async function adminApi(instance: FastifyInstance) {
  const api = instance.withTypeProvider<TypeBoxTypeProvider>()
  const db = api.db
  const deps = { db, clock: api.clock, random: api.random, store: api.store }

  // Admins only; a client or staff token learns nothing else here.
  api.addHook('preHandler', async (request) => {
    if (!isAdmin(request.actor!)) throw new HttpError(403, 'forbidden', request.t('api.error.adminOnly'))
  })

  const who = (request: FastifyRequest) => personWho(request.actor!)
  const notFound = (request: FastifyRequest) => new HttpError(404, 'not_found', request.t('api.error.recordNotFound'))
  /** The command's value, or its refusal as the API answers it. */
  function valueOf<T>(request: FastifyRequest, outcome: Outcome<T>): T {
    if (outcome.ok) return outcome.value
    if (outcome.refusal.code === 'not_found') throw notFound(request)
    throw apiRefusal(request.t, outcome.refusal)
  }
  const id = (request: FastifyRequest) => (request.params as { id: number }).id

  // ---- desks ----

  async function deskJson(request: FastifyRequest, deskId: number): Promise<Static<typeof DeskJson>> {
    const desk = await deskProfile(db, deskId)
    if (!desk) throw notFound(request)
    return desk
  }
  api.get('/desks', { schema: { summary: 'Desks', response: { 200: Type.Array(DeskJson), ...ErrorResponses } } }, async (request) => {
    return Promise.all((await listDesksForAdmin(db)).map((d) => deskJson(request, d.id)))
  })
  api.get('/desks/:id', { schema: { summary: 'One desk', params: Params, response: { 200: DeskJson, ...ErrorResponses } } }, async (request) => deskJson(request, id(request)))
  api.post('/desks', { schema: { summary: 'Add a desk', body: DeskBody, response: { 201: DeskJson, ...ErrorResponses } } }, async (request, reply) => {
    const created = valueOf(request, await once(request, deps, (d) => addDesk(d, who(request), request.body)))
    return reply.code(201).header('location', `/api/v1/admin/desks/${created.id}`).send(await deskJson(request, created.id))
  })
  api.put('/desks/:id', { schema: { summary: 'Change a desk (every field)', params: Params, body: DeskBody, response: { 200: Changed, ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await editDesk(deps, who(request), { ...request.body, deskId: id(request) }))
  })

  // ---- products ----

  const productJson = (p: { id: number; name: string; code: string | null; active: number }) => ({ id: p.id, name: p.name, code: p.code, active: p.active === 1 })
  api.get('/products', { schema: { summary: 'Products', response: { 200: Type.Array(ProductJson), ...ErrorResponses } } }, async () => {
    return (await listProductsForAdmin(db)).map(productJson)
  })
  api.post('/products', { schema: { summary: 'Add a product', body: ProductBody, response: { 201: ProductJson, ...ErrorResponses } } }, async (request, reply) => {
    const created = valueOf(request, await once(request, deps, (d) => addProduct(d, who(request), request.body)))
    return reply.code(201).header('location', `/api/v1/admin/products/${created.id}`).send(productJson((await getProduct(db, created.id))!))
  })
  api.put('/products/:id', { schema: { summary: 'Change a product (turn it off with active: false)', params: Params, body: ProductBody, response: { 200: Changed, ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await editProduct(deps, who(request), { ...request.body, productId: id(request) }))
  })

  // ---- service catalog ----

  const catalogJson = (c: { id: number; parent_id: number | null; name: string; ticket_type: string; active: number; default_priority: string | null }) =>
    ({ id: c.id, areaId: c.parent_id, name: c.name, ticketType: c.ticket_type, active: c.active === 1, defaultPriority: c.default_priority })
  api.get('/catalog', { schema: { summary: 'Catalog areas and items', response: { 200: Type.Array(CatalogJson), ...ErrorResponses } } }, async () => {
    return (await listCatalogForAdmin(db)).flatMap((area) => [catalogJson(area), ...area.items.map(catalogJson)])
  })
  api.post('/catalog', { schema: { summary: 'Add a catalog area (areaId null) or item', body: CatalogBody, response: { 201: CatalogJson, ...ErrorResponses } } }, async (request, reply) => {
    const created = valueOf(request, await once(request, deps, (d) => addCatalogEntry(d, who(request), request.body)))
    return reply.code(201).send(catalogJson((await getCatalogEntry(db, created.id))!))
  })
  api.put('/catalog/:id', { schema: { summary: 'Change a catalog area or item', params: Params, body: CatalogBody, response: { 200: Changed, ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await editCatalogEntry(deps, who(request), { ...request.body, entryId: id(request) }))
  })
  api.put('/catalog/:id/sla', { schema: { summary: 'A catalog item\'s own SLA targets per priority (the priorities left out use the priority\'s)', params: Params, body: ItemTargetsBody, response: { 200: Changed, ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await setItemSlaTargets(deps, who(request), { itemId: id(request), targets: request.body }))
  })
  api.get('/catalog/:id/sla', { schema: { summary: 'A catalog item\'s own SLA targets', params: Params, response: { 200: Type.Record(Type.String(), Targets), ...ErrorResponses } } }, async (request) => {
    const item = await getCatalogEntry(db, id(request))
    if (!item || item.parent_id === null) throw notFound(request)
    return (await itemSlaPolicies(db)).get(item.id) ?? {}
  })

  // ---- business hours ----

  async function calendarJson(request: FastifyRequest, calendarId: number): Promise<Static<typeof CalendarJson>> {
    const c = await calendarProfile(db, calendarId)
    if (!c) throw notFound(request)
    return { id: c.id, name: c.name, timeZone: c.timeZone, hours: weekHours(c.week), holidays: c.holidays }
  }
  api.get('/calendars', { schema: { summary: 'Business hours', response: { 200: Type.Array(CalendarJson), ...ErrorResponses } } }, async (request) => {
    return Promise.all((await listCalendars(db)).map((c) => calendarJson(request, c.id)))
  })
  api.get('/calendars/:id', { schema: { summary: 'One calendar', params: Params, response: { 200: CalendarJson, ...ErrorResponses } } }, async (request) => calendarJson(request, id(request)))
  api.post('/calendars', { schema: { summary: 'Add business hours', body: CalendarBody, response: { 201: CalendarJson, ...ErrorResponses } } }, async (request, reply) => {
    const created = valueOf(request, await once(request, deps, (d) => addCalendar(d, who(request), request.body)))
    return reply.code(201).header('location', `/api/v1/admin/calendars/${created.id}`).send(await calendarJson(request, created.id))
  })
  api.put('/calendars/:id', { schema: { summary: 'Change business hours (every field)', params: Params, body: CalendarBody, response: { 200: Changed, ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await editCalendar(deps, who(request), { ...request.body, calendarId: id(request) }))
  })
  api.delete('/calendars/:id', { schema: { summary: 'Delete business hours no desk uses', params: Params, response: { 204: Type.Null(), ...ErrorResponses } } }, async (request, reply) => {
    valueOf(request, await removeCalendar(deps, who(request), id(request)))
    return reply.code(204).send(null)
  })

  // ---- staff ----

  async function staffJson(request: FastifyRequest, staffId: number): Promise<Static<typeof StaffJson>> {
    const s = await staffProfile(db, staffId)
    if (!s) throw notFound(request)
    return s
  }
  api.get('/staff', { schema: { summary: 'Staff (q: part of a name or address)', querystring: AccountQuery, response: { 200: Type.Array(StaffListJson), ...ErrorResponses } } }, async (request) => {
    return (await listStaffForAdmin(db, request.query.q ?? '')).map((s) => ({
      id: s.id, name: s.name, email: s.email, role: s.role, active: s.active === 1, available: s.available === 1,
      openTickets: s.open_tickets, invited: s.invited, twoFactor: s.twoFactor, desks: s.desks
    }))
  })
  api.get('/staff/:id', { schema: { summary: 'One staff member', params: Params, response: { 200: StaffJson, ...ErrorResponses } } }, async (request) => staffJson(request, id(request)))
  api.post('/staff', { schema: { summary: 'Add a staff member (invited by e-mail to set a password)', body: StaffBody, response: { 201: StaffJson, ...ErrorResponses } } }, async (request, reply) => {
    const created = valueOf(request, await once(request, deps, (d) => addStaffMember(d, who(request), { ...request.body, client: request.client() })))
    return reply.code(201).header('location', `/api/v1/admin/staff/${created.id}`).send(await staffJson(request, created.id))
  })
  api.put('/staff/:id', { schema: { summary: 'Change a staff member (every field; crmUserId left out stays)', params: Params, body: StaffBody, response: { 200: Changed, ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await editStaffMember(deps, who(request), { ...request.body, staffId: id(request) }))
  })
  api.post('/staff/:id/active', {
    schema: { summary: 'Turn a staff account off (sessions end, no new tickets) or on', params: Params, body: ActiveBody, response: { 200: Type.Object({ changed: Type.Boolean(), openTickets: Type.Integer() }), ...ErrorResponses } }
  }, async (request) => {
    return valueOf(request, await setStaffMemberActive(deps, who(request), { staffId: id(request), active: request.body.active, client: request.client() }))
  })

  // ---- client accounts and contacts ----

  api.get('/accounts', { schema: { summary: 'Client accounts (q: part of the name)', querystring: AccountQuery, response: { 200: Type.Array(AccountJson), ...ErrorResponses } } }, async (request) => {
    return (await listAccountsForAdmin(db, request.query.q ?? '')).map((a) => ({ id: a.id, name: a.name, crmId: a.crm_id, active: a.active === 1 }))
  })
  api.post('/accounts', { schema: { summary: 'Add a client account', body: AccountBody, response: { 201: AccountJson, ...ErrorResponses } } }, async (request, reply) => {
    const created = valueOf(request, await once(request, deps, (d) => addAccount(d, who(request), request.body)))
    const a = (await getAccount(db, created.id))!
    return reply.code(201).send({ id: a.id, name: a.name, crmId: a.crm_id, active: a.active === 1 })
  })
  api.put('/accounts/:id', { schema: { summary: 'Rename a client account, or turn it off or on', params: Params, body: AccountPutBody, response: { 200: Changed, ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await editAccount(deps, who(request), { accountId: id(request), name: request.body.name, active: request.body.active }))
  })

  async function contactJson(request: FastifyRequest, contactId: number): Promise<Static<typeof ContactJson>> {
    const c = await contactProfile(db, contactId)
    if (!c) throw notFound(request)
    return c
  }
  api.get('/contacts/:id', { schema: { summary: 'One contact', params: Params, response: { 200: ContactJson, ...ErrorResponses } } }, async (request) => contactJson(request, id(request)))
  api.post('/contacts', { schema: { summary: 'Add a contact (invited by e-mail to set a password)', body: ContactBody, response: { 201: ContactJson, ...ErrorResponses } } }, async (request, reply) => {
    const created = valueOf(request, await once(request, deps, (d) => addContact(d, who(request), request.body)))
    return reply.code(201).header('location', `/api/v1/admin/contacts/${created.id}`).send(await contactJson(request, created.id))
  })
  api.post('/contacts/:id/merge', { schema: { summary: 'Merge a duplicate (mergeId) into this contact', params: Params, body: MergeBody, response: { 200: Type.Object({ tickets: Type.Integer() }), ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await once(request, deps, (d) => mergeContacts(d, who(request), { keepId: id(request), mergeId: request.body.mergeId })))
  })
  api.put('/contacts/:id', { schema: { summary: 'Change a contact (every field)', params: Params, body: ContactBody, response: { 200: Changed, ...ErrorResponses } } }, async (request) => {
    return valueOf(request, await editContact(deps, who(request), { ...request.body, contactId: id(request) }))
  })
}
