// Staff as the administration pages see them: every member, active or not, with their desks,
// the products they serve and their open tickets.
import { sql } from 'kysely'
import type { Executor } from './index.js'
import type { StaffRole } from './schema.js'

/** The staff list, by name; `q` narrows to names and addresses containing it (case-insensitive). */
export async function listStaffForAdmin(db: Executor, q = '') {
  let qb = db.selectFrom('staff')
    .select(['id', 'name', 'email', 'role', 'active', 'available', 'can_delete', 'open_tickets', 'locale', 'totp_enabled_at', 'password_hash'])
  const words = q.trim().toLowerCase()
  if (words) {
    const like = `%${words.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    qb = qb.where(sql<boolean>`(lower(name) LIKE ${like} ESCAPE '\\' OR email LIKE ${like} ESCAPE '\\')`)
  }
  const rows = await qb.orderBy('name').orderBy('id').limit(500).execute()
  const desks = rows.length === 0 ? [] : await db.selectFrom('desk_member').innerJoin('desk', 'desk.id', 'desk_member.desk_id')
    .select(['desk_member.staff_id', 'desk.name']).where('desk_member.staff_id', 'in', rows.map((r) => r.id)).orderBy('desk.name').execute()
  return rows.map(({ password_hash, totp_enabled_at, ...r }) => ({
    ...r,
    invited: password_hash === null,
    twoFactor: totp_enabled_at !== null,
    desks: desks.filter((d) => d.staff_id === r.id).map((d) => d.name)
  }))
}

export interface StaffProfile {
  id: number
  name: string
  email: string
  locale: string | null
  role: StaffRole
  canDelete: boolean
  hourlyRateCents: number
  available: boolean
  active: boolean
  openTickets: number
  deskIds: number[]
  productIds: number[]
  crmUserId: string | null
  /** Their team lead; null: none. */
  managerId: number | null
  /** Works every desk's tickets without being an admin. */
  allDesks: boolean
  /** The service catalog areas they serve; none: every area. */
  areaIds: number[]
}

/** Another staff member mapped to this CRM user. */
export async function crmUserTaken(db: Executor, crmUserId: string, exceptId: number | null): Promise<boolean> {
  let qb = db.selectFrom('staff').select('id').where('crm_user_id', '=', crmUserId)
  if (exceptId !== null) qb = qb.where('id', '!=', exceptId)
  return (await qb.executeTakeFirst()) !== undefined
}

/** One staff member with what an admin edits, or undefined. */
export async function staffProfile(db: Executor, id: number): Promise<StaffProfile | undefined> {
  const row = await db.selectFrom('staff')
    .select(['id', 'name', 'email', 'locale', 'role', 'can_delete', 'hourly_rate_cents', 'available', 'active', 'open_tickets', 'crm_user_id', 'manager_id', 'all_desks'])
    .where('id', '=', id).executeTakeFirst()
  if (!row) return undefined
  const [desks, products, areas] = await Promise.all([
    db.selectFrom('desk_member').select('desk_id').where('staff_id', '=', id).orderBy('desk_id').execute(),
    db.selectFrom('staff_product').select('product_id').where('staff_id', '=', id).orderBy('product_id').execute(),
    db.selectFrom('staff_category').select('category_id').where('staff_id', '=', id).orderBy('category_id').execute()
  ])
  return {
    id: row.id, name: row.name, email: row.email, locale: row.locale, role: row.role, canDelete: row.can_delete === 1,
    hourlyRateCents: row.hourly_rate_cents, available: row.available === 1, active: row.active === 1, openTickets: row.open_tickets,
    deskIds: desks.map((d) => d.desk_id), productIds: products.map((p) => p.product_id), crmUserId: row.crm_user_id,
    managerId: row.manager_id, allDesks: row.all_desks === 1, areaIds: areas.map((a) => a.category_id)
  }
}

export async function updateStaffProfile(db: Executor, id: number, p: Omit<StaffProfile, 'id' | 'active' | 'openTickets'>): Promise<void> {
  await db.updateTable('staff').set({
    name: p.name, email: p.email, locale: p.locale, role: p.role, can_delete: p.canDelete ? 1 : 0,
    hourly_rate_cents: p.hourlyRateCents, available: p.available ? 1 : 0, crm_user_id: p.crmUserId, manager_id: p.managerId, all_desks: p.allDesks ? 1 : 0
  }).where('id', '=', id).execute()
  await db.deleteFrom('desk_member').where('staff_id', '=', id).execute()
  for (const deskId of p.deskIds) await db.insertInto('desk_member').values({ desk_id: deskId, staff_id: id }).execute()
  await db.deleteFrom('staff_product').where('staff_id', '=', id).execute()
  for (const productId of p.productIds) await db.insertInto('staff_product').values({ staff_id: id, product_id: productId }).execute()
  await db.deleteFrom('staff_category').where('staff_id', '=', id).execute()
  for (const areaId of p.areaIds) await db.insertInto('staff_category').values({ staff_id: id, category_id: areaId }).execute()
}

export async function setStaffActive(db: Executor, id: number, active: boolean): Promise<void> {
  await db.updateTable('staff').set({ active: active ? 1 : 0 }).where('id', '=', id).execute()
}

/** Active admins other than this staff member. */
export async function otherActiveAdmins(db: Executor, exceptId: number | null): Promise<number> {
  let qb = db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('active', '=', 1)
  if (exceptId !== null) qb = qb.where('id', '!=', exceptId)
  return Number((await qb.executeTakeFirstOrThrow()).n)
}

/** Which of these ids are desks, and which are active products. */
export async function knownDesksAndProducts(db: Executor, deskIds: number[], productIds: number[], areaIds: number[] = []) {
  const [desks, products, areas] = await Promise.all([
    deskIds.length === 0 ? [] : db.selectFrom('desk').select('id').where('id', 'in', deskIds).execute(),
    productIds.length === 0 ? [] : db.selectFrom('product').select('id').where('id', 'in', productIds).where('active', '=', 1).execute(),
    areaIds.length === 0 ? [] : db.selectFrom('category').select('id').where('id', 'in', areaIds).where('parent_id', 'is', null).execute()
  ])
  return { desks: new Set(desks.map((d) => d.id)), products: new Set(products.map((p) => p.id)), areas: new Set(areas.map((a) => a.id)) }
}
